#!/usr/bin/env bash
# The admin API and /metrics of a running daemon: `sluice serve --embedded-kafka --http-listen
# 127.0.0.1:0` with the S2 scenario job (plus one invalid job file) and generated records. Checks
# every endpoint with curl (/healthz, /readyz, /jobs, /jobs/s2, an unknown job, an unknown path, a
# wrong method, a rebound Host name: 421, `Host: localhost`), that `promtool check metrics`
# accepts the exposition, that records and latency are counted, that a second daemon on the same
# port exits 1 with a clear error, and a clean stop.
# Then /readyz against `sluice broker --control stdin`: 503 while every broker is down, 200 again.
set -euo pipefail
SLUICE=$1
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
pid=""
bpid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [[ -n "$bpid" ]] && kill -0 "$bpid" 2>/dev/null; then kill -KILL "$bpid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- stdout"; tail -20 "$work/out" 2>/dev/null || true
  echo "--- stderr"; grep -v ' kafka: ' "$work/err" 2>/dev/null | tail -30 || true
  exit 1
}

mkdir -p "$work/jobs"
cat >"$work/sluice.yaml" <<EOF
jobs_dir: $work/jobs
threads: 2
kafka:
  session.timeout.ms: 6000
EOF
"$SLUICE" gen --scenario S2 --print-job >"$work/jobs/s2.yaml"
printf 'name: broken\nsql: SELEC nothing\n' >"$work/jobs/broken.yaml"

"$SLUICE" serve --config "$work/sluice.yaml" --embedded-kafka --http-listen 127.0.0.1:0 \
  >"$work/out" 2>"$work/err" &
pid=$!
wait_for 20 grep -q '^bootstrap: ' "$work/out" || fail "no bootstrap line"
port=$(wait_http_port 20 "$work/err") || fail "no http line"
bootstrap=$(sed -n 's/^bootstrap: //p' "$work/out" | head -1)
[[ "$port" =~ ^[0-9]+$ && "$port" -gt 0 ]] || fail "bad port '$port'"
base="http://127.0.0.1:$port"

# curl_check PATH STATUS [METHOD]: body in $work/body, headers in $work/head.
curl_check() {
  local code
  code=$(curl -sS -X "${3:-GET}" -o "$work/body" -D "$work/head" -w '%{http_code}' \
    --max-time 10 "$base$1") || fail "curl $1 failed"
  [[ "$code" == "$2" ]] || fail "${3:-GET} $1: status $code, expected $2: $(cat "$work/body")"
}

curl_check /healthz 200
grep -qx '{"status": "ok"}' "$work/body" || fail "healthz body: $(cat "$work/body")"
grep -qi '^content-type: application/json' "$work/head" || fail "healthz content type"

ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]]; }
wait_for 30 ready || fail "readyz never 200: $(curl -s "$base/readyz")"

"$SLUICE" gen --scenario S2 --records 20000 --bootstrap "$bootstrap" 2>"$work/gen" ||
  fail "gen failed: $(cat "$work/gen")"

curl_check /jobs/nope 404
grep -qx "{\"error\": \"no job named 'nope'\"}" "$work/body" || fail "404 body: $(cat "$work/body")"
curl_check /nope 404
grep -q '"error": ' "$work/body" || fail "404 body not JSON"
curl_check /jobs 405 PUT
grep -qi '^allow: GET' "$work/head" || fail "405 without Allow"

# DNS rebinding: a daemon on loopback answers only requests for loopback names, on every route.
for path in /jobs /metrics /healthz; do
  code=$(curl -sS -o "$work/body" -w '%{http_code}' --max-time 10 -H "Host: evil.example:$port" \
    "$base$path") || fail "curl $path failed"
  [[ "$code" == 421 ]] && grep -q 'DNS rebinding' "$work/body" ||
    fail "GET $path for evil.example: $code $(cat "$work/body")"
done
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: localhost:$port" \
  "$base/jobs") || fail "curl failed"
