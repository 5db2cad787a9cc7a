#!/usr/bin/python3
"""End-to-end tests of `sluice serve` against `sluice broker`, with kafka-python as the independent
client (Debian's python3-kafka: run with /usr/bin/python3).

usage: e2e_test.py SLUICE WORKDIR [test_name ...]

Runs every case (or the named ones), prints `PASS name: detail` or `FAIL name: reason` per case,
and exits 1 if any failed. Each case gets WORKDIR/<name>/ with the broker's and daemons' logs.
Environment: E2E_RECORDS (records per scenario, default 3000); E2E_BOOTSTRAP=HOST:PORT[,...] (or
the DIR of `scripts/kafka.sh start DIR`) runs the cases against that real Kafka cluster instead of
a `sluice broker` per case: each case first deletes every topic and consumer group on it. Cases in
MOCK_ONLY (fault injection) refuse to run there, and cases in REAL_ONLY anywhere else.
E2E_REGISTRY=URL (or the DIR of `scripts/schema-registry.sh start DIR`): the schema registry of the
Avro case; without it the case starts one of its own (scripts/schema-registry.sh, in its WORKDIR).

Every case ends by checking the counting identity on each daemon's `GET /jobs/<name>` (see
check_counts), taken after the output was consumed and before the daemon stops, once nothing is in
flight; each case's docstring says which counts it knows exactly.
"""

import base64
import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

RECORDS = int(os.environ.get("E2E_RECORDS", "3000"))
BOOTSTRAP = os.environ.get("E2E_BOOTSTRAP", "")
CLUSTER_DIR = None
if os.path.isdir(BOOTSTRAP):  # a cluster directory of scripts/kafka.sh: its bootstrap line
    CLUSTER_DIR = os.path.abspath(BOOTSTRAP)
    with open(os.path.join(BOOTSTRAP, "bootstrap")) as f:
        BOOTSTRAP = f.read().split()[-1]
REGISTRY = os.environ.get("E2E_REGISTRY", "")
# Cases that need the mock broker's fault injection (`sluice broker --control`), and cases that
# need a real broker (the mock does not answer CreateTopics).
MOCK_ONLY = {"broker_faults"}
# Exactly once needs real transactions (the mock drops offsets sent in one).
REAL_ONLY = {"internal_topics", "independent_clients", "leader_kill", "eos_kill",
             "eos_state_kill", "eos_final_kill", "eos_two_daemons",
             "eos_repartition_kill", "topic_size_limit", "avro_registry", "json_sr_registry",
             "protobuf_registry"}
KAFKA_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                        "kafka.sh")
KAFKA_JOB_PROPERTIES = {"auto.offset.reset": "earliest", "session.timeout.ms": "6000"}

# The benchmark scenarios (perf/README.md). S3a/S3b also select the window bounds so that rows
# can be identified by (keys, window).
_MARKET = {"symbol": "STRING", "price": "DECIMAL(12,2)"}
_S3_SCHEMA = {"trader_id": "STRING", "symbol": "STRING", "price": "DECIMAL(12,2)",
              "quantity": "BIGINT", "trade_time": "TIMESTAMP"}
_S3_SQL = ("SELECT trader_id, symbol, _window_start, _window_end, COUNT(*), AVG(price), "
           "SUM(quantity), SUM(price * quantity) FROM market_data GROUP BY trader_id, symbol "
           "WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT {emit}")
_S1_W = "(PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)"
SCENARIOS = {
    "S0": dict(table="orders",
               sql="SELECT order_id, customer_id, order_date, total_amount FROM orders "
                   "WHERE total_amount > 100",
               schema={"order_id": "BIGINT", "customer_id": "BIGINT", "order_date": "STRING",
                       "total_amount": "DECIMAL(12,2)"},
               key="customer_id", partitioned_by=None, sink_key=None, event_time=None),
    "S1": dict(table="market_data",
               sql=f"SELECT symbol, price, AVG(price) OVER {_S1_W} AS avg_price, "
                   f"MIN(price) OVER {_S1_W} AS min_price, MAX(price) OVER {_S1_W} AS max_price "
                   "FROM market_data",
               schema=dict(_MARKET, trade_time="TIMESTAMP"),
               key="symbol", partitioned_by=["symbol"], sink_key=["symbol"],
               event_time="trade_time"),
    "S2": dict(table="market_data",
               sql="SELECT symbol, COUNT(*), AVG(price), MIN(price), MAX(price), SUM(quantity) "
                   "FROM market_data GROUP BY symbol",
               schema=dict(_MARKET, quantity="BIGINT"),
               key="symbol", partitioned_by=["symbol"], sink_key=["symbol"], event_time=None),
    "S3a": dict(table="market_data", sql=_S3_SQL.format(emit="FINAL"), schema=_S3_SCHEMA,
                key="trader_id", partitioned_by=["trader_id"], sink_key=["trader_id"],
                event_time="trade_time"),
    "S3b": dict(table="market_data", sql=_S3_SQL.format(emit="CHANGES"), schema=_S3_SCHEMA,
                key="trader_id", partitioned_by=["trader_id"], sink_key=["trader_id"],
                event_time="trade_time"),
}


# --------------------------------------------------------------------------------------------
# Data and job files


def python_generate(scenario, first, n):
    """perf/README.md's generator table, for when `sluice gen` is not available."""
    for i in range(first, first + n):
        t = 1700000000000 + i * 1000
        if scenario == "S0":
            yield {"order_id": i, "customer_id": i % 1000, "order_date": "2024-01-15",
                   "total_amount": float(150 + i % 100)}
        elif scenario == "S1":
            yield {"symbol": f"SYM{i % 10}", "price": float(100 + i % 50), "trade_time": t}
        elif scenario == "S2":
            yield {"symbol": f"SYM{i % 200}", "price": float(100 + i % 100), "quantity": i % 1000}
        else:
            yield {"trader_id": f"TRADER{i % 20}", "symbol": f"SYM{i % 10}",
                   "price": float(100 + i % 50), "quantity": 100 + i % 1000, "trade_time": t}


