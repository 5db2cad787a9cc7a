#!/usr/bin/env bash
# Builds the Flink SQL peer into CACHE_DIR (nothing is written inside the repository):
#   CACHE_DIR/lib/      runtime jars (mvn dependency:copy-dependencies; redone when pom.xml changes)
#   CACHE_DIR/classes/  dev.sluice.peers.FlinkSqlPeer and log4j2.properties
# Usage: build.sh CACHE_DIR     (idempotent; quiet unless something fails)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -eq 1 && -n "$1" ]] || { echo "flink-sql build: usage: build.sh CACHE_DIR" >&2; exit 1; }
exec "$here/../build-java.sh" "$here" "$1"
