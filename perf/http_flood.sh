#!/usr/bin/env bash
# perf/http_flood.sh SLUICE [sluice_http_flood options...]: starts `SLUICE serve` (no jobs, admin
# port on a free loopback port), measures /healthz under a connection flood with
# build/release/perf/sluice_http_flood, and stops the daemon by its PID. Run it with the binary
# before and after a change to compare (perf/README.md, "Admin port under a connection flood").
set -euo pipefail
SLUICE=$1
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/release/perf/sluice_http_flood}
# shellcheck source=../tests/kafka/lib.sh
source "$ROOT/tests/kafka/lib.sh"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/jobs"
printf 'jobs_dir: %s\nthreads: 2\n' "$work/jobs" >"$work/sluice.yaml"
"$SLUICE" serve --config "$work/sluice.yaml" --http-listen 127.0.0.1:0 >/dev/null 2>"$work/err" &
pid=$!
port=$(wait_http_port 20 "$work/err") || { echo "no http line"; cat "$work/err"; exit 1; }
rc=0
"$BENCH" --port "$port" "$@" || rc=$?
echo "daemon log: $(grep -c 'connections open' "$work/err") 'connections open' warnings"
kill -TERM "$pid"
wait "$pid" || true
pid=""
exit $rc