def generate(ctx, scenario, n, first=0, name=None):
    """Writes records first..first+n-1 of `scenario` as JSON Lines; returns the path."""
    path = os.path.join(ctx.dir, name or f"{scenario}-{first}-{n}.jsonl")
    r = subprocess.run([ctx.sluice, "gen", "--scenario", scenario, "--records", str(n), "--first",
                        str(first), "--out", path], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        with open(path, "w") as f:
            for row in python_generate(scenario, first, n):
                f.write(json.dumps(row, separators=(",", ":")) + "\n")
    return path


def _yaml_list(items):
    return "[" + ", ".join(items) + "]"


def job_yaml(name, sc, source, sink, sql=None):
    """A job file: `source`/`sink` are the endpoint lines (already indented)."""
    lines = [f"name: {name}", "sql: |", f"  {sql or sc['sql']}", "source:",
             f"  name: {sc['table']}", *source, "  format: json", "  schema:"]
    lines += [f"    {col}: '{typ}'" for col, typ in sc["schema"].items()]
    if sc["event_time"]:
        lines.append(f"  event_time: {sc['event_time']}")
    kafka_source = any(line.strip() == "type: kafka" for line in source)
    if sc["partitioned_by"] and kafka_source:
        lines.append(f"  partitioned_by: {_yaml_list(sc['partitioned_by'])}")
    lines += ["sink:", *sink, "  format: json"]
    if sc["sink_key"] and kafka_source:
        lines.append(f"  key: {_yaml_list(sc['sink_key'])}")
    if kafka_source:
        lines.append("kafka:")
        lines += [f"  {k}: {v}" for k, v in KAFKA_JOB_PROPERTIES.items()]
    return "\n".join(lines) + "\n"


def kafka_job(name, sc, in_topic, out_topic, sql=None, properties=None):
    text = job_yaml(name, sc, ["  type: kafka", f"  topic: {in_topic}"],
                    ["  type: kafka", f"  topic: {out_topic}"], sql)
    return text + "".join(f"  {k}: {v}\n" for k, v in (properties or {}).items())


def expected_output(ctx, scenario, data_path, sql=None):
    """Runs the same query with `sluice run` over the file; returns the output rows."""
    sc = SCENARIOS[scenario]
    out = data_path + f".{scenario}.expected.jsonl"
    job = data_path + f".{scenario}.run.yaml"
    with open(job, "w") as f:
        f.write(job_yaml(f"run-{scenario.lower()}", sc, ["  type: file", f"  path: {data_path}"],
                         ["  type: file", f"  path: {out}"], sql))
    h.run_job(ctx.sluice, job)
    return h.read_jsonl(out)


def split_lines(path, parts):
    """Splits a JSON Lines file into `parts` consecutive files; returns their paths."""
    with open(path) as f:
        lines = f.readlines()
    size = (len(lines) + parts - 1) // parts
    paths = []
    for k in range(parts):
        p = f"{path}.part{k}"
        with open(p, "w") as f:
            f.writelines(lines[k * size:(k + 1) * size])
        paths.append(p)
    return paths


# --------------------------------------------------------------------------------------------
# Per-case context


class Ctx:
    def __init__(self, sluice, workdir, name):
        self.sluice = sluice
        self.dir = os.path.join(workdir, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.jobs_dir = os.path.join(self.dir, "jobs")
        os.makedirs(self.jobs_dir)
        self.broker = None
        self.registry = None
        self.daemons = []

    def start_broker(self, brokers=1, topics=()):
        """`sluice broker` (the mock) with `brokers` nodes; with E2E_BOOTSTRAP, the real cluster
        there instead, emptied of what earlier cases left (its size is the run's)."""
        if BOOTSTRAP:
            self.broker = h.ExternalBroker(BOOTSTRAP, CLUSTER_DIR, KAFKA_SH)
            self.broker.reset()
        else:
            self.broker = h.Broker(self.sluice, self.dir, brokers=brokers)
            self.broker.start()
        for name, partitions in topics:
            self.broker.create_topic(name, partitions)
        return self.broker

    def start_registry(self):
        """The schema registry of E2E_REGISTRY, or one of this case's own (stopped by cleanup)."""
        if REGISTRY:
            self.registry = h.SchemaRegistry.at(REGISTRY)
        else:
            self.registry = h.SchemaRegistry.start(os.path.join(self.dir, "registry"))
        return self.registry

    def broker_nodes(self):
        """The number of nodes of the cluster the case runs on."""
        if BOOTSTRAP:
            return len(BOOTSTRAP.split(","))
        return self.broker.brokers

    def start_daemon(self, label="d1", threads=2, args=(), config=""):
        """Starts `sluice serve` on this case's jobs dir (all daemons share it, so they join the
        same consumer groups); its log is DIR/<label>.log (appended across restarts), its
        state_dir DIR/state-<label>; `config`: more lines for its server config."""
        port = h.free_port()
        config = h.write_server_config(os.path.join(self.dir, f"{label}.yaml"),
                                       self.broker.bootstrap, self.jobs_dir, threads=threads,
                                       http_port=port,
                                       state_dir=os.path.join(self.dir, f"state-{label}"),
                                       extra=config)
        d = h.Daemon(self.sluice, config, os.path.join(self.dir, f"{label}.log"), args,
                     http_port=port).start()
        self.daemons.append(d)
        return d

    def write_job(self, file_name, text):
        """Writes a job file atomically (a reloading daemon never sees half a file)."""
        tmp = os.path.join(self.dir, file_name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(self.jobs_dir, file_name))

    def consume(self, topic, min_records=0, idle=2.0, max_seconds=60.0):
        return h.consume_topic(self.broker.bootstrap, topic, idle=idle, max_seconds=max_seconds,
                               min_records=min_records)

    def produce(self, topic, path, key_field=None, headers_of=None, key_of=None):
        return h.produce_jsonl(self.broker.bootstrap, topic, path, key_field=key_field,
                               headers_of=headers_of, key_of=key_of)

    def cleanup(self):
        for d in self.daemons:
            if d.alive():
                d.stop(timeout=15)
        if self.broker is not None:
            self.broker.stop()
        if self.registry is not None:
            try:
                self.registry.stop()
            except (h.HarnessError, subprocess.SubprocessError) as e:
                print(f"{self.dir}: {e}", file=sys.stderr)


def check(ok_reason, what=""):
    ok, reason = ok_reason
    if not ok:
        raise AssertionError(f"{what}: {reason}" if what else reason)
    return reason


def stop_cleanly(daemon, what="daemon"):
    code = daemon.stop(timeout=30)
    if code != 0:
        raise AssertionError(f"{what} exited {code} on SIGTERM (want 0); log tail:\n"
                             f"{h.tail(daemon.log())}")


def wait_assigned(daemon, job, topic, timeout=40, since=0):
    m = daemon.wait_for_log(h.log_regex("assigned", job, topic), timeout=timeout, since=since)
    return h.parse_partitions(m.group(1))


def latest_assignment(daemon, job, topic, since=0):
    """The partitions of the last `assigned` line (after `since`), or None; a later `revoked`
    line empties it."""
    assigned = re.compile(h.log_regex("assigned", job, topic))
    revoked = re.compile(h.log_regex("revoked", job))
    current = None
    for line in daemon.log()[since:].splitlines():
        m = assigned.search(line)
        if m:
            current = h.parse_partitions(m.group(1))
        elif revoked.search(line):
            current = []
    return current


def epoch_ms(value):
    """A TIMESTAMP as the engine writes it (ISO 8601 text, or epoch ms) -> epoch ms."""
    if isinstance(value, (int, float)):
        return int(value)
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def values(records):
    return [r.value for r in records]


# --------------------------------------------------------------------------------------------
# The counting identity: every input record is counted exactly once,
# records_in = accepted + filtered + rejected + late + replayed, rejected = dead_lettered + skipped.

_COUNTS = ("records_in", "records_out", "filtered", "rejected", "dead_lettered", "skipped", "late",
           "replayed")


def settled(daemon, job, records_in=0):
    """The job's JSON from the daemon's admin API once nothing is in flight, its counts are stable
    and it has read at least `records_in` records (bounded: HarnessError after 20 s)."""
    return daemon.settled_job(job, until=lambda j: j["counts"]["records_in"] >= records_in,
                              want=f" with records_in >= {records_in}" if records_in else "")


def summed(jobs):
    """The counts of one job summed over several daemons, as a job JSON (for check_counts)."""
    states = {j["state"] for j in jobs}
    return {"name": jobs[0]["name"], "state": states.pop() if len(states) == 1 else str(states),
            "counts": {k: sum(j["counts"][k] for j in jobs) for k in _COUNTS}}


def check_counts(job, exact, records_in=None, records_out=None):
    """Checks the counting identity on a job's settled JSON (GET /jobs/<name>) and returns a short
    summary. Always: the job is running, rejected = dead_lettered + skipped (no job here fails on a
    record), and filtered + rejected + late + replayed <= records_in. With `exact` (a query with
    one output per accepted record, everything acknowledged): records_in = records_out + filtered
    + rejected + late + replayed. `records_in` / `records_out`, when given, are the numbers this
    daemon lifetime must have read / had acknowledged."""
    c = job["counts"]
    text = f"job {job['name']}: " + ", ".join(f"{k} {c[k]}" for k in _COUNTS)
    if job["state"] != "running":
        raise AssertionError(f"{text}: state {job['state']} (want running)")
    if c["rejected"] != c["dead_lettered"] + c["skipped"]:
        raise AssertionError(f"{text}: rejected != dead_lettered + skipped")
    accounted = c["filtered"] + c["rejected"] + c["late"] + c["replayed"]
    if exact and c["records_in"] != c["records_out"] + accounted:
        raise AssertionError(f"{text}: records_in != records_out + filtered + rejected + late + "
                             f"replayed ({c['records_out'] + accounted})")
    if c["records_in"] < accounted:
        raise AssertionError(f"{text}: records_in < filtered + rejected + late + replayed "
                             f"({accounted})")
    if records_in is not None and c["records_in"] != records_in:
        raise AssertionError(f"{text}: records_in {c['records_in']}, want {records_in}")
    if records_out is not None and c["records_out"] != records_out:
        raise AssertionError(f"{text}: records_out {c['records_out']}, want {records_out}")
    if exact:
        return f"{c['records_in']} in = {c['records_out']} out + {accounted} not output"
    return f"{c['records_in']} in >= {accounted} not output ({c['records_out']} out)"


# --------------------------------------------------------------------------------------------
# Scenario cases: the daemon's output equals `sluice run` on the same data.


def internal_topics(*topics):
    """Topics sluice creates itself through the Admin API (repartition and changelog topics) on
    the real broker; the mock's CreateTopics does not answer, so there the test creates them."""
    return [] if BOOTSTRAP else list(topics)


def scenario_case(ctx, scenario, partitions=3):
    """One daemon, assigned every partition once before the records are produced, reads each of
    the RECORDS records exactly once (records_in = RECORDS) and is the only writer of the output
    topic (records_out = the records consumed from it). S0 (stateless) has one output per accepted
    record: the exact identity. S1 (OVER), S2 (aggregate), S3a/S3b (windows): the general form."""
    sc = SCENARIOS[scenario]
    data = generate(ctx, scenario, RECORDS)
    expected = expected_output(ctx, scenario, data)
    job = scenario.lower()
    in_topic, out_topic = f"{job}-in", f"{job}-out"
    ctx.start_broker(topics=[(in_topic, partitions), (out_topic, partitions)] +
                     internal_topics((f"{job}-changelog", partitions)))
    ctx.write_job(f"{job}.yaml", kafka_job(job, sc, in_topic, out_topic))
    d = ctx.start_daemon()
    d.wait_for_log(h.log_regex("started", job), timeout=30)
    got = wait_assigned(d, job, in_topic)
    if got != list(range(partitions)):
        raise AssertionError(f"one daemon got partitions {got}, want all {partitions}")
    ctx.produce(in_topic, data, key_field=sc["key"])

    if scenario == "S3a":
        # Only windows the watermark has closed must be out; the last minute may still be open.
        last = max(json.loads(line)["trade_time"] for line in open(data))
        required = (lambda r: epoch_ms(r["_window_end"]) <= last - 60000)
        need = sum(1 for r in expected if required(r))
        out = ctx.consume(out_topic, min_records=need, idle=3)
        detail = check(h.final_windows_equal(expected, values(out), ["trader_id", "symbol"],
                                             required=required))
    else:
        out = ctx.consume(out_topic, min_records=len(expected), idle=3)
        if scenario in ("S0", "S1"):
            detail = check(h.multiset_equal(expected, values(out)))
        elif scenario == "S2":
            detail = check(h.changes_equal(expected, values(out), ["symbol"]))
        else:
            detail = check(h.changes_equal(expected, values(out),
                                           ["trader_id", "symbol", "_window_start"]))
    if sc["sink_key"]:
        col = sc["sink_key"][0]
        bad = [r for r in out if r.key is None or str(r.value[col]) not in r.key]
        if bad:
            raise AssertionError(f"{len(bad)} output records without key {col}, e.g. {bad[0]}")
    counted = check_counts(settled(d, job, RECORDS), exact=scenario == "S0", records_in=RECORDS,
                           records_out=len(out))
    stop_cleanly(d)
    return f"{detail}; {counted}"


def test_s0(ctx):
    return scenario_case(ctx, "S0")


def test_s1(ctx):
    return scenario_case(ctx, "S1")


def test_s2(ctx):
    return scenario_case(ctx, "S2")


def test_s3a(ctx):
    return scenario_case(ctx, "S3a")


def test_s3b(ctx):
    return scenario_case(ctx, "S3b")


def _bysym_setup(ctx, n):
    """The repartitioned job of the repartition cases (GROUP BY symbol over trades keyed by
    trader_id): its scenario dict, `n` records of S3a data, and `sluice run`'s output on them."""
    sc = dict(SCENARIOS["S3a"], sql="SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q, "
              "MAX(price) AS top FROM market_data GROUP BY symbol",
              partitioned_by=None, sink_key=["symbol"], event_time=None)
    data = generate(ctx, "S3a", n)
    job_path = data + ".run.yaml"
    out_path = data + ".expected.jsonl"
    with open(job_path, "w") as f:
        f.write(job_yaml("run-bysym", sc, ["  type: file", f"  path: {data}"],
                         ["  type: file", f"  path: {out_path}"]))
    h.run_job(ctx.sluice, job_path)
    return sc, data, h.read_jsonl(out_path)


def test_repartition(ctx):
    """GROUP BY a column the topic is not keyed by: the job re-keys its input through
    <job>-repartition, so two daemons sharing the work still produce one correct count per key.

    Counts: a record counts in once, at the router of the daemon that reads its source partition;
    its outcome (output, filtered, ...) counts in the query stage of the daemon that reads its
    repartition partition, maybe the other one. So the identity is checked on the sum over both
    daemons: both are assigned before the records are produced, so together they read each record
    once (records_in = RECORDS), route each once (routed = RECORDS) and, one update per accepted
    record, write one output each (exact; records_out = the records in the output topic). Each
    daemon alone: rejected = dead_lettered + skipped. On a real broker sluice creates the
    repartition topic (4 partitions, as the source's), which the test checks."""
    sc, data, expected = _bysym_setup(ctx, RECORDS)
    ctx.start_broker(topics=[("trades", 4), ("by-symbol", 4)] +
                     internal_topics(("bysym-repartition", 4), ("bysym-changelog", 4)))
    ctx.write_job("bysym.yaml", kafka_job("bysym", sc, "trades", "by-symbol"))
    a = ctx.start_daemon("a")
    b = ctx.start_daemon("b")
    for d in (a, b):
        wait_assigned(d, "bysym", "trades")
        wait_assigned(d, "bysym", "bysym-repartition")
    # The input is keyed by trader_id, not by the GROUP BY column.
    if BOOTSTRAP and ctx.broker.partitions("bysym-repartition") != 4:
        raise AssertionError(f"bysym-repartition has {ctx.broker.partitions('bysym-repartition')} "
                             "partitions, want 4 (as trades)")
    ctx.produce("trades", data, key_field="trader_id")
    out = ctx.consume("by-symbol", min_records=len(expected), idle=3)
    # Records of one symbol reach its pipeline in an order the source partitions interleave, so
    # the running values between differ from `sluice run`'s; the final row per symbol may not,
    # and each symbol must show every count 1..N (one update per input record).
    last_e = {r["symbol"]: r for r in expected}
    last_a = {}
    counts = {}
    for r in values(out):
        last_a[r["symbol"]] = r
        counts.setdefault(r["symbol"], set()).add(r["n"])
    if last_a != last_e:
        bad = [k for k in last_e if last_a.get(k) != last_e[k]]
        raise AssertionError(f"{len(bad)} symbols end differently, e.g. {bad[:1]}: "
                             f"want {last_e[bad[0]]} got {last_a.get(bad[0])}")
    for sym, r in last_e.items():
        if counts[sym] != set(range(1, r["n"] + 1)):
            raise AssertionError(f"{sym}: updates do not count 1..{r['n']}")
    detail = f"{len(out)} updates, last row equal for {len(last_e)} symbols"
    bad = [r for r in out if r.key != r.value["symbol"]]
    if bad:
        raise AssertionError(f"{len(bad)} output records not keyed by symbol, e.g. {bad[0]}")
    routed = ctx.consume("bysym-repartition", min_records=RECORDS, idle=2)
    if len(routed) < RECORDS:
        raise AssertionError(f"{len(routed)} records in the repartition topic, want {RECORDS}")
    jobs = [settled(d, "bysym") for d in (a, b)]
    for j in jobs:
        check_counts(j, exact=False)
    counted = check_counts(summed(jobs), exact=True, records_in=RECORDS, records_out=len(out))
    if sum(j["routed"] for j in jobs) != RECORDS:
        raise AssertionError(f"routed {[j['routed'] for j in jobs]}, want {RECORDS} in all")
    stop_cleanly(a, "daemon a")
    stop_cleanly(b, "daemon b")
    return (f"through bysym-repartition ({len(routed)} records), two daemons; {detail}; "
            f"{counted} over both")


def _event_headers(r):
    """The headers of S0 order `r` in the headers case: a trace id, a tenant on two orders in
    three (by order id), and an empty one (kafka-python cannot write a null value: the unit tests
    cover those on the mock broker)."""
    headers = [("trace", f"t-{r['order_id']}".encode())]
    if r["order_id"] % 3:
        headers.append(("tenant", b"acme" if r["order_id"] % 3 == 1 else b"zenith"))
    return headers + [("empty", b"")]


def test_headers(ctx):
    """Record headers written by kafka-python: `_headers` and HEADER('name') in a stateless job
    (every record's trace header, as bytes, and its header count), and in a GROUP BY over a column
    the topic is not keyed by, whose records go through <job>-repartition: the router forwards the
    record's own headers and the query stage does not count sluice's
    sluice.source header among them.

    Counts: the stateless job, the exact identity (records_in = records_out = RECORDS); the
    grouped one, on one daemon, routed = RECORDS and one update per record."""
    sc = SCENARIOS["S0"]
    data = generate(ctx, "S0", RECORDS)
    orders = h.read_jsonl(data)
    ctx.start_broker(topics=[("orders", 3), ("orders-out", 3), ("orders-by", 1)] +
                     internal_topics(("hdrby-repartition", 3), ("hdrby-changelog", 3)))
    plain = dict(sc, partitioned_by=None, sink_key=None, event_time=None)
    ctx.write_job("hdr.yaml", kafka_job(
        "hdr", plain, "orders", "orders-out",
        sql="SELECT order_id, HEADER('trace') AS trace, HEADER('empty') AS empty, "
            "CARDINALITY(_headers) AS n FROM orders"))
    ctx.write_job("hdrby.yaml", kafka_job(
        "hdrby", plain, "orders", "orders-by",
        sql="SELECT total_amount, COUNT(*) AS n, COUNT(HEADER('tenant')) AS tenants, "
            "MAX(CARDINALITY(_headers)) AS most FROM orders GROUP BY total_amount"))
    d = ctx.start_daemon()
    wait_assigned(d, "hdr", "orders")
    wait_assigned(d, "hdrby", "orders")
    wait_assigned(d, "hdrby", "hdrby-repartition")
    ctx.produce("orders", data, key_field="customer_id", headers_of=_event_headers)
    out = values(ctx.consume("orders-out", min_records=RECORDS, idle=2))
    if len(out) != RECORDS:
        raise AssertionError(f"{len(out)} records in orders-out, want {RECORDS}")
    for r in out:
        i = r["order_id"]
        want = dict(order_id=i, trace=base64.b64encode(f"t-{i}".encode()).decode(), empty="",
                    n=3 if i % 3 else 2)
        if r != want:
            raise AssertionError(f"order {i}: {r}, want {want}")
    want = {}
    for r in orders:
        w = want.setdefault(r["total_amount"],
                            dict(total_amount=r["total_amount"], n=0, tenants=0, most=0))
        w["n"] += 1
        w["tenants"] += 1 if r["order_id"] % 3 else 0
        w["most"] = max(w["most"], 3 if r["order_id"] % 3 else 2)
    grouped = values(ctx.consume("orders-by", min_records=RECORDS, idle=2))
    last = {r["total_amount"]: r for r in grouped}
    if last != want:
        raise AssertionError(f"grouped by total_amount: {last}, want {want}")
    counted = check_counts(settled(d, "hdr", RECORDS), exact=True, records_in=RECORDS,
                           records_out=RECORDS)
    by = settled(d, "hdrby", RECORDS)
    check_counts(by, exact=True, records_in=RECORDS, records_out=len(grouped))
    if by["routed"] != RECORDS:
        raise AssertionError(f"routed {by['routed']}, want {RECORDS}")
    stop_cleanly(d)
    return (f"{len(out)} records with their headers; {len(want)} amounts counted through "
            f"hdrby-repartition; {counted}")


_KEYS_SOURCE = """source:
  name: orders
  type: kafka
  topic: orders
  key_format: kafka
  key_type: BIGINT
  schema: {{order_id: BIGINT, total_amount: 'DECIMAL(12,2)'}}
sink:
  type: kafka
  topic: {out}
  key_format: {key_format}
"""


def test_keys(ctx):
    """Keys in their formats. Orders are written by kafka-python with 8-byte big-endian keys (what
    Kafka's LongSerializer writes) holding the customer id. A stateless job reads them as
    `key_format: kafka, key_type: BIGINT` and writes `_key` back as its output key with
    `key_format: kafka` (the same 8 bytes) and in its value; a GROUP BY over a column the topic is
    not keyed by sums `_key` per amount after <job>-repartition (the query stage reads each
    record's own key, not the group key the copy is keyed by) and writes the amount as a JSON key
    (`key_format: json`); a record whose key is 3 bytes is dead-lettered (DECODE) by the first
    and skipped by the second (it has no dead-letter topic), which rejects it at its router.

    Counts: the exact identity on both, each with one rejection; the grouped one writes one
    update per accepted record."""
    data = generate(ctx, "S0", RECORDS)
    orders = h.read_jsonl(data)
    ctx.start_broker(topics=[("orders", 3), ("orders-keyed", 3), ("orders-sums", 1),
                             ("orders-dlq", 1)] +
                     internal_topics(("ksum-repartition", 3), ("ksum-changelog", 3)))
    ctx.write_job("kk.yaml", "name: kk\nsql: SELECT order_id, _key AS customer FROM orders\n" +
                  _KEYS_SOURCE.format(out="orders-keyed", key_format="kafka") +
                  "  key: [customer]\ndead_letter:\n  type: kafka\n  topic: orders-dlq\n")
    ctx.write_job("ksum.yaml", "name: ksum\nsql: SELECT total_amount, COUNT(*) AS n, SUM(_key) AS "
                  "customers FROM orders GROUP BY total_amount\n" +
                  _KEYS_SOURCE.format(out="orders-sums", key_format="json"))
    d = ctx.start_daemon()
    for job, topic in (("kk", "orders"), ("ksum", "orders"), ("ksum", "ksum-repartition")):
        wait_assigned(d, job, topic)
    ctx.produce("orders", data, key_of=lambda r: struct.pack(">q", r["customer_id"]))
    bad = os.path.join(ctx.dir, "bad-key.jsonl")
    with open(bad, "w") as f:
        f.write(json.dumps(dict(orders[0], order_id=-1)) + "\n")
    ctx.produce("orders", bad, key_of=lambda r: b"abc")
    keyed = h.read_raw(ctx.broker.bootstrap, "orders-keyed", idle=2, min_records=RECORDS)
    if len(keyed) != RECORDS:
        raise AssertionError(f"{len(keyed)} records in orders-keyed, want {RECORDS}")
    by_order = {r["order_id"]: r for r in orders}
    for r in keyed:
        value = json.loads(r.value)
        want = by_order[value["order_id"]]["customer_id"]
        if r.key != struct.pack(">q", want) or value["customer"] != want:
            raise AssertionError(f"order {value['order_id']}: key {r.key!r}, value {value}, "
                                 f"want customer {want}")
    dlq = h.read_raw(ctx.broker.bootstrap, "orders-dlq", min_records=1)
    if len(dlq) != 1 or dict(dlq[0].headers).get("sluice.error.code") != b"DECODE":
        raise AssertionError(f"dead letters: {dlq}")
    want = {}
    for r in orders:
        w = want.setdefault(r["total_amount"], [0, 0])
        w[0] += 1
        w[1] += r["customer_id"]
    sums = ctx.consume("orders-sums", min_records=RECORDS, idle=2)
    last = {json.loads(r.key): (r.value["n"], r.value["customers"]) for r in sums}
    if last != {k: tuple(v) for k, v in want.items()}:
        raise AssertionError(f"sums by amount differ, e.g. {sorted(last.items())[:2]} vs "
                             f"{sorted(want.items())[:2]}")
    counted = check_counts(settled(d, "kk", RECORDS + 1), exact=True, records_in=RECORDS + 1,
                           records_out=RECORDS)
    check_counts(settled(d, "ksum", RECORDS + 1), exact=True, records_in=RECORDS + 1,
                 records_out=len(sums))
    stop_cleanly(d)
    return (f"{len(keyed)} records keyed by 8-byte customer ids; {len(last)} amounts as JSON "
            f"keys with their customers summed through ksum-repartition; {counted}")


# --------------------------------------------------------------------------------------------
# Groups, restarts, faults


def _s0_setup(ctx, partitions, brokers=1, parts=2):
    sc = SCENARIOS["S0"]
    data = generate(ctx, "S0", RECORDS)
    expected = expected_output(ctx, "S0", data)
    ctx.start_broker(brokers=brokers, topics=[("orders", partitions), ("orders-out", partitions)])
    ctx.write_job("s0.yaml", kafka_job("s0", sc, "orders", "orders-out"))
    return sc, split_lines(data, parts), expected


def test_group_split(ctx):
    """Two daemons in one group split the partitions; stopping one hands its partitions to the
    other, and the output is complete.

    Counts (stateless: the exact identity on each daemon): a's are taken before it stops (it reads
    nothing after part 1). A clean stop and a revocation both commit what was read, so a and b
    together read each record once (records_in over both = RECORDS), and together they wrote the
    output topic (records_out over both = the records in it)."""
    sc, (part1, part2), expected = _s0_setup(ctx, partitions=4)
    a = ctx.start_daemon("a")
    wait_assigned(a, "s0", "orders")
    b = ctx.start_daemon("b")
    wait_assigned(b, "s0", "orders")
    deadline = time.monotonic() + 40
    while True:
        pa, pb = latest_assignment(a, "s0", "orders"), latest_assignment(b, "s0", "orders")
        if pa and pb and sorted(pa + pb) == [0, 1, 2, 3]:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"partitions not split between two daemons: a={pa} b={pb}")
        time.sleep(0.2)
    ctx.produce("orders", part1, key_field=sc["key"])
    half = len(h.read_jsonl(part1))
    ctx.consume("orders-out", min_records=half, idle=2)
    job_a = settled(a, "s0")
    check_counts(job_a, exact=True)
    mark = b.log_size()
    stop_cleanly(a, "daemon a")
    deadline = time.monotonic() + 40
    while latest_assignment(b, "s0", "orders", since=mark) != [0, 1, 2, 3]:
        if time.monotonic() > deadline:
            raise AssertionError(f"daemon b did not take all partitions after a stopped: "
                                 f"{latest_assignment(b, 's0', 'orders', since=mark)}")
        time.sleep(0.2)
    ctx.produce("orders", part2, key_field=sc["key"])
    out = ctx.consume("orders-out", min_records=len(expected), idle=3)
    detail = check(h.multiset_superset(expected, values(out)))
    job_b = settled(b, "s0", RECORDS - job_a["counts"]["records_in"])
    check_counts(job_b, exact=True)
    counted = check_counts(summed([job_a, job_b]), exact=True, records_in=RECORDS,
                           records_out=len(out))
    stop_cleanly(b, "daemon b")
    return f"split {pa}/{pb}; {detail}; {counted} over both"


def test_restart_resume(ctx):
    """A restarted daemon resumes from the committed offsets: nothing lost, and not everything
    read again.

    Counts (stateless: the exact identity in each daemon lifetime; counts start from zero at the
    restart): the first lifetime reads part 1 exactly; SIGTERM commits everything it read, so the
    second reads exactly part 2. Together they wrote the output topic."""
    sc, (part1, part2), expected = _s0_setup(ctx, partitions=3)
    d = ctx.start_daemon()
    wait_assigned(d, "s0", "orders")
    ctx.produce("orders", part1, key_field=sc["key"])
    n1 = len(h.read_jsonl(part1))
    first = ctx.consume("orders-out", min_records=n1, idle=2)
    if len(first) < n1:
        raise AssertionError(f"only {len(first)} of {n1} outputs before the restart")
    job1 = settled(d, "s0", n1)
    check_counts(job1, exact=True, records_in=n1, records_out=len(first))
    stop_cleanly(d)
    ctx.produce("orders", part2, key_field=sc["key"])
    mark = d.log_size()
    d2 = ctx.start_daemon()  # same config and log file
    wait_assigned(d2, "s0", "orders", since=mark)
    out = ctx.consume("orders-out", min_records=len(expected), idle=3)
    detail = check(h.multiset_superset(expected, values(out)))
    dups = len(out) - len(expected)
    if dups >= n1:
        raise AssertionError(f"{dups} duplicates: the restart re-read from the beginning")
    n2 = RECORDS - n1
    counted = check_counts(settled(d2, "s0", n2), exact=True, records_in=n2,
                           records_out=len(out) - job1["counts"]["records_out"])
    stop_cleanly(d2)
    return f"{detail}; {job1['counts']['records_in']} then {counted}"


def _s0_first_part(ctx, brokers=1):
    """The start of a fault case: _s0_setup's job over 3 partitions in 3 parts, one daemon
    assigned, the first part through. Returns (scenario, parts, expected, daemon)."""
    sc, parts, expected = _s0_setup(ctx, partitions=3, brokers=brokers, parts=3)
    d = ctx.start_daemon()
    wait_assigned(d, "s0", "orders")
    ctx.produce("orders", parts[0], key_field=sc["key"])
    n0 = len(h.read_jsonl(parts[0]))
    ctx.consume("orders-out", min_records=n0, idle=1, max_seconds=60)
    return sc, parts, expected, d


def test_broker_faults(ctx):
    """Broker down/up, a leader move and injected request errors lose nothing.

    Counts (stateless: the exact identity): one daemon reads every record at least once
    (records_in >= RECORDS; a fault may make it read some again), and is the only writer of the
    output topic (records_out = the records in it: the idempotent producer writes each
    acknowledged record once)."""
    sc, parts, expected, d = _s0_first_part(ctx, brokers=3)
    br = ctx.broker

    br.control("down 2")
    time.sleep(3)
    br.control("up 2")
    br.control("leader orders 1 3")
    br.control("leader orders-out 0 2")
    ctx.produce("orders", parts[1], key_field=sc["key"])

    for cmd in ("errors Produce 5 NOT_LEADER_OR_FOLLOWER", "errors Fetch 5 NOT_LEADER_OR_FOLLOWER",
                "errors Fetch 3 REQUEST_TIMED_OUT", "errors OffsetCommit 3 COORDINATOR_NOT_AVAILABLE",
                "errors Heartbeat 3 NOT_COORDINATOR", "errors Produce 3 REQUEST_TIMED_OUT"):
        br.control(cmd)
    ctx.produce("orders", parts[2], key_field=sc["key"])
    return _s0_after_faults(ctx, d, expected)


def _s0_after_faults(ctx, d, expected):
    """The end of a fault case on _s0_setup's job: the output covers `expected` (at least once),
    the daemon survived, the exact identity holds with every record read and the daemon the only
    writer of the output topic; then a clean stop. Returns the detail."""
    out = ctx.consume("orders-out", min_records=len(expected), idle=3, max_seconds=120)
    detail = check(h.multiset_superset(expected, values(out)))
    if not d.alive():
        raise AssertionError(f"daemon died: {h.tail(d.log())}")
    counted = check_counts(settled(d, "s0", RECORDS), exact=True, records_out=len(out))
    stop_cleanly(d)
    return f"{detail}; {counted}"


def test_leader_kill(ctx):
    """(Real 3-node cluster: E2E_BOOTSTRAP is a `kafka.sh start --brokers 3` directory.) SIGKILL
    the node leading an input partition while the job runs, then the one leading an output
    partition, each started again after a while: nothing is lost (at least once). Topics have 3
    replicas and min.insync.replicas=2; the job's producer is idempotent with acks=all.

    Counts (stateless: the exact identity): one daemon reads every record at least once
    (records_in >= RECORDS) and is the only writer of the output topic (records_out = the records
    in it)."""
    if ctx.broker_nodes() < 3:
        raise AssertionError("leader_kill needs a 3-node cluster (kafka.sh start --brokers 3)")
    sc, parts, expected, d = _s0_first_part(ctx)
    br = ctx.broker
    killed = []
    for topic in ("orders", "orders-out"):
        node = br.leader(topic, 0)
        br.kill(node)
        killed.append(f"{topic}/0's leader {node}")
        # The job goes on while the node is down: its partitions' leadership moves.
        ctx.produce("orders", parts[1 if topic == "orders" else 2], key_field=sc["key"])
        time.sleep(3)
        br.restart(node)
    return f"killed {', then '.join(killed)}; {_s0_after_faults(ctx, d, expected)}"


def test_rebalance_kill(ctx):
    """kill -9 of a daemon in the middle of a rebalance: daemon a owns every partition and has
    output in flight (linger 1 s) when b joins; a is killed as soon as it is told to give
    partitions up. b ends up with all of them (after a's session times out) and the output is
    complete: nothing lost, at least once.

    Counts (stateless: the exact identity on b): b reads from the offsets a committed to the end
    (records_in unknown: a's last acknowledged records may be read again); together the daemons
    wrote the output topic."""
    sc, (part1, part2), expected = _s0_setup(ctx, partitions=4)
    ctx.write_job("s0.yaml", kafka_job("s0", sc, "orders", "orders-out",
                                       properties={"linger.ms": 1000}))
    a = ctx.start_daemon("a")
    wait_assigned(a, "s0", "orders")
    ctx.produce("orders", part1, key_field=sc["key"])
    mark = a.log_size()
    b = ctx.start_daemon("b")
    a.wait_for_log(h.log_regex("revoked", "s0"), timeout=40, since=mark)
    a.kill()
    ctx.produce("orders", part2, key_field=sc["key"])
    deadline = time.monotonic() + 60
    while latest_assignment(b, "s0", "orders") != [0, 1, 2, 3]:
        if time.monotonic() > deadline:
            raise AssertionError(f"daemon b did not take all partitions after a was killed: "
                                 f"{latest_assignment(b, 's0', 'orders')}")
        time.sleep(0.2)
    out = ctx.consume("orders-out", min_records=len(expected), idle=3, max_seconds=90)
    detail = check(h.multiset_superset(expected, values(out)))
    counted = check_counts(settled(b, "s0"), exact=True)
    stop_cleanly(b, "daemon b")
    return f"{detail}; b: {counted}"


def test_final_kill(ctx):
    """EMIT FINAL windows survive a kill -9 while the output of the batch that closed them is still
    in flight: the committed watermark is the one the acknowledged output covers, so the restart
    closes (and emits) those windows again instead of taking them for emitted.

    Counts (windows: the general form): the first daemon has read exactly part 1 when part 1's
    windows are out (taken then: it is killed later with output in flight). The second daemon
    reads from the offsets committed before the kill to the end of the topic, each record once:
    records_in = RECORDS - the committed offsets (a re-read record whose window the committed
    watermark shows as emitted counts as replayed)."""
    sc = SCENARIOS["S3a"]
    data = generate(ctx, "S3a", RECORDS)
    expected = expected_output(ctx, "S3a", data)
    part1, part2 = split_lines(data, 2)
    last = max(json.loads(line)["trade_time"] for line in open(data))
    closed = (lambda r: epoch_ms(r["_window_end"]) <= last - 60000)  # noqa: E731
    ctx.start_broker(topics=[("trades", 2), ("trades-out", 2)])
    # The output lingers 3 s in the producer: longer than the 1 s commit interval.
    ctx.write_job("s3a.yaml", kafka_job("s3a", sc, "trades", "trades-out",
                                        properties={"linger.ms": 3000}))
    d = ctx.start_daemon()
    wait_assigned(d, "s3a", "trades")
    ctx.produce("trades", part1, key_field=sc["key"])
    first_end = max(json.loads(line)["trade_time"] for line in open(part1))
    need1 = sum(1 for r in expected if epoch_ms(r["_window_end"]) <= first_end - 60000)
    ctx.consume("trades-out", min_records=need1, idle=1)
    start = time.monotonic()
    n1 = len(h.read_jsonl(part1))
    first = check_counts(settled(d, "s3a", n1), exact=False, records_in=n1)
    # The acknowledged position of part 1 is committed (2 s from its output, counts taken or not).
    time.sleep(max(0.0, 2 - (time.monotonic() - start)))
    ctx.produce("trades", part2, key_field=sc["key"])
    time.sleep(1.8)  # part 2 is processed and committed; its windows' output still lingers
    d.kill()
    committed = h.committed_offsets(ctx.broker.bootstrap, "s3a", "trades", 2)
    mark = d.log_size()
    d2 = ctx.start_daemon()
    wait_assigned(d2, "s3a", "trades", since=mark)
    need = sum(1 for r in expected if closed(r))
    out = values(ctx.consume("trades-out", min_records=need, idle=6, max_seconds=90))
    # At least once: a window may come out twice after a crash, never not at all.
    exp = {h.canon(r) for r in expected}
    unknown = [r for r in out if h.canon(r) not in exp]
    if unknown:
        raise AssertionError(f"{len(unknown)} rows that are no window's result, e.g. {unknown[0]}")
    got = {h.canon(r) for r in out}
    missing = [r for r in expected if closed(r) and h.canon(r) not in got]
    if missing:
        raise AssertionError(f"{len(missing)} of {need} closed windows missing after kill -9, "
                             f"e.g. {missing[0]}")
    reread = RECORDS - sum(c or 0 for c in committed)  # no commit: read from the beginning
    second = check_counts(settled(d2, "s3a", reread), exact=False, records_in=reread)
    stop_cleanly(d2)
    return (f"{need} closed windows all emitted ({len(out) - len(got)} duplicates after kill -9); "
            f"before the kill {first}; after it, from offsets {committed}, {second}")


# 12 on the real broker; 6 on the mock, whose group rejoins take longer (the suite's time).
STATE_KILLS = int(os.environ.get("E2E_STATE_KILLS", "12" if BOOTSTRAP else "6"))


def _state_chaos(ctx, scenario, n, topic, compare):
    """_kill_chaos on `scenario`'s job over n generated records (3 partitions of `topic`, output
    to `topic`-out, static group membership: a restarted daemon gets its partitions back at once),
    then its output once `compare(expected, rows)` holds, checked. Returns the last daemon, its
    settled job, the output rows, the expected rows and a summary."""
    sc = SCENARIOS[scenario]
    job = scenario.lower()
    data = generate(ctx, scenario, n)
    expected = expected_output(ctx, scenario, data)
    out_topic = f"{topic}-out"
    ctx.start_broker(topics=[(topic, 3), (out_topic, 3)] +
                     internal_topics((f"{job}-changelog", 3)))
    ctx.write_job(f"{job}.yaml", kafka_job(job, sc, topic, out_topic,
                                           properties={"group.instance.id": f"{job}-d1"}))
    d, restored = _kill_chaos(ctx, job, topic, [], data, sc["key"], STATE_KILLS)
    out = values(_consume_until(ctx, out_topic, len(expected),
                                lambda rows: compare(expected, rows)))
    state = _run_to_end(d, job)
    detail = check(compare(expected, out))
    return d, state, out, expected, (f"{STATE_KILLS} kills, {restored} partition restores from "
                                     f"snapshots; {detail}")


def test_state_kill(ctx):
    """kill -9 chaos on a non-windowed aggregate (S2: GROUP BY symbol, EMIT CHANGES over 200
    keys): input flows from a producer thread while the daemon is killed STATE_KILLS times at
    random moments and restarted each time (static group membership: it gets its partitions back
    at once), then runs to the end. Each partition restores its newest local state snapshot and
    reads on from the offset it covers, so every key's last output equals the true COUNT, AVG,
    MIN, MAX and SUM (at least once: rows may repeat, none is wrong)."""
    # The mock keeps ~5 MiB a partition: replays add rows.
    d, job, out, expected, summary = _state_chaos(
        ctx, "S2", max(RECORDS, 3000) * 5, "quotes",
        lambda e, rows: h.changes_equal(e, rows, ["symbol"], exact=False))
    # Each partition with a committed offset restored a snapshot (one the kills never let commit
    # starts empty from the beginning, rightly).
    froms = sorted((p.get("restored_from"), p.get("restored_offset")) for p in job["partitions"])
    if any(not f.startswith("snapshot") and off is not None for f, off in froms):
        raise AssertionError(f"/jobs (restored_from, restored_offset) {froms}, want a snapshot "
                             f"for each partition with a committed offset")
    counted = check_counts(job, exact=False)
    stop_cleanly(d)
    return f"{summary}; {len(out) - len(expected)} repeated rows; last daemon: {counted}"


def test_over_kill(ctx):
    """kill -9 chaos on an OVER query (S1: AVG, MIN, MAX over each symbol's last 100 rows): input
    flows while the daemon is killed STATE_KILLS times at random moments and restarted, then runs
    to the end. Each partition restores its frames (snapshot, then the changelog) and reads on
    from the offset they cover, so every output row is the one `sluice run` computes for its
    record (at least once: a row may repeat, none is wrong, none is missing)."""
    d, job, _, _, summary = _state_chaos(ctx, "S1", max(RECORDS, 3000) * 2, "ticks",
                                         h.multiset_superset)
    counted = check_counts(job, exact=False)
    stop_cleanly(d)
    return f"{summary}; last daemon: {counted}"


# Sessions per trader (a row every 20 s) with a 30 s gap; the filter drops one row of each trader
# in every 100, which closes its session (a 40 s gap): sessions of about four rows.
_SESSION_SQL = ("SELECT trader_id, _window_start, _window_end, COUNT(*), SUM(quantity), "
                "MIN(price), MAX(symbol) FROM market_data WHERE (quantity / 20) % 5 <> 0 "
                "GROUP BY trader_id WINDOW SESSION(trade_time, INTERVAL '30' SECOND) EMIT FINAL")


def test_session_kill(ctx):
    """kill -9 chaos on session windows (EMIT FINAL): input flows while the daemon is killed
    STATE_KILLS times at random moments and restarted, then runs to the end. Open sessions are
    rebuilt by re-reading from the committed offset (held back to their oldest record), so every
    session the watermark closed comes out with its exact COUNT, SUM, MIN and MAX, and no row is
    anything but a session `sluice run` computes (at least once: a session may come out twice)."""
    sc = SCENARIOS["S3a"]
    data = generate(ctx, "S3a", max(RECORDS, 3000) * 2)
    expected = expected_output(ctx, "S3a", data, sql=_SESSION_SQL)
    last = max(json.loads(line)["trade_time"] for line in open(data))
    required = [r for r in expected if epoch_ms(r["_window_end"]) <= last - 60000]
    ctx.start_broker(topics=[("sessions", 3), ("sessions-out", 3)])
    ctx.write_job("s3a.yaml", kafka_job("s3a", sc, "sessions", "sessions-out", sql=_SESSION_SQL,
                                        properties={"group.instance.id": "s3a-d1"}))
    d, _ = _kill_chaos(ctx, "s3a", "sessions", [], data, sc["key"], STATE_KILLS,
                       snapshots=False)
    exp = {h.canon(r) for r in expected}

    def complete(rows):
        got = {h.canon(r) for r in rows}
        missing = [r for r in required if h.canon(r) not in got]
        unknown = [r for r in rows if h.canon(r) not in exp]
        if unknown:
            return False, f"{len(unknown)} rows that are no session's result, e.g. {unknown[0]}"
        if missing:
            return False, f"{len(missing)} of {len(required)} closed sessions missing, e.g. " \
                f"{missing[0]}"
        return True, (f"{len(required)} closed sessions all exact ({len(rows) - len(got)} "
                      f"repeated rows)")

    out = values(_consume_until(ctx, "sessions-out", len(required), complete))
    detail = check(complete(out))
    counted = check_counts(_run_to_end(d, "s3a"), exact=False)
    stop_cleanly(d)
    return f"{STATE_KILLS} kills; {detail}; last daemon: {counted}"


# Exactly once: the job's own processing section. Transactions of 1 s (the default is 100 ms)
# leave the kills more open transactions with output in them to abort.
EXACTLY_ONCE = "processing:\n  guarantee: exactly_once\n  commit_interval: 1s\n"


def _committed_output(ctx, topic, want, timeout=90):
    """What a read_committed consumer (confluent-kafka's default isolation) reads from `topic`:
    parsed JSON values in (partition, offset) order, re-read until at least `want` records or
    `timeout` s passed."""
    deadline = time.monotonic() + timeout
    while True:
        raw = h.read_raw_confluent(ctx.broker.bootstrap, topic, idle=3, max_seconds=60)
        if len(raw) >= want or time.monotonic() > deadline:
            return [json.loads(r.value) for r in raw]
        time.sleep(1)


def _eos_chaos(ctx, scenario, n, compare, want=lambda expected, data: len(expected)):
    """kill -9 chaos (STATE_KILLS kills while input flows) on `scenario` with processing.guarantee
    exactly_once; the output as a read_committed consumer sees it must satisfy `compare(expected,
    rows, data)` (exactly, not only up to repeats) once `want(expected, data)` rows came. Returns a
    summary, with how many rows a read_uncommitted reader saw besides (the aborted transactions'
    records, which the first never sees)."""
    sc = SCENARIOS[scenario]
    job = scenario.lower()
    data = generate(ctx, scenario, n)
    expected = expected_output(ctx, scenario, data)
    topic, out_topic = f"eos-{job}", f"eos-{job}-out"
    ctx.start_broker(topics=[(topic, 3), (out_topic, 3)] +
                     internal_topics((f"{job}-changelog", 3)))
    ctx.write_job(f"{job}.yaml", kafka_job(job, sc, topic, out_topic,
                                           properties={"group.instance.id": f"{job}-d1"}) +
                  EXACTLY_ONCE)
    d, _ = _kill_chaos(ctx, job, topic, [], data, sc["key"], STATE_KILLS, snapshots=False)
    out = _committed_output(ctx, out_topic, want(expected, data))
    state = _run_to_end(d, job)
    detail = check(compare(expected, out, data))
    # (kafka-python shows the transaction markers as records too: only JSON rows count.)
    uncommitted = sum(isinstance(v, dict) for v in values(
        ctx.consume(out_topic, min_records=len(out), idle=2)))
    if state.get("guarantee") != "exactly_once" or state.get("commits", 0) == 0:
        raise AssertionError(f"/jobs guarantee {state.get('guarantee')}, commits "
                             f"{state.get('commits')}: want exactly_once with transactions")
    counted = check_counts(state, exact=False)
    stop_cleanly(d)
    return (f"{STATE_KILLS} kills; read_committed: {detail}; a read_uncommitted reader saw "
            f"{uncommitted - len(out)} more rows (of aborted transactions); last daemon: "
            f"{counted}, "
            f"{state['commits']} transactions, {state['transaction_aborts']} aborted")


def test_eos_kill(ctx):
    """Exactly once under kill -9 chaos (S0, a filter): the daemon is killed STATE_KILLS times at
    random moments while input flows and restarted each time (the same transactional.id fences
    the killed one and aborts its open transaction), then runs to the end. A read_committed
    consumer of the output sees every expected row exactly once: none missing, none repeated."""
    return _eos_chaos(ctx, "S0", max(RECORDS, 3000) * 5,
                      lambda e, rows, _: h.multiset_equal(e, rows))


def test_eos_state_kill(ctx):
    """Exactly once under kill -9 chaos on a non-windowed aggregate (S2: GROUP BY symbol, EMIT
    CHANGES): output, changelog and offsets commit in one transaction, so after every restart the
    state restored is the one the committed output came from. A read_committed consumer sees
    exactly the change rows `sluice run` emits (none repeated), and every key's last row is its
    true COUNT, AVG, MIN, MAX and SUM."""
    return _eos_chaos(ctx, "S2", max(RECORDS, 3000) * 5,
                      lambda e, rows, _: h.changes_equal(e, rows, ["symbol"], exact=True))


def _closed_windows(data):
    """Whether a window row's window the input's watermark closed (its end a minute before the
    last event time: S3a's windows and lateness)."""
    last = max(json.loads(line)["trade_time"] for line in open(data))
    return lambda r: epoch_ms(r["_window_end"]) <= last - 60000


def test_eos_final_kill(ctx):
    """Exactly once under kill -9 chaos on tumbling windows, EMIT FINAL (S3a): open windows are
    rebuilt by re-reading from the committed offset, and the windows the committed transaction
    already emitted are recognised as replays. A read_committed consumer sees every window the
    watermark closed exactly once, each with its exact COUNT, AVG and SUMs."""
    return _eos_chaos(
        ctx, "S3a", max(RECORDS, 3000) * 2,
        lambda e, rows, data: h.final_windows_equal(e, rows, ["trader_id", "symbol"],
                                                    required=_closed_windows(data)),
        want=lambda e, data: len(list(filter(_closed_windows(data), e))))


class _Feeder:
    """Produces `parts` (JSON Lines files) to `topic` from a thread, `pause` s apart, while the
    case kills and restarts daemons: wait() (in a finally) lets it finish, check() raises what
    went wrong."""

    def __init__(self, ctx, topic, parts, key_field, pause):
        import threading
        self.errors = []

        def produce_all():
            try:
                for part in parts:
                    ctx.produce(topic, part, key_field=key_field)
                    time.sleep(pause)
            except Exception as e:  # reported by check()
                self.errors.append(e)

        self.thread = threading.Thread(target=produce_all)
        self.thread.start()

    def wait(self):
        self.thread.join(timeout=120)

    def check(self):
        if self.errors:
            raise AssertionError(f"producing the input: {self.errors[0]}")


_CHAOS_SERVER = "state_snapshot_interval: 200ms\n"


def _kill_chaos(ctx, job, topic, more_topics, data, key_field, kills, snapshots=True):
    """Starts a daemon on `job` (reading `topic`, and `more_topics` too when repartitioned) and
    kills it with SIGKILL `kills` times at random moments while a thread produces all but the
    last part of `data` (in 2 * kills parts, 1.5 s apart), restarting it each time; then
    produces the last part. Returns the last daemon and how many partitions restored a snapshot
    over the restarts (`snapshots`: at least one, or AssertionError)."""
    import random
    parts = split_lines(data, kills * 2 + 1)
    d = ctx.start_daemon(config=_CHAOS_SERVER)
    for t in [topic, *more_topics]:
        wait_assigned(d, job, t)
    feeder = _Feeder(ctx, topic, parts[:-1], key_field, 1.5)
    rng = random.Random(11)
    restored = 0
    try:
        for k in range(kills):
            if snapshots and k == 0:
                _wait_snapshot_committed(d, job)  # (so that a restart can restore one)
            time.sleep(rng.uniform(1.0, 3.0))  # before or after the next snapshot commits
            d.kill()
            mark = d.log_size()
            d = ctx.start_daemon(config=_CHAOS_SERVER)
            for t in [topic, *more_topics]:
                wait_assigned(d, job, t, since=mark)
            restored += len(re.findall(r"state restored from snapshot", d.log()[mark:]))
    finally:
        feeder.wait()
    feeder.check()
    if snapshots and restored == 0:
        raise AssertionError("no restart restored a state snapshot")
    ctx.produce(topic, parts[-1], key_field=key_field)  # the last daemon reads on to the end
    return d, restored


def _consume_until(ctx, topic, min_records, ok, timeout=90):
    """The records of `topic` once `ok(values)` holds (its first element), re-reading the topic
    every few seconds while it does not (output may still be coming); the last read when
    `timeout` s passed."""
    deadline = time.monotonic() + timeout
    while True:
        out = ctx.consume(topic, min_records=min_records, idle=2, max_seconds=60)
        if ok(values(out))[0] or time.monotonic() > deadline:
            return out
        time.sleep(1)


def _run_to_end(d, job):
    """The job's settled JSON once every partition of the daemon has no lag (bounded: 60 s)."""
    state = settled(d, job, 1)
    deadline = time.monotonic() + 60
    while any(p["lag"] != 0 for p in state["partitions"]) and time.monotonic() < deadline:
        time.sleep(0.5)
        state = settled(d, job, 0)
    return state


REPARTITION_KILLS = int(os.environ.get("E2E_REPARTITION_KILLS", "6" if BOOTSTRAP else "4"))


def _last_rows_equal(expected):
    """A check of output rows (in output order): every symbol's last row is its expected one."""
    last_e = {r["symbol"]: r for r in expected}

    def last_rows_equal(rows):
        last_a = {r["symbol"]: r for r in rows}
        bad = [k for k in last_e if last_a.get(k) != last_e[k]]
        if bad:
            return False, (f"{len(bad)} of {len(last_e)} symbols end differently, e.g. "
                           f"{bad[0]}: want {last_e[bad[0]]} got {last_a.get(bad[0])}")
        return True, ""

    return last_rows_equal


def _bysym_counts(job):
    """check_counts on the repartitioned job, and its replayed count. The query stage drops as
    replayed the copies an earlier daemon's router sent twice, which this daemon's records_in (its
    router's reads) never counted: the identity holds without them."""
    replayed = job["counts"]["replayed"]
    return check_counts(dict(job, counts=dict(job["counts"], replayed=0)), exact=False), replayed


def test_repartition_kill(ctx):
    """kill -9 chaos on a repartitioned aggregate: GROUP BY symbol over input keyed by trader_id,
    so the router re-keys it through <job>-repartition; the daemon is killed REPARTITION_KILLS
    times while input flows. A restarted router re-sends what it had forwarded since its last
    commit; the query stage recognises those copies by their source position (the
    `sluice.source` header) and counts them as replayed, and its durable state restores from its
    snapshots. So every symbol ends with its exact COUNT, SUM and MAX."""
    sc, data, expected = _bysym_setup(ctx, max(RECORDS, 3000) * 2)
    ctx.start_broker(topics=[("trades", 3), ("by-symbol", 3)] +
                     internal_topics(("bysym-repartition", 3), ("bysym-changelog", 3)))
    ctx.write_job("bysym.yaml", kafka_job("bysym", sc, "trades", "by-symbol",
                                          properties={"group.instance.id": "bysym-d1"}))
    d, restored = _kill_chaos(ctx, "bysym", "trades", ["bysym-repartition"], data, "trader_id",
                              REPARTITION_KILLS)
    last_e = {r["symbol"]: r for r in expected}
    last_rows_equal = _last_rows_equal(expected)
    out = _consume_until(ctx, "by-symbol", len(expected), last_rows_equal)
    job = _run_to_end(d, "bysym")
    check(last_rows_equal(values(out)))
    counted, replayed = _bysym_counts(job)
    stop_cleanly(d)
    return (f"{REPARTITION_KILLS} kills, {restored} partition restores; last row equal for "
            f"{len(last_e)} symbols; {len(out)} updates; last daemon: {counted} "
            f"({replayed} replayed)")


def test_eos_repartition_kill(ctx):
    """Exactly once under kill -9 chaos on a repartitioned aggregate (GROUP BY symbol over input
    keyed by trader_id; the daemon killed REPARTITION_KILLS times while input flows). Each stage
    commits its own transactions: the router's copies in <job>-repartition with its input
    offsets, the query stage's output and changelog with the repartition offsets, which it reads
    read_committed. So a read_committed consumer sees, for every symbol, a strictly rising COUNT
    (no update applied twice, none rewound) ending at its exact COUNT, SUM and MAX."""
    sc, data, expected = _bysym_setup(ctx, max(RECORDS, 3000) * 2)
    ctx.start_broker(topics=[("trades", 3), ("by-symbol", 3)] +
                     internal_topics(("bysym-repartition", 3), ("bysym-changelog", 3)))
    ctx.write_job("bysym.yaml", kafka_job("bysym", sc, "trades", "by-symbol",
                                          properties={"group.instance.id": "bysym-d1"}) +
                  EXACTLY_ONCE)
    d, _ = _kill_chaos(ctx, "bysym", "trades", ["bysym-repartition"], data, "trader_id",
                       REPARTITION_KILLS, snapshots=False)
    last_e = {r["symbol"]: r for r in expected}
    out = _committed_output(ctx, "by-symbol", len(last_e))
    deadline = time.monotonic() + 60
    while {r["symbol"]: r for r in out} != last_e and time.monotonic() < deadline:
        time.sleep(1)  # (the last transactions may still be coming)
        out = _committed_output(ctx, "by-symbol", len(out))
    last_a = {}
    for r in out:  # (partition, offset) order: each symbol's rows in the order written
        prev = last_a.get(r["symbol"])
        if prev is not None and r["n"] <= prev["n"]:
            raise AssertionError(f"symbol {r['symbol']}: COUNT {prev['n']} then {r['n']} (an "
                                 f"update applied twice or rewound)")
        last_a[r["symbol"]] = r
    check(_last_rows_equal(expected)(out))
    job = _run_to_end(d, "bysym")
    counted, replayed = _bysym_counts(job)
    stop_cleanly(d)
    return (f"{REPARTITION_KILLS} kills; read_committed: {len(out)} updates, COUNT rising for "
            f"every one of {len(last_e)} symbols to its exact last row; last daemon: {counted} "
            f"({replayed} replayed), {job['commits']} transactions")


def _snapshot_files(ctx, label, job, partition):
    """The snapshot files of a partition in a daemon's state_dir, oldest first."""
    d = os.path.join(ctx.dir, f"state-{label}", job, str(partition))
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".snapshot")) \
        if os.path.isdir(d) else []


