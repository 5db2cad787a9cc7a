#!/usr/bin/env bash
# Runs the Kafka Streams peer built by build.sh: one JVM (a KafkaStreams client) running the
# scenario's topology from the input topic's earliest offset into the output topic, until SIGTERM
# (then it closes the client, waiting at most 10 s).
#
#   run.sh CACHE_DIR --bootstrap HOST:PORT --scenario S0|S2|S3a --input TOPIC --output TOPIC
#          --app-id ID [--threads N] [--state-dir DIR] [--s3a-emit close|suppress]
#
# The script execs java, so its PID is the JVM's. Heap and GC: PEER_JVM_OPTS (default
# "-Xms512m -Xmx1g -XX:+UseG1GC"). Logging: SLF4J simple logger, WARN and above, to stderr.
set -euo pipefail

if [[ $# -lt 1 || ! -d "$1/classes" || ! -d "$1/lib" ]]; then
  echo "kafka-streams run: usage: run.sh CACHE_DIR ARGS... (CACHE_DIR as built by build.sh)" >&2
  exit 2
fi
cache=$(cd "$1" && pwd)
shift

java=java
[[ -n "${JAVA_HOME:-}" ]] && java="$JAVA_HOME/bin/java"

read -r -a jvm_opts <<<"${PEER_JVM_OPTS:--Xms512m -Xmx1g -XX:+UseG1GC}"

exec "$java" "${jvm_opts[@]}" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.logFile=System.err \
  -cp "$cache/classes:$cache/lib/*" dev.sluice.peers.StreamsPeer "$@"
