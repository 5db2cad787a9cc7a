#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (tests/fuzz/README.md) under ASan + UBSan.
#
#   scripts/fuzz.sh [options] [TARGET|all] [SECONDS]     fuzz each target SECONDS (default 60)
#   scripts/fuzz.sh [options] --merge TARGET DIR...      add DIRs' inputs that reach new coverage
#                                                        to the committed corpus, minimised
#   scripts/fuzz.sh [options] --seed [TARGET|all]        rebuild the corpus from make_seeds.py
# Options:
#   --build-dir DIR    an already configured build with SLUICE_FUZZ=ON (CI: build/debug); default:
#                      the `fuzz` preset (build/fuzz, clang -O2)
#   --keep-corpus DIR  leave each target's grown corpus in DIR/TARGET (default: deleted)
#   --parallel N       fuzz N targets at a time (default 1; CI: the number of cores)
#   --runs N           stop a target after N executions (SECONDS stays the upper bound)
#
# Each target fuzzes a scratch copy of tests/fuzz/corpus/TARGET plus tests/fuzz/regressions/TARGET
# (the committed files are never written), with tests/fuzz/dict/TARGET.dict. A crash, leak,
# timeout or out-of-memory input is copied into tests/fuzz/regressions/TARGET/ (commit it with the
# fix: ctest replays it from then on), and the script exits 1 after the other targets ran.
# Per target it prints executions, executions/s, coverage (cov, ft) and the corpus size.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all=(sql job server_config json http state avro protobuf)
build_dir=""
keep=""
parallel=1
runs=-1
mode=fuzz
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    --keep-corpus) keep=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --merge) mode=merge; shift ;;
    --seed) mode=seed; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) break ;;
  esac
done

if [[ -z "$build_dir" ]]; then
  build_dir=build/fuzz
  echo "== configure and build the fuzz preset ($build_dir)"
  cmake --preset fuzz >/dev/null
fi
[[ -f "$build_dir/CMakeCache.txt" ]] || { echo "fuzz.sh: $build_dir is not configured" >&2; exit 2; }
grep -q '^SLUICE_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt" ||
  { echo "fuzz.sh: $build_dir is not built with SLUICE_FUZZ=ON" >&2; exit 2; }

pick_targets() {
  if [[ -z "${1:-}" || "$1" == all ]]; then echo "${targets_all[@]}"; return; fi
  for t in "${targets_all[@]}"; do [[ "$t" == "$1" ]] && { echo "$t"; return; }; done
  echo "fuzz.sh: unknown target '$1' (${targets_all[*]} or all)" >&2
  exit 2
}

build() {
  local names=()
  for t in "$@"; do names+=("${t}_fuzz"); done
  cmake --build "$build_dir" -j "$(nproc)" --target "${names[@]}" >/dev/null
}

# Replaces tests/fuzz/corpus/$1 with the minimised union of itself and the other arguments.
merge() {
  local t=$1; shift
  local bin="$build_dir/tests/fuzz/${t}_fuzz" corpus="tests/fuzz/corpus/$t" out
  out=$(mktemp -d)
  mkdir -p "$corpus"
  # Edges only (no hit counts): fewer, more distinct inputs to commit.
  "$bin" -merge=1 -use_counters=0 -rss_limit_mb=4096 -timeout=30 "$out" "$corpus" "$@" 2>&1 | grep -E '^MERGE-OUTER: [0-9]+ new files' || true
  rm -f "$corpus"/*
  cp "$out"/* "$corpus"/ 2>/dev/null || true
  rm -rf "$out"
  echo "$t: $(find "$corpus" -type f | wc -l) files, $(cat "$corpus"/* | wc -c) bytes in $corpus"
}

case $mode in
  merge)
    t=$(pick_targets "${1:?--merge TARGET DIR...}"); shift
    build "$t"
    merge "$t" "$@"
    exit 0 ;;
  seed)
    read -r -a targets <<<"$(pick_targets "${1:-all}")"
    build "${targets[@]}"
    seeds=$(mktemp -d)
    python3 tests/fuzz/make_seeds.py "$seeds"
    for t in "${targets[@]}"; do merge "$t" "$seeds/$t"; done
    rm -rf "$seeds"
    exit 0 ;;
esac

read -r -a targets <<<"$(pick_targets "${1:-all}")"
seconds=${2:-60}
echo "== build (${targets[*]})"
build "${targets[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Fuzzes target $1 in $scratch/$1: the exit code goes to rc, libFuzzer's output to log.
fuzz_one() {
  local t=$1 work="$scratch/$1" rc=0
  local dict=()
  [[ -f "tests/fuzz/dict/$t.dict" ]] && dict=(-dict="tests/fuzz/dict/$t.dict")
  "$build_dir/tests/fuzz/${t}_fuzz" "${dict[@]}" -max_total_time="$seconds" -runs="$runs" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
  echo "$rc" >"$work/rc"
}

for t in "${targets[@]}"; do
  work="$scratch/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  find "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" -type f ! -name '.*' \
    -exec cp {} "$work/corpus/" \; 2>/dev/null || true
  while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do wait -n || true; done
  echo "== fuzz $t for ${seconds}s ($(find "$work/corpus" -type f | wc -l) inputs to start)"
  fuzz_one "$t" &
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  work="$scratch/$t"
  rc=$(cat "$work/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$work/log" | tail -1 || true)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$work/log" | tail -1)
  line="$t: ${execs:-?} executions in ${secs:-?} s, ${rate:-?} exec/s, ${cov:-no coverage line}"
  artifacts=("$work"/artifacts/*)
  if [[ $rc -ne 0 || -e "${artifacts[0]}" ]]; then
    mkdir -p "tests/fuzz/regressions/$t"
    for a in "${artifacts[@]}"; do
      [[ -e "$a" ]] && cp "$a" "tests/fuzz/regressions/$t/" &&
        echo "$t: saved tests/fuzz/regressions/$t/$(basename "$a")"
    done
    echo "---- $t: libFuzzer output (last 60 lines) ----"
    tail -60 "$work/log"
    line="$line: FAILED (exit $rc)"
    failed+=("$t")
  fi
  summary+=("$line")
  if [[ -n "$keep" ]]; then
    mkdir -p "$keep/$t"
    cp "$work"/corpus/* "$keep/$t/" 2>/dev/null || true
  fi
done

echo "== fuzz summary ($(nproc) cores, ${seconds}s per target, $parallel at a time)"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: ${failed[*]} found a crash; the inputs are in tests/fuzz/regressions/ (replay: build/*/tests/fuzz/TARGET_fuzz_replay FILE)" >&2
  exit 1
fi
