#!/usr/bin/env bash
# Installs what sluice needs from Debian bookworm's archive. One list, used by the README's quick
# start, CI (.ci/run) and the Dockerfile.
#   scripts/install-deps.sh            build + test dependencies, the Kafka broker's jars and the
#                                      schema registry (built once into ~/.cache/sluice)
#   scripts/install-deps.sh --build    only what building the sluice binary needs (the Dockerfile)
#   scripts/install-deps.sh --runtime  only the shared libraries the sluice binary loads
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  librdkafka-dev libboost-dev libspdlog-dev libyaml-cpp-dev prometheus-cpp-dev catch2
  libsimdjson-dev zlib1g-dev libprotobuf-dev libprotoc-dev
)
TEST_PACKAGES=(
  # tests: the differential test's reference engine, format check
  sqlite3 python3 clang-format
  # tests: the end-to-end harness's independent Kafka client (kafka-python, /usr/bin/python3)
  python3-kafka
  # tests: a virtualenv for the PyPI packages of tests/requirements.txt
  python3-venv
  # tests: the admin API and metrics test (curl; promtool from prometheus)
  curl prometheus
  # tests: the libFuzzer targets (clang, libFuzzer and the sanitizer runtimes; llvm for
  # llvm-symbolizer, which puts file:line in sanitizer reports)
  clang libclang-rt-14-dev llvm
  # tests and benchmarks: the real Apache Kafka broker (scripts/kafka.sh: Java 17, its jars
  # resolved from Maven Central by Maven) and the schema registry (scripts/schema-registry.sh:
  # Apicurio Registry, built from Maven Central by Maven)
  openjdk-17-jdk-headless maven
  # benchmarks: Avro C, beside which perf/decode_compare.cpp measures sluice's Avro decoder
  libavro-dev
)
RUNTIME_PACKAGES=(
  librdkafka1 libspdlog1.10 libfmt9 libyaml-cpp0.7 libsimdjson14 zlib1g libprotobuf32
  libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 ca-certificates
)

mode=${1:-}
case $mode in
  "") packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  --build) packages=("${BUILD_PACKAGES[@]}") ;;
  --runtime) packages=("${RUNTIME_PACKAGES[@]}") ;;
  *) echo "usage: scripts/install-deps.sh [--build|--runtime]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ -z "$mode" ]]; then
  here=$(cd "$(dirname "$0")" && pwd)
  # The Kafka broker's jars (tests/kafka/broker/pom.xml), into ~/.cache/sluice once per version.
  echo "install-deps: Kafka broker jars in $(bash "$here/kafka.sh" classpath)"
  # The Avro tests' schema registry (scripts/schema-registry/pom.xml), built into ~/.cache/sluice
  # once per pom.
  registry=$(bash "$here/schema-registry.sh" build)
  echo "install-deps: schema registry in $registry"
  # PyPI packages of the tests (tests/requirements.txt), in a virtualenv of their own: the
  # python3 on PATH may not be Debian's, and Debian's is kept as Debian installed it.
  venv=${SLUICE_VENV:-$HOME/.cache/sluice/venv}
  reqs="$here/../tests/requirements.txt"
  stamp="$venv/.requirements-$(sha1sum "$reqs" | cut -c1-12)"
  if [[ ! -f "$stamp" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs"
    touch "$stamp"
  fi
  echo "install-deps: test packages from PyPI in $venv"
fi