def test_state_changes(ctx):
    """Durable state across clean restarts, a corrupt snapshot file and a changed query (S2 over
    2 partitions, snapshots every 200 ms).

    1. Two parts of the input with a pause between (so each partition has at least two snapshot
       files), then SIGTERM: the final snapshots are written before the offsets are committed.
    2. The newest snapshot of partition 0 gets a flipped byte: the restart skips it with a
       warning (checksum mismatch), restores the older one and brings it to the committed offset
       with the changelog records written after it (restored_from "snapshot+changelog"); part 3
       then ends every key at its exact values.
    3. The job's SQL changes (a filter that keeps every record): the snapshots and changelog
       records are of another query, so the job says so and starts from its committed offsets
       with empty state (restored_from "empty")."""
    sc = SCENARIOS["S2"]
    data = generate(ctx, "S2", RECORDS)
    expected = expected_output(ctx, "S2", data)
    parts = split_lines(data, 3)
    ctx.start_broker(topics=[("quotes", 2), ("quotes-out", 2)] +
                     internal_topics(("s2-changelog", 2)))
    ctx.write_job("s2.yaml", kafka_job("s2", sc, "quotes", "quotes-out"))
    server = "state_snapshot_interval: 200ms\n"
    d = ctx.start_daemon(config=server)
    wait_assigned(d, "s2", "quotes")
    half = split_lines(parts[0], 2)
    for i, part in enumerate(half):
        ctx.produce("quotes", part, key_field=sc["key"])
        n = sum(len(h.read_jsonl(p)) for p in half[:i + 1])
        settled(d, "s2", n)
        time.sleep(3)  # a snapshot of this part is written and committed
    ctx.produce("quotes", parts[1], key_field=sc["key"])
    settled(d, "s2", len(h.read_jsonl(parts[0])) + len(h.read_jsonl(parts[1])))
    stop_cleanly(d)

    files = _snapshot_files(ctx, "d1", "s2", 0)
    if len(files) < 2:
        raise AssertionError(f"partition 0 has {len(files)} snapshot files, want 2: {files}")
    with open(files[-1], "r+b") as f:
        f.seek(os.path.getsize(files[-1]) // 2)
        b = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([b[0] ^ 0x40]))
    older = int(os.path.basename(files[-2]).split(".")[0])
    newest = int(os.path.basename(files[-1]).split(".")[0])
    mark = d.log_size()
    d = ctx.start_daemon(config=server)
    wait_assigned(d, "s2", "quotes", since=mark)
    log = d.log()[mark:]
    if not re.search(r"partition 0: state snapshot skipped: .*checksum mismatch", log):
        raise AssertionError(f"no warning about the corrupt snapshot; log:\n{h.tail(log)}")
    want = f"partition 0: state restored from snapshot+changelog up to offset {newest} "
    if want not in log:
        raise AssertionError(f"partition 0 did not restore the older snapshot ({older}) and the "
                             f"changelog up to {newest}; log:\n{h.tail(log)}")
    ctx.produce("quotes", parts[2], key_field=sc["key"])
    out = ctx.consume("quotes-out", min_records=len(expected), idle=3)
    detail = check(h.changes_equal(expected, values(out), ["symbol"], exact=False))
    job = settled(d, "s2", 0)
    froms = sorted((p["partition"], p["restored_from"]) for p in job["partitions"])
    if froms != [(0, "snapshot+changelog"), (1, "snapshot")]:
        raise AssertionError(f"restored_from {froms}, want snapshot+changelog for partition 0 "
                             f"and the snapshot for partition 1")
    check_counts(job, exact=False)

    mark = d.log_size()
    ctx.write_job("s2.yaml", kafka_job("s2", sc, "quotes", "quotes-out",
                                       sql=sc["sql"].replace(" GROUP BY", " WHERE price > 0 "
                                                                          "GROUP BY")))
    d.wait_for_log(r"state snapshot not used: .*another query or source schema", since=mark,
                   timeout=40)
    wait_assigned(d, "s2", "quotes", since=mark)
    job = d.job("s2")
    froms = sorted(p["restored_from"] for p in job["partitions"])
    if froms != ["empty", "empty"]:
        raise AssertionError(f"after the SQL changed, restored_from {froms}, want empty")
    stop_cleanly(d)
    if not re.search(r"changelog records of another query", d.log()[mark:]):
        raise AssertionError("no warning that the changelog holds another query's records")
    stop_cleanly(d)
    return (f"corrupt snapshot skipped, partition 0 restored from the snapshot at {older} and "
            f"the changelog up to {newest}; {detail}; a changed query starts empty")


