"""Rejections across batch boundaries: undecodable lines and division by zero must reach the
dead-letter file with the right error code and input offset, and everything else the sink.
The expected result is computed here in Python (SQLite returns NULL for x / 0)."""

import json
import os
import random
import subprocess

from data import SCHEMA, to_json_line

BAD_LINES = ["not json", "{\"id\": 1,", "[1,2,3]", "{\"n\": \"abc\"}", "{\"b\": 3}"]


def build_input(rows, seed):
    """Lines with bad ones at batch edges (1023/1024, 2047/2048) and at random places."""
    rng = random.Random(seed)
    lines = [to_json_line(r, rng) for r in rows]
    bad_at = sorted({0, 1023, 1024, 2047, 2048} | {rng.randrange(len(lines)) for _ in range(8)})
    for offset in bad_at:
        if offset <= len(lines):
            lines.insert(offset, rng.choice(BAD_LINES))
    return lines


def expected(lines):
    """Output rows {id: q} and dead letters [(code, offset)] for 100 / m."""
    out, dead = {}, []
    for offset, line in enumerate(lines):
        try:
            row = json.loads(line)
            ok = isinstance(row, dict) and not isinstance(row.get("n"), str) and \
                row.get("b") in (None, True, False)
        except ValueError:
            ok = False
        if not ok:
            dead.append(("DECODE", offset))
        elif row.get("m") == 0:
            dead.append(("DIVISION_BY_ZERO", offset))
        else:
            m = row.get("m")
            out[row["id"]] = None if m is None else int(100 / m)
    return out, dead


def job_yaml(data_path, out_path, dlq_path):
    schema = "\n".join("    %s: %s" % (json.dumps(c), json.dumps(t)) for c, t, _ in SCHEMA)
    return ("name: diff-dlq\nsql: \"SELECT id, 100 / m AS q FROM t\"\n"
            "source:\n  name: t\n  type: file\n  path: %s\n  format: json\n  schema:\n%s\n"
            "sink:\n  type: file\n  path: %s\n  format: json\n"
            "dead_letter:\n  type: file\n  path: %s\n  format: json\n"
            % (json.dumps(data_path), schema, json.dumps(out_path), json.dumps(dlq_path)))


def check_dead_letters(binary, work, rows, seed):
    """Problems found (strings); empty when sluice matches."""
    lines = build_input(rows, seed)
    paths = {k: os.path.join(work, "dlq." + k) for k in ("in.jsonl", "out.jsonl", "dlq.jsonl",
                                                          "yaml")}
    with open(paths["in.jsonl"], "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(paths["yaml"], "w") as f:
        f.write(job_yaml(paths["in.jsonl"], paths["out.jsonl"], paths["dlq.jsonl"]))
    proc = subprocess.run([binary, "run", paths["yaml"]], capture_output=True, text=True,
                          timeout=20, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        return ["sluice exited %d: %s" % (proc.returncode, proc.stderr.strip())]
    want_out, want_dead = expected(lines)
    with open(paths["out.jsonl"]) as f:
        got_out = [json.loads(l) for l in f]
    with open(paths["dlq.jsonl"]) as f:
        got_dead = [json.loads(l) for l in f]
    problems = []
    if {r["id"]: r["q"] for r in got_out} != want_out or len(got_out) != len(want_out):
        problems.append("output differs: %d rows, expected %d" % (len(got_out), len(want_out)))
    # Within one batch the runner writes decode failures before evaluation failures, so the
    # dead-letter file is compared by offset, not in file order.
    got_pairs = sorted(((d.get("error_code"), d.get("offset")) for d in got_dead),
                       key=lambda p: p[1])
    if got_pairs != want_dead:
        missing = [p for p in want_dead if p not in got_pairs][:10]
        extra = [p for p in got_pairs if p not in want_dead][:10]
        problems.append("dead letters differ (%d expected, %d written); missing %s; extra %s"
                        % (len(want_dead), len(got_pairs), missing, extra))
    for d in got_dead:
        if d.get("record") != lines[d.get("offset", 0)]:
            problems.append("dead letter at offset %s does not hold the original line: %r"
                            % (d.get("offset"), d.get("record")))
            break
    return problems
