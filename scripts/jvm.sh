# Sourced by kafka.sh and schema-registry.sh (which define `die`): the JVM processes they run.
# java_bin WHAT: prints the Java 17+ binary to run ($JAVA_HOME/bin/java, else `java` on PATH), or
# dies saying WHAT needs it.
java_bin() {
  local java=java
  [[ -n "${JAVA_HOME:-}" ]] && java="$JAVA_HOME/bin/java"
  command -v "$java" >/dev/null 2>&1 ||
    die "no Java: install Java 17 or newer (scripts/install-deps.sh) or set JAVA_HOME"
  local major
  major=$("$java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java.specification.version = //p' | head -1)
  [[ "${major:-0}" =~ ^[0-9]+$ && $major -ge 17 ]] ||
    die "$java is Java ${major:-unknown}; $1 needs 17 or newer (set JAVA_HOME)"
  echo "$java"
}

# stop_process DIR RUNNING: stops the process DIR/pid names if `RUNNING DIR` says it is still the
# one started there (SIGTERM, then SIGKILL after 30 s), and removes DIR/pid.
stop_process() {
  local dir=$1 running=$2 pid
  [[ -f "$dir/pid" ]] || return 0
  pid=$(cat "$dir/pid")
  if "$running" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}
