#!/usr/bin/env bash
# The bounded examples: installs dependencies, builds sluice (release), generates a million trades
# and runs the bundled example jobs (deploy/examples/) over them with `sluice run`.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target sluice

demo=build/demo
mkdir -p "$demo/data"
cp deploy/examples/*.yaml "$demo/"
echo "== generating $records trades into $demo/data/trades.jsonl"
scripts/gen-trades.sh "$records" > "$demo/data/trades.jsonl"

sluice=build/release/sluice
echo
echo "== symbol-summary (EMIT FINAL, one row per symbol, to stdout)"
"$sluice" run "$demo/symbol-summary.yaml"
echo
echo "== trades-by-symbol (EMIT CHANGES, one row per trade, to $demo/out/trades_by_symbol.jsonl)"
"$sluice" run "$demo/trades-by-symbol.yaml"
echo "last 3 output rows:"
tail -n 3 "$demo/out/trades_by_symbol.jsonl"
echo "dead-lettered records (first):"
head -n 1 "$demo/out/trades_by_symbol.dlq.jsonl"
