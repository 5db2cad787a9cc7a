#!/usr/bin/env bash
# The README's first command: installs dependencies, builds sluice (release) and runs the live
# demo: the daemon with its embedded Kafka-protocol broker, a generator producing the benchmark
# scenarios' trades, the scenario jobs, and a status line per job every second until Ctrl-C.
# Arguments go to `sluice demo` (e.g. --rate 50000, --scenarios S0,S2, --duration 30).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target sluice
exec build/release/sluice demo "$@"