def _wait_committed(d, job, timeout=20):
    """Waits until every partition of the job in daemon `d` has committed all it read."""
    deadline = time.monotonic() + timeout
    while True:
        parts = d.job(job)["partitions"]
        if parts and all(p["committed"] == p["position"] >= 0 for p in parts):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{job}: not everything read was committed within {timeout} s: "
                                 f"{[(p['position'], p['committed']) for p in parts]}")
        time.sleep(0.3)


def _wait_snapshot_committed(d, job, timeout=20):
    """Waits until a partition of the job in daemon `d` with durable state has written a snapshot
    and committed an offset (a slow machine may otherwise kill every run before its first)."""
    deadline = time.monotonic() + timeout
    while True:
        parts = [p for p in d.job(job)["partitions"] if "snapshots" in p]
        if any(p["snapshots"] > 0 and p["committed"] is not None for p in parts):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{job}: no snapshot committed within {timeout} s: {parts}")
        time.sleep(0.2)


def _kill_for(a, b, job, topic, partitions, timeout=60):
    """Kills daemon `a` with SIGKILL and waits until `b` holds `partitions` of the job's `topic`
    (once a's group session timed out); returns b's log position before the kill."""
    a.kill()
    mark = b.log_size()
    deadline = time.monotonic() + timeout
    while latest_assignment(b, job, topic, since=mark) != partitions:
        if time.monotonic() > deadline:
            raise AssertionError(f"b did not take {partitions} after a was killed; log:\n"
                                 f"{h.tail(b.log())}")
        time.sleep(0.5)
    return mark


