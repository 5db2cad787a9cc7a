#!/usr/bin/env bash
# Runs the Flink SQL peer built by build.sh: one JVM (a Flink mini-cluster) running the scenario's
# query from the input topic's earliest offset into the output topic, until SIGTERM.
#
#   run.sh CACHE_DIR --bootstrap HOST:PORT --scenario S0|S2|S3a --input TOPIC --output TOPIC
#          --group ID [--parallelism N]
#
# The script execs java, so its PID is the JVM's. Heap and GC: PEER_JVM_OPTS (default
# "-Xms512m -Xmx1g -XX:+UseG1GC"); the --add-opens/--add-exports Flink needs on Java 17+ are
# always added.
set -euo pipefail

if [[ $# -lt 1 || ! -d "$1/classes" || ! -d "$1/lib" ]]; then
  echo "flink-sql run: usage: run.sh CACHE_DIR ARGS... (CACHE_DIR as built by build.sh)" >&2
  exit 2
fi
cache=$(cd "$1" && pwd)
shift

java=java
[[ -n "${JAVA_HOME:-}" ]] && java="$JAVA_HOME/bin/java"

# From Flink's own config.yaml (env.java.opts.all): modules Flink reflects into.
flink_opens=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)
read -r -a heap_opts <<<"${PEER_JVM_OPTS:--Xms512m -Xmx1g -XX:+UseG1GC}"

exec "$java" "${heap_opts[@]}" "${flink_opens[@]}" \
  -Dlog4j2.configurationFile="$cache/classes/log4j2.properties" \
  -cp "$cache/classes:$cache/lib/*" dev.sluice.peers.FlinkSqlPeer "$@"
