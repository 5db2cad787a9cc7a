#!/usr/bin/env bash
# The deploy assets (deploy/prometheus, deploy/grafana) and JSON logs:
# - `promtool check config` on prometheus.yml (with its rule file), `promtool check rules` and
#   `promtool test rules` (deploy/prometheus/alerts_test.yml) on alerts.yml;
# - the Grafana dashboard is valid JSON with a Prometheus datasource variable that every query
#   uses, unique panel ids and an expression per target;
# - every sluice_* metric name used in alerts.yml and in the dashboard appears in a real /metrics
#   scrape of `sluice serve --embedded-kafka` running the S2 and S3b scenario jobs;
# - that daemon runs with `--log-format json`: every stderr line is a JSON object with time, level
#   and message, and job / partition whenever the message names them (a refused request's
#   warning included); /healthz and /readyz answer probes as kubelet sends them.
set -euo pipefail
SLUICE=$1
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- stderr"; tail -20 "$work/err" 2>/dev/null || true
  exit 1
}

# 1. Prometheus config and rules.
promtool check config "$ROOT/deploy/prometheus/prometheus.yml" >"$work/promtool" 2>&1 ||
  fail "promtool check config: $(cat "$work/promtool")"
grep -q 'SUCCESS: 1 rule files found' "$work/promtool" ||
  fail "rule file not found: $(cat "$work/promtool")"
promtool check rules "$ROOT/deploy/prometheus/alerts.yml" >"$work/promtool" 2>&1 ||
  fail "promtool check rules: $(cat "$work/promtool")"
(cd "$ROOT/deploy/prometheus" && promtool test rules alerts_test.yml) >"$work/promtool" 2>&1 ||
  fail "promtool test rules: $(cat "$work/promtool")"

# 2. The dashboard; its expressions and the alert rules' lines go to $work/exprs.
$PY - "$ROOT/deploy/grafana/sluice-dashboard.json" "$ROOT/deploy/prometheus/alerts.yml" \
  >"$work/exprs" <<'PYEOF' || fail "dashboard check"
import json, sys
d = json.load(open(sys.argv[1]))
variables = {v["name"]: v for v in d["templating"]["list"]}
ds = variables.get("datasource")
assert ds and ds["type"] == "datasource" and ds["query"] == "prometheus", "no datasource variable"
assert d["title"] and d["uid"] and isinstance(d["schemaVersion"], int)
ids = [p["id"] for p in d["panels"]]
assert len(ids) == len(set(ids)), "duplicate panel ids"
exprs = []
for p in d["panels"]:
    assert {"x", "y", "w", "h"} <= set(p["gridPos"]), p["title"]
    if p["type"] == "text":
        continue
    assert p["datasource"]["uid"] == "${datasource}", p["title"]
    assert p["targets"], p["title"]
    for t in p["targets"]:
        assert t["expr"].strip() and t["datasource"]["uid"] == "${datasource}", p["title"]
        exprs.append(t["expr"])
titles = " ".join(p["title"] for p in d["panels"]).lower()
for want in ("in / s", "out / s", "p50 / p99", "lag", "dead-letter", "paused"):
    assert want in titles, "no panel for " + want
for line in open(sys.argv[2]):  # the rules (block scalars included: every line)
    if not line.lstrip().startswith("#"):
        exprs.append(line)
print("\n".join(exprs))
PYEOF
grep -o 'sluice_[a-z0-9_]*' "$work/exprs" | sort -u >"$work/names"
[[ $(wc -l <"$work/names") -ge 8 ]] || fail "too few metric names: $(cat "$work/names")"

# 3. A daemon with JSON logs; its /metrics.
mkdir -p "$work/jobs"
cat >"$work/sluice.yaml" <<YAML
jobs_dir: $work/jobs
threads: 2
kafka:
  session.timeout.ms: 6000
YAML
"$SLUICE" gen --scenario S2 --print-job >"$work/jobs/s2.yaml"
"$SLUICE" gen --scenario S3b --print-job >"$work/jobs/s3b.yaml"
"$SLUICE" serve --config "$work/sluice.yaml" --embedded-kafka --http-listen 127.0.0.1:0 \
  --log-format json >"$work/out" 2>"$work/err" &
