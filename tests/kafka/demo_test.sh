#!/usr/bin/env bash
# The live demo (`sluice demo`, the README's first command) as a bounded run: it must start the
# embedded broker, run the scenario jobs, show each job's output rate and latency on its status
# lines, and stop cleanly (exit 0) when its time is up.
set -euo pipefail
SLUICE=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rc=0
timeout 90 "$SLUICE" demo --duration 12 --scenarios S0,S2,S3a --rate 5000 \
  >"$work/out" 2>"$work/err" || rc=$?
fail() {
  echo "FAIL: $*"
  echo "--- stdout"; tail -20 "$work/out"
  echo "--- stderr"; grep -v ' kafka: ' "$work/err" | tail -20
  exit 1
}
[[ $rc -eq 0 ]] || fail "sluice demo exited $rc"
head -1 "$work/out" | grep -q '^bootstrap: 127\.0\.0\.1:[0-9]' || fail "no bootstrap line first"
for job in s0 s2 s3a; do
  # A status line with records flowing in and a measured p99.
  grep -E "^$job +running +in +[0-9.]+[KM]?/s .* p99 +[0-9.]+(us|ms|s) " "$work/out" |
    grep -Evq " in +0/s " || fail "job $job: no status line with input flowing and a p99"
done
# s0 and s2 write one output per input: their output must flow too.
for job in s0 s2; do
  grep -E "^$job +running" "$work/out" | grep -Eq "out +[0-9.]+[KM]/s" ||
    fail "job $job: no output rate in the thousands per second"
done
grep -q "all jobs stopped" "$work/err" || fail "no clean stop in the log"
if grep -E "job .*: (failed|invalid)" "$work/err"; then fail "a job failed"; fi
echo "PASS: demo ran S0, S2, S3a with output, latency, and a clean stop"
