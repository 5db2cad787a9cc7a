#!/usr/bin/env python3
"""Differential test of sluice's OVER analytics against SQLite's window functions (stdlib only).

Same random rows as run.py (data.py). sluice processes rows in arrival order, which is `id`
order, so each query orders its windows by `id` on both sides; every frame ends at the current
row. Results are compared as multisets (LEAD rows come out of sluice in completion order).
Usage:

    over.py SLUICE_BINARY [--seed N] [--rows N] [--only NAME] [--keep] [--verbose]

The last line is `N passed, M failed`; exit status 0 when every query matches.
"""

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import compare_results  # noqa: E402
from data import generate_rows, load_sqlite, write_jsonl  # noqa: E402
from run import run_sluice  # noqa: E402


def q(name, sluice, sqlite, kinds):
    return dict(name=name, sluice=sluice, sqlite=sqlite, kinds=kinds.split())


def frame(n):
    return "ROWS BETWEEN %d PRECEDING AND CURRENT ROW" % n


OVER_QUERIES = [
    q("sliding_bigint",
      "SELECT id, SUM(n) OVER w AS s, COUNT(n) OVER w AS c, COUNT(*) OVER w AS cs, "
      "AVG(n) OVER w AS a FROM t WINDOW w AS (PARTITION BY k ORDER BY id %s)" % frame(4),
      "SELECT id, SUM(n) OVER w, COUNT(n) OVER w, COUNT(*) OVER w, AVG(n) OVER w "
      "FROM t WINDOW w AS (PARTITION BY k ORDER BY id %s)" % frame(4),
      "int int int int float"),
    q("sliding_decimal",
      "SELECT id, SUM(d) OVER w AS s, AVG(d) OVER w AS a, MIN(d) OVER w AS lo, "
      "MAX(d) OVER w AS hi FROM t WINDOW w AS (PARTITION BY k2 ORDER BY id %s)" % frame(9),
      "SELECT id, SUM(d_c) OVER w, AVG(d_c) OVER w / 100.0, MIN(d_c) OVER w, MAX(d_c) OVER w "
      "FROM t WINDOW w AS (PARTITION BY k2 ORDER BY id %s)" % frame(9),
      "int cents dec6 cents cents"),
    q("sliding_double",
      "SELECT id, SUM(x) OVER w AS s, AVG(x) OVER w AS a, MIN(x) OVER w AS lo, "
      "MAX(x) OVER w AS hi FROM t WINDOW w AS (PARTITION BY k ORDER BY id %s)" % frame(19),
      "SELECT id, SUM(x) OVER w, AVG(x) OVER w, MIN(x) OVER w, MAX(x) OVER w "
      "FROM t WINDOW w AS (PARTITION BY k ORDER BY id %s)" % frame(19),
      "int float float float float"),
    q("sliding_min_max_any_type",
      "SELECT id, MIN(n) OVER w AS a, MAX(n) OVER w AS b, MIN(s) OVER w AS c, "
      "MAX(s) OVER w AS e, MIN(ts) OVER w AS f, MAX(ts) OVER w AS g "
      "FROM t WINDOW w AS (PARTITION BY k2 ORDER BY id %s)" % frame(6),
      "SELECT id, MIN(n) OVER w, MAX(n) OVER w, MIN(s) OVER w, MAX(s) OVER w, MIN(ts) OVER w, "
      "MAX(ts) OVER w FROM t WINDOW w AS (PARTITION BY k2 ORDER BY id %s)" % frame(6),
      "int int int str str ts ts"),
    q("unbounded_running",
      "SELECT id, SUM(n) OVER (PARTITION BY k ORDER BY id ROWS UNBOUNDED PRECEDING) AS s, "
      "MIN(n) OVER (PARTITION BY k ORDER BY id) AS lo, "
      "MAX(d) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
      "AS hi, COUNT(x) OVER (PARTITION BY k ORDER BY id) AS c FROM t",
      "SELECT id, SUM(n) OVER w, MIN(n) OVER w, MAX(d_c) OVER w, COUNT(x) OVER w "
      "FROM t WINDOW w AS (PARTITION BY k ORDER BY id ROWS UNBOUNDED PRECEDING)",
      "int int int cents int"),
    q("buffer_form",
      "SELECT id, AVG(n) OVER (ROWS WINDOW BUFFER 50 ROWS PARTITION BY k ORDER BY id) AS a, "
      "MAX(n) OVER (ROWS WINDOW BUFFER 50 ROWS PARTITION BY k ORDER BY id) AS m FROM t",
      "SELECT id, AVG(n) OVER w, MAX(n) OVER w FROM t "
      "WINDOW w AS (PARTITION BY k ORDER BY id %s)" % frame(49),
      "int float int"),
    q("lag_lead",
      "SELECT id, LAG(n) OVER w AS a, LAG(n, 3, -1) OVER w AS b, LEAD(n) OVER w AS c, "
      "LEAD(n, 2, 0) OVER w AS e, LEAD(s, 5) OVER w AS f, LAG(d, 1, 0) OVER w AS g "
      "FROM t WINDOW w AS (PARTITION BY k ORDER BY id)",
      "SELECT id, LAG(n) OVER w, LAG(n, 3, -1) OVER w, LEAD(n) OVER w, LEAD(n, 2, 0) OVER w, "
      "LEAD(s, 5) OVER w, LAG(d_c, 1, 0) OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY id)",
      "int int int int int str cents"),
    q("first_last_row_number",
      "SELECT id, FIRST_VALUE(n) OVER (PARTITION BY k2 ORDER BY id %s) AS f, "
      "LAST_VALUE(s) OVER (PARTITION BY k2 ORDER BY id %s) AS l, "
      "FIRST_VALUE(x) OVER (PARTITION BY k2 ORDER BY id) AS fx, "
      "ROW_NUMBER() OVER (PARTITION BY k2 ORDER BY id) AS rn FROM t" % (frame(3), frame(3)),
      "SELECT id, FIRST_VALUE(n) OVER (PARTITION BY k2 ORDER BY id %s), "
      "LAST_VALUE(s) OVER (PARTITION BY k2 ORDER BY id %s), "
      "FIRST_VALUE(x) OVER (PARTITION BY k2 ORDER BY id), "
      "ROW_NUMBER() OVER (PARTITION BY k2 ORDER BY id) FROM t" % (frame(3), frame(3)),
      "int int str float int"),
    q("where_then_two_keys",
      "SELECT id, SUM(n) OVER w AS s, COUNT(*) OVER w AS c FROM t WHERE n > -50 "
      "WINDOW w AS (PARTITION BY k, k2 ORDER BY id %s)" % frame(2),
      "SELECT id, SUM(n) OVER w, COUNT(*) OVER w FROM t WHERE n > -50 "
      "WINDOW w AS (PARTITION BY k, k2 ORDER BY id %s)" % frame(2),
      "int int int"),
    q("no_partition_expression_argument",
      "SELECT id, SUM(n * m) OVER (ORDER BY id %s) AS s, "
      "MAX(LENGTH(s)) OVER (ORDER BY id %s) AS l FROM t" % (frame(30), frame(30)),
      "SELECT id, SUM(n * m) OVER w, MAX(LENGTH(s)) OVER w FROM t "
      "WINDOW w AS (ORDER BY id %s)" % frame(30),
      "int int int"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sluice", help="path of the sluice binary")
    ap.add_argument("--seed", type=int, default=20240115)
    ap.add_argument("--rows", type=int, default=2500)  # > 2 batches of 1024
    ap.add_argument("--only", help="run only queries whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not os.access(args.sluice, os.X_OK):
        print("over.py: %s is not an executable" % args.sluice)
        return 2
    work = tempfile.mkdtemp(prefix="sluice-diff-over-")
    rows = generate_rows(args.seed, args.rows)
    data_path = os.path.join(work, "t.jsonl")
    write_jsonl(rows, data_path)
    db = sqlite3.connect(":memory:")
    load_sqlite(db, rows)
    passed = failed = 0
    for query in OVER_QUERIES:
        if args.only and args.only not in query["name"]:
            continue
        got, err = run_sluice(args.sluice, work, query["name"], query["sluice"], data_path)
        if err:
            problems = [err]
        else:
            want = [list(r) for r in db.execute(query["sqlite"]).fetchall()]
            problems = compare_results(want, got, query["kinds"])
        if problems:
            failed += 1
            print("FAIL %s\n  sluice: %s\n  sqlite: %s" % (query["name"], query["sluice"],
                                                           query["sqlite"]))
            for p in problems[:10]:
                print("  " + p)
        else:
            passed += 1
            if args.verbose:
                print("ok   %s" % query["name"])
    if args.keep:
        print("work files kept in %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("seed %d, %d rows" % (args.seed, args.rows))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
