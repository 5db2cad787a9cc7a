#!/usr/bin/env python3
"""sluice beside Kafka Streams and Flink SQL on one real Apache Kafka broker (perf/peers/README.md).

For each scenario (S0, S2, S3a) the input is preloaded once (N records, JSON, P partitions) and
every system then runs on it from a cold start, one after another: the process is started, the
output topic's end offsets are watched until the expected output is there and nothing more comes
for a quiet period, then the process is stopped. Reported per system:

- wall seconds: process start to the output's last broker append time (the output topics use
  message.timestamp.type=LogAppendTime), so JVM start, group join and JIT are included;
- CPU seconds of the processor's process (utime + stime from /proc, the JVM's JIT and GC threads
  included; the broker excluded and reported on its own);
- peak RSS (VmHWM);
- the output checked against the arithmetic truth of the generator (so equal across systems).

Then the latency runs (S0 and S2): each system is started on an empty input topic and warmed up,
`sluice gen --rate R` produces for D seconds, and after the run the output is read back: latency is
the output record's broker append time minus the input record's (both topics use
LogAppendTime, so the input producer's batching is not counted), for records produced after the first W seconds (warm-up excluded).

Every wait is bounded; processes are stopped by their own PID. Loopback only.
"""

import argparse
import collections
import datetime
import functools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_TIME = 1700000000000
TICK = os.sysconf("SC_CLK_TCK")

