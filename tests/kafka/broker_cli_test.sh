#!/usr/bin/env bash
# `sluice broker` as a real process: usage errors exit 2; a running broker prints
# `bootstrap: 127.0.0.1:PORT[,...]` first, listens on loopback only, accepts TCP connections, and
# exits 0 on SIGTERM / SIGINT within a bounded wait; `--control stdin` answers fault-injection
# commands and keeps messages across a leader's down/up (checked with kafka-python).
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

# --control stdin: each command answers one line; EOF on stdin does not stop the broker.
expect_code 2 broker --control tcp
grep -q "only control channel is 'stdin'" "$tmp/err" || fail "no --control message: $(cat "$tmp/err")"
cat >"$tmp/commands" <<'COMMANDS'
down 1
up 1
down 3
up 0
errors Produce 5 NOT_LEADER_OR_FOLLOWER
errors Fetch 2 NOT_LEADER_FOR_PARTITION
errors OffsetCommit 1 COORDINATOR_NOT_AVAILABLE
errors JoinGroup 1 NOT_COORDINATOR
errors Heartbeat 1 REQUEST_TIMED_OUT
errors Frobnicate 1 REQUEST_TIMED_OUT
errors Produce 1 NO_SUCH_ERROR
errors Produce 0 REQUEST_TIMED_OUT
leader t 1 2
leader t 7 1
leader t 0 9
create u 2
create u 2
create bad/name 1
create v 0

frobnicate
down
COMMANDS
cat >"$tmp/want" <<'WANT'
ok
ok
error: no broker 3: broker ids are 1..2
error: broker id '0': expected an integer >= 1
ok
ok
ok
ok
ok
error: unknown API 'Frobnicate'
error: unknown error 'NO_SUCH_ERROR'
error: count '0': expected an integer >= 1
ok
error: kafka mock: leader of t [7]
error: no broker 9: broker ids are 1..2
ok
error: kafka mock: cannot create topic 'u'
error: invalid topic name 'bad/name'
error: partitions '0': expected an integer >= 1
error: unknown command 'frobnicate'
error: down takes 1 argument
WANT
: >"$tmp/broker.out"
"$sluice" broker --brokers 2 --topic t:3 --control stdin <"$tmp/commands" >"$tmp/broker.out" \
  2>"$tmp/broker.err" &
pid=$!
want_lines=$(($(wc -l <"$tmp/want") + 1))
for ((i = 0; i < 150; i++)); do  # up to 15 s for every answer (`up` takes about a second)
  [[ $(wc -l <"$tmp/broker.out") -ge $want_lines ]] && break
  kill -0 "$pid" 2>/dev/null || fail "broker exited at EOF on stdin: $(cat "$tmp/broker.err")"
  sleep 0.1
done
tail -n +2 "$tmp/broker.out" >"$tmp/got"
paste -d '\n' "$tmp/want" "$tmp/got" | while IFS= read -r want && IFS= read -r got; do
  [[ $got == "$want"* ]] || { echo "FAIL: control answer '$got', want '$want...'" >&2; exit 1; }
done || fail "wrong control answers; all: $(cat "$tmp/got")"
[[ $(wc -l <"$tmp/got") == $(wc -l <"$tmp/want") ]] || fail "answer count: $(cat "$tmp/got")"
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "broker stopped after EOF on stdin"
kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "broker (stdin at EOF) still running 10 s after SIGTERM"
code=0
wait "$pid" || code=$?
pid=""
[[ $code == 0 ]] || fail "broker exited $code: $(cat "$tmp/broker.err")"

# With a real client (kafka-python, see harness.py): a message survives its leader going down and
# up, and a leader move; the broker stops promptly on SIGTERM while its stdin is still open.
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$sluice" "$tmp" "$(dirname "$0")" <<'PY' || fail "kafka-python round trip"
import sys, time
sys.path.insert(0, sys.argv[3])
import harness as h

sluice, tmp = sys.argv[1], sys.argv[2]
b = h.Broker(sluice, tmp, brokers=3)
b.start()
try:
    b.create_topic("ft", 1)
    b.control("leader ft 0 2")
    with open(f"{tmp}/m1.jsonl", "w") as f:
        f.write('{"n":1}\n')
    with open(f"{tmp}/m2.jsonl", "w") as f:
        f.write('{"n":2}\n')
    assert h.produce_jsonl(b.bootstrap, "ft", f"{tmp}/m1.jsonl", key_field="n") == 1
    b.control("down 2")
    time.sleep(1)
    b.control("up 2")
    b.control("errors Produce 2 NOT_LEADER_OR_FOLLOWER")
    assert h.produce_jsonl(b.bootstrap, "ft", f"{tmp}/m2.jsonl", key_field="n") == 1
    got = [(r.key, r.value) for r in h.consume_topic(b.bootstrap, "ft", idle=1, max_seconds=20,
                                                     min_records=2)]
    assert got == [("1", {"n": 1}), ("2", {"n": 2})], got
    b.control("down 2")
    b.control("leader ft 0 3")
    got = [r.value for r in h.consume_topic(b.bootstrap, "ft", idle=1, max_seconds=20,
                                            min_records=2)]
    assert got == [{"n": 1}, {"n": 2}], got
finally:
    t = time.monotonic()
    code = b.stop(timeout=10)
assert code == 0, f"broker exited {code}"
assert time.monotonic() - t < 10
PY
echo "broker_cli_test: ok"