def _state_move(ctx, scenario, topic, compare):
    """Durable state follows its partitions between daemons through the changelog topic
    (`scenario`'s job over 3 partitions of `topic`; each daemon has its own state_dir).

    1. Daemon a runs the job alone over part 1.
    2. Daemon b joins with an empty state_dir: the partitions it takes restore from the changelog
       alone (restored_from "changelog"); part 2 flows.
    3. a is killed with SIGKILL: once its group session times out, b takes its partitions and
       restores them from the changelog (a's last checkpoint may be half written: those records
       are not applied, and their keys are written again); part 3 flows.
    4. a restarts with its old state_dir: the partitions that move back restore a's old snapshot
       and the changelog records written after it ("snapshot+changelog"); part 4 flows.
    Then the output once `compare(expected, rows)` holds, checked; returns a summary."""
    sc = SCENARIOS[scenario]
    job = scenario.lower()
    data = generate(ctx, scenario, max(RECORDS, 3000) * 2)
    expected = expected_output(ctx, scenario, data)
    parts = split_lines(data, 4)
    out_topic = f"{topic}-out"
    ctx.start_broker(topics=[(topic, 3), (out_topic, 3)] +
                     internal_topics((f"{job}-changelog", 3)))
    ctx.write_job(f"{job}.yaml", kafka_job(job, sc, topic, out_topic))
    server = "state_snapshot_interval: 200ms\n"
    a = ctx.start_daemon("a", config=server)
    wait_assigned(a, job, topic)
    ctx.produce(topic, parts[0], key_field=sc["key"])
    settled(a, job, len(h.read_jsonl(parts[0])))
    _wait_committed(a, job)  # (else b would rightly start empty, from the first offset)

    b = ctx.start_daemon("b", config=server)
    got = wait_assigned(b, job, topic)
    froms = sorted({p["restored_from"] for p in b.job(job)["partitions"]})
    if not got or froms != ["changelog"]:
        raise AssertionError(f"b took {got} restored from {froms}, want the changelog")
    ctx.produce(topic, parts[1], key_field=sc["key"])
    time.sleep(3)

    mark_b = _kill_for(a, b, job, topic, [0, 1, 2])
    if "state restored from changelog" not in b.log()[mark_b:]:
        raise AssertionError(f"b restored a's partitions without the changelog; log:\n"
                             f"{h.tail(b.log())}")
    ctx.produce(topic, parts[2], key_field=sc["key"])
    time.sleep(3)
    _wait_committed(b, job)  # (else a would rightly restore its snapshot alone)

    mark_a = a.log_size()
    a = ctx.start_daemon("a", config=server)
    back = wait_assigned(a, job, topic, since=mark_a)
    log_a = a.log()[mark_a:]
    if "state restored from snapshot+changelog" not in log_a:
        raise AssertionError(f"a got {back} back without its snapshot and the changelog; log:\n"
                             f"{h.tail(log_a)}")
    ctx.produce(topic, parts[3], key_field=sc["key"])
    out = _consume_until(ctx, out_topic, len(expected), lambda rows: compare(expected, rows))
    detail = check(compare(expected, values(out)))
    stop_cleanly(a, "daemon a")
    stop_cleanly(b, "daemon b")
    return (f"b took {got} from the changelog, then all after a's kill; a took {back} back "
            f"from its snapshot and the changelog; {detail}")


def test_state_move(ctx):
    """_state_move on S2 (GROUP BY symbol over 200 keys): every key's last output equals the true
    COUNT, AVG, MIN, MAX and SUM."""
    return _state_move(ctx, "S2", "quotes",
                       lambda e, rows: h.changes_equal(e, rows, ["symbol"], exact=False))


def test_over_move(ctx):
    """_state_move on S1 (OVER: each symbol's last 100 rows): the frames restored from the
    changelog go on as if never moved; every output row is one `sluice run` computes, and all
    of them are there."""
    return _state_move(ctx, "S1", "ticks", h.multiset_superset)


MOVE_KILLS = int(os.environ.get("E2E_MOVE_KILLS", "4" if BOOTSTRAP else "2"))


_TWO_DAEMONS_SERVER = "state_snapshot_interval: 500ms\n"


def _two_daemons_s2(ctx, n_parts, job_extra=""):
    """S2 over 3 partitions of `quotes` (and `s2-changelog`) shared by daemons a and b (each its
    own state_dir), b assigned, and all but the last of the data's `n_parts` parts being produced
    1 s apart: returns the expected rows, the parts, a, b and the _Feeder."""
    sc = SCENARIOS["S2"]
    data = generate(ctx, "S2", max(RECORDS, 3000) * 3)
    expected = expected_output(ctx, "S2", data)
    parts = split_lines(data, n_parts)
    ctx.start_broker(topics=[("quotes", 3), ("quotes-out", 3)] +
                     internal_topics(("s2-changelog", 3)))
    ctx.write_job("s2.yaml", kafka_job("s2", sc, "quotes", "quotes-out") + job_extra)
    a = ctx.start_daemon("a", config=_TWO_DAEMONS_SERVER)
    b = ctx.start_daemon("b", config=_TWO_DAEMONS_SERVER)
    wait_assigned(b, "s2", "quotes")
    return expected, parts, a, b, _Feeder(ctx, "quotes", parts[:-1], sc["key"], 1.0)




def test_state_two_daemons(ctx):
    """Two daemons share a durable S2 job (3 partitions, each daemon its own state_dir); daemon a
    is killed with SIGKILL MOVE_KILLS times (4 on the real broker, 2 on the mock) while input
    flows: each time b takes a's partitions once a's group session times out, restoring them from
    the changelog (and from its own snapshots where it had them: on the mock, whose commits fail
    during its slower rebalances, mostly those), then a restarts and the
    partitions that move back restore a's snapshots plus the changelog records written since.
    Run to the end, every key's last output equals the true COUNT, AVG, MIN, MAX and SUM."""
    expected, parts, a, b, feeder = _two_daemons_s2(ctx, MOVE_KILLS * 3 + 1)
    server = _TWO_DAEMONS_SERVER
    moved = 0
    try:
        for _ in range(MOVE_KILLS):
            time.sleep(2)
            mark_b = _kill_for(a, b, "s2", "quotes", [0, 1, 2])
            moved += len(re.findall(r"state restored from", b.log()[mark_b:]))
            mark_a = a.log_size()
            a = ctx.start_daemon("a", config=server)
            wait_assigned(a, "s2", "quotes", since=mark_a)
    finally:
        feeder.wait()
    feeder.check()
    if moved == 0:
        raise AssertionError("b restored no partition's state after a was killed")
    ctx.produce("quotes", parts[-1], key_field=SCENARIOS["S2"]["key"])
    out = _consume_until(ctx, "quotes-out", len(expected),
                         lambda rows: h.changes_equal(expected, rows, ["symbol"], exact=False))
    detail = check(h.changes_equal(expected, values(out), ["symbol"], exact=False))
    stop_cleanly(a, "daemon a")
    stop_cleanly(b, "daemon b")
    return (f"{MOVE_KILLS} kills of a, {moved} partition restores on b; "
            f"{detail}; {len(out) - len(expected)} repeated rows")


def test_eos_two_daemons(ctx):
    """Exactly once with two daemons sharing an S2 job (GROUP BY symbol, EMIT CHANGES; each
    daemon its own state_dir and so its own transactional.id) while input flows: daemon a is
    killed with SIGKILL MOVE_KILLS times (b takes its partitions from the committed offsets and
    changelog, and a restarts), then b is frozen (SIGSTOP) until a holds every partition. When b
    resumes, its open transaction cannot commit (its group generation is gone): it aborts it and
    rewinds its pipelines, the path a failed transaction takes. A read_committed consumer sees
    exactly the change rows `sluice run` emits, none repeated, and every key's true last row."""
    expected, parts, a, b, feeder = _two_daemons_s2(ctx, MOVE_KILLS * 3 + 4, EXACTLY_ONCE)
    server = _TWO_DAEMONS_SERVER
    try:
        for _ in range(MOVE_KILLS):
            time.sleep(2)
            _kill_for(a, b, "s2", "quotes", [0, 1, 2])
            mark_a = a.log_size()
            a = ctx.start_daemon("a", config=server)
            wait_assigned(a, "s2", "quotes", since=mark_a)
        time.sleep(2)
        mark_a, mark_b = a.log_size(), b.log_size()
        with b.frozen():
            deadline = time.monotonic() + 60
            while latest_assignment(a, "s2", "quotes", since=mark_a) != [0, 1, 2]:
                if time.monotonic() > deadline:
                    raise AssertionError(f"a did not take every partition from the frozen b; "
                                         f"log:\n{h.tail(a.log())}")
                time.sleep(0.5)
        b.wait_for_log(r"transaction aborted", since=mark_b)
        wait_assigned(b, "s2", "quotes", since=mark_b)
    finally:
        feeder.wait()
    feeder.check()
    ctx.produce("quotes", parts[-1], key_field=SCENARIOS["S2"]["key"])
    out = _committed_output(ctx, "quotes-out", len(expected))
    detail = check(h.changes_equal(expected, out, ["symbol"], exact=True))
    jobs = {"a": settled(a, "s2"), "b": settled(b, "s2")}
    if jobs["b"].get("transaction_aborts", 0) < 1:
        raise AssertionError(f"b's /jobs shows no aborted transaction after it resumed: "
                             f"{jobs['b']}")
    counted = "; ".join(f"{k}: {check_counts(j, exact=False)}, {j['commits']} transactions, "
                        f"{j['transaction_aborts']} aborted" for k, j in jobs.items())
    stop_cleanly(a, "daemon a")
    stop_cleanly(b, "daemon b")
    return f"{MOVE_KILLS} kills of a, b frozen and rewound; read_committed: {detail}; {counted}"


# --------------------------------------------------------------------------------------------
# Jobs directory