SCENARIOS = {
    "S0": {"key": None, "table": "orders"},
    "S2": {"key": "symbol", "table": "market_data"},
    "S3a": {"key": "trader_id", "table": "market_data"},
}
ALL_SYSTEMS = ["sluice", "kafka-streams", "flink-sql"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# The truth: what each scenario's output must hold, computed from the generator's formulas.


def s0_truth(i):
    return (i, i % 1000, "2024-01-15", 150 + i % 100)


@functools.lru_cache(maxsize=4)
def s2_final(n):
    """symbol -> (count, avg, min, max, sum_quantity) after all n records."""
    acc = {}
    for k in range(min(n, 200)):
        idx = range(k, n, 200)
        prices = [100 + i % 100 for i in idx]
        acc[f"SYM{k}"] = (len(prices), sum(prices) / len(prices), min(prices), max(prices),
                          sum(i % 1000 for i in idx))
    return acc


@functools.lru_cache(maxsize=4)
def s3a_windows(n):
    """(trader, symbol, window_start_ms) -> (count, avg, sum_q, sum_pq) for every window."""
    acc = {}
    for i in range(n):
        t = BASE_TIME + i * 1000
        key = (f"TRADER{i % 20}", f"SYM{i % 10}", t - t % 60000)
        price, q = 100 + i % 50, 100 + i % 1000
        c, sp, sq, spq = acc.get(key, (0, 0, 0, 0))
        acc[key] = (c + 1, sp + price, sq + q, spq + price * q)
    return {k: (c, sp / c, sq, spq) for k, (c, sp, sq, spq) in acc.items()}


def near(a, b):
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def epoch_ms(v):
    """window_start as epoch ms: a number, or an ISO-8601 UTC text ('2023-11-14T22:13:00.000Z')."""
    if isinstance(v, (int, float)):
        return int(v)
    dt = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return int(dt.timestamp() * 1000)


def check_output(scenario, n, records):
    """records: [(partition, offset, append_ms, value_bytes)] in offset order per partition.
    Returns (ok, summary text)."""
    bad = 0
    first_bad = None

    def wrong(what):
        nonlocal bad, first_bad
        bad += 1
        if first_bad is None:
            first_bad = what

    rows = []
    for rec in records:
        try:
            rows.append(json.loads(rec[3]))
        except (ValueError, TypeError):
            wrong(f"not JSON: {rec[3][:80]!r}")
    if scenario == "S0":
        seen = collections.Counter()
        for r in rows:
            i = r.get("order_id")
            if not isinstance(i, int) or not 0 <= i < n:
                wrong(f"order_id {i!r}")
                continue
            seen[i] += 1
            t = s0_truth(i)
            got = (r.get("order_id"), r.get("customer_id"), r.get("order_date"))
            if got != t[:3] or not near(r.get("total_amount", "nan"), t[3]):
                wrong(f"row {r}")
        missing = n - len(seen)
        dups = sum(c - 1 for c in seen.values())
        ok = bad == 0 and missing == 0
        return ok, f"{len(rows)} rows, {missing} missing, {dups} duplicates, {bad} wrong" + (
            f" (first: {first_bad})" if first_bad else "")
    if scenario == "S2":
        final = {}
        for r in rows:  # per key, output order is update order (keyed by symbol)
            final[r.get("symbol")] = r
        truth = s2_final(n)
        for sym, (c, avg, lo, hi, sq) in truth.items():
            r = final.get(sym)
            if r is None:
                wrong(f"no row for {sym}")
                continue
            try:
                ok_row = (r["COUNT(*)"] == c and near(r["AVG(price)"], avg) and
                          near(r["MIN(price)"], lo) and near(r["MAX(price)"], hi) and
                          r["SUM(quantity)"] == sq)
            except (KeyError, TypeError):
                ok_row = False
            if not ok_row:
                wrong(f"{sym}: got {r}, want count {c} avg {avg} min {lo} max {hi} sum {sq}")
        extra = len(set(final) - set(truth))
        ok = bad == 0 and extra == 0 and len(rows) == n
        return ok, (f"{len(rows)} updates (want {n}), final value of {len(truth) - bad}/{len(truth)}"
                    f" symbols right" + (f" (first wrong: {first_bad})" if first_bad else ""))
    # S3a: every emitted window right, none twice; the newest windows may still be open.
    truth = s3a_windows(n)
    seen = collections.Counter()
    for r in rows:
        try:
            key = (r["trader_id"], r["symbol"], epoch_ms(r["window_start"]))
        except (KeyError, TypeError, ValueError):
            wrong(f"row {r}")
            continue
        seen[key] += 1
        t = truth.get(key)
        try:
            ok_row = t is not None and (r["COUNT(*)"] == t[0] and near(r["AVG(price)"], t[1]) and
                                        r["SUM(quantity)"] == t[2] and
                                        near(r["SUM(price * quantity)"], t[3]))
        except (KeyError, TypeError):
            ok_row = False
        if not ok_row:
            wrong(f"{key}: got {r}, want {t}")
    last_window = max(k[2] for k in truth)
    # Windows every system must have closed: all but the last two minutes of event time (each
    # partition's watermark is its newest record; Flink's is the minimum over partitions).
    must = {k for k in truth if k[2] < last_window - 60000}
    missing = len(must - set(seen))
    dups = sum(c - 1 for c in seen.values())
    ok = bad == 0 and missing == 0 and dups == 0
    return ok, (f"{len(rows)} windows of {len(truth)} ({len(truth) - len(seen)} still open), "
                f"{missing} missing, {dups} duplicates, {bad} wrong" +
                (f" (first: {first_bad})" if first_bad else ""))


def min_expected(scenario, n):
    if scenario in ("S0", "S2"):
        return n
    truth = s3a_windows(n)
    last_window = max(k[2] for k in truth)
    return sum(1 for k in truth if k[2] < last_window - 60000)


# ------------------------------------------------------------------------------------------
# Kafka


class Kafka:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})

    def create(self, topic, partitions, config=None):
        fs = self.admin.create_topics(
            [NewTopic(topic, partitions, replication_factor=1, config=config or {})])
        for f in fs.values():
            f.result(timeout=30)

    def delete(self, topics):
        if not topics:
            return
        for f in self.admin.delete_topics(list(topics), operation_timeout=30).values():
            try:
                f.result(timeout=30)
            except Exception as e:  # noqa: BLE001 - a topic that is gone already is fine
                log(f"  (delete: {e})")

    def end_offsets(self, consumer, topic, partitions):
        total = 0
        for p in range(partitions):
            _, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += hi
        return total

    def read(self, topic, partitions, expect, timeout=180.0):
        """Every record of the topic: [(partition, offset, timestamp_ms, value, key)]."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-reader",
                      "enable.auto.commit": False, "enable.partition.eof": True})
        try:
            ends = {}
            for p in range(partitions):
                ends[p] = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
            out = []
            done = {p for p, e in ends.items() if e == 0}
            deadline = time.monotonic() + timeout
            while len(done) < partitions and time.monotonic() < deadline:
                for m in c.consume(num_messages=10000, timeout=0.5):
                    if m.error():
                        if m.error().code() == -191:  # _PARTITION_EOF
                            if m.offset() >= ends[m.partition()]:
                                done.add(m.partition())
                            continue
                        raise RuntimeError(f"reading {topic}: {m.error()}")
                    out.append((m.partition(), m.offset(), m.timestamp()[1], m.value(), m.key()))
                    if m.offset() + 1 >= ends[m.partition()]:
                        done.add(m.partition())
            if len(done) < partitions:
                raise RuntimeError(f"reading {topic}: {len(out)} of {expect} records in {timeout} s")
            return out
        finally:
            c.close()


# ------------------------------------------------------------------------------------------
# Processes


def proc_cpu(pid):
    """utime + stime of a process, in seconds (threads included, children not)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class System:
    """How to start one system on (scenario, input topic, output topic)."""

    def __init__(self, name, args, workdir):
        self.name = name
        self.args = args
        self.workdir = workdir

    def command(self, scenario, bootstrap, topic_in, topic_out, group):
        a = self.args
        if self.name == "sluice":
            return self._sluice(scenario, bootstrap, topic_in, topic_out, group)
        script = os.path.join(ROOT, "perf", "peers", self.name, "run.sh")
        cmd = [script, os.path.join(a.cache, self.name), "--bootstrap", bootstrap,
               "--scenario", scenario, "--input", topic_in, "--output", topic_out]
        if self.name == "kafka-streams":
            cmd += ["--app-id", group, "--threads", str(a.threads),
                    "--state-dir", os.path.join(self.workdir, group)]
        else:
            cmd += ["--group", group, "--parallelism", str(a.threads)]
        return cmd

    def _sluice(self, scenario, bootstrap, topic_in, topic_out, group):
        a = self.args
        d = os.path.join(self.workdir, group)
        jobs = os.path.join(d, "jobs")
        os.makedirs(jobs, exist_ok=True)
        job = subprocess.run([a.sluice, "gen", "--scenario", scenario, "--print-job",
                              "--topic", topic_in], check=True, capture_output=True,
                             text=True).stdout
        out_default = f"{scenario.lower()}-out"
        job = job.replace(f"topic: {out_default}\n", f"topic: {topic_out}\n")
        job = job.replace(f"name: {scenario.lower()}\n", f"name: {group}\n", 1)
        if scenario == "S3a":  # the window's start, to check each window (as the peers write it)
            job = job.replace("SUM(price * quantity) FROM",
                              "SUM(price * quantity), _window_start AS window_start FROM")
        for prop in a.sluice_property:  # the job's own librdkafka properties (tuning)
            name, _, value = prop.partition("=")
            job = job.replace("kafka:\n", f"kafka:\n  {name}: '{value}'\n", 1)
        with open(os.path.join(jobs, "job.yaml"), "w") as f:
            f.write(job)
        with open(os.path.join(d, "sluice.yaml"), "w") as f:
            f.write(f"kafka:\n  bootstrap.servers: {bootstrap}\njobs_dir: jobs\n"
                    f"http:\n  listen: 127.0.0.1:{free_port()}\nthreads: {a.threads}\n"
                    f"state_dir: state\n")
        return [a.sluice, "serve", "--config", os.path.join(d, "sluice.yaml")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_to_end(kafka, system, scenario, topic_in, n, partitions, args, broker_pids):
    """One cold run of `system` over the preloaded `topic_in`. Returns a result dict."""
    group = f"bench-{system.name}-{scenario.lower()}-{uuid.uuid4().hex[:8]}"
    topic_out = f"{group}-out"
    kafka.create(topic_out, partitions, {"message.timestamp.type": "LogAppendTime"})
    want = min_expected(scenario, n)
    cmd = system.command(scenario, kafka.bootstrap, topic_in, topic_out, group)
    logf = open(os.path.join(system.workdir, f"{group}.log"), "w")
    broker_cpu0 = sum(proc_cpu(p) for p in broker_pids)
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    watcher = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "bench-watch"})
    result = {"system": system.name, "scenario": scenario, "n": n, "partitions": partitions}
    try:
        last_count, last_change, cpu, hwm = -1, time.monotonic(), 0.0, 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            time.sleep(0.25)
            if proc.poll() is not None:
                raise RuntimeError(f"{system.name} exited with {proc.returncode} (log: {logf.name})")
            count = kafka.end_offsets(watcher, topic_out, partitions)
            if count != last_count:
                last_count, last_change = count, time.monotonic()
                cpu, hwm = proc_cpu(proc.pid), proc_hwm_kb(proc.pid)
            if count >= want and time.monotonic() - last_change >= args.quiet:
                break
        else:
            raise RuntimeError(f"{system.name}: {last_count} of {want} outputs after {args.timeout} s"
                               f" (log: {logf.name})")
        hwm = max(hwm, proc_hwm_kb(proc.pid))
        broker_cpu = sum(proc_cpu(p) for p in broker_pids) - broker_cpu0
    finally:
        watcher.close()
        stop(proc)
        logf.close()
    records = kafka.read(topic_out, partitions, last_count)
    end_ms = max(r[2] for r in records)
    ok, summary = check_output(scenario, n, sorted(records, key=lambda r: (r[0], r[1])))
    wall = end_ms / 1000.0 - t0
    result.update({"wall_seconds": round(wall, 3), "records_per_wall_second": round(n / wall),
                   "cpu_seconds": round(cpu, 2), "records_per_cpu_second": round(n / cpu),
                   "peak_rss_mib": round(hwm / 1024), "outputs": len(records),
                   "broker_cpu_seconds": round(broker_cpu, 2), "output_ok": ok,
                   "output_check": summary})
    kafka.delete([topic_out])
    return result


