#!/usr/bin/env bash
# Builds sluice_daemon_bench with the release preset and runs the daemon end-to-end benchmark
# (perf/README.md, "sluice_daemon_bench"): S0..S3b with 1, 2 and 4 partitions and 1 and 2 io
# threads, Kafka in and out on an in-process mock broker, next to the raw consume -> produce copy.
# Prints the machine, a table, the targets, then one JSON line per row.
# Arguments go to sluice_daemon_bench, e.g.: scripts/bench-daemon.sh --scenarios S0,S2 --repeat 3
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target sluice_daemon_bench >/dev/null
# Without arguments: the full matrix, median of 5 runs each (as in perf/README.md).
if [ $# -eq 0 ]; then set -- --repeat 5; fi
exec build/release/perf/sluice_daemon_bench "$@"