def test_hot_reload(ctx):
    """Adding a job file starts it, changing one restarts it with the new SQL (resuming from its
    committed offsets), removing one stops it; other jobs keep running.

    Counts (stateless jobs: the exact identity each time, each job the only writer of its output
    topic): job a reads exactly part 0 before the change; job b, added later, reads parts 0 and 1
    from the beginning, taken before it is removed; the changed job a counts from zero and, as the
    old version drained and committed before it started, reads exactly parts 1 and 2."""
    sc = SCENARIOS["S0"]
    data = generate(ctx, "S0", RECORDS)
    parts = split_lines(data, 3)
    rows = [h.read_jsonl(p) for p in parts]
    ctx.start_broker(topics=[("orders", 3), ("a-out", 3), ("a-out2", 3), ("b-out", 3)])
    ctx.write_job("a.yaml", kafka_job("a", sc, "orders", "a-out"))
    d = ctx.start_daemon(args=["--status-interval", "0.5"])
    wait_assigned(d, "a", "orders")
    ctx.produce("orders", parts[0], key_field=sc["key"])
    check(h.multiset_equal(rows[0], values(ctx.consume("a-out", min_records=len(rows[0])))),
          "job a before the changes")
    check_counts(settled(d, "a", len(rows[0])), exact=True, records_in=len(rows[0]),
                 records_out=len(rows[0]))

    # Add b: it reads the topic from the beginning.
    b_sql = "SELECT order_id, customer_id FROM orders WHERE customer_id < 100"
    b_rows = lambda rs: [{"order_id": r["order_id"], "customer_id": r["customer_id"]}  # noqa: E731
                         for r in rs if r["customer_id"] < 100]
    mark = d.log_size()
    ctx.write_job("b.yaml", kafka_job("b", sc, "orders", "b-out", sql=b_sql))
    d.wait_for_log(h.log_regex("started", "b"), since=mark)
    want_b = b_rows(rows[0])
    check(h.multiset_equal(want_b, values(ctx.consume("b-out", min_records=len(want_b)))),
          "added job b")

    # Change a: new SQL and sink; it resumes after what it already committed.
    a2_sql = "SELECT order_id, total_amount FROM orders WHERE total_amount > 200"
    a2_rows = lambda rs: [{"order_id": r["order_id"], "total_amount": r["total_amount"]}  # noqa
                          for r in rs if r["total_amount"] > 200]
    mark = d.log_size()
    ctx.write_job("a.yaml", kafka_job("a", sc, "orders", "a-out2", sql=a2_sql))
    d.wait_for_log(h.log_regex("stopped", "a"), since=mark)
    d.wait_for_log(h.log_regex("started", "a"), since=mark)
    wait_assigned(d, "a", "orders", since=mark)
    ctx.produce("orders", parts[1], key_field=sc["key"])
    want_a2 = a2_rows(rows[1])
    out_a2 = values(ctx.consume("a-out2", min_records=len(want_a2)))
    check(h.multiset_superset(want_a2, [r for r in out_a2 if r in want_a2]), "changed job a")
    stray = [r for r in out_a2 if r not in a2_rows(rows[0] + rows[1])]
    if stray:
        raise AssertionError(f"changed job a wrote rows its new SQL cannot produce: {stray[:2]}")
    if len(out_a2) - len(want_a2) >= len(a2_rows(rows[0])) > 0:
        raise AssertionError("changed job a re-read the topic from the beginning")
    want_b = b_rows(rows[0] + rows[1])
    out_b = values(ctx.consume("b-out", min_records=len(want_b)))
    check(h.multiset_superset(want_b, out_b), "job b while a changed")
    n01 = len(rows[0]) + len(rows[1])
    check_counts(settled(d, "b", n01), exact=True, records_in=n01, records_out=len(out_b))

    # Remove b: it stops; a goes on.
    mark = d.log_size()
    os.remove(os.path.join(ctx.jobs_dir, "b.yaml"))
    d.wait_for_log(h.log_regex("stopped", "b"), since=mark)
    ctx.produce("orders", parts[2], key_field=sc["key"])
    want_a2 = a2_rows(rows[1] + rows[2])
    out_a2 = values(ctx.consume("a-out2", min_records=len(want_a2)))
    check(h.multiset_superset(want_a2, [r for r in out_a2 if r in want_a2]), "job a after b left")
    late_ids = {r["order_id"] for r in rows[2]}
    late_b = [r for r in values(ctx.consume("b-out", idle=1)) if r["order_id"] in late_ids]
    if late_b:
        raise AssertionError(f"removed job b still wrote {len(late_b)} rows")
    unaffected = h.log_regex("stopped", "a")
    if any(re.search(unaffected, line) for line in d.log()[mark:].splitlines()):
        raise AssertionError("removing b stopped a")
    n12 = len(rows[1]) + len(rows[2])
    counted = check_counts(settled(d, "a", n12), exact=True, records_in=n12,
                           records_out=len(out_a2))
    stop_cleanly(d)
    # The status lines' rates (--status-interval) stay plausible across the reload, which
    # restarted job a with its counts from zero.
    rates = [float(v) * {"": 1, "K": 1e3, "M": 1e6}[unit]
             for v, unit in re.findall(r" (?:in|out) +([0-9.]+)([KM]?)/s", d.log())]
    if not rates:
        raise AssertionError("no status lines in the daemon's output")
    if max(rates) > 1e7:
        raise AssertionError(f"a status line shows {max(rates):.3g} records/s across the reload")
    return (f"add, change, remove ok; changed job a {counted}; {len(rates)} status rates, the "
            f"largest {max(rates):.0f}/s")


def test_unreachable_kafka(ctx):
    """Kafka unreachable when the daemon starts (nothing listens at the bootstrap address): every
    job file is picked up at once, each job is listed and none has failed, and the daemon stops
    cleanly on SIGTERM. (Each stage asks the cluster for its topics' limits on its own control
    thread, bounded by 5 s: on the job manager's, 4 jobs took 20 s to be listed.)"""
    import types
    # Nobody listens there (the port was free a moment ago); nothing to stop afterwards.
    ctx.broker = types.SimpleNamespace(bootstrap=f"127.0.0.1:{h.free_port()}", stop=lambda: None)
    sc = SCENARIOS["S0"]
    names = [f"j{i}" for i in range(4)]
    for name in names:
        ctx.write_job(f"{name}.yaml", kafka_job(name, sc, f"{name}-in", f"{name}-out"))
    started = time.monotonic()
    d = ctx.start_daemon()
    listed = {}
    while len(listed) < len(names) and time.monotonic() - started < 30:
        for name in names:
            if name not in listed:
                try:
                    listed[name] = (d.job(name, timeout=2), time.monotonic() - started)
                except h.HarnessError:
                    pass  # not picked up yet (404), or the daemon not listening yet
        time.sleep(0.1)
    late = {n: round(t, 1) for n, (_, t) in listed.items() if t > 4}
    if len(listed) < len(names) or late:
        raise AssertionError(f"jobs listed after (s): {late}, not at all: "
                             f"{sorted(set(names) - set(listed))}; log:\n{h.tail(d.log())}")
    failed = {n: j["error"] for n, (j, _) in listed.items() if j["state"] == "failed"}
    if failed:
        raise AssertionError(f"failed with Kafka unreachable: {failed}")
    stop_cleanly(d)
    return (f"{len(names)} jobs listed within {max(t for _, t in listed.values()):.1f} s, "
            f"states {sorted({j['state'] for j, _ in listed.values()})}; stopped cleanly")


def test_invalid_job(ctx):
    """An invalid job file is reported and does not affect the other jobs, at start and when
    added while running.

    Counts: the good job (stateless: the exact identity), alone in its daemon and group, reads
    every record once (records_in = RECORDS) and is the only writer of its output topic; the
    invalid job is listed with its error and nothing counted."""
    sc = SCENARIOS["S0"]
    data = generate(ctx, "S0", RECORDS)
    part1, part2 = split_lines(data, 2)
    rows1, rows2 = h.read_jsonl(part1), h.read_jsonl(part2)
    ctx.start_broker(topics=[("orders", 3), ("good-out", 3)])
    ctx.write_job("good.yaml", kafka_job("good", sc, "orders", "good-out"))
    ctx.write_job("bad.yaml", kafka_job("bad", sc, "orders", "bad-out",
                                        sql="SELECT no_such_column FROM orders"))
    d = ctx.start_daemon()
    d.wait_for_log(h.log_regex("invalid", "bad"))
    wait_assigned(d, "good", "orders")
    ctx.produce("orders", part1, key_field=sc["key"])
    check(h.multiset_equal(rows1, values(ctx.consume("good-out", min_records=len(rows1)))),
          "good job next to an invalid one")

    mark = d.log_size()
    with open(os.path.join(ctx.jobs_dir, "broken.yaml"), "w") as f:
        f.write("name: broken\nsql: [unclosed\nsource: {type: kafka\n")
    d.wait_for_log(h.log_regex("invalid", "broken"), since=mark)
    ctx.produce("orders", part2, key_field=sc["key"])
    out = values(ctx.consume("good-out", min_records=len(rows1) + len(rows2)))
    check(h.multiset_equal(rows1 + rows2, out), "good job after an invalid file was added")
    for event in ("stopped", "revoked", "failed"):
        if any(re.search(h.log_regex(event, "good"), line)
               for line in d.log()[mark:].splitlines()):
            raise AssertionError(f"the invalid file made job good log '{event}'")
    if not d.alive():
        raise AssertionError("daemon exited")
    counted = check_counts(settled(d, "good", RECORDS), exact=True, records_in=RECORDS,
                           records_out=len(out))
    bad = d.job("bad")
    if bad["state"] != "invalid" or not bad["error"] or any(bad["counts"][k] for k in _COUNTS):
        raise AssertionError(f"job bad: state {bad['state']}, error {bad['error']!r}, counts "
                             f"{bad['counts']} (want invalid, with its error, nothing counted)")
    stop_cleanly(d)
    return f"invalid files reported, good job complete; {counted}"


def test_topic_size_limit(ctx):
    """An output topic whose max.message.bytes (20,000) is below the producer's message.max.bytes
    (1,000,000): the job lowers its producer's limits to fit the topic, so the one record of 20
    whose output would be 30 KB is rejected alone (RECORD_TOO_LARGE, skipped) and the other 19 are
    written. Without that, the broker refuses the whole batch with them in it; at least once they
    are all rejected, and exactly once the transaction fails and is replayed without end. Then,
    the exactly-once job's topic limit is lowered under it (5,000) and an 8 KB output sent: the
    broker refuses it, and the job fails with that reason instead of replaying it forever."""
    if not isinstance(ctx.start_broker(), h.ExternalBroker):
        raise AssertionError("needs a real broker")
    ctx.broker.create_topic("lim-in", 1)
    ctx.broker.create_topic("lim-eos-in", 1)
    ctx.broker.create_topic("lim-out", 1, configs={"max.message.bytes": "20000"})
    ctx.broker.create_topic("lim-eos-out", 1, configs={"max.message.bytes": "20000"})
    sc = SCENARIOS["S0"]
    sql = "SELECT order_id, order_date FROM orders WHERE total_amount > 100"
    ctx.write_job("lim.yaml", kafka_job("lim", sc, "lim-in", "lim-out", sql=sql))
    ctx.write_job("lim-eos.yaml", kafka_job("lim-eos", sc, "lim-eos-in", "lim-eos-out", sql=sql) +
                  EXACTLY_ONCE)
    d = ctx.start_daemon()
    for job, topic in (("lim", "lim-in"), ("lim-eos", "lim-eos-in")):
        wait_assigned(d, job, topic)
    path = os.path.join(ctx.dir, "orders.jsonl")

    def write(rows):
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)

    write({"order_id": i, "customer_id": i, "order_date": "x" * (30000 if i == 10 else 10),
           "total_amount": "200.00"} for i in range(20))
    for topic in ("lim-in", "lim-eos-in"):
        ctx.produce(topic, path, key_field="customer_id")
    want = sorted(i for i in range(20) if i != 10)
    results = []
    for job, out_topic in (("lim", "lim-out"), ("lim-eos", "lim-eos-out")):
        rows = _committed_output(ctx, out_topic, len(want), timeout=30)
        state = settled(d, job, 20)
        got = sorted(r["order_id"] for r in rows)
        c = state["counts"]
        if got != want or c["rejected"] != 1 or c["skipped"] != 1:
            raise AssertionError(f"job {job}: output order_ids {got} (want all but 10), counts "
                                 f"{c} (want 1 rejected and skipped); log:\n{h.tail(d.log())}")
        results.append(f"{job}: 19 written, the 30 KB one rejected")
    # The exactly-once job's topic takes less from now on than its producer was set up for.
    ctx.broker.set_topic_config("lim-eos-out", {"max.message.bytes": "5000"})
    time.sleep(1)
    write([{"order_id": 99, "customer_id": 99, "order_date": "y" * 8000,
            "total_amount": "200.00"}])
    ctx.produce("lim-eos-in", path, key_field="customer_id")
    deadline = time.monotonic() + 30
    while (state := d.job("lim-eos"))["state"] != "failed":
        if time.monotonic() > deadline:
            raise AssertionError(f"job lim-eos is {state['state']} 30 s after the broker refused a "
                                 f"record of it for its size (want failed); log:\n"
                                 f"{h.tail(d.log())}")
        time.sleep(0.5)
    if "max.message.bytes" not in (state.get("error") or ""):
        raise AssertionError(f"job lim-eos failed with {state.get('error')!r}: want the reason")
    if state.get("transaction_aborts", 0) > 1:
        raise AssertionError(f"{state['transaction_aborts']} transactions aborted before failing")
    check_counts(settled(d, "lim", 20), exact=True)
    stop_cleanly(d)
    return "; ".join(results) + f"; lowered under it: lim-eos failed: {state['error']}"


def test_internal_topics(ctx):
    """(Real broker only: the mock does not answer CreateTopics.) A repartitioning job creates its
    repartition topic with as many partitions as its source (the `repartition` case); here, when
    it cannot, the job fails with the reason in its status instead of stalling: an existing
    repartition topic with another partition count, and a source topic that does not exist. A
    durable aggregate creates its changelog topic the same way (as many partitions as its source,
    compacted), and fails when one exists with another partition count. The daemon and its other
    jobs go on.

    Counts: the good job (stateless: the exact identity) reads every record once and is the only
    writer of its output topic; the failed jobs counted nothing."""
    sc = SCENARIOS["S0"]
    regroup = dict(SCENARIOS["S3a"], sql="SELECT symbol, COUNT(*) AS n FROM market_data "
                   "GROUP BY symbol", partitioned_by=None, sink_key=["symbol"], event_time=None)
    data = generate(ctx, "S0", RECORDS)
    rows = h.read_jsonl(data)
    keyed = dict(regroup, partitioned_by=["symbol"])  # no repartition: a durable aggregate
    ctx.start_broker(topics=[("orders", 3), ("good-out", 3), ("trades", 3), ("sym-out", 3),
                             ("wrong-repartition", 2), ("badlog-changelog", 2)])
    ctx.write_job("good.yaml", kafka_job("good", sc, "orders", "good-out"))
    ctx.write_job("wrong.yaml", kafka_job("wrong", regroup, "trades", "sym-out"))
    ctx.write_job("nosource.yaml", kafka_job("nosource", regroup, "no-such-topic", "ns-out"))
    ctx.write_job("sums.yaml", kafka_job("sums", keyed, "trades", "sums-out"))
    ctx.write_job("badlog.yaml", kafka_job("badlog", keyed, "trades", "badlog-out"))
    d = ctx.start_daemon()
    want = {"wrong": "topic 'wrong-repartition' exists with 2 partitions, not 3",
            "nosource": "source topic 'no-such-topic' does not exist",
            "badlog": "changelog topic: topic 'badlog-changelog' exists with 2 partitions, not 3"}
    for name, text in want.items():
        d.wait_for_log(h.log_regex("failed", name), timeout=60)
        job = d.job(name)
        if job["state"] != "failed" or text not in (job["error"] or ""):
            raise AssertionError(f"job {name}: state {job['state']}, error {job['error']!r} "
                                 f"(want failed, with {text!r})")
        if any(job["counts"][k] for k in _COUNTS):
            raise AssertionError(f"job {name} counted {job['counts']}")
    if ctx.broker.partitions("nosource-repartition") != 0:
        raise AssertionError("nosource-repartition was created without a source to size it")
    wait_assigned(d, "sums", "trades")
    if ctx.broker.partitions("sums-changelog") != 3:
        raise AssertionError(f"sums-changelog has {ctx.broker.partitions('sums-changelog')} "
                             f"partitions, want 3 (as trades)")
    if ctx.broker.topic_config("sums-changelog", "cleanup.policy") != "compact":
        raise AssertionError("sums-changelog is not compacted")
    wait_assigned(d, "good", "orders")
    ctx.produce("orders", data, key_field=sc["key"])
    check(h.multiset_equal(rows, values(ctx.consume("good-out", min_records=len(rows)))),
          "the good job beside the failed ones")
    counted = check_counts(settled(d, "good", RECORDS), exact=True, records_in=RECORDS,
                           records_out=len(rows))
    stop_cleanly(d)
    return f"the three failed with their reason; sums-changelog created; {counted}"


