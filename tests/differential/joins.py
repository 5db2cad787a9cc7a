#!/usr/bin/env python3
"""Differential test of sluice's joins against SQLite (Python stdlib only).

Random orders (a stream) and customer changes (a table: updates and tombstones) with a fixed seed,
both in event-time order, with ties between them. `sluice run` reads the two files merged by event
time (a table's record first on a tie), and looks each order up in the table as it is
then. SQLite gets the same records and answers with the customer version each order saw: the last
change of its key at or before the order's time (a tombstone takes the time of the change before
it in its file), unless that change is a delete. Two data sets:

- versioned: changes interleaved with orders (the table changes while orders flow);
- end of input: every change before every order, so the join is SQLite's join with the final
  table (the latest row per key, deleted keys gone).

And interval joins of two streams (impressions and clicks, both in time order, so no record is
late): INNER, LEFT and FULL OUTER with WITHIN, Flink's BETWEEN with a further condition, and an
aggregate, each against SQLite's join on `c.ts - i.ts BETWEEN lo AND hi`.

Usage: joins.py SLUICE_BINARY [--seed N] [--orders N] [--only NAME] [--keep] [--verbose]
Exit status 0 when every query matches; the last line is `N passed, M failed`.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import compare_results  # noqa: E402
from run import run_job  # noqa: E402

KEYS = ["c%d" % i for i in range(40)]
TIERS = ["gold", "silver", "bronze", None]

# The customer row an order saw, as a SQLite subquery over `changes` (seq: file order).
SEEN = ("(SELECT MAX(seq) FROM changes v WHERE v.k = o.cust AND v.ts <= o.ts)")
VERSIONED = ("FROM orders o {kind} JOIN changes c ON c.seq = " + SEEN + " AND c.deleted = 0")

QUERIES = [
    {"name": "inner",
     "sluice": "SELECT o.id, c.name, c.tier, o.amount FROM orders o JOIN customers c "
               "ON o.cust = c._key",
     "sqlite": "SELECT o.id, c.name, c.tier, o.amount " + VERSIONED.format(kind=""),
     "kinds": ["int", "str", "str", "int"]},
    {"name": "left",
     "sluice": "SELECT o.id, o.cust, c.name, c._key AS k FROM orders o LEFT JOIN customers c "
               "ON o.cust = c._key",
     "sqlite": "SELECT o.id, o.cust, c.name, c.k " + VERSIONED.format(kind="LEFT"),
     "kinds": ["int", "str", "str", "str"]},
    {"name": "left_with_condition",
     "sluice": "SELECT o.id, c.tier FROM orders o LEFT JOIN customers c "
               "ON o.cust = c._key AND c.tier <> 'bronze'",
     "sqlite": "SELECT o.id, c.tier FROM orders o LEFT JOIN changes c ON c.seq = " + SEEN +
               " AND c.deleted = 0 AND c.tier <> 'bronze'",
     "kinds": ["int", "str"]},
    {"name": "where_and_expression_key",
     "sluice": "SELECT o.id, c.name FROM customers c JOIN orders o ON c._key = LOWER(o.cust) "
               "WHERE o.amount > 50",
     "sqlite": "SELECT o.id, c.name " + VERSIONED.format(kind="") + " WHERE o.amount > 50",
     "kinds": ["int", "str"]},
    {"name": "aggregate",
     "sluice": "SELECT c.tier, COUNT(*) AS n, SUM(o.amount) AS total FROM orders o "
               "JOIN customers c ON o.cust = c._key GROUP BY c.tier EMIT FINAL",
     "sqlite": "SELECT c.tier, COUNT(*), SUM(o.amount) " + VERSIONED.format(kind="") +
               " GROUP BY c.tier",
     "kinds": ["str", "int", "int"]},
]


# Interval joins: impressions and clicks, two streams; a pair joins when the click's time minus
# the impression's is within the bound (both files in time order, so no record is late and the
# join is SQLite's join on the same condition).
def within(lo_s, hi_s):
    return "i.ad = c.ad AND c.ts - i.ts BETWEEN %d AND %d" % (lo_s * 1000, hi_s * 1000)


INTERVAL_QUERIES = [
    {"name": "within",
     "sluice": "SELECT i.id AS i, c.id AS c, c.ts - i.ts AS gap FROM imps i JOIN clicks c "
               "WITHIN 30 SECONDS ON i.ad = c.ad",
     "sqlite": "SELECT i.id, c.id, c.ts - i.ts FROM imps i JOIN clicks c ON " + within(-30, 30),
     "kinds": ["int", "int", "int"]},
    {"name": "left_within_before_after",
     "sluice": "SELECT i.id AS i, c.id AS c FROM imps i LEFT JOIN clicks c "
               "WITHIN (10 SECONDS, 40 SECONDS) ON i.ad = c.ad",
     "sqlite": "SELECT i.id, c.id FROM imps i LEFT JOIN clicks c ON " + within(-10, 40),
     "kinds": ["int", "int"]},
    {"name": "full_outer",
     "sluice": "SELECT i.id AS i, c.id AS c FROM imps i FULL OUTER JOIN clicks c "
               "WITHIN 20 SECONDS ON i.ad = c.ad",
     "sqlite": "SELECT i.id, c.id FROM imps i FULL OUTER JOIN clicks c ON " + within(-20, 20),
     "kinds": ["int", "int"]},
    {"name": "flink_between_and_condition",
     "sluice": "SELECT i.id AS i, c.id AS c FROM imps i JOIN clicks c ON i.ad = c.ad AND "
               "c.ts BETWEEN i.ts AND i.ts + INTERVAL '25' SECOND AND c.id % 3 <> 0",
     "sqlite": "SELECT i.id, c.id FROM imps i JOIN clicks c ON " + within(0, 25) +
               " AND c.id % 3 <> 0",
     "kinds": ["int", "int"]},
    {"name": "aggregate",
     "sluice": "SELECT i.ad, COUNT(*) AS n FROM imps i JOIN clicks c WITHIN 15 SECONDS "
               "ON i.ad = c.ad GROUP BY i.ad EMIT FINAL",
     "sqlite": "SELECT i.ad, COUNT(*) FROM imps i JOIN clicks c ON " + within(-15, 15) +
               " GROUP BY i.ad",
     "kinds": ["str", "int"]},
]


def generate_streams(seed, n):
    rnd = random.Random(seed)
    ads = ["a%d" % i for i in range(60)]

    def stream(count):
        times = sorted(rnd.randrange(0, n) * 1000 for _ in range(count))
        return [{"id": i, "ad": None if rnd.random() < 0.03 else rnd.choice(ads), "ts": t}
                for i, t in enumerate(times)]
    return stream(n), stream(n // 2)


def interval_job(name, sql, work, out_path):
    def source(src):
        return ["  - name: " + src, "    type: file",
                "    path: " + json.dumps(os.path.join(work, src + ".jsonl")),
                "    event_time: ts", "    timestamp_format: epoch_millis",
                "    schema: {id: BIGINT, ad: STRING, ts: TIMESTAMP}"]
    return "\n".join(["name: " + json.dumps("diff-interval-" + name), "sql: " + json.dumps(sql),
                      "sources:"] + source("imps") + source("clicks") + [
        "sink: {type: file, path: %s, timestamp_format: epoch_millis}" % json.dumps(out_path),
        "on_error: fail"]) + "\n"


def interval_cases(args, work):
    imps, clicks = generate_streams(args.seed, args.orders)
    sub = os.path.join(work, "interval")
    os.makedirs(sub)
    db = sqlite3.connect(":memory:")
    for name, rows in (("imps", imps), ("clicks", clicks)):
        with open(os.path.join(sub, name + ".jsonl"), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        db.execute("CREATE TABLE %s (id INTEGER, ad TEXT, ts INTEGER)" % name)
        db.executemany("INSERT INTO %s VALUES (:id, :ad, :ts)" % name, rows)
    cases = []
    for q in INTERVAL_QUERIES:
        if args.only and args.only not in "interval." + q["name"]:
            continue
        out_path = os.path.join(sub, q["name"] + ".out.jsonl")
        got, err = run_job(args.sluice, os.path.join(sub, q["name"] + ".yaml"),
                           interval_job(q["name"], q["sluice"], sub, out_path), out_path)
        cases.append(("interval." + q["name"], q, got, err,
                      [list(r) for r in db.execute(q["sqlite"])]))
    return cases


def generate(seed, n_orders, changes_first):
    rnd = random.Random(seed)
    n_changes = n_orders // 3
    # Times with many ties: orders and changes share a coarse clock.
    order_ts = sorted(rnd.randrange(0, n_orders // 2 + 1) * 10 for _ in range(n_orders))
    if changes_first:
        change_ts = [0] * n_changes
    else:
        change_ts = sorted(rnd.randrange(0, n_orders // 2 + 1) * 10 for _ in range(n_changes))
    changes = []
    last_ts = None
    for seq, ts in enumerate(change_ts):
        k = rnd.choice(KEYS)
        if rnd.random() < 0.15 and changes:
            # A tombstone has no time of its own: the previous change's (the first's: the start).
            t = last_ts if last_ts is not None else -1
            changes.append({"seq": seq, "k": k, "deleted": 1, "ts": t, "name": None, "tier": None})
            continue
        changes.append({"seq": seq, "k": k, "deleted": 0, "ts": ts,
                        "name": "n%d" % rnd.randrange(1000), "tier": rnd.choice(TIERS)})
        last_ts = ts
    orders = []
    for i, ts in enumerate(order_ts):
        cust = None if rnd.random() < 0.05 else rnd.choice(KEYS + ["zz"])
        orders.append({"id": i, "cust": cust, "amount": rnd.randrange(100), "ts": ts})
    return orders, changes


def write_inputs(work, orders, changes):
    paths = {"orders": os.path.join(work, "orders.jsonl"),
             "customers": os.path.join(work, "customers.jsonl")}
    with open(paths["orders"], "w") as f:
        for o in orders:
            f.write(json.dumps(o) + "\n")
    with open(paths["customers"], "w") as f:
        for c in changes:
            value = "null" if c["deleted"] else json.dumps(
                {"name": c["name"], "tier": c["tier"], "ts": c["ts"]})
            f.write("%s|%s\n" % (c["k"], value))
    return paths


def load_sqlite(orders, changes):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE orders (id INTEGER, cust TEXT, amount INTEGER, ts INTEGER)")
    db.execute("CREATE TABLE changes (seq INTEGER, k TEXT, deleted INTEGER, ts INTEGER, "
               "name TEXT, tier TEXT)")
    db.executemany("INSERT INTO orders VALUES (:id, :cust, :amount, :ts)", orders)
    db.executemany("INSERT INTO changes VALUES (:seq, :k, :deleted, :ts, :name, :tier)", changes)
    return db


def job_yaml(name, sql, paths, out_path):
    return "\n".join([
        "name: " + json.dumps("diff-join-" + name),
        "sql: " + json.dumps(sql),
        "sources:",  # the stream first: the table still wins ties
        "  - name: orders",
        "    type: file",
        "    path: " + json.dumps(paths["orders"]),
        "    event_time: ts",
        "    timestamp_format: epoch_millis",
        "    schema: {id: BIGINT, cust: STRING, amount: BIGINT, ts: TIMESTAMP}",
        "  - name: customers",
        "    kind: table",
        "    type: file",
        "    path: " + json.dumps(paths["customers"]),
        "    key_separator: \"|\"",
        "    event_time: ts",
        "    timestamp_format: epoch_millis",
        "    schema: {name: STRING, tier: STRING, ts: TIMESTAMP}",
        "sink: {type: file, path: %s, timestamp_format: epoch_millis}" % json.dumps(out_path),
        "on_error: fail",
    ]) + "\n"


def run_sluice(binary, work, name, sql, paths):
    out_path = os.path.join(work, name + ".out.jsonl")
    return run_job(binary, os.path.join(work, name + ".yaml"), job_yaml(name, sql, paths, out_path),
                   out_path)


def stream_table_cases(args, work):
    cases = []
    for data_set, changes_first in (("versioned", False), ("end_of_input", True)):
        orders, changes = generate(args.seed, args.orders, changes_first)
        sub = os.path.join(work, data_set)
        os.makedirs(sub)
        paths = write_inputs(sub, orders, changes)
        db = load_sqlite(orders, changes)
        for q in QUERIES:
            if args.only and args.only not in data_set + "." + q["name"]:
                continue
            got, err = run_sluice(args.sluice, sub, q["name"], q["sluice"], paths)
            want = [list(r) for r in db.execute(q["sqlite"]).fetchall()]
            cases.append((data_set + "." + q["name"], q, got, err, want))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sluice")
    ap.add_argument("--seed", type=int, default=20240115)
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--only")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-diff-join-")
    passed = failed = 0
    for name, q, got, err, want in stream_table_cases(args, work) + interval_cases(args, work):
        problems = [err] if err else compare_results(want, got, q["kinds"])
        if not err and not want:
            problems = ["SQLite returned no rows: the data set tests nothing"]
        if problems:
            failed += 1
            print("FAIL %s\n  sluice: %s\n  sqlite: %s" % (name, q["sluice"], q["sqlite"]))
            for p in problems[:10]:
                print("  " + p)
        else:
            passed += 1
            if args.verbose:
                print("ok   %s (%d rows)" % (name, len(want)))
    if args.keep:
        print("work files kept in %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("seed %d, %d orders" % (args.seed, args.orders))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