[[ "$code" == 200 ]] || fail "GET /jobs for localhost: $code"
grep -qi '^x-content-type-options: nosniff' "$work/head" || fail "no X-Content-Type-Options"

# Records flow: wait until the counters show them in and out, with a latency.
scrape() { curl -sS --max-time 10 -o "$work/metrics" -D "$work/mhead" "$base/metrics"; }
series_sum() { # series_sum REGEX: the sum of the values of the matching series
  awk -v re="$1" '$0 !~ /^#/ && $1 ~ re { s += $NF } END { print s + 0 }' "$work/metrics"
}
flowing() {
  scrape || return 1
  local in out count
  in=$(series_sum '^sluice_records_total\{job_name="s2",.*outcome="in"\}$')
  out=$(series_sum '^sluice_records_total\{job_name="s2",.*outcome="out"\}$')
  count=$(series_sum '^sluice_end_to_end_latency_seconds_count\{job_name="s2"\}$')
  [[ "$in" -ge 20000 && "$out" -gt 0 && "$count" -gt 0 ]]
}
wait_for 60 flowing || fail "records never counted: $(grep 'job_name="s2"' "$work/metrics" | head)"
grep -qi '^content-type: text/plain; version=0.0.4' "$work/mhead" || fail "metrics content type"
curl_check /jobs 200
grep -q '"name": "s2", "file": "[^"]*s2.yaml", "state": "running"' "$work/body" ||
  fail "/jobs lacks s2 running: $(head -c 400 "$work/body")"
grep -q '"name": "broken", [^}]*"state": "invalid", "error": "[^"]*broken.yaml:' "$work/body" ||
  fail "/jobs lacks the invalid job with its error: $(head -c 2000 "$work/body")"

curl_check /jobs/s2 200
for key in '"partitions": \[{"topic": "s2-in", "partition": ' '"position": ' '"committed": ' \
  '"high_watermark": ' '"lag": ' '"watermark": ' '"paused": ' '"in_flight": ' '"p99": ' \
  '"generation": [1-9]' '"rebalances": [1-9]'; do
  grep -q "$key" "$work/body" || fail "/jobs/s2 lacks $key: $(head -c 600 "$work/body")"
done

promtool check metrics <"$work/metrics" >"$work/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool")"
[[ ! -s "$work/promtool" ]] || fail "promtool warnings: $(cat "$work/promtool")"
for series in 'sluice_bytes_total\{job_name="s2",topic="s2-in",partition="0",direction="in"\}' \
  'sluice_consumer_lag\{job_name="s2",topic="s2-in",partition="0"\}' \
  'sluice_pipeline_paused\{job_name="s2",topic="s2-in",partition="0"\} 0' \
  'sluice_in_flight_records\{job_name="s2"' \
  'sluice_end_to_end_latency_seconds_bucket\{job_name="s2",le="0.0001"\}' \
  'sluice_end_to_end_latency_seconds_bucket\{job_name="s2",le="60"\}' \
  'sluice_end_to_end_latency_quantile_seconds\{job_name="s2",quantile="0.99"\} [0-9]' \
  'sluice_commits_total\{job_name="s2"\}' 'sluice_rebalances_total\{job_name="s2"\} [1-9]' \
  'sluice_job_state\{job_name="s2",state="running"\} 1' \
  'sluice_job_state\{job_name="broken",state="invalid"\} 1' \
  'sluice_job_config_generation\{job_name="s2"\} [1-9]' 'sluice_process_cpu_seconds_total [0-9]' \
  'sluice_process_resident_memory_bytes [1-9]' \
  'sluice_batch_processing_seconds_count\{job_name="s2"\} [1-9]' \
  'sluice_batch_records_bucket\{job_name="s2",le="4096"\} [1-9]' \
  'sluice_producer_queue_records\{job_name="s2"\} [0-9]' \
  'sluice_state_groups\{job_name="s2",topic="s2-in",partition="0"\} [0-9]' \
  'sluice_state_bytes\{job_name="s2",topic="s2-in",partition="0"\} [0-9]' \
  'sluice_state_open_windows\{job_name="s2",topic="s2-in",partition="0"\} [0-9]'; do
  grep -Eq "^$series" "$work/metrics" || fail "no series $series"
