#!/usr/bin/env bash
# Builds sluice_bench with the release preset and runs the seed benchmark scenarios S0..S3b
# (perf/README.md): engine-only and full path (JSON in, JSON out), N = 5,000 and 1,000,000, each
# run in a fresh process, median of 5. Prints a table, then one JSON line per scenario and mode.
# Arguments go to sluice_bench, e.g.: scripts/bench.sh --scenarios S0,S2 --n 1000000 --repeat 3
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target sluice_bench >/dev/null
exec build/release/perf/sluice_bench "$@"
