#!/usr/bin/env python3
"""Differential test of sluice against SQLite (Python stdlib only).

Generates random rows with a fixed seed (NULLs and missing fields included), writes them as JSON
Lines, runs every query in QUERIES through `sluice run JOB.yaml` and through SQLite on the same
data, and compares the results as multisets. Usage:

    run.py SLUICE_BINARY [--seed N] [--rows N] [--fuzz N] [--only NAME] [--keep] [--verbose]

Exit status 0 when every query matches. The last line is `N passed, M failed`.
See README.md beside this file for how values are compared.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import SCHEMA, generate_rows, load_sqlite, write_jsonl  # noqa: E402
from compare import compare_results  # noqa: E402
from dlq_check import check_dead_letters  # noqa: E402
from fuzz import fuzz_queries  # noqa: E402
from queries import QUERIES  # noqa: E402
from window_queries import WINDOW_QUERIES  # noqa: E402

RUN_TIMEOUT_S = 20


def job_yaml(name, sql, data_path, out_path, source_extra=()):
    """A job file for one query; JSON strings are valid YAML double-quoted scalars."""
    lines = [
        "name: " + json.dumps("diff-" + name),
        "sql: " + json.dumps(sql),
        "source:",
        "  name: t",
        "  type: file",
        "  path: " + json.dumps(data_path),
        "  format: json",
        "  schema:",
    ]
    lines += ["    %s: %s" % (json.dumps(col), json.dumps(typ)) for col, typ, _ in SCHEMA]
    lines += ["  " + line for line in source_extra]
    lines += [
        "sink:",
        "  type: file",
        "  path: " + json.dumps(out_path),
        "  format: json",
        "  timestamp_format: epoch_millis",
        "on_error: fail",
    ]
    return "\n".join(lines) + "\n"


def run_sluice(binary, work, name, sql, data_path, source_extra=()):
    """Runs one query; returns (rows as lists in output-key order, error text or None)."""
    out_path = os.path.join(work, name + ".out.jsonl")
    return run_job(binary, os.path.join(work, name + ".yaml"),
                   job_yaml(name, sql, data_path, out_path, source_extra), out_path)


def run_job(binary, job_path, yaml_text, out_path):
    """Writes the job file and runs it; returns (output rows as lists in key order, error)."""
    with open(job_path, "w") as f:
        f.write(yaml_text)
    try:
        proc = subprocess.run([binary, "run", job_path], capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "sluice timed out after %d s" % RUN_TIMEOUT_S
    if proc.returncode != 0:
        return None, "sluice exited %d: %s" % (proc.returncode, proc.stderr.strip())
    rows = []
    with open(out_path) as f:
        for line in f:
            obj = json.loads(line, parse_float=Decimal, object_pairs_hook=list)
            rows.append([v for _, v in obj])
    return rows, None


def run_query(args, work, data_paths, db, q):
    data_path = data_paths[q.get("data", "all")]
    got, err = run_sluice(args.sluice, work, q["name"], q["sluice"], data_path, q.get("source", ()))
    if err:
        return [err]
    want = [list(r) for r in db.execute(q["sqlite"]).fetchall()]
    if "changes_last" in q:
        got = last_per_key(got, q["changes_last"])
    return compare_results(want, got, q["kinds"])


def last_per_key(rows, key_count):
    """The last emitted row of each group (EMIT CHANGES output -> final state)."""
    last = {}
    for r in rows:
        last[json.dumps(r[:key_count], default=str)] = r
    return list(last.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sluice", help="path of the sluice binary")
    ap.add_argument("--seed", type=int, default=20240115)
    ap.add_argument("--rows", type=int, default=2500)  # > 2 batches of 1024
    ap.add_argument("--fuzz", type=int, default=60,
                    help="random expression queries (plus a third as many aggregate ones)")
    ap.add_argument("--only", help="run only queries whose name contains this")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if not os.access(args.sluice, os.X_OK):
        print("run.py: %s is not an executable" % args.sluice)
        return 2

    work = tempfile.mkdtemp(prefix="sluice-diff-")
    started = time.monotonic()
    rows = generate_rows(args.seed, args.rows)
    data_path = os.path.join(work, "t.jsonl")
    write_jsonl(rows, data_path)
    # Windowed queries need an event time on every record (window_queries.py).
    timed = [r for r in rows if r["ts"] is not None]
    data_paths = {"all": data_path,
                  "windows_shuffled": os.path.join(work, "timed.jsonl"),
                  "windows_sorted": os.path.join(work, "timed_sorted.jsonl")}
    write_jsonl(timed, data_paths["windows_shuffled"])
    write_jsonl(sorted(timed, key=lambda r: r["ts"]), data_paths["windows_sorted"])
    db = sqlite3.connect(":memory:")
    load_sqlite(db, rows)

    passed = failed = 0
    for q in QUERIES + WINDOW_QUERIES + fuzz_queries(args.seed, args.fuzz, args.fuzz // 3):
        if args.only and args.only not in q["name"]:
            continue
        problems = run_query(args, work, data_paths, db, q)
        if problems:
            failed += 1
            print("FAIL %s\n  sluice: %s\n  sqlite: %s" % (q["name"], q["sluice"], q["sqlite"]))
            for p in problems[:10]:
                print("  " + p)
            if len(problems) > 10:
                print("  ... %d more differences" % (len(problems) - 10))
        else:
            passed += 1
            if args.verbose:
                print("ok   %s" % q["name"])
    if not args.only or args.only in "dead_letters":
        problems = check_dead_letters(args.sluice, work, rows, args.seed)
        if problems:
            failed += 1
            print("FAIL dead_letters (SELECT id, 100 / m AS q FROM t, bad lines at batch edges)")
            for p in problems:
                print("  " + p)
        else:
            passed += 1
            if args.verbose:
                print("ok   dead_letters")
    elapsed = time.monotonic() - started
    if args.keep:
        print("work files kept in %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("seed %d, %d rows, %.1f s" % (args.seed, args.rows, elapsed))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
