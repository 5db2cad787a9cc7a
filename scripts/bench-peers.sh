#!/usr/bin/env bash
# sluice beside Kafka Streams and Flink SQL, in one run, on one real Apache Kafka broker started
# for it (perf/peers/README.md): builds sluice (release preset) and the two peers (Maven, into
# ~/.cache/sluice/peers), starts a broker with scripts/kafka.sh, runs perf/peers/bench_peers.py,
# and stops the broker. Prints the machine and two Markdown tables (throughput from a cold start
# over a preloaded input; latency at a fixed rate); progress and per-run JSON go to stderr.
#
#   scripts/bench-peers.sh [ARGS...]     ARGS go to bench_peers.py (--help), e.g.
#   scripts/bench-peers.sh --systems sluice,kafka-streams --scenarios S0 --records 200000
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target sluice >/dev/null
cache=${SLUICE_PEERS_CACHE:-$HOME/.cache/sluice/peers}
for peer in kafka-streams flink-sql; do
  perf/peers/$peer/build.sh "$cache/$peer"
done
python=${SLUICE_VENV:-$HOME/.cache/sluice/venv}/bin/python
[[ -x $python ]] || { echo "bench-peers.sh: no venv at $python (scripts/install-deps.sh)" >&2; exit 1; }

dir=$(mktemp -d /tmp/sluice-peers-kafka.XXXXXX)
trap 'scripts/kafka.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
bootstrap=$(scripts/kafka.sh start "$dir" | tail -n 1 | sed 's/^bootstrap: //')
pids=$(cat "$dir"/node*/pid | paste -sd, -)
"$python" perf/peers/bench_peers.py --bootstrap "$bootstrap" --broker-pids "$pids" \
  --cache "$cache" "$@"
