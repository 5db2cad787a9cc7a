#!/usr/bin/env bash
# The mutating admin API and `sluice status` against a running `sluice serve --embedded-kafka
# --http-listen 127.0.0.1:0`, with curl: POST /jobs (invalid YAML, SQL error, a non-Kafka source,
# created 201, replaced 200), pause (no record read while paused) and resume (every record
# delivered), 404s, DELETE (the job stops and leaves /jobs), a job's properties never in a
# response or the log, `sluice status` (table, paused state, unreachable daemon), SIGTERM with a
# paused job (clean stop). A second daemon with http.token: 401 without the token, 403 with a
# wrong one, accepted with it, the token never logged. A non-loopback address without a token
# refuses to start. What a web page can make a browser send is refused and changes nothing: a
# POST with a form's content type (curl's default too: 415), another Origin (403), a rebound
# Host name (421, reads included); `localhost` and tunnels to another local port are answered.
# Job files cannot attack the daemon: a job's `sasl.kerberos.kinit.cmd` never
# runs (the job is invalid, in the directory and when posted), `${SLUICE_TOKEN}` in a posted job is
# refused, a token substituted into a property librdkafka refuses is never shown, a job file that
# is a symlink out of the jobs directory is not read, and a ConfigMap-style layout still runs.
set -euo pipefail
SLUICE=$1
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
pid=""
pid2=""
cleanup() {
  for p in "$pid" "$pid2"; do
    if [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- stderr"; grep -v ' kafka: ' "$work/err" 2>/dev/null | tail -30 || true
  exit 1
}
# start_daemon CONFIG OUT ERR: starts `sluice serve` in the background (PID in $started), waits for
# its http line and sets $base.
start_daemon() {
  "$SLUICE" serve --config "$1" --embedded-kafka --http-listen 127.0.0.1:0 >"$2" 2>"$3" &
  started=$!
  local port
  port=$(wait_http_port 20 "$3") || fail "no http line in $3"
  base="http://127.0.0.1:$port"
}
# The header every job file POST carries (curl --data-binary alone sends a form's type: 415).
yaml='Content-Type: application/yaml'
# call METHOD PATH STATUS [curl args...]: body in $work/body.
call() {
  local method=$1 path=$2 want=$3 code
  shift 3
  code=$(curl -sS -X "$method" -o "$work/body" -w '%{http_code}' --max-time 10 "$@" \
    "$base$path") || fail "curl $method $path failed"
  [[ "$code" == "$want" ]] || fail "$method $path: status $code, expected $want: $(cat "$work/body")"
}
body_has() { grep -q -- "$1" "$work/body" || fail "${2:-body} lacks $1: $(head -c 1500 "$work/body")"; }
# count FIELD: the value of "FIELD": N for job pt in GET /jobs/pt.
count() {
  curl -s --max-time 10 "$base/jobs/pt" | grep -o "\"$1\": [0-9]*" | head -1 | sed 's/.*: //'
}

mkdir -p "$work/jobs" "$work/jobs2"
cat >"$work/sluice.yaml" <<EOF
jobs_dir: $work/jobs
threads: 2
kafka:
  session.timeout.ms: 6000
EOF
start_daemon "$work/sluice.yaml" "$work/out" "$work/err"
pid=$started
bootstrap=$(sed -n 's/^bootstrap: //p' "$work/out" | head -1)
[[ -n "$bootstrap" ]] || fail "no bootstrap line"

"$SLUICE" status --url "$base" >"$work/status" || fail "sluice status failed"
grep -q '(no jobs)' "$work/status" || fail "status without jobs: $(cat "$work/status")"
"$SLUICE" status --url "http://localhost:${base##*:}" >"$work/status" ||
  fail "sluice status for localhost failed"

# Invalid jobs: 400 with one issue per problem, file:line:col.
printf 'name: bad\nsql: [unclosed\n' >"$work/bad.yaml"
call POST /jobs 400 -H "$yaml" --data-binary "@$work/bad.yaml"
body_has '"error": "invalid job' && body_has '"issues": \["request:[0-9]*:[0-9]*: '
cat >"$work/sqlerr.yaml" <<EOF
name: sqlerr
sql: SELECT nope FROM orders
source: {type: kafka, topic: x-in, name: orders, schema: {id: BIGINT}}
sink: {type: kafka, topic: x-out}
EOF
call POST /jobs 400 -H "$yaml" --data-binary "@$work/sqlerr.yaml"
body_has '"issues": \["request:2:13: sql: ' && body_has 'nope'
cat >"$work/filejob.yaml" <<EOF
name: filejob
sql: SELECT id FROM t
source: {type: file, path: x.jsonl, name: t, schema: {id: BIGINT}}
sink: {type: kafka, topic: x-out}
EOF
call POST /jobs 400 -H "$yaml" --data-binary "@$work/filejob.yaml"
body_has 'request:3:[0-9]*: source.type: sluice serve runs jobs that read a kafka topic'
# A property the job may not set (credentials belong to the server config): 400, no value shown.
cat >"$work/sasl.yaml" <<EOF
name: sasl
sql: SELECT id FROM t
source: {type: kafka, topic: x-in, name: t, schema: {id: BIGINT}}
sink: {type: kafka, topic: x-out}
kafka:
  sasl.password: hunter2-secret
EOF
call POST /jobs 400 -H "$yaml" --data-binary "@$work/sasl.yaml"
body_has 'request:6:3: kafka.sasl.password: not allowed in a job file'
if grep -q 'hunter2' "$work/body"; then fail "the 400 shows the sasl.password value"; fi
[[ -z "$(ls "$work/jobs")" ]] || fail "an invalid job was written: $(ls "$work/jobs")"

# A valid job: 201, written as pt.yaml, running; posting it again replaces it: 200.
cat >"$work/pt.yaml" <<EOF
name: pt
sql: SELECT order_id, total_amount FROM orders
source:
  type: kafka
  topic: pt-in
  name: orders
  schema: {order_id: BIGINT, customer_id: BIGINT, order_date: STRING, total_amount: 'DECIMAL(12,2)'}
sink: {type: kafka, topic: pt-out}
kafka:
  auto.offset.reset: earliest
  client.rack: hunter2-rack
EOF
call POST /jobs 201 -H "$yaml" --data-binary "@$work/pt.yaml"
body_has '"name": "pt", "file": "[^"]*/jobs/pt.yaml", "state": "starting"'
cmp -s "$work/pt.yaml" "$work/jobs/pt.yaml" || fail "jobs/pt.yaml differs from the posted body"
running() { curl -s "$base/jobs/pt" | grep -q '"state": "running", .*"paused": false'; }
wait_for 30 running || fail "pt never running: $(curl -s "$base/jobs/pt")"
call POST /jobs 200 -H "$yaml" --data-binary "@$work/pt.yaml"
ls "$work/jobs" | grep -q '^\.' && fail "a temporary file was left: $(ls -a "$work/jobs")"

"$SLUICE" gen --scenario S0 --records 2000 --topic pt-in --bootstrap "$bootstrap" 2>"$work/gen" ||
  fail "gen: $(cat "$work/gen")"
out_is() { [[ "$(count records_out)" == "$1" ]]; }
wait_for 60 out_is 2000 || fail "records_out $(count records_out), expected 2000"

# Pause: nothing more is read; resume: everything arrives.
call POST /jobs/pt/pause 200
body_has '{"name": "pt", "paused": true}'
call GET /jobs/pt 200
body_has '"state": "running", "error": null, "generation": [0-9]*, "paused": true'
"$SLUICE" status --url "$base" >"$work/status" || fail "sluice status failed"
grep -Eq '^pt +paused +2000 +2000 ' "$work/status" || fail "status while paused: $(cat "$work/status")"
"$SLUICE" gen --scenario S0 --records 3000 --first 2000 --topic pt-in --bootstrap "$bootstrap" \
  2>"$work/gen" || fail "gen: $(cat "$work/gen")"
sleep 2
[[ "$(count records_in)" == 2000 ]] || fail "records read while paused: $(count records_in)"
call POST /jobs/pt/resume 200
body_has '"paused": false'
wait_for 60 out_is 5000 || fail "after resume: records_out $(count records_out), expected 5000"
[[ "$(count records_in)" == 5000 ]] || fail "records_in $(count records_in), expected 5000"

# What a web page can send: refused, nothing written, the job not paused. curl's own requests
# (above) pass; so do a Host of localhost and of a tunnel's local port.
port=${base##*:}
sed 's/^name: pt/name: forged/; s/pt-in/forged-in/; s/pt-out/forged-out/' "$work/pt.yaml" \
  >"$work/forged.yaml"
call POST /jobs 415 --data-binary "@$work/forged.yaml"
body_has 'Content-Type: application/yaml' && body_has 'application/x-www-form-urlencoded'
call POST /jobs 415 -H 'Content-Type: text/plain' --data-binary "@$work/forged.yaml"
call POST /jobs 415 -H 'Content-Type: application/xml' --data-binary "@$work/forged.yaml"
body_has 'needs a Content-Type of application/yaml, application/x-yaml, text/yaml, application/json'
call POST /jobs 403 -H 'Origin: http://evil.example' -H "$yaml" --data-binary "@$work/forged.yaml"
body_has 'a web page may not change'
call POST /jobs/pt/pause 403 -H 'Sec-Fetch-Site: cross-site'
call POST /jobs/pt/pause 403 -H "Origin: http://localhost:$((port == 65535 ? 1 : port + 1))"
call POST /jobs/pt/pause 415 -H 'Content-Type: text/plain'
call DELETE /jobs/pt 421 -H "Host: evil.example:$port"
call GET /jobs 421 -H "Host: evil.example:$port"
body_has 'DNS rebinding'
call GET /healthz 421 -H "Host: rebind.evil.example"
[[ ! -e "$work/jobs/forged.yaml" && -e "$work/jobs/pt.yaml" ]] || fail "a refused call changed the jobs"
call GET /jobs/pt 200 -H "Host: localhost:$port"
body_has '"paused": false'
call GET /jobs 200 -H 'Host: localhost:18080'
call POST /jobs/nope/pause 404 -H "Origin: http://127.0.0.1:$port"

# Unknown jobs and wrong methods.
call POST /jobs/nope/pause 404
body_has "no job named 'nope'"
call POST /jobs/nope/resume 404
call DELETE /jobs/nope 404
call PUT /jobs/pt 405

# No secret in a response or the log.
call GET /jobs 200
if grep -q 'hunter2' "$work/body"; then fail "GET /jobs shows a job's kafka property"; fi
if grep -q 'hunter2' "$work/err" "$work/out"; then fail "the log shows a job's kafka property"; fi

# DELETE: the job stops and leaves /jobs; its file is gone.
sed 's/^name: pt/name: gone/; s/pt-in/gone-in/; s/pt-out/gone-out/' "$work/pt.yaml" >"$work/gone.yaml"
call POST /jobs 201 -H "$yaml" --data-binary "@$work/gone.yaml"
gone_running() { curl -s "$base/jobs/gone" | grep -q '"state": "running"'; }
wait_for 30 gone_running || fail "job gone never running"
call DELETE /jobs/gone 202
body_has '{"status": "stopping"}'
[[ ! -e "$work/jobs/gone.yaml" ]] || fail "jobs/gone.yaml still there"
gone_gone() { [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/jobs/gone") == 404 ]]; }
wait_for 30 gone_gone || fail "job gone still listed: $(curl -s "$base/jobs/gone")"
grep -q 'job gone: stopped' "$work/err" || fail "no stop line for job gone"

# sluice status --watch prints rates; an unreachable daemon is exit 1 with a clear message.
timeout -s INT 3 "$SLUICE" status --url "$base" --watch 1 >"$work/watch" || true
grep -q 'IN/S' "$work/watch" && grep -Eq '^pt +running ' "$work/watch" ||
  fail "status --watch: $(cat "$work/watch")"
rc=0
"$SLUICE" status --url http://127.0.0.1:1 >"$work/status" 2>"$work/status_err" || rc=$?
[[ $rc -eq 1 ]] && grep -q 'cannot reach http://127.0.0.1:1' "$work/status_err" ||
  fail "status against nothing: exit $rc: $(cat "$work/status_err")"

# Listening beyond loopback without a token: refuses to start.
rc=0
timeout 20 "$SLUICE" serve --config "$work/sluice.yaml" --http-listen 0.0.0.0:0 \
  >/dev/null 2>"$work/err_open" || rc=$?
[[ $rc -eq 1 ]] && grep -q 'not a loopback address) needs a bearer token' "$work/err_open" ||
  fail "non-loopback without a token: exit $rc: $(cat "$work/err_open")"

# A daemon with http.token: 401 without it, 403 with a wrong one, accepted with it.
cat >"$work/sluice2.yaml" <<EOF
jobs_dir: $work/jobs2
threads: 2
http:
  token: \${SLUICE_TOKEN}
EOF
# Its jobs directory holds job files that try to attack the daemon, and a ConfigMap-style layout.
job_head() {
  printf 'name: %s\nsql: SELECT id FROM t\n' "$1"
  printf 'source: {type: kafka, topic: %s-in, name: t, schema: {id: BIGINT}}\n' "$1"
  printf 'sink: {type: kafka, topic: %s-out}\nkafka:\n' "$1"
}
{
  job_head kinit
  printf '  security.protocol: SASL_PLAINTEXT\n  sasl.mechanisms: GSSAPI\n'
  printf '  sasl.kerberos.kinit.cmd: "touch %s"\n' "$work/kinit-ran"
} >"$work/jobs2/kinit.yaml"
# shellcheck disable=SC2016 # the daemon substitutes it
{ job_head leak; printf '  compression.type: ${SLUICE_TOKEN}\n'; } >"$work/jobs2/leak.yaml"
printf 'password: tok-3f9a7c\n  [not yaml\n' >"$work/outside-secret.txt"
ln -s "$work/outside-secret.txt" "$work/jobs2/outside.yaml"
mkdir -p "$work/jobs2/..2026_01_01_00_00_00.1"
{ job_head cm; printf '  linger.ms: 10\n'; } >"$work/jobs2/..2026_01_01_00_00_00.1/cm.yaml"
ln -s ..2026_01_01_00_00_00.1 "$work/jobs2/..data"
ln -s ..data/cm.yaml "$work/jobs2/cm.yaml"
main_base=$base
SLUICE_TOKEN=tok-3f9a7c start_daemon "$work/sluice2.yaml" "$work/out2" "$work/err2"
pid2=$started
# job_state NAME: the job's state in GET /jobs/NAME (empty until it is listed).
job_state() { curl -s --max-time 10 "$base/jobs/$1" | sed -n 's/.*"state": "\([a-z]*\)".*/\1/p'; }
listed() { [[ -n "$(job_state "$1")" ]]; }
for j in kinit leak outside cm; do wait_for 20 listed "$j" || fail "job $j never listed"; done
[[ ! -e "$work/kinit-ran" ]] ||
  fail "the job's sasl.kerberos.kinit.cmd ran (job kinit is $(job_state kinit))"
[[ "$(job_state kinit)" == invalid ]] || fail "job kinit is $(job_state kinit), expected invalid"
call GET /jobs/kinit 200
body_has 'kinit.yaml:8:3: kafka.sasl.kerberos.kinit.cmd: not allowed in a job file: it runs a shell'
[[ "$(job_state leak)" == invalid ]] || fail "job leak is $(job_state leak), expected invalid"
call GET /jobs/leak 200
body_has 'leak.yaml:6:21: kafka.compression.type: librdkafka refused the value'
[[ "$(job_state outside)" == invalid ]] || fail "job outside is $(job_state outside)"
call GET /jobs/outside 200
body_has 'outside.yaml: not read: the file resolves to [^"]*outside-secret.txt, outside the jobs'
cm_running() { [[ "$(job_state cm)" == running ]]; }
wait_for 30 cm_running || fail "the ConfigMap-style job cm is $(job_state cm), expected running"
# Posted: no environment (the token), no command property; nothing written, nothing run.
sed -e 's/^name: leak/name: posted-${SLUICE_TOKEN}/' \
  -e 's/^  compression.type: .*/  client.rack: ${SLUICE_TOKEN:-r1}/' \
  "$work/jobs2/leak.yaml" >"$work/posted.yaml"
call POST /jobs 400 -H 'Authorization: Bearer tok-3f9a7c' -H "$yaml" --data-binary "@$work/posted.yaml"
body_has "request:1:14: name: '\${SLUICE_TOKEN}': the admin API does not substitute environment"
body_has "request:6:16: kafka.client.rack: '\${SLUICE_TOKEN}': the admin API does not substitute"
sed 's/^name: kinit/name: kinit2/' "$work/jobs2/kinit.yaml" >"$work/kinit2.yaml"
call POST /jobs 400 -H 'Authorization: Bearer tok-3f9a7c' -H "$yaml" --data-binary "@$work/kinit2.yaml"
body_has 'kafka.sasl.kerberos.kinit.cmd: not allowed in a job file'
if ls "$work/jobs2" | grep -Eq '^(posted|kinit2)'; then fail "a refused job was written"; fi
[[ ! -e "$work/kinit-ran" ]] || fail "the posted sasl.kerberos.kinit.cmd ran"
call GET /metrics 200
if grep -q 'tok-3f9a7c' "$work/body"; then fail "/metrics shows the token"; fi
call POST /jobs 401 -H "$yaml" --data-binary "@$work/pt.yaml"
body_has 'Authorization: Bearer'
call DELETE /jobs/pt 401
call POST /jobs/pt/pause 403 -H 'Authorization: Bearer wrong'
call POST /jobs/nope/pause 404 -H 'Authorization: Bearer tok-3f9a7c'
call POST /jobs 400 -H 'Authorization: Bearer tok-3f9a7c' -H "$yaml" --data-binary "@$work/bad.yaml"
call POST /jobs/nope/pause 403 -H 'Authorization: Bearer tok-3f9a7c' -H 'Origin: http://evil.example'
call GET /jobs 200
if grep -q 'tok-3f9a7c' "$work/err2" "$work/out2" "$work/body"; then fail "the token was shown"; fi
kill -TERM "$pid2"
wait "$pid2" || fail "the token daemon exited $?"
pid2=""
base=$main_base

# SIGTERM with a paused job: it drains and stops.
call POST /jobs/pt/pause 200
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[[ $rc -eq 0 ]] || fail "sluice serve exited $rc after SIGTERM"
grep -q "all jobs stopped" "$work/err" || fail "no clean stop in the log"
echo "PASS: POST/DELETE/pause/resume, tokens 401/403, no secrets shown, sluice status"
