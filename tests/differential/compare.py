"""Multiset comparison of SQLite and sluice results, column by column according to a kind.

Kinds: int, str, bool (SQLite 0/1), float (relative tolerance 1e-9), cents (SQLite integer cents
vs sluice exact DECIMAL with 2 decimals: exact), dec6 (SQLite double vs sluice DECIMAL rounded to
6 decimals: absolute tolerance 6e-7), ts (epoch milliseconds on both sides).
"""

from decimal import Decimal

REL_TOL = 1e-9
DEC6_TOL = 6e-7
TOLERANT = ("float", "dec6")


def normalize(value, kind, side):
    """The comparable form of one value; side is 'sqlite' or 'sluice'."""
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind in ("int", "ts"):
        return int(value)
    if kind == "str":
        return str(value)
    if kind == "cents":
        return Decimal(value).scaleb(-2) if side == "sqlite" else Decimal(value)
    if kind in TOLERANT:
        return float(value)
    raise ValueError("unknown kind " + kind)


def close(a, b, kind):
    if a is None or b is None:
        return a is b
    if kind == "dec6":
        return abs(a - b) <= DEC6_TOL
    return abs(a - b) <= max(abs(a), abs(b)) * REL_TOL or abs(a - b) < 1e-12


def exact_key(row, kinds):
    """Hashable part of a row: every column compared exactly (tolerant ones become a marker)."""
    return tuple(None if k in TOLERANT else v for v, k in zip(row, kinds))


def rows_match(a, b, kinds):
    return all(close(x, y, k) if k in TOLERANT else x == y for x, y, k in zip(a, b, kinds))


def compare_results(want_raw, got_raw, kinds):
    """Problems (strings) found comparing the two results as multisets; empty when equal."""
    problems = []
    for r in got_raw:
        if len(r) != len(kinds):
            return ["sluice row has %d columns, expected %d: %r" % (len(r), len(kinds), r)]
    want = [[normalize(v, k, "sqlite") for v, k in zip(r, kinds)] for r in want_raw]
    got = [[normalize(v, k, "sluice") for v, k in zip(r, kinds)] for r in got_raw]
    if len(want) != len(got):
        problems.append("row count: sqlite %d, sluice %d" % (len(want), len(got)))
    buckets = {}
    for r in got:
        buckets.setdefault(exact_key(r, kinds), []).append(r)
    for r in want:
        candidates = buckets.get(exact_key(r, kinds), [])
        for i, c in enumerate(candidates):
            if rows_match(r, c, kinds):
                del candidates[i]
                break
        else:
            problems.append("missing in sluice: %s" % fmt(r))
    for rest in buckets.values():
        for r in rest:
            problems.append("extra in sluice:   %s" % fmt(r))
    return problems


def fmt(row):
    return "[" + ", ".join("NULL" if v is None else repr(v) for v in row) + "]"
