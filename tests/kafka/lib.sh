# Shared by the kafka shell tests (sourced): bounded waiting and reading a daemon's HTTP port.

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# http_port LOG: the port of the daemon's `http: listening on 127.0.0.1:PORT` line in LOG.
http_port() {
  sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1" | head -1
}

# wait_http_port SECONDS LOG: waits for that line, then prints the port.
wait_http_port() {
  wait_for "$1" grep -qs 'http: listening on 127\.0\.0\.1:[0-9]' "$2" || return 1
  http_port "$2"
}
