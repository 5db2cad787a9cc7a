#!/usr/bin/env bash
# Runs a Confluent-compatible Schema Registry (Apicurio Registry, in-memory storage) on loopback,
# for tests of records in the Schema Registry wire format (Avro with a schema id).
#
#   scripts/schema-registry.sh start DIR     start the registry on a free 127.0.0.1 port, wait
#                                            (at most 90 s) until its Confluent API answers; last
#                                            stdout line: url: http://127.0.0.1:PORT/apis/ccompat/v7
#   scripts/schema-registry.sh stop DIR      stop it (SIGTERM, then SIGKILL after 30 s) and
#                                            remove DIR
#   scripts/schema-registry.sh url DIR       print the url line again
#   scripts/schema-registry.sh build         build the registry once; print its directory
#
# Clients use the printed url as their schema.registry.url (Confluent's REST API, under
# /apis/ccompat/v7). The registry is io.apicurio:apicurio-registry-app (version in
# scripts/schema-registry/pom.xml), which Maven Central publishes as a plain jar only: Maven and
# Quarkus's plugin build it into a runnable jar once per pom and application.properties (its
# build-time configuration, in schema-registry/src/main/resources) into $SLUICE_REGISTRY_CACHE
# (default ~/.cache/sluice/apicurio-registry-VERSION; Maven's own ~/.m2 is reused between runs;
# concurrent builds wait for each other). Java 17 or newer: $JAVA_HOME, else `java` on PATH.
# Storage is an in-memory H2 database: every start is empty, and the registry needs no Kafka.
# Heap: REGISTRY_HEAP (default -Xms64m -Xmx256m). Log: DIR/registry.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
project="$here/schema-registry"
api=/apis/ccompat/v7

usage() {
  sed -n '5,11p' "$0" >&2
  exit 2
}

die() {
  echo "schema-registry.sh: $*" >&2
  exit 1
}

# shellcheck source=scripts/jvm.sh
source "$here/jvm.sh"

# Builds the registry once per pom + application.properties into the cache (under a lock, into a
# staging directory moved in place when complete); prints the directory of the runner jar.
build_dir() {
  local pom="$project/pom.xml" version cache stamp
  version=$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$pom")
  cache=${SLUICE_REGISTRY_CACHE:-$HOME/.cache/sluice/apicurio-registry-$version}
  stamp="$cache/.pom-$(cat "$pom" "$project/src/main/resources/application.properties" |
    sha1sum | cut -c1-12)"
  if [[ ! -f "$stamp" || ! -f "$cache/schema-registry-1-runner.jar" ]]; then
    mkdir -p "$(dirname "$cache")"
    exec 9>"$cache.lock"
    flock -w 900 9 || die "another build of the registry held $cache.lock for 900 s"
    if [[ ! -f "$stamp" || ! -f "$cache/schema-registry-1-runner.jar" ]]; then
      command -v mvn >/dev/null 2>&1 || die "no Maven (mvn): scripts/install-deps.sh installs it"
      echo "schema-registry.sh: building Apicurio Registry $version with Maven into $cache" >&2
      local staging="$cache.build"
      rm -rf "$staging"
      timeout 900 mvn -q -B -Dstyle.color=never -f "$pom" package -DskipTests \
        -Dregistry.build.dir="$staging" >&2 ||
        die "Maven could not build io.apicurio:apicurio-registry-app:$version (see its output above)"
      [[ -f "$staging/schema-registry-1-runner.jar" ]] ||
        die "the build left no $staging/schema-registry-1-runner.jar"
      rm -rf "$cache"
      mv "$staging" "$cache"
      touch "$stamp"
    fi
    exec 9>&-
  fi
  echo "$cache"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# HTTP status of GET $1, straight to it (no proxy); 000 when nothing answers within 2 s.
http_status() {
  /usr/bin/python3 - "$1" <<'EOF'
import sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    print(opener.open(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

# True when the process in $1/pid is this DIR's registry (not a later process with a reused PID).
running() {
  local pid
  [[ -f "$1/pid" ]] || return 1
  pid=$(cat "$1/pid")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dsluice.registry.dir=$1 "
}

stop_registry() {
  stop_process "$1" running
}

# Starts the JVM on port $4 and waits until the API answers: 0 when it does, 1 when it exited
# (DIR/exited holds why), dies after 90 s.
launch() {
  local dir=$1 java=$2 build=$3 port=$4
  local mark=0
  [[ -f "$dir/registry.log" ]] && mark=$(wc -l <"$dir/registry.log")
  # shellcheck disable=SC2086
  (cd "$dir" && exec setsid "$java" ${REGISTRY_HEAP:--Xms64m -Xmx256m} -XX:+UseSerialGC \
    -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -Dsluice.registry.dir="$dir" \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -jar "$build/schema-registry-1-runner.jar" >>"$dir/registry.log" 2>&1 </dev/null) &
  local pid=$!
  echo "$pid" >"$dir/pid"
  local url="http://127.0.0.1:$port$api" deadline=$((SECONDS + 90))
  while [[ $(http_status "$url/subjects") != 200 ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/pid"
      tail -n +"$((mark + 1))" "$dir/registry.log" >"$dir/exited" 2>/dev/null || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      stop_registry "$dir"
      die "the registry did not answer within 90 s (log in $dir/registry.log)"
    fi
    sleep 0.2
  done
  echo "url: $url" >"$dir/url"
}

start() {
  local dir=$1
  [[ -e "$dir/pid" ]] && die "$dir holds a registry already (scripts/schema-registry.sh stop $dir)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local java build attempt
  java=$(java_bin "the registry")
  build=$(build_dir)
  # The free port can be taken by another program before the JVM binds it: try another one.
  for attempt in 1 2 3; do
    if launch "$dir" "$java" "$build" "$(free_port)"; then
      rm -f "$dir/exited"
      cat "$dir/url"
      return 0
    fi
    grep -qi "address already in use\|port [0-9]* seems to be in use" "$dir/exited" || break
  done
  tail -20 "$dir/exited" >&2 || true
  die "the registry exited while starting (log in $dir/registry.log)"
}

stop() {
  local dir=$1
  [[ -f "$dir/pid" || -f "$dir/url" || -f "$dir/registry.log" ]] ||
    die "$dir holds no registry started by schema-registry.sh"
  stop_registry "$dir"
  rm -rf "$dir"
}

cmd=${1:-}
case $cmd in
  start) [[ $# -eq 2 ]] || usage; start "$2" ;;
  stop) [[ $# -eq 2 ]] || usage; stop "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
  url)
    [[ $# -eq 2 ]] || usage
    [[ -f "$2/url" ]] || die "$2 holds no running registry started by schema-registry.sh"
    cat "$2/url" ;;
  build) [[ $# -eq 1 ]] || usage; build_dir ;;
  *) usage ;;
esac