done
if grep -q '[{,]job="' "$work/metrics"; then fail "a series is labelled job="; fi

# A second daemon on the same port: a clear startup error, exit 1.
rc=0
timeout 30 "$SLUICE" serve --config "$work/sluice.yaml" --http-listen "127.0.0.1:$port" \
  >"$work/out2" 2>"$work/err2" || rc=$?
[[ $rc -eq 1 ]] || fail "a second daemon on port $port exited $rc: $(cat "$work/err2")"
grep -q "http: cannot listen on 127.0.0.1:$port: Address already in use" "$work/err2" ||
  fail "no clear error for the port in use: $(cat "$work/err2")"
rc=0
"$SLUICE" serve --config "$work/sluice.yaml" --http-listen nonsense >/dev/null 2>"$work/err3" ||
  rc=$?
[[ $rc -eq 2 ]] && grep -q -- "--http-listen 'nonsense'" "$work/err3" ||
  fail "bad --http-listen: exit $rc: $(cat "$work/err3")"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc -eq 0 ]] || fail "sluice serve exited $rc after SIGTERM"
grep -q "all jobs stopped" "$work/err" || fail "no clean stop in the log"

# Kafka reachability: a daemon against an external broker that goes down and up again. The S2 job
# keeps durable state: its changelog topic is created here (the mock answers no CreateTopics).
mkfifo "$work/ctl"
"$SLUICE" broker --topic s2-in:2 --topic s2-changelog:2 --control stdin <"$work/ctl" >"$work/bout" 2>"$work/berr" &
bpid=$!
exec 3>"$work/ctl" # the broker's stdin stays open while the test writes commands
wait_for 20 grep -q '^bootstrap: ' "$work/bout" || fail "no broker bootstrap: $(cat "$work/berr")"
mkdir -p "$work/jobs2"
cp "$work/jobs/s2.yaml" "$work/jobs2/"
cat >"$work/sluice2.yaml" <<EOF
jobs_dir: $work/jobs2
threads: 2
kafka:
  bootstrap.servers: $(sed -n 's/^bootstrap: //p' "$work/bout" | head -1)
  session.timeout.ms: 6000
EOF
: >"$work/err" # else the wait below can read the first daemon's port before the shell truncates
"$SLUICE" serve --config "$work/sluice2.yaml" --http-listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
port=$(wait_http_port 20 "$work/err") || fail "no http line (external broker)"
base="http://127.0.0.1:$port"
wait_for 30 ready || fail "readyz never 200 (external broker): $(curl -s "$base/readyz")"
echo "down 1" >&3
unreachable() {
  curl -sS --max-time 10 -o "$work/body" "$base/readyz" &&
    grep -q '"reason": "job s2 cannot reach Kafka (all brokers down)"' "$work/body"
}
wait_for 30 unreachable || fail "readyz with the broker down: $(cat "$work/body")"
curl_check /readyz 503
curl_check /jobs/s2 200
grep -q '"kafka_reachable": false' "$work/body" || fail "/jobs/s2: $(head -c 400 "$work/body")"
echo "up 1" >&3
wait_for 30 ready || fail "readyz not 200 after the broker came back: $(curl -s "$base/readyz")"
curl_check /jobs/s2 200
grep -q '"kafka_reachable": true' "$work/body" || fail "/jobs/s2: $(head -c 400 "$work/body")"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc -eq 0 ]] || fail "sluice serve (external broker) exited $rc after SIGTERM"
exec 3>&-
kill -TERM "$bpid"
wait "$bpid" || true
bpid=""
echo "PASS: admin API, /metrics (promtool ok, records and latency counted), port-in-use error," \
  "readyz while Kafka is down"
