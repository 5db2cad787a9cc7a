#!/usr/bin/env bash
# Builds sluice_daemon_bench with the release preset and runs the daemon end-to-end benchmark
# (perf/README.md, "sluice_daemon_bench"): S0..S3b with 1, 2 and 4 partitions and 1 and 2 io
# threads, Kafka in and out, next to the raw consume -> produce copy measured in the same run.
# Prints the machine, a table, the targets, then one JSON line per row.
#
#   scripts/bench-daemon.sh [ARGS...]               on an in-process mock broker per measurement
#   scripts/bench-daemon.sh --real-kafka [ARGS...]  on a real Apache Kafka broker started for the
#                                                   run (scripts/kafka.sh), its CPU reported too
#
# ARGS go to sluice_daemon_bench, e.g.: scripts/bench-daemon.sh --scenarios S0,S2 --repeat 3
set -euo pipefail
cd "$(dirname "$0")/.."

real=0
if [[ ${1:-} == --real-kafka ]]; then
  real=1
  shift
fi
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target sluice_daemon_bench >/dev/null
bench=build/release/perf/sluice_daemon_bench

if [[ $real == 0 ]]; then
  # Without arguments: the full matrix, median of 5 runs each (as in perf/README.md).
  if [ $# -eq 0 ]; then set -- --repeat 5; fi
  exec "$bench" "$@"
fi

# Without arguments: 1M records, 1 and 4 partitions, 2 io threads, median of 3 (the README table).
if [ $# -eq 0 ]; then set -- --n 1000000 --partitions 1,4 --threads 2 --repeat 3; fi
dir=$(mktemp -d /tmp/sluice-bench-kafka.XXXXXX)
trap 'scripts/kafka.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
bootstrap=$(scripts/kafka.sh start "$dir" | tail -n 1 | sed 's/^bootstrap: //')
pids=$(cat "$dir"/node*/pid | paste -sd, -)
echo "broker: Apache Kafka $(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' \
  tests/kafka/broker/pom.xml), 1 node on loopback, heap ${KAFKA_HEAP:--Xms256m -Xmx512m}"
"$bench" --bootstrap "$bootstrap" --broker-pids "$pids" "$@"