def test_independent_clients(ctx):
    """(Real broker only: the console consumer is the broker's.) Three clients that share no code
    with sluice read its output and dead-letter topics and see the same records: kafka-python,
    confluent-kafka (its own librdkafka) and Kafka's Java console consumer — partitions, offsets,
    keys, values, headers, timestamps. Each output record carries its input record's key, each
    dead letter the original bytes and key with the sluice.* headers naming where it came from;
    both are stamped (CreateTime) when sluice produced them: after their input record's
    timestamp, before the case read them.

    Counts (stateless: the exact identity): one daemon reads every record once (records_in =
    RECORDS + the bad ones) and writes every output once (records_out = the output topic)."""
    sc = SCENARIOS["S0"]
    data = generate(ctx, "S0", RECORDS)
    expected = expected_output(ctx, "S0", data)
    bad = [b"not json", b'{"order_id": 1, "total_amount": "lots, and more: \xc3\xa9"}', b"[]"]
    bad_path = os.path.join(ctx.dir, "bad.jsonl")
    with open(bad_path, "wb") as f:
        f.write(b"\n".join(bad) + b"\n")
    ctx.start_broker(topics=[("orders", 3), ("orders-out", 3), ("orders-dlq", 1)])
    ctx.write_job("s0.yaml", kafka_job("s0", sc, "orders", "orders-out") +
                  "dead_letter:\n  type: kafka\n  topic: orders-dlq\n")
    d = ctx.start_daemon()
    wait_assigned(d, "s0", "orders")
    ctx.produce("orders", data, key_field=sc["key"])
    ctx.produce("orders", bad_path)
    ctx.consume("orders-out", min_records=len(expected), idle=1)
    counted = check_counts(settled(d, "s0", RECORDS + len(bad)), exact=True,
                           records_in=RECORDS + len(bad), records_out=len(expected))

    bootstrap = ctx.broker.bootstrap
    read_at = int(time.time() * 1000)
    inputs = {r.value: r for r in h.read_raw(bootstrap, "orders")}
    by_order = {json.loads(v)["order_id"]: r for v, r in inputs.items() if v not in bad}
    details = []
    for topic, want in (("orders-out", len(expected)), ("orders-dlq", len(bad))):
        mine = h.read_raw(bootstrap, topic)
        if len(mine) != want:
            raise AssertionError(f"kafka-python read {len(mine)} records of {topic}, want {want}")
        for name, theirs in (("confluent-kafka", h.read_raw_confluent(bootstrap, topic)),
                             ("console consumer", h.read_raw_console(KAFKA_SH, bootstrap, topic,
                                                                     want))):
            if theirs != mine:
                diff = [(a, b) for a, b in zip(mine, theirs) if a != b][:1] or \
                    [f"{len(theirs)} records, not {len(mine)}"]
                raise AssertionError(f"{name} reads {topic} differently: {diff[0]}")
        details.append(f"{topic} {len(mine)}")
        for r in mine:
            if r.timestamp_type != "CreateTime":
                raise AssertionError(f"{topic} {r.partition}/{r.offset}: {r.timestamp_type}")
            if topic == "orders-dlq":
                src = inputs[r.value]
                hs = dict(r.headers)
                want_h = {"sluice.error.code": b"DECODE", "sluice.source.topic": b"orders",
                          "sluice.source.partition": str(src.partition).encode(),
                          "sluice.source.offset": str(src.offset).encode(), "sluice.job": b"s0"}
                if any(hs.get(k) != v for k, v in want_h.items()) or \
                        not hs.get("sluice.error.message"):
                    raise AssertionError(f"dead letter {r.value!r}: headers {r.headers}")
            else:
                src = by_order[json.loads(r.value)["order_id"]]
            if r.key != src.key or not src.timestamp <= r.timestamp <= read_at:
                raise AssertionError(f"{topic} {r.partition}/{r.offset}: key {r.key!r} at "
                                     f"{r.timestamp}, its input {src.key!r} at {src.timestamp} "
                                     f"(read at {read_at})")
    stop_cleanly(d)
    return f"{' and '.join(details)} records read alike by 3 clients; {counted}"


# Avro in the Schema Registry wire format. Writer schemas v1 and v2 of trades-avro-value: v2 drops
# `note`, adds `venue` (default "XNAS") and makes price and trade_time nullable unions.
_AVRO_DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 4}
_AVRO_MILLIS = {"type": "long", "logicalType": "timestamp-millis"}
_AVRO_V1 = {"type": "record", "name": "Trade", "namespace": "sluice.e2e", "fields": [
    {"name": "symbol", "type": "string"},
    {"name": "price", "type": _AVRO_DECIMAL},
    {"name": "quantity", "type": "long"},
    {"name": "trade_time", "type": _AVRO_MILLIS},
    {"name": "note", "type": "string"}]}
_AVRO_V2 = {"type": "record", "name": "Trade", "namespace": "sluice.e2e", "fields": [
    {"name": "symbol", "type": "string"},
    {"name": "price", "type": ["null", _AVRO_DECIMAL], "default": None},
    {"name": "quantity", "type": "long"},
    {"name": "trade_time", "type": ["null", _AVRO_MILLIS], "default": None},
    {"name": "venue", "type": "string", "default": "XNAS"},
    {"name": "fills", "type": {"type": "array", "items": {
        "type": "record", "name": "Fill", "fields": [
            {"name": "venue", "type": "string"},
            {"name": "qty", "type": "long"},
            {"name": "price", "type": _AVRO_DECIMAL},
            {"name": "broker", "type": ["null", "string"], "default": None}]}}, "default": []},
    {"name": "tags", "type": {"type": "map", "values": "string"}, "default": {}}]}
# The job's output schema (trades-avro-out-value): every column a ["null", T] union; a STRUCT is
# a record, an ARRAY an array and a MAP a map (compared by kind only here).
_AVRO_OUT = [("symbol", "string"), ("price", _AVRO_DECIMAL), ("quantity", "long"),
             ("trade_time", _AVRO_MILLIS), ("venue", "string"), ("fills", "array"),
             ("tags", "map"), ("first_qty", "long")]
AVRO_JOB = """name: avro-e2e
sql: |
  SELECT symbol, price, quantity, trade_time, venue, fills, tags, fills[1].qty AS first_qty
  FROM trades WHERE quantity > 0
source:
  name: trades
  type: kafka
  topic: trades-avro
  format: avro
  schema:
    symbol: 'STRING'
    price: 'DECIMAL(18,4)'
    quantity: 'BIGINT'
    trade_time: 'TIMESTAMP'
    venue: 'STRING'
    fills: 'ARRAY<STRUCT<venue STRING, qty BIGINT, price DECIMAL(18,4)>>'
    tags: 'MAP<STRING, STRING>'
sink:
  type: kafka
  topic: trades-avro-out
  format: avro
dead_letter:
  type: kafka
  topic: trades-avro-dlq
kafka:
""" + "".join(f"  {k}: {v}\n" for k, v in KAFKA_JOB_PROPERTIES.items())
# The same query's columns without `schema:`: the latest version of trades-avro-value (v2) gives
# them; fills[] then has broker too, so the whole array is left out of the comparison.
AVRO_INFER_JOB = """name: avro-infer
sql: |
  SELECT symbol, price, quantity, trade_time, venue, tags, fills[1].qty AS first_qty
  FROM trades WHERE quantity > 0
source: {name: trades, type: kafka, topic: trades-avro, format: avro}
sink: {type: kafka, topic: trades-avro-infer, format: avro}
kafka:
""" + "".join(f"  {k}: {v}\n" for k, v in KAFKA_JOB_PROPERTIES.items())


def _avro_rows(version, n):
    """n input rows of writer schema `version` (1 or 2) as confluent_avro.py takes them (decimals
    as strings, timestamps as epoch ms); every 50th has quantity 0, in v2 a few lack venue (the
    writer's default) or have a null price or trade_time."""
    specials = ["0.0000", "-0.0001", "99999999999999.9999", "-12345678901234.5678"]
    for i in range(n):
        units = (i * 7919 + version * 104729) % 10**9
        row = {"symbol": "SYMé" if i == 3 else f"SYM{i % 7}",
               "price": specials[i] if i < len(specials) else
               f"{units // 10**4}.{units % 10**4:04d}",
               "quantity": 0 if i % 50 == 17 else (2**40 + i if i == 5 else i * 1000 + version),
               "trade_time": 1700000000000 + version * 10**7 + i * 1001}
        if version == 1:
            row["note"] = f"note {i} " * (i % 4)
        else:
            if i % 40 == 11:
                row["price"] = None
            if i % 40 == 13:
                row["trade_time"] = None
            if i % 10 != 3:
                row["venue"] = ("XLON", "XNYS", "XPAR")[i % 3]
            if i % 4 != 1:  # the others take the writer's defaults: [] and {}
                row["fills"] = [{"venue": ("XLON", "XNYS")[k % 2], "qty": i * 10 + k,
                                 "price": f"{i}.{k:04d}", "broker": None if k else f"B{i}"}
                                for k in range(i % 3)]
                row["tags"] = {"z": f"t{i}", "a": "é"} if i % 2 else {}
        yield row


def _avro_expected(rows, version):
    """The job's output for input rows of writer schema `version`: quantity > 0, the job's
    columns only, venue null for v1 (its writer lacks it) and the writer's default where a v2 row
    lacks it."""
    def fills(r):  # the STRUCT's fields only: broker is skipped
        if version == 1:
            return None
        return [{"venue": f["venue"], "qty": f["qty"], "price": f["price"]}
                for f in r.get("fills", [])]

    return [{"symbol": r["symbol"], "price": r["price"], "quantity": r["quantity"],
             "trade_time": r["trade_time"],
             "venue": None if version == 1 else r.get("venue", "XNAS"),
             "fills": fills(r), "tags": None if version == 1 else r.get("tags", {}),
             "first_qty": fills(r)[0]["qty"] if fills(r) else None}
            for r in rows if r["quantity"] > 0]


def _avro_type(t):
    """An Avro type reduced to what the check compares: {"type": X} alone is X; a logical type
    keeps type, logicalType, precision and scale."""
    if isinstance(t, dict):
        t = {k: v for k, v in t.items() if k in ("type", "logicalType", "precision", "scale")}
        return t["type"] if list(t) == ["type"] else t
    return t


def _registry_daemon(ctx, registry, file_name, job_text, job):
    """Writes the job file and starts a daemon with `registry` in its server config; returns it
    once the job started (AssertionError with its error when it is invalid or failed)."""
    ctx.write_job(file_name, job_text)
    d = ctx.start_daemon(config=f"schema_registry:\n  url: {registry.url}\n")
    m = d.wait_for_log("|".join(f"({h.log_regex(e, job)})" for e in ("started", "invalid",
                                                                       "failed")), timeout=30)
    if not m.group(1):
        raise AssertionError(f"job {job}: {d.job(job).get('error')!r}; log:\n{h.tail(d.log())}")
    return d


def test_avro_registry(ctx):
    """(Real broker only.) `format: avro` on both ends, with a schema registry (Apicurio's
    Confluent-compatible API, scripts/schema-registry.sh; E2E_REGISTRY): 200 records written
    with confluent-kafka's AvroSerializer under writer schema v1 (symbol, price decimal(18,4),
    quantity, trade_time timestamp-millis, note), then 200 under v2 of the same subject (note
    dropped, venue added with a default, price and trade_time nullable, an array of Fill records
    and a map of strings added with defaults), 8 of them with quantity 0;
    then a record with magic byte 1 and one with magic 0 and a schema id the registry does not
    have. The daemon starts after all were written and reads from the beginning. Every output
    record, read with confluent-kafka's AvroDeserializer, has the expected values (writer fields
    matched by name, v1 rows' venue null, note skipped; the fills read into an ARRAY<STRUCT>
    column, their broker field skipped; the map into a MAP column; fills[1].qty), the output
    schema registered under
    trades-avro-out-value makes every column a ["null", T] union (decimal(18,4) bytes,
    timestamp-millis long); every output value is in the wire format with that schema's id; the
    two malformed records are dead-lettered with DECODE and their original bytes.

    Counts (stateless: the exact identity): one daemon reads every record once (records_in = 402)
    and writes every output once (records_out = 392); filtered 8, dead_lettered 2."""
    ctx.start_broker(topics=[("trades-avro", 3), ("trades-avro-out", 3), ("trades-avro-dlq", 1),
                             ("trades-avro-infer", 3)])
    registry = ctx.start_registry()
    registry.delete_subjects("trades-avro-value", "trades-avro-out-value",  # an earlier run's
                             "trades-avro-infer-value")
    bootstrap = ctx.broker.bootstrap
    expected, n_in = [], 0
    ids = {}
    for version, schema in ((1, _AVRO_V1), (2, _AVRO_V2)):
        rows = list(_avro_rows(version, 200))
        path = os.path.join(ctx.dir, f"trades-v{version}.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        count, ids[version] = h.produce_avro(bootstrap, registry.url, "trades-avro", schema, path,
                                             key_field="symbol")
        if version == 1:  # v2 is compatible, but not with every registry's default (FULL)
            registry.set_compatibility("trades-avro-value", "NONE")
        n_in += count
        expected += _avro_expected(rows, version)
    if ids[1] == ids[2] or len(registry.versions("trades-avro-value")) != 2:
        raise AssertionError(f"writer schemas: ids {ids}, versions of trades-avro-value "
                             f"{registry.versions('trades-avro-value')} (want 2 of each)")
    # Malformed: a v1 record with magic byte 1; its payload framed with a schema id nobody has.
    written = h.read_raw(bootstrap, "trades-avro", idle=0.5, min_records=n_in)
    payload = next(r.value[5:] for r in written if r.value[:5] == h.wire_format(ids[1]))
    unknown_id = registry.unused_id(999999)
    bad = [b"\x01" + ids[1].to_bytes(4, "big") + payload, h.wire_format(unknown_id, payload)]
    h.produce_raw(bootstrap, "trades-avro", bad)
    n_in += len(bad)
    filtered = n_in - len(bad) - len(expected)

    job = "avro-e2e"
    d = _registry_daemon(ctx, registry, "avro.yaml", AVRO_JOB, job)
    got = h.consume_avro(bootstrap, registry.url, "trades-avro-out", len(expected), timeout=60)
    check(h.multiset_equal(expected, got), "output values")

    latest = registry.latest("trades-avro-out-value")
    if latest is None:
        raise AssertionError("no schema registered under trades-avro-out-value")
    out_id, out_schema = latest
    fields = [(f["name"], [_avro_type(b) for b in f["type"]] if isinstance(f["type"], list)
               else _avro_type(f["type"])) for f in out_schema.get("fields", ())]
    want_fields = [(name, ["null", t]) for name, t in _AVRO_OUT]
    if out_schema.get("type") != "record" or fields != want_fields:
        raise AssertionError(f"trades-avro-out-value: {json.dumps(out_schema)}; want fields "
                             f"{want_fields}")
    raw_out = h.read_raw(bootstrap, "trades-avro-out", idle=1, min_records=len(expected))
    framed, want_framed = {v.value[:5] for v in raw_out}, h.wire_format(out_id)
    if len(raw_out) != len(expected) or framed != {want_framed}:
        raise AssertionError(f"{len(raw_out)} output records (want {len(expected)}), framed "
                             f"{sorted(f.hex() for f in framed)} (want {want_framed.hex()})")

    dlq = h.read_raw(bootstrap, "trades-avro-dlq", idle=1, min_records=len(bad))
    inputs = {r.value: r for r in h.read_raw(bootstrap, "trades-avro", idle=0.5,
                                             min_records=n_in)}
    if sorted(r.value for r in dlq) != sorted(bad):
        raise AssertionError(f"dead letters {[r.value[:8].hex() for r in dlq]}, want the two "
                             f"malformed records {[b[:8].hex() for b in bad]}")
    reasons = []
    for r in dlq:
        src, hs = inputs[r.value], dict(r.headers)
        want_h = {"sluice.error.code": b"DECODE", "sluice.source.topic": b"trades-avro",
                  "sluice.source.partition": str(src.partition).encode(),
                  "sluice.source.offset": str(src.offset).encode(), "sluice.job": job.encode()}
        if any(hs.get(k) != v for k, v in want_h.items()) or not hs.get("sluice.error.message"):
            raise AssertionError(f"dead letter {r.value[:8].hex()}: headers {r.headers}, want "
                                 f"{want_h} and a sluice.error.message")
        reasons.append(hs["sluice.error.message"].decode(errors="replace"))

    state = settled(d, job, n_in)
    counted = check_counts(state, exact=True, records_in=n_in, records_out=len(expected))
    c = state["counts"]
    if c["filtered"] != filtered or c["dead_lettered"] != len(bad):
        raise AssertionError(f"counts {c}: want filtered {filtered}, dead_lettered {len(bad)}")
    inferred = _avro_inferred(ctx, d, registry, ids[2], expected)
    stop_cleanly(d)
    return (f"{len(expected)} rows of writer schemas {ids[1]} and {ids[2]} equal, output schema "
            f"{out_id}; dead letters: {'; '.join(reasons)}; {counted}; {inferred}")


def _avro_inferred(ctx, d, registry, v2_id, expected):
    """The job without `schema:` (AVRO_INFER_JOB), added to the running daemon: `sluice validate
    --registry` and the daemon's log both name version 2 of trades-avro-value with its id, and
    its output is the avro-e2e job's but for `fills`."""
    path = os.path.join(ctx.dir, "avro-infer.yaml")
    with open(path, "w") as f:
        f.write(AVRO_INFER_JOB)
    used = f"the latest schema of subject 'trades-avro-value' version 2 (schema id {v2_id})"
    v = subprocess.run([ctx.sluice, "validate", "--registry", registry.url, path],
                       capture_output=True, text=True, timeout=60)
    want = f"{path}: source.schema: {used}\n{path}: ok\n"
    if v.returncode != 0 or v.stdout != want:
        raise AssertionError(f"validate --registry: exit {v.returncode}, stdout {v.stdout!r} "
                             f"(want {want!r}), stderr {v.stderr!r}")
    since = len(d.log())
    ctx.write_job("avro-infer.yaml", AVRO_INFER_JOB)
    d.wait_for_log(re.escape(f"job avro-infer: source.schema: {used}: 7 columns"), timeout=30,
                   since=since)
    got = h.consume_avro(ctx.broker.bootstrap, registry.url, "trades-avro-infer", len(expected),
                         timeout=60)
    want_rows = [{k: v for k, v in e.items() if k != "fills"} for e in expected]
    check(h.multiset_equal(want_rows, got), "output values of the job without a schema")
    return f"avro-infer: {used}, {len(got)} rows equal"