def latency_run(kafka, system, scenario, args, partitions, broker_pids):
    """p50/p99 end to end at a fixed input rate; see the module docstring."""
    group = f"lat-{system.name}-{scenario.lower()}-{uuid.uuid4().hex[:8]}"
    topic_in, topic_out = f"{group}-in", f"{group}-out"
    # Both topics stamp records with their broker append time: the latency is the processor's
    # (fetch, process, produce, append), not the input producer's batching.
    for topic in (topic_in, topic_out):
        kafka.create(topic, partitions, {"message.timestamp.type": "LogAppendTime"})
    cmd = system.command(scenario, kafka.bootstrap, topic_in, topic_out, group)
    logf = open(os.path.join(system.workdir, f"{group}.log"), "w")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    total = args.rate * args.duration
    watcher = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "bench-watch"})
    result = {"system": system.name, "scenario": scenario, "rate": args.rate,
              "seconds": args.duration}
    try:
        # Warm-up: a first record (index 0) must come out before the timed input starts, so the
        # group join and the first compile are not in the latencies.
        gen(args, kafka.bootstrap, scenario, topic_in, 1, first=0)
        deadline = time.monotonic() + args.timeout
        while kafka.end_offsets(watcher, topic_out, partitions) < 1:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{system.name}: no output for the warm-up record "
                                   f"(log: {logf.name})")
            time.sleep(0.25)
        cpu0 = proc_cpu(proc.pid)
        bcpu0 = sum(proc_cpu(p) for p in broker_pids)
        start_ms = time.time() * 1000 + args.warmup * 1000  # latencies counted from here on
        gen(args, kafka.bootstrap, scenario, topic_in, total, first=1, rate=args.rate)
        want = min_expected(scenario, total + 1)
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline + args.duration:
            count = kafka.end_offsets(watcher, topic_out, partitions)
            if count != last:
                last, last_change = count, time.monotonic()
            if count >= want and time.monotonic() - last_change >= args.quiet:
                break
            time.sleep(0.25)
        else:
            raise RuntimeError(f"{system.name}: {last} of {want} outputs (log: {logf.name})")
        result["cpu_seconds"] = round(proc_cpu(proc.pid) - cpu0, 2)
        result["broker_cpu_seconds"] = round(sum(proc_cpu(p) for p in broker_pids) - bcpu0, 2)
    finally:
        watcher.close()
        stop(proc)
        logf.close()
    inputs = kafka.read(topic_in, partitions, total + 1)
    outputs = kafka.read(topic_out, partitions, total + 1)
    input_ts = {}
    per_symbol = collections.Counter()
    for _, _, ts, value, _ in sorted(inputs, key=lambda r: (r[0], r[1])):
        r = json.loads(value)
        if scenario == "S0":
            input_ts[r["order_id"]] = ts
        else:  # S2: a symbol's c-th record (its partition keeps the order) makes COUNT(*) = c
            per_symbol[r["symbol"]] += 1
            input_ts[(r["symbol"], per_symbol[r["symbol"]])] = ts
    lat = []
    for _, _, ts, value, _ in outputs:
        r = json.loads(value)
        i = identity_of_output(scenario, r)
        t_in = input_ts.get(i)
        if t_in is not None and t_in >= start_ms:
            lat.append(ts - t_in)
    lat.sort()
    if not lat:
        raise RuntimeError(f"{system.name}: no output matched an input")

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]

    result.update({"samples": len(lat), "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": lat[-1]})
    kafka.delete([topic_in, topic_out])
    return result


