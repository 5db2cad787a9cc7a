#!/usr/bin/env bash
# Runs a real Apache Kafka broker (or a 3-node cluster) on loopback, in KRaft mode, for tests,
# benchmarks and trying sluice without a Kafka of one's own.
#
#   scripts/kafka.sh start DIR [--brokers N] [--topic NAME:PARTITIONS ...]
#                                              format DIR, start N nodes (1 or 3), wait until every
#                                              one serves requests, create the topics; last stdout
#                                              line: bootstrap: 127.0.0.1:PORT[,127.0.0.1:PORT...]
#   scripts/kafka.sh create DIR NAME:PARTITIONS...   create topics (the cluster's replication)
#   scripts/kafka.sh stop DIR                  stop every node (SIGTERM, then SIGKILL after 30 s)
#                                              and remove DIR
#   scripts/kafka.sh kill DIR N                SIGKILL node N (1-based)
#   scripts/kafka.sh restart DIR N             start node N again and wait until it serves
#   scripts/kafka.sh bootstrap DIR             print the bootstrap line again
#   scripts/kafka.sh classpath                 resolve the broker's jars; print the directory
#
# The broker is org.apache.kafka:kafka_2.13 (version in tests/kafka/broker/pom.xml), copied by
# Maven into $SLUICE_KAFKA_CACHE (default ~/.cache/sluice/kafka-VERSION; Maven's own ~/.m2 is
# reused between runs). Java 17 or newer: $JAVA_HOME, else `java` on PATH.
#
# Every node is a combined controller and broker (process.roles=broker,controller) with a static
# quorum of all nodes; listeners on free 127.0.0.1 ports only. Topics are not created on first use
# (auto.create.topics.enable=false): clients create what they need. With 3 nodes, topics default
# to 3 replicas and min.insync.replicas=2, so one node can die without losing acknowledged writes.
# Heap: KAFKA_HEAP (default -Xms256m -Xmx512m) per node. Each node logs to DIR/nodeN/server.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() {
  sed -n '5,15p' "$0" >&2
  exit 2
}

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

# shellcheck source=scripts/jvm.sh
source "$root/scripts/jvm.sh"

# Resolves the broker's jars once per version into the cache; prints the directory.
classpath_dir() {
  local pom="$root/tests/kafka/broker/pom.xml" version cache
  version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
  cache=${SLUICE_KAFKA_CACHE:-$HOME/.cache/sluice/kafka-$version}
  local stamp="$cache/lib/.pom-$(sha1sum "$pom" | cut -c1-12)"
  if [[ ! -f "$stamp" ]]; then
    command -v mvn >/dev/null 2>&1 || die "no Maven (mvn): scripts/install-deps.sh installs it"
    echo "kafka.sh: resolving Kafka $version with Maven into $cache/lib" >&2
    rm -rf "$cache/lib"
    mkdir -p "$cache"
    mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$cache/lib" >&2 ||
      die "Maven could not resolve org.apache.kafka:kafka_2.13:$version (see its output above)"
    touch "$stamp"
  fi
  echo "$cache/lib"
}

