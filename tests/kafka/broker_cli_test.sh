#!/usr/bin/env bash
# `sluice broker` as a real process: usage errors exit 2; a running broker prints
# `bootstrap: 127.0.0.1:PORT[,...]` first, listens on loopback only, accepts TCP connections, and
# exits 0 on SIGTERM / SIGINT within a bounded wait.
# usage: broker_cli_test.sh PATH/TO/sluice
set -euo pipefail
sluice=$1
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_code CODE ARGS...: runs sluice with ARGS (stdout/stderr to $tmp/out, $tmp/err).
expect_code() {
  local want=$1 got=0
  shift
  timeout 10 "$sluice" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  [[ $got == "$want" ]] || fail "sluice $* exited $got, want $want; stderr: $(cat "$tmp/err")"
}

expect_code 2 broker --topic trades
grep -q "expected NAME:PARTITIONS" "$tmp/err" || fail "no NAME:PARTITIONS hint: $(cat "$tmp/err")"
grep -q "usage: sluice broker" "$tmp/err" || fail "usage error without usage text"
expect_code 2 broker --topic trades:0
grep -q "positive integer" "$tmp/err" || fail "no positive-integer message: $(cat "$tmp/err")"
expect_code 2 broker --topic trades:x
expect_code 2 broker --topic trades:-3
expect_code 2 broker --topic trades:3abc
expect_code 2 broker --brokers 0
expect_code 2 broker --brokers
grep -q "needs a value" "$tmp/err" || fail "no needs-a-value message: $(cat "$tmp/err")"
expect_code 2 broker --frobnicate
grep -q "unknown option '--frobnicate'" "$tmp/err" || fail "unknown option not named"
expect_code 2 broker extra
expect_code 2 broker --topic 'bad/name:3'
expect_code 2 broker --topic t:1 --topic t:2
expect_code 0 broker --help
grep -q "usage: sluice broker" "$tmp/out" || fail "--help shows no usage"
expect_code 0 --help
grep -q "broker \[--brokers N\]" "$tmp/out" || fail "sluice --help does not list broker"

# listens_on_loopback_only PORT: /proc/net/tcp has a LISTEN (0A) socket on 127.0.0.1:PORT and none
# on another address.
listens_on_loopback_only() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' /proc/net/tcp \
    /proc/net/tcp6 >"$tmp/listen"
  [[ $(cat "$tmp/listen") == "0100007F:$hex" ]]
}

# run_broker SIGNAL EXPECTED_BROKERS ARGS...: starts the broker, checks its first line and its ports,
# sends SIGNAL and checks a clean exit.
run_broker() {
  local sig=$1 want_brokers=$2
  shift 2
  # Empty files first: the background child truncates them only when it gets to run.
  : >"$tmp/broker.out"
  : >"$tmp/broker.err"
  "$sluice" broker "$@" >"$tmp/broker.out" 2>"$tmp/broker.err" &
  pid=$!
  local line="" i
  for ((i = 0; i < 100; i++)); do  # up to 10 s for the first line
    if [[ -s $tmp/broker.out ]] && IFS= read -r line <"$tmp/broker.out" && [[ -n $line ]]; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || fail "broker exited early: $(cat "$tmp/broker.err")"
    sleep 0.1
  done
  [[ $line =~ ^bootstrap:\ (127\.0\.0\.1:[0-9]+)(,127\.0\.0\.1:[0-9]+)*$ ]] ||
    fail "bad first line: '$line'"
  local list=${line#bootstrap: } addr port n=0
  IFS=, read -r -a addrs <<<"$list"
  for addr in "${addrs[@]}"; do
    port=${addr##*:}
    timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || fail "no TCP connection to $addr"
    listens_on_loopback_only "$port" || fail "port $port not loopback-only: $(cat "$tmp/listen")"
    n=$((n + 1))
  done
  [[ $n == "$want_brokers" ]] || fail "$n brokers in '$line', want $want_brokers"

  kill "-$sig" "$pid"
  for ((i = 0; i < 100; i++)); do  # up to 10 s to exit
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "broker still running 10 s after SIG$sig"
  local code=0
  wait "$pid" || code=$?
  pid=""
  [[ $code == 0 ]] || fail "broker exited $code after SIG$sig: $(cat "$tmp/broker.err")"
  grep -q "stopped by SIG$sig" "$tmp/broker.err" || fail "no stop message: $(cat "$tmp/broker.err")"
}

run_broker TERM 1 --topic t:3
run_broker INT 3 --brokers 3 --topic a:2 --topic=b:1
echo "broker_cli_test: ok"
