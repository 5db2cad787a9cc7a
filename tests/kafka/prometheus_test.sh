#!/usr/bin/env bash
# A real Prometheus scrapes a running daemon: `sluice demo --scenarios S2 --rate 5000` (embedded
# broker, the S2 job, a generator) on a free loopback port, and Debian's `prometheus` on another
# with a temporary config (scrape_interval 1s) and storage. Through Prometheus' HTTP API
# (/api/v1/query) the S2 job's input rate must be plausible (1000..50000 records/s for 5000
# generated) and histogram_quantile(0.99, ...) of the end-to-end latency present, > 0 and < 5 s;
# the daemon's own sliding-window p99 series must be there too (Prometheus' scrapes send
# `Host: 127.0.0.1:PORT`, a loopback name, so the daemon's DNS-rebinding check lets them in).
# Every wait is bounded; both processes are stopped by PID.
set -euo pipefail
SLUICE=$1
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
work=$(mktemp -d)
demo_pid=""
prom_pid=""
cleanup() {
  for p in $demo_pid $prom_pid; do
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- demo stdout"; tail -5 "$work/out" 2>/dev/null || true
  echo "--- demo stderr"; grep -v ' kafka: ' "$work/err" 2>/dev/null | tail -10 || true
  echo "--- prometheus"; tail -10 "$work/prom.log" 2>/dev/null || true
  exit 1
}
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps.sh)"

"$SLUICE" demo --duration 60 --scenarios S2 --rate 5000 --threads 2 \
  --http-listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
demo_pid=$!
port=$(wait_http_port 20 "$work/err") || fail "no http line"

# A free port for Prometheus (the kernel picks it; nothing else should take it within a second).
prom_port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prom.log" 2>&1 &
prom_pid=$!
prom="http://127.0.0.1:$prom_port"
prom_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$prom/-/ready") == 200 ]]; }
wait_for 30 prom_ready || fail "prometheus not ready on $prom"

# query PROMQL: prints "job_name value" per result series (value "nan" or a number).
query() {
  curl -sS --max-time 5 -G "$prom/api/v1/query" --data-urlencode "query=$1" |
    $PY -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    print(s["metric"].get("job_name", "-"), s["value"][1])'
}
value_of() { awk -v j="$1" '$1 == j { print $2 }'; }
in_range() { $PY -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if float(sys.argv[2]) < v < float(sys.argv[3]) else 1)' "$@"; }

rate_q='sum by (job_name) (rate(sluice_records_total{outcome="in"}[15s]))'
p99_q='histogram_quantile(0.99, sum by (job_name, le) (rate(sluice_end_to_end_latency_seconds_bucket[15s])))'
window_q='sluice_end_to_end_latency_quantile_seconds{quantile="0.99"}'
rate="" p99="" window=""
plausible() {
  kill -0 "$demo_pid" 2>/dev/null || fail "sluice demo exited early"
  rate=$(query "$rate_q" | value_of s2) || return 1
  p99=$(query "$p99_q" | value_of s2) || return 1
  window=$(query "$window_q" | value_of s2) || return 1
  [[ -n "$rate" && -n "$p99" && -n "$window" ]] || return 1
  in_range "$rate" 1000 50000 && in_range "$p99" 0 5 && in_range "$window" 0 60
}
# Let Prometheus hold 15 s of scrapes first (the rate windows then span steady traffic, not only
# the start).
scraped() {
  kill -0 "$demo_pid" 2>/dev/null || fail "sluice demo exited early"
  local n
  n=$(query 'count_over_time(up{job="sluice"}[20s])' | awk '{ print $2 }') || return 1
  [[ -n "$n" ]] && in_range "$n" 14.5 1000
}
wait_for 40 scraped || fail "Prometheus did not scrape sluice for 15 s within 40 s"
wait_for 30 plausible ||
  fail "not plausible within 30 s: rate '$rate' records/s, p99 '$p99' s, sliding p99 '$window' s"
up=$(query 'up{job="sluice"}' | awk '{ print $2 }')
[[ "$up" == 1 ]] || fail "up{job=\"sluice\"} is '$up'"

kill -TERM "$prom_pid"
wait "$prom_pid" || true
prom_pid=""
kill -TERM "$demo_pid"
rc=0
wait "$demo_pid" || rc=$?
demo_pid=""
[[ $rc -eq 0 ]] || fail "sluice demo exited $rc after SIGTERM"
echo "PASS: Prometheus scraped sluice: s2 in ${rate} records/s," \
  "p99 ${p99} s (histogram_quantile), sliding-window p99 ${window} s"
