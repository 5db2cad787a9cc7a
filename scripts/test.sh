#!/usr/bin/env bash
# Builds sluice and runs the whole test suite: format check, release build + ctest, then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer (the debug preset, clang), and each
# libFuzzer target of tests/fuzz for SLUICE_FUZZ_SECONDS (default 30) from that same build. The
# tests against the real Kafka broker (label real_kafka) run in the release pass only: they take
# minutes, and what they add is Kafka's behaviour, not new code paths. This is the README's test
# command and what CI runs. SLUICE_SKIP_SANITIZE=1 skips the sanitizer pass and
# the fuzzing (quicker local runs).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== format check (.clang-format)"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find engine config server tests perf -name '*.[ch]pp')
clang-format --dry-run --Werror "${sources[@]}"

jobs=$(nproc)
run_preset() {
  local preset=$1
  shift
  echo "== build ($preset)"
  # A build directory an older preset configured with another compiler (build/debug used GCC)
  # cannot be switched in place: configure it afresh.
  cmake --preset "$preset" >/dev/null 2>&1 || { rm -rf "build/$preset"; cmake --preset "$preset" >/dev/null; }
  cmake --build --preset "$preset" -j "$jobs"
  echo "== test ($preset)"
  ctest --preset "$preset" -j "$jobs" "$@"
}

run_preset release
if [[ "${SLUICE_SKIP_SANITIZE:-0}" != "1" ]]; then
  run_preset debug -LE real_kafka
  echo "== fuzz (debug build, ${SLUICE_FUZZ_SECONDS:-30} s per target)"
  scripts/fuzz.sh --build-dir build/debug --parallel "$jobs" all "${SLUICE_FUZZ_SECONDS:-30}"
fi
echo "== all tests passed"