def identity_of_output(scenario, r):
    """The input record an output row was produced for: S0 carries order_id; S2's row with
    COUNT(*) = c is its symbol's c-th record."""
    if scenario == "S0":
        return r["order_id"]
    return (r["symbol"], r["COUNT(*)"])


def gen(args, bootstrap, scenario, topic, n, first=0, rate=0):
    cmd = [args.sluice, "gen", "--scenario", scenario, "--records", str(n), "--first", str(first),
           "--bootstrap", bootstrap, "--topic", topic]
    if rate:
        cmd += ["--rate", str(rate)]
    else:
        cmd += ["--property", "compression.type=lz4"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=600)


# ------------------------------------------------------------------------------------------


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    java = java.splitlines()[0] if java else "?"
    return (f"{os.cpu_count()} vCPU {cpu}, {mem} GiB, {platform.system()} "
            f"{platform.release()}, {java}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--broker-pids", default="", help="broker PIDs (comma-separated) for its CPU")
    ap.add_argument("--sluice", default=os.path.join(ROOT, "build", "release", "sluice"))
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/sluice/peers"))
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    ap.add_argument("--scenarios", default="S0,S2,S3a")
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2,
                    help="sluice io threads, Kafka Streams stream threads, Flink parallelism")
    ap.add_argument("--latency-scenarios", default="S0,S2")
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--quiet", type=float, default=3.0,
                    help="seconds without new output that end a run")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--sluice-property", action="append", default=[], metavar="NAME=VALUE",
                    help="a librdkafka property for sluice's job (repeatable), e.g. linger.ms=1")
    ap.add_argument("--json", help="also write the results here (one JSON object per line)")
    args = ap.parse_args()

    kafka = Kafka(args.bootstrap)
    broker_pids = [int(p) for p in args.broker_pids.split(",") if p]
    workdir = tempfile.mkdtemp(prefix="bench-peers-")
    systems = [System(s, args, workdir) for s in args.systems.split(",") if s]
    results = []
    log(f"machine: {machine()}")
    log(f"work dir (logs): {workdir}")
    try:
        for scenario in [s for s in args.scenarios.split(",") if s]:
            topic_in = f"peers-{scenario.lower()}-in-{uuid.uuid4().hex[:8]}"
            kafka.create(topic_in, args.partitions)
            log(f"{scenario}: preloading {args.records} records into {topic_in} "
                f"({args.partitions} partitions, lz4)")
            gen(args, args.bootstrap, scenario, topic_in, args.records)
            for system in systems:
                log(f"{scenario}: {system.name} ...")
                r = run_to_end(kafka, system, scenario, topic_in, args.records, args.partitions,
                               args, broker_pids)
                log(f"  {json.dumps(r)}")
                results.append(r)
            kafka.delete([topic_in])
        for scenario in [s for s in args.latency_scenarios.split(",") if s]:
            for system in systems:
                log(f"{scenario} latency at {args.rate}/s for {args.duration} s: {system.name} ...")
                r = latency_run(kafka, system, scenario, args, args.partitions, broker_pids)
                r["kind"] = "latency"
                log(f"  {json.dumps(r)}")
                results.append(r)
    finally:
        if args.json:
            with open(args.json, "w") as f:
                for r in results:
                    f.write(json.dumps(r) + "\n")
    print_table(results)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.get("output_ok", True) for r in results) else 1


def print_table(results):
    print(f"machine: {machine()}")
    print(f"date: {datetime.date.today().isoformat()}")
    print("| scenario | system | wall s | records/s (wall) | CPU s | records/CPU-s | peak RSS MiB |"
          " broker CPU s | output |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        if r.get("kind") == "latency":
            continue
        print(f"| {r['scenario']} | {r['system']} | {r['wall_seconds']:.1f} | "
              f"{r['records_per_wall_second']:,} | {r['cpu_seconds']:.1f} | "
              f"{r['records_per_cpu_second']:,} | {r['peak_rss_mib']} | "
              f"{r['broker_cpu_seconds']:.1f} | {'ok' if r['output_ok'] else 'WRONG'}: "
              f"{r['output_check']} |")
    lat = [r for r in results if r.get("kind") == "latency"]
    if lat:
        print()
        print("| scenario | system | rate/s | p50 ms | p99 ms | max ms | CPU s | broker CPU s |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in lat:
            print(f"| {r['scenario']} | {r['system']} | {r['rate']:,} | {r['p50_ms']} | "
                  f"{r['p99_ms']} | {r['max_ms']} | {r['cpu_seconds']:.1f} | "
                  f"{r['broker_cpu_seconds']:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
