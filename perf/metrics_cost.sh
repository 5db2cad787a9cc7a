#!/usr/bin/env bash
# The cost of /metrics scraping on throughput (perf/README.md, "Metrics cost"). For each run: a
# `sluice broker` with s2-in/s2-out (4 partitions each), N S2 records preloaded (lz4), then a
# `sluice serve` (2 io threads) given the S2 job; the time and daemon CPU from its first record in
# to its last record out (the backlog drain, the daemon saturated). `/jobs/s2` is polled every
# 50 ms in both modes; mode `scrape` also GETs /metrics every 100 ms on a keep-alive connection
# (10x a 1 s Prometheus scrape_interval). The consumer sets queued.min.messages=10000000, as
# sluice_daemon_bench does: librdkafka 2.0.2 otherwise stalls a backlog drain for up to 1 s.
# Modes alternate, REPEAT runs each; prints one line per run and the medians. With RATE > 0 the records are not preloaded: `sluice gen --rate RATE`
# produces them once the job is running, and the daemon's CPU time for them is what to compare
# (the wall time is the generator's).
#   perf/metrics_cost.sh [SLUICE] [N] [REPEAT] [RATE]
#   (defaults: build/release/sluice 1000000 3 0; the mock broker keeps ~5 MiB per partition,
#   about 1.4M S2 records in all)
set -euo pipefail
SLUICE=${1:-build/release/sluice}
N=${2:-1000000}
REPEAT=${3:-3}
RATE=${4:-0}
PY=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