# Prints N free loopback ports (bound at once so they differ; a small race with other programs
# remains until the broker binds them).
free_ports() {
  /usr/bin/python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

write_log_config() {
  cat >"$1" <<'EOF'
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

node_count() { cat "$1/nodes"; }

# Creates topics NAME:PARTITIONS ($2...) on cluster $1 with Kafka's TopicCommand.
create_topics() {
  local dir=$1 java lib bootstrap spec
  shift
  [[ -f "$dir/nodes" ]] || die "$dir holds no cluster started by kafka.sh"
  java=$(java_bin "the Kafka broker")
  lib=$(classpath_dir)
  bootstrap=$(sed 's/^bootstrap: //' "$dir/bootstrap")
  for spec in "$@"; do
    [[ $spec =~ ^([A-Za-z0-9._-]+):([1-9][0-9]*)$ ]] || die "topic '$spec': want NAME:PARTITIONS"
    "$java" -cp "$lib/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
      -Dkafka.logs.dir="$dir" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
      --create --topic "${BASH_REMATCH[1]}" --partitions "${BASH_REMATCH[2]}" >&2 ||
      die "creating topic ${BASH_REMATCH[1]} failed"
  done
}

# Starts node $2 of cluster $1 in the background and waits until it serves requests.
launch() {
  local dir=$1 n=$2 java lib node
  java=$(java_bin "the Kafka broker")
  lib=$(classpath_dir)
  node="$dir/node$n"
  node_running "$node" && die "node $n is running"
  local mark=0
  [[ -f "$node/server.log" ]] && mark=$(wc -l <"$node/server.log")
  # shellcheck disable=SC2086
  setsid "$java" ${KAFKA_HEAP:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$node" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$lib/*" kafka.Kafka "$node/server.properties" >>"$node/stdout.log" 2>&1 </dev/null &
  echo $! >"$node/pid"
  local pid=$! deadline=$((SECONDS + 90))
  while true; do
    if [[ -f "$node/server.log" ]] &&
      tail -n +"$((mark + 1))" "$node/server.log" | grep -q 'Kafka Server started'; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -20 "$node/stdout.log" "$node/server.log" >&2 2>/dev/null || true
      die "node $n exited while starting (logs in $node)"
    fi
    ((SECONDS < deadline)) || die "node $n did not start within 90 s (logs in $node)"
    sleep 0.3
  done
}

start() {
  local dir=$1 n=$2
  shift 2
  [[ $n == 1 || $n == 3 ]] || die "--brokers must be 1 or 3"
  [[ -e "$dir/nodes" ]] && die "$dir holds a cluster already (scripts/kafka.sh stop $dir)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local java lib ports voters="" bootstrap="" i
  java=$(java_bin "the Kafka broker")
  lib=$(classpath_dir)
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  for ((i = 1; i <= n; i++)); do
    voters+="${voters:+,}$i@127.0.0.1:${ports[$((2 * i - 1))]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[$((2 * i - 2))]}"
  done
  local replicas=$n min_isr=$((n > 1 ? 2 : 1))
  write_log_config "$dir/log4j2.properties"
  local cluster_id
  cluster_id=$("$java" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  [[ -n "$cluster_id" ]] || die "kafka.tools.StorageTool random-uuid failed"
  for ((i = 1; i <= n; i++)); do
    local node="$dir/node$i"
    mkdir -p "$node/data"
    cat >"$node/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]},CONTROLLER://127.0.0.1:${ports[$((2 * i - 1))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$node/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$replicas
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
log.retention.check.interval.ms=60000
num.network.threads=2
num.io.threads=4
EOF
    "$java" -cp "$lib/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
      -Dkafka.logs.dir="$node" kafka.tools.StorageTool format --ignore-formatted \
      -t "$cluster_id" -c "$node/server.properties" >"$node/format.log" 2>&1 ||
      { cat "$node/format.log" >&2; die "formatting node $i failed"; }
  done
  echo "$n" >"$dir/nodes"
  echo "bootstrap: $bootstrap" >"$dir/bootstrap"
  # The nodes of a quorum wait for each other: start all, then wait for each.
  for ((i = 1; i <= n; i++)); do launch "$dir" "$i" &
  done
  local failed=0
  for ((i = 1; i <= n; i++)); do wait -n || failed=1; done
  if ((failed)); then
    for ((i = 1; i <= n; i++)); do stop_node "$dir/node$i"; done
    rm -f "$dir/nodes"
    die "the cluster did not start (logs in $dir/node*)"
  fi
  [[ $# -gt 0 ]] && create_topics "$dir" "$@"
  cat "$dir/bootstrap"
}

# True when the process in $1/pid is this node's broker (not a later process with a reused PID).
node_running() {
  local pid
  [[ -f "$1/pid" ]] || return 1
  pid=$(cat "$1/pid")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$1/server.properties"
}

stop_node() {
  stop_process "$1" node_running
}

stop() {
  local dir=$1 i n
  [[ -f "$dir/nodes" ]] || die "$dir holds no cluster started by kafka.sh"
  n=$(node_count "$dir")
  for ((i = 1; i <= n; i++)); do stop_node "$dir/node$i" &
  done
  wait
  rm -rf "$dir"
}

node_dir() {
  local dir=$1 i=$2
  [[ -f "$dir/nodes" ]] || die "$dir holds no cluster started by kafka.sh"
  [[ $i =~ ^[0-9]+$ && $i -ge 1 && $i -le $(node_count "$dir") ]] ||
    die "node $i: the cluster has nodes 1..$(node_count "$dir")"
  echo "$dir/node$i"
}

cmd=${1:-}
case $cmd in
  start)
    [[ $# -ge 2 ]] || usage
    dir=$2 brokers=1 topics=()
    shift 2
    while [[ $# -gt 0 ]]; do
      case $1 in
        --brokers) brokers=${2:?--brokers N}; shift 2 ;;
        --topic) topics+=("${2:?--topic NAME:PARTITIONS}"); shift 2 ;;
        *) usage ;;
      esac
    done
    start "$dir" "$brokers" "${topics[@]}" ;;
  create)
    [[ $# -ge 3 ]] || usage
    dir=$(cd "$2" && pwd)
    shift 2
    create_topics "$dir" "$@" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
  kill)
    [[ $# -eq 3 ]] || usage
    node=$(node_dir "$(cd "$2" && pwd)" "$3")
    node_running "$node" || die "node $3 is not running"
    pid=$(cat "$node/pid")
    kill -KILL "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$node/pid" ;;
  restart)
    [[ $# -eq 3 ]] || usage
    node_dir "$2" "$3" >/dev/null
    launch "$(cd "$2" && pwd)" "$3" ;;
  bootstrap) [[ $# -eq 2 ]] || usage; cat "$2/bootstrap" ;;
  classpath) classpath_dir ;;
  *) usage ;;
esac