_JSR_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Order", "type": "object",
    "properties": {"order_id": {"type": "integer"}, "customer_id": {"type": "integer"},
                   "order_date": {"type": "string"}, "total_amount": {"type": "number"},
                   "note": {"type": "string"}},
    "required": ["order_id", "customer_id", "total_amount"]}

JSR_JOB = """name: jsr-e2e
sql: |
  SELECT order_id, customer_id, total_amount * 2 AS doubled, ARRAY[order_id, customer_id] AS ids,
         STRUCT(day := order_date) AS placed, _key AS customer_key
  FROM orders WHERE total_amount > 100
source:
  name: orders
  type: kafka
  topic: orders-jsr
  format: json_sr
  key_format: avro
  key_type: BIGINT
  schema: {order_id: BIGINT, customer_id: BIGINT, order_date: STRING, total_amount: 'DECIMAL(12,2)'}
sink:
  type: kafka
  topic: orders-jsr-out
  format: json_sr
  key: [customer_id]
  key_format: avro
dead_letter:
  type: kafka
  topic: orders-jsr-dlq
kafka:
  auto.offset.reset: earliest
"""


def test_json_sr_registry(ctx):
    """(Real broker only.) `format: json_sr` on both ends with a schema registry (as
    avro_registry): S0 orders written by confluent-kafka's JSONSerializer under a JSON Schema
    (registered under orders-jsr-value, with a `note` field the job does not read), keyed by
    the customer id written by its AvroSerializer as a "long" (orders-jsr-key; the job reads it
    with `key_format: avro`), then a record framed with magic byte 1 and one with a schema id the
    registry does not have (both without a key). Every output
    record is read with confluent-kafka's JSONDeserializer, which validates it against the JSON
    Schema sluice registered under orders-jsr-out-value (nullable integers, numbers, an array, an
    object): the values are the query's. The job writes its keys (`key: [customer_id]`) with
    `key_format: avro`: each is read by the AvroDeserializer as the customer id, under the "long"
    sluice registered as orders-jsr-out-key. The two malformed records are dead-lettered (DECODE).

    Counts: the exact identity (records_in = RECORDS + 2, dead_lettered 2)."""
    ctx.start_broker(topics=[("orders-jsr", 3), ("orders-jsr-out", 3), ("orders-jsr-dlq", 1)])
    registry = ctx.start_registry()
    # An earlier run's:
    registry.delete_subjects("orders-jsr-value", "orders-jsr-key", "orders-jsr-out-value",
                             "orders-jsr-out-key")
    bootstrap = ctx.broker.bootstrap
    data = generate(ctx, "S0", RECORDS)
    rows = h.read_jsonl(data)
    with_notes = data + ".notes.jsonl"
    with open(with_notes, "w") as f:
        f.writelines(json.dumps(dict(r, note=f"n{r['order_id']}")) + "\n" for r in rows)
    n_in, schema_id = h.produce_avro(bootstrap, registry.url, "orders-jsr", _JSR_SCHEMA,
                                     with_notes, key_field="customer_id", value_format="json",
                                     key_schema='"long"')
    written = h.read_raw(bootstrap, "orders-jsr", idle=0.5, min_records=n_in)
    payload = next(r.value[5:] for r in written if r.value[:5] == h.wire_format(schema_id))
    bad = [b"\x01" + schema_id.to_bytes(4, "big") + payload,
           h.wire_format(registry.unused_id(999999), payload)]
    h.produce_raw(bootstrap, "orders-jsr", bad)
    n_in += len(bad)
    expected = [dict(order_id=r["order_id"], customer_id=r["customer_id"],
                     doubled=r["total_amount"] * 2, ids=[r["order_id"], r["customer_id"]],
                     placed=dict(day=r["order_date"]), customer_key=r["customer_id"])
                for r in rows if r["total_amount"] > 100]

    job = "jsr-e2e"
    d = _registry_daemon(ctx, registry, "jsr.yaml", JSR_JOB, job)
    got = h.consume_avro(bootstrap, registry.url, "orders-jsr-out", len(expected), timeout=60,
                         value_format="json", key_format="avro")
    check(h.multiset_equal(expected, [g["value"] for g in got]), "output values")
    wrong_keys = [g for g in got if g["key"] != g["value"]["customer_id"]]
    if wrong_keys:
        raise AssertionError(f"{len(wrong_keys)} output keys are not the customer id (an Avro "
                             f"long), e.g. {wrong_keys[0]}")
    key_schema = registry.latest("orders-jsr-out-key")
    if key_schema is None or key_schema[1] != "long":
        raise AssertionError(f"orders-jsr-out-key: {key_schema}")
    latest = registry.latest("orders-jsr-out-value")
    if latest is None or latest[1].get("type") != "object" or \
            set(latest[1].get("properties", {})) != {"order_id", "customer_id", "doubled", "ids",
                                                     "placed", "customer_key"}:
        raise AssertionError(f"orders-jsr-out-value: {latest}")
    dlq = h.read_raw(bootstrap, "orders-jsr-dlq", idle=1, min_records=len(bad))
    if sorted(r.value for r in dlq) != sorted(bad):
        raise AssertionError(f"dead letters {[r.value[:8].hex() for r in dlq]}, want the two "
                             f"malformed records")
    reasons = [dict(r.headers).get("sluice.error.message", b"").decode() for r in dlq]
    state = settled(d, job, n_in)
    counted = check_counts(state, exact=True, records_in=n_in, records_out=len(expected))
    if state["counts"]["dead_lettered"] != len(bad):
        raise AssertionError(f"counts {state['counts']}: want dead_lettered {len(bad)}")
    stop_cleanly(d)
    return (f"{len(expected)} rows of writer schema {schema_id} read back valid under output "
            f"schema {latest[0]}; dead letters: {'; '.join(reasons)}; {counted}")


# Line is imported from a file of its own, which ProtobufSerializer registers as a reference (the
# subject shop_common.proto) of the Order file's schema.
_PROTO_COMMON = """syntax = "proto3";
package shop;

message Line {
  string sku = 1;
  int32 qty = 2;
}
"""

_PROTO = """syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "shop_common.proto";

message Audit {
  string who = 1;
}

message Order {
  int64 order_id = 1;
  int64 customer_id = 2;
  string order_date = 3;
  double total_amount = 4;
  repeated Line lines = 5;
  map<string, string> tags = 6;
  Status status = 7;
  google.protobuf.Timestamp placed_at = 8;
  optional string note = 9;
  bytes unread = 10;

  enum Status {
    NEW = 0;
    PAID = 1;
  }
}
"""

PROTOBUF_JOB = """name: pb-e2e
sql: |
  SELECT order_id, customer_id, total_amount * 2 AS doubled, lines[1].sku AS sku,
         CARDINALITY(lines) AS n_lines, tags['src'] AS src, status, placed_at, note
  FROM orders WHERE total_amount > 100
source:
  name: orders
  type: kafka
  topic: orders-pb
  format: protobuf
  schema:
    order_id: BIGINT
    customer_id: BIGINT
    total_amount: DOUBLE
    lines: ARRAY<STRUCT<sku STRING, qty BIGINT>>
    tags: MAP<STRING, STRING>
    status: STRING
    placed_at: TIMESTAMP
    note: STRING
sink:
  type: kafka
  topic: orders-pb-out
  format: protobuf
  key: [customer_id, status]
  key_format: protobuf
dead_letter:
  type: kafka
  topic: orders-pb-dlq
kafka:
  auto.offset.reset: earliest
"""


def test_protobuf_registry(ctx):
    """(Real broker only.) `format: protobuf` with a schema registry (as avro_registry): S0 orders
    written by confluent-kafka's ProtobufSerializer as message shop.Order, the second top-level
    message of a proto3 file (so the message indexes are [1], not the one-byte [0]), with a
    repeated message imported from another file (registered by the serializer as the subject
    shop_common.proto, a schema reference the registry client fetches), a map, an enum, a
    google.protobuf.Timestamp, an `optional` string set on odd orders only and a bytes field the
    job does not read. The registry (Apicurio) keeps
    and serves the schema as the serializer registered it: a base64 FileDescriptorProto. Then
    three malformed records: magic byte 1, an id the registry does not have, and the Order schema's
    id framing a message whose order_id has the wrong wire type. The job writes `format: protobuf`
    too: the .proto source it registers under orders-pb-out-value is compiled by protoc
    (grpcio-tools) and every output value parsed by the protobuf runtime
    (confluent_avro.py consume --format protobuf). They hold the query's values: the nested, map
    and enum values read through, the Timestamp, and the optional note NULL (left out) where it
    was not set. The job's keys (`key: [customer_id, status]`, `key_format: protobuf`) are each
    parsed the same way with the key schema sluice registered under orders-pb-out-key: a message
    of the two columns. The three malformed records are dead-lettered (DECODE) with their reasons.

    Counts: the exact identity (records_in = RECORDS + 3, dead_lettered 3)."""
    ctx.start_broker(topics=[("orders-pb", 3), ("orders-pb-out", 3), ("orders-pb-dlq", 1)])
    registry = ctx.start_registry()
    registry.delete_subjects("orders-pb-value", "orders-pb-out-value",  # an earlier run's
                             "orders-pb-out-key", "shop_common.proto")
    bootstrap = ctx.broker.bootstrap
    data = generate(ctx, "S0", RECORDS)
    rows = h.read_jsonl(data)
    base_ms = 1_700_000_000_000

    def rfc3339(ms):
        t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"

    messages = []
    for r in rows:
        m = dict(order_id=r["order_id"], customer_id=r["customer_id"], order_date=r["order_date"],
                 total_amount=r["total_amount"],
                 lines=[dict(sku=f"s{r['order_id'] % 7}", qty=1), dict(sku="extra", qty=2)]
                 [:1 + r["order_id"] % 2],
                 tags={"src": "e2e", "n": str(r["order_id"])},
                 status="PAID" if r["order_id"] % 3 == 0 else "NEW",
                 placed_at=rfc3339(base_ms + r["order_id"] * 1001), unread="AAE=")
        if r["order_id"] % 2:
            m["note"] = f"n{r['order_id']}"
        messages.append(m)
    path = os.path.join(ctx.dir, "orders-pb.jsonl")
    with open(path, "w") as f:
        f.writelines(json.dumps(m) + "\n" for m in messages)
    proto = os.path.join(ctx.dir, "shop.proto")
    with open(proto, "w") as f:
        f.write(_PROTO)
    with open(os.path.join(ctx.dir, "shop_common.proto"), "w") as f:
        f.write(_PROTO_COMMON)
    n_in, schema_id = h.produce_avro(bootstrap, registry.url, "orders-pb", proto, path,
                                     value_format="protobuf", message="Order")
    written = h.read_raw(bootstrap, "orders-pb", idle=0.5, min_records=n_in)
    header = h.wire_format(schema_id)
    if any(r.value[:7] != header + b"\x02\x02" for r in written):
        raise AssertionError("values not framed with the schema id and message indexes [1]: "
                             f"{[r.value[:8].hex() for r in written[:3]]}")
    served = registry.request("GET", f"/schemas/ids/{schema_id}")
    refs = [(r.get("name"), r.get("subject")) for r in served.get("references") or ()]
    if refs != [("shop_common.proto", "shop_common.proto")]:
        raise AssertionError(f"schema {schema_id}: references {refs}, want shop_common.proto")
    bad = [b"\x01" + written[0].value[1:], h.wire_format(registry.unused_id(999999), b"\x00"),
           header + b"\x02\x02" + b"\x0a\x01x"]
    h.produce_raw(bootstrap, "orders-pb", bad)
    n_in += len(bad)
    expected = [dict(order_id=m["order_id"], customer_id=m["customer_id"],
                     doubled=m["total_amount"] * 2, sku=m["lines"][0]["sku"],
                     n_lines=len(m["lines"]), src="e2e", status=m["status"],
                     placed_at=base_ms + m["order_id"] * 1001, note=m.get("note"))
                for m in messages if m["total_amount"] > 100]

    job = "pb-e2e"
    d = _registry_daemon(ctx, registry, "pb.yaml", PROTOBUF_JOB, job)
    keyed = h.consume_avro(bootstrap, registry.url, "orders-pb-out", len(expected), timeout=60,
                           value_format="protobuf", key_format="protobuf")
    got = [k["value"] for k in keyed]
    wrong_keys = [k for k in keyed
                  if k["key"] != {"customer_id": k["value"]["customer_id"],
                                  "status": k["value"]["status"]}]
    if wrong_keys:
        raise AssertionError(f"{len(wrong_keys)} output keys are not the message of customer_id "
                             f"and status, as {wrong_keys[:3]}")
    for g in got:  # the proto3 JSON mapping: int64 as text, Timestamp in RFC 3339
        for k in ("order_id", "customer_id", "n_lines"):
            g[k] = int(g[k])
        g["doubled"] = float(g["doubled"])
        t = datetime.datetime.fromisoformat(g["placed_at"])
        g["placed_at"] = round(t.timestamp() * 1000)
        g.setdefault("note", None)
    check(h.multiset_equal(expected, got), "output values")
    latest = registry.request("GET", "/subjects/orders-pb-out-value/versions/latest")
    if latest.get("schemaType") != "PROTOBUF" or "message orders_pb_out {" not in latest["schema"]:
        raise AssertionError(f"orders-pb-out-value: {latest}")
    key_schema = registry.request("GET", "/subjects/orders-pb-out-key/versions/latest")
    if "message orders_pb_out_key {" not in key_schema.get("schema", ""):
        raise AssertionError(f"orders-pb-out-key: {key_schema}")
    dlq = h.read_raw(bootstrap, "orders-pb-dlq", idle=1, min_records=len(bad))
    if sorted(r.value for r in dlq) != sorted(bad):
        raise AssertionError(f"dead letters {[r.value[:8].hex() for r in dlq]}, want the three "
                             f"malformed records")
    reasons = [dict(r.headers).get("sluice.error.message", b"").decode() for r in dlq]
    if not any("field 'order_id' (int64) has wire type 2" in r for r in reasons):
        raise AssertionError(f"dead letter reasons {reasons}")
    state = settled(d, job, n_in)
    counted = check_counts(state, exact=True, records_in=n_in, records_out=len(expected))
    if state["counts"]["dead_lettered"] != len(bad):
        raise AssertionError(f"counts {state['counts']}: want dead_lettered {len(bad)}")
    stop_cleanly(d)
    form = "source" if "message" in served.get("schema", "") else "a base64 descriptor"
    return (f"{len(expected)} rows of writer schema {schema_id} (served as {form}, referring to "
            f"shop_common.proto) read, written "
            f"under schema {latest['id']} and parsed back; dead letters: {'; '.join(reasons)}; "
            f"{counted}")


# --------------------------------------------------------------------------------------------


CASES = {name[len("test_"):]: fn for name, fn in globals().items()
         if name.startswith("test_") and callable(fn)}


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sluice, workdir = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    names = argv[3:] or list(CASES)
    unknown = [n for n in names if n.removeprefix("test_") not in CASES]
    if unknown:
        print(f"unknown test(s) {unknown}; known: {', '.join(CASES)}", file=sys.stderr)
        return 2
    skip, why = (MOCK_ONLY, "needs `sluice broker` (E2E_BOOTSTRAP is set)") if BOOTSTRAP else \
        (REAL_ONLY, "needs a real broker (E2E_BOOTSTRAP)")
    named = [n for n in argv[3:] if n.removeprefix("test_") in skip]
    if named:
        print(f"{' '.join(named)}: {why}", file=sys.stderr)
        return 2
    names = [n for n in names if n.removeprefix("test_") not in skip]
    failed = []
    for name in names:
        name = name.removeprefix("test_")
        ctx = Ctx(sluice, workdir, name)
        start = time.monotonic()
        try:
            detail = CASES[name](ctx)
            print(f"PASS {name} ({time.monotonic() - start:.1f} s): {detail}", flush=True)
        except (AssertionError, h.HarnessError, subprocess.SubprocessError, OSError) as e:
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - start:.1f} s): {e}", flush=True)
        except Exception:  # a bug in the test itself: show where
            failed.append(name)
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        finally:
            ctx.cleanup()
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed"
          + (f": {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
