"""Random input rows for the differential test, as JSON Lines for sluice and a SQLite table.

DECIMAL(10,2) values live in SQLite as integer cents (column d_c) so sums, minima and products
stay exact there too; BOOLEAN as 0/1; TIMESTAMP as epoch milliseconds.
"""

import json
import random
from decimal import Decimal

# (column, sluice type, SQLite column)
SCHEMA = [
    ("id", "BIGINT", "id INTEGER"),
    ("k", "STRING", "k TEXT"),
    ("k2", "STRING", "k2 TEXT"),
    ("n", "BIGINT", "n INTEGER"),
    ("m", "BIGINT", "m INTEGER"),
    ("d", "DECIMAL(10,2)", "d_c INTEGER"),
    ("x", "DOUBLE", "x REAL"),
    ("s", "STRING", "s TEXT"),
    ("b", "BOOLEAN", "b INTEGER"),
    ("ts", "TIMESTAMP", "ts INTEGER"),
]

WORDS = ["apple", " Apple ", "banana", "cherry pie", "Date", "", "fig_1", "100%", "grape  ",
         "  kiwi", "lemon", "Mango", "nan", "a", "abc", "ABC", "banana split", "fig"]
BASE_TS = 1705312800000  # 2024-01-15T10:00:00Z


def maybe(rng, value, null_ratio):
    return None if rng.random() < null_ratio else value


def random_row(rng, i):
    cents = maybe(rng, rng.randint(-100000, 100000), 0.1)
    return {
        "id": i,
        "k": maybe(rng, rng.choice(["a", "b", "c", "d"]), 0.1),
        "k2": maybe(rng, rng.choice(["x", "y", "z"]), 0.15),
        "n": maybe(rng, rng.randint(-100, 100), 0.15),
        "m": maybe(rng, rng.randint(0, 5), 0.1),
        "d": cents,
        "x": maybe(rng, round(rng.uniform(-1000, 1000), rng.choice([0, 1, 3, 6])), 0.1),
        "s": maybe(rng, rng.choice(WORDS), 0.1),
        "b": maybe(rng, rng.choice([True, False]), 0.2),
        "ts": maybe(rng, BASE_TS + rng.randint(0, 3 * 86400000), 0.1),
    }


def generate_rows(seed, count):
    rng = random.Random(seed)
    return [random_row(rng, i) for i in range(count)]


def decimal_text(cents, rng):
    """Cents as JSON number text, sometimes with fewer written decimals (12.5, 7)."""
    text = str(Decimal(cents).scaleb(-2))
    if rng.random() < 0.3 and "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text


def to_json_line(row, rng):
    parts = []
    items = list(row.items())
    rng.shuffle(items)  # field order must not matter
    for key, value in items:
        if value is None:
            if rng.random() < 0.5:
                continue  # a missing field is NULL too
            text = "null"
        elif key == "d":
            text = decimal_text(value, rng)
        elif key == "ts" and rng.random() < 0.5:
            text = json.dumps(iso_text(value))
        else:
            text = json.dumps(value)
        parts.append("%s:%s" % (json.dumps(key), text))
    return "{" + ",".join(parts) + "}"


def iso_text(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def write_jsonl(rows, path):
    rng = random.Random(len(rows))
    with open(path, "w") as f:
        for row in rows:
            f.write(to_json_line(row, rng) + "\n")


def load_sqlite(db, rows):
    db.execute("PRAGMA case_sensitive_like = ON")  # SQL LIKE is case-sensitive
    db.execute("CREATE TABLE t (%s)" % ", ".join(c for _, _, c in SCHEMA))
    db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?)", [
        (r["id"], r["k"], r["k2"], r["n"], r["m"], r["d"], r["x"], r["s"],
         None if r["b"] is None else int(r["b"]), r["ts"]) for r in rows
    ])