pid=$!
wait_for 20 grep -q '^bootstrap: ' "$work/out" || fail "no bootstrap line"
wait_for 20 grep -q '"message":"http: listening on 127\.0\.0\.1:[0-9]' "$work/err" ||
  fail "no http line"
bootstrap=$(sed -n 's/^bootstrap: //p' "$work/out" | head -1)
port=$(sed -n 's/.*"message":"http: listening on 127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$work/err" |
  head -1)
base="http://127.0.0.1:$port"
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]]; }
# Both jobs assigned (S2 then restores its durable state, not ready meanwhile), then ready.
for job in s2 s3b; do
  wait_for 30 grep -q "\"message\":\"job $job: assigned " "$work/err" || fail "$job never assigned"
done
wait_for 30 ready || fail "readyz never 200: $(curl -s "$base/readyz")"
for s in S2 S3b; do
  "$SLUICE" gen --scenario $s --records 5000 --bootstrap "$bootstrap" 2>"$work/gen" ||
    fail "gen $s failed: $(cat "$work/gen")"
done
scrape() { curl -sS --max-time 10 -o "$work/metrics" "$base/metrics"; }
has_all() {
  scrape || return 1
  sed -n 's/^\(sluice_[a-z0-9_]*\)[{ ].*/\1/p' "$work/metrics" | sort -u >"$work/scraped"
  [[ -z $(comm -23 "$work/names" "$work/scraped") ]]
}
wait_for 60 has_all || fail "metric names used by the deploy assets but absent from /metrics:" \
  "$(comm -23 "$work/names" "$work/scraped" | tr '\n' ' ')"

# Probes as kubelet sends them (it sends `Host: <pod IP>:<port>` to a daemon listening beyond
# loopback, where Host is not checked; tests/unit/admin_api_test.cpp covers that) and a refused
# request, whose warning must be a JSON line too.
for path in /healthz /readyz; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H 'User-Agent: kube-probe/1.29' \
    -H 'Accept: */*' "$base$path") || fail "curl $path failed"
  [[ "$code" == 200 ]] || fail "probe $path: $code"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: evil.example:$port" \
  "$base/jobs") || fail "curl failed"
[[ "$code" == 421 ]] || fail "rebound Host: $code"
wait_for 10 grep -q '"message":"http: refused GET /jobs with 421' "$work/err" ||
  fail "no log line for the refused request"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc -eq 0 ]] || fail "sluice serve exited $rc after SIGTERM"

# 4. Every log line is JSON.
$PY - "$work/err" <<'PYEOF' || fail "JSON log lines"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) >= 5, f"only {len(lines)} log lines"
jobs = set()
for n, line in enumerate(lines, 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        raise SystemExit(f"line {n} is not JSON ({e}): {line!r}")
    assert isinstance(o, dict) and {"time", "level", "message"} <= set(o), f"line {n}: {line}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), o["time"]
    assert o["level"] in ("trace", "debug", "info", "warning", "error", "critical"), o["level"]
    m = re.match(r"job ([^ :]+):", o["message"])
    assert o.get("job") == (m.group(1) if m else None), f"line {n}: job {o.get('job')}: {line}"
    p = re.search(r"(?<![A-Za-z0-9])partition (\d+)(?![A-Za-z0-9])", o["message"])
    assert o.get("partition") == (int(p.group(1)) if p and m else None), f"line {n}: {line}"
    if m:
        jobs.add(o["job"])
assert {"s2", "s3b"} <= jobs, f"no job lines for s2 and s3b: {jobs}"
assert any(json.loads(l)["message"] == "all jobs stopped" for l in lines), "no clean stop"
print(f"{len(lines)} JSON log lines, jobs {sorted(jobs)}")
PYEOF
echo "PASS: promtool config/rules/tests, dashboard JSON," \
  "$(wc -l <"$work/names") metric names in /metrics, JSON logs"