run_once() { # run_once MODE: prints "MODE seconds records/s cpu_seconds"
  local mode=$1
  rm -rf "$work/run" && mkdir -p "$work/run/jobs"
  "$SLUICE" broker --topic s2-in:4 --topic s2-out:4 >"$work/run/broker" 2>/dev/null &
  local broker=$!
  pids+=("$broker")
  wait_for 20 grep -qs '^bootstrap: ' "$work/run/broker"
  local bootstrap
  bootstrap=$(sed -n 's/^bootstrap: //p' "$work/run/broker" | head -1)
  if ((RATE == 0)); then
    "$SLUICE" gen --scenario S2 --records "$N" --bootstrap "$bootstrap" \
      --property compression.type=lz4 2>/dev/null
  fi
  cat >"$work/run/sluice.yaml" <<YAML
jobs_dir: $work/run/jobs
threads: 2
kafka:
  bootstrap.servers: $bootstrap
  session.timeout.ms: 6000
  fetch.wait.max.ms: 10
  compression.type: lz4
  queued.min.messages: 10000000
YAML
  "$SLUICE" serve --config "$work/run/sluice.yaml" --http-listen 127.0.0.1:0 \
    >/dev/null 2>"$work/run/err" &
  local daemon=$!
  pids+=("$daemon")
  wait_for 20 grep -qs 'http: listening on 127\.0\.0\.1:[0-9]' "$work/run/err"
  local port
  port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/run/err" | head -1)
  "$SLUICE" gen --scenario S2 --print-job >"$work/run/s2.yaml"
  mv "$work/run/s2.yaml" "$work/run/jobs/s2.yaml"
  if ((RATE > 0)); then
    ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/readyz") == 200 ]]; }
    wait_for 30 ready
    sleep 2 # the first assignment settles
    "$SLUICE" gen --scenario S2 --records "$N" --bootstrap "$bootstrap" --rate "$RATE" \
      --property compression.type=lz4 2>/dev/null &
    pids+=("$!")
  fi
  $PY - "$port" "$N" "$mode" "$daemon" <<'PYEOF'
import http.client, json, os, sys, threading, time
port, n, mode, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
stop = threading.Event()
scrapes = [0, 0]
def scraper():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        c.request("GET", "/metrics")
        body = c.getresponse().read()
        scrapes[0] += 1
        scrapes[1] = len(body)
        stop.wait(0.1)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def counts():
    c.request("GET", "/jobs/s2")
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        return 0, 0
    k = json.loads(body)["counts"]
    return k["records_in"], k["records_out"]
deadline = time.monotonic() + 120
t0 = cpu0 = None
if mode == "scrape":
    threading.Thread(target=scraper, daemon=True).start()
while time.monotonic() < deadline:
    rin, rout = counts()
    if t0 is None and rin > 0:
        t0, cpu0, in0, s0 = time.monotonic(), cpu(), rin, scrapes[0]
    if rout >= n:
        t1, cpu1, s1 = time.monotonic(), cpu(), scrapes[0]
        break
    time.sleep(0.05)
else:
    sys.exit(f"timed out: {rin} in, {rout} out of {n}")
stop.set()
secs = t1 - t0
print(f"{mode:7} {secs:6.2f} s  {(n - in0) / secs:9.0f} records/s  cpu {cpu1 - cpu0:6.2f} s"
      f"  scrapes {s1 - s0} ({scrapes[1]} bytes each)")
PYEOF
  kill -TERM "$daemon" "$broker"
  wait "$daemon" "$broker" 2>/dev/null || true
  pids=()
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "sluice: $SLUICE, N=$N S2 records, 4 partitions, 2 io threads, rate ${RATE/#0/preloaded}"
for ((i = 1; i <= REPEAT; ++i)); do
  for mode in none scrape; do run_once "$mode" | tee -a "$work/results"; done
done
for mode in none scrape; do
  rate=$(grep "^$mode " "$work/results" | sort -k4 -n | awk -v r="$REPEAT" 'NR == int((r + 1) / 2) { print $4 }')
  cpu=$(grep "^$mode " "$work/results" | sort -k7 -n | awk -v r="$REPEAT" 'NR == int((r + 1) / 2) { print $7 }')
  echo "median $mode: $rate records/s, daemon cpu $cpu s"
done

# The cost of one scrape, directly: the daemon's CPU over 20000 back-to-back GET /metrics (one
# job, 4 partitions, idle) minus its idle CPU over as long.
"$SLUICE" broker --topic s2-in:4 --topic s2-out:4 >"$work/broker" 2>/dev/null &
pids+=("$!")
wait_for 20 grep -qs '^bootstrap: ' "$work/broker"
mkdir -p "$work/idle/jobs"
printf 'jobs_dir: %s\nthreads: 2\nkafka:\n  bootstrap.servers: %s\n  session.timeout.ms: 6000\n' \
  "$work/idle/jobs" "$(sed -n 's/^bootstrap: //p' "$work/broker" | head -1)" >"$work/idle/sluice.yaml"
"$SLUICE" gen --scenario S2 --print-job >"$work/idle/jobs/s2.yaml"
"$SLUICE" serve --config "$work/idle/sluice.yaml" --http-listen 127.0.0.1:0 >/dev/null \
  2>"$work/idle/err" &
daemon=$!
pids+=("$daemon")
wait_for 20 grep -qs 'http: listening on 127\.0\.0\.1:[0-9]' "$work/idle/err"
port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/idle/err" | head -1)
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/readyz") == 200 ]]; }
wait_for 30 ready
$PY - "$port" "$daemon" <<'PYEOF'
import http.client, os, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
t0, c0 = time.monotonic(), cpu()
for _ in range(20000):
    c.request("GET", "/metrics")
    c.getresponse().read()
wall, busy = time.monotonic() - t0, cpu() - c0
c1 = cpu()
time.sleep(wall)
idle = cpu() - c1
per = (busy - idle) / 20000
print(f"one scrape: {per * 1e3:.3f} ms of daemon CPU ({busy:.2f} s for 20000 in {wall:.2f} s,"
      f" idle {idle:.2f} s); every 100 ms: {per * 10 * 100:.2f}% of one core")
PYEOF
kill -TERM "${pids[@]}"
wait "${pids[@]}" 2>/dev/null || true
pids=()
