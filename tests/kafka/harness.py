"""End-to-end test harness: drives `sluice broker`, `sluice serve` and `sluice run` as processes,
with Debian's kafka-python (`python3-kafka`, importable from /usr/bin/python3 only) as the
independent Kafka client.

Everything is bounded: every wait has a timeout, every process is stopped by its own PID (SIGTERM,
then SIGKILL after the timeout). Network only on 127.0.0.1 (the broker and the daemons' admin API
listen there).

The daemon's log lines the tests look for are in LOG_PATTERNS, the one place to adjust them.
"""

import collections
import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError

# One log line per event on the daemon's stderr. `{job}` and `{topic}` are filled in (escaped)
# by log_regex(); the `assigned` pattern captures the partition list "0,1,2".
LOG_PATTERNS = {
    "started": r"job {job}: started",
    "assigned": r"job {job}: assigned {topic} \[([0-9, ]*)\]",
    "revoked": r"job {job}: revoked",
    "stopped": r"job {job}: stopped",
    "invalid": r"job {job}: invalid:",
    "failed": r"job {job}: failed:",
}


def log_regex(event, job, topic=r"\S+"):
    """The regex for `event` (a LOG_PATTERNS key) of job `job`; `topic` is a literal name."""
    if topic != r"\S+":
        topic = re.escape(topic)
    return LOG_PATTERNS[event].format(job=re.escape(job), topic=topic)


def parse_partitions(text):
    """"0,1, 2" -> [0, 1, 2]."""
    return sorted(int(p) for p in re.split(r"[,\s]+", text.strip()) if p)


class HarnessError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Processes


class _LineReader:
    """Reads lines from a pipe with a timeout (select + os.read, no blocking readline)."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""
        self.eof = False

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                raise HarnessError("unexpected end of output")
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(f"no line within {timeout} s")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    self.eof = True
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def _stop_process(proc, timeout):
    """SIGTERM to proc's PID, wait up to `timeout` s, then SIGKILL. Returns (exit code, timed_out)."""
    if proc.poll() is not None:
        return proc.returncode, False
    os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout), False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10), True


class Broker:
    """`sluice broker --control stdin`: start(), control(cmd), stop()."""

    def __init__(self, sluice, workdir, brokers=1, topics=()):
        self.sluice = sluice
        self.log_path = os.path.join(workdir, "broker.log")
        self.brokers = brokers
        self.topics = list(topics)
        self.proc = None
        self.bootstrap = None
        self._out = None

    def start(self, timeout=15):
        args = [self.sluice, "broker", "--brokers", str(self.brokers), "--control", "stdin"]
        for name, partitions in self.topics:
            args += ["--topic", f"{name}:{partitions}"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log)
        self._out = _LineReader(self.proc.stdout.fileno())
        line = self._out.readline(timeout)
        m = re.fullmatch(r"bootstrap: (\S+)", line)
        if not m:
            self.stop()
            raise HarnessError(f"broker's first line is {line!r}")
        self.bootstrap = m.group(1)
        return self.bootstrap

    def control(self, command, check=True, timeout=15):
        """Sends one control command; returns its answer line ("ok" or "error: ...")."""
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()
        answer = self._out.readline(timeout)
        if check and answer != "ok":
            raise HarnessError(f"broker control '{command}': {answer}")
        return answer

    def create_topic(self, name, partitions):
        self.control(f"create {name} {partitions}")

    def stop(self, timeout=15):
        """SIGTERM; returns the exit code (stdin stays open on purpose: EOF must not matter)."""
        if self.proc is None:
            return None
        code, timed_out = _stop_process(self.proc, timeout)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if timed_out:
            raise HarnessError(f"broker did not exit within {timeout} s of SIGTERM")
        return code

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class ExternalBroker:
    """A real Kafka cluster the test run started (`scripts/kafka.sh start`), shared by the cases of
    one run: reset() deletes the consumer groups and topics an earlier case left, so every case
    starts from an empty cluster. Topics get the cluster's default replication. No fault
    injection: control() raises; with the cluster's directory (`cluster_dir`), kill(node) and
    restart(node) stop a node with SIGKILL and start it again (`kafka.sh kill/restart`)."""

    def __init__(self, bootstrap, cluster_dir=None, kafka_sh=None):
        self.bootstrap = bootstrap
        self.cluster_dir = cluster_dir
        self.kafka_sh = kafka_sh

    def _kafka_sh(self, *args):
        if not self.cluster_dir:
            raise HarnessError("no cluster directory: the cluster was given as a bootstrap list")
        r = subprocess.run(["bash", self.kafka_sh, *args], capture_output=True, text=True,
                           timeout=150)
        if r.returncode != 0:
            raise HarnessError(f"kafka.sh {' '.join(args)}: {r.stderr.strip()[-1000:]}")

    def kill(self, node):
        self._kafka_sh("kill", self.cluster_dir, str(node))

    def restart(self, node):
        self._kafka_sh("restart", self.cluster_dir, str(node))

    def leader(self, topic, partition, timeout=30.0):
        """The node id leading `topic`/`partition` (fresh metadata, retried while there is
        none)."""
        deadline = time.monotonic() + timeout
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        try:
            while True:
                if consumer.partitions_for_topic(topic):
                    future = consumer._client.cluster.request_update()
                    consumer._client.poll(future=future, timeout_ms=5000)
                    leader = consumer._client.cluster.leader_for_partition(
                        TopicPartition(topic, partition))
                    if leader is not None and leader >= 0:
                        return leader
                if time.monotonic() > deadline:
                    raise HarnessError(f"no leader for {topic}/{partition} within {timeout} s")
                time.sleep(0.5)
        finally:
            consumer.close()

    def _admin(self):
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=15000)

    def start(self, timeout=15):
        return self.bootstrap

    def control(self, command, check=True, timeout=15):
        raise HarnessError(f"broker control '{command}': only `sluice broker` injects faults")

    def reset(self, timeout=60.0):
        """Deletes every consumer group (a killed member holds its group until its session times
        out: retried until `timeout`) and every topic but the broker's own (`__...`)."""
        deadline = time.monotonic() + timeout
        admin = self._admin()
        try:
            while True:
                groups = [g for g, _ in admin.list_consumer_groups()]
                if not groups:
                    break
                errors = [(g, e) for g, e in admin.delete_consumer_groups(groups)
                          if e.__name__ != "NoError"]
                if not errors:
                    break
                if time.monotonic() > deadline:
                    raise HarnessError(f"cannot delete consumer groups: {errors}")
                time.sleep(0.5)
            topics = [t for t in admin.list_topics() if not t.startswith("__")]
            if topics:
                admin.delete_topics(topics, timeout_ms=15000)
            while set(topics) & set(admin.list_topics()):
                if time.monotonic() > deadline:
                    raise HarnessError(f"topics {topics} still listed {timeout} s after deletion")
                time.sleep(0.2)
        finally:
            admin.close()

    def create_topic(self, name, partitions, timeout=30.0, configs=None):
        """Creates the topic (retried while a deleted topic of that name is still going away),
        with topic `configs` ({name: value}) when given."""
        deadline = time.monotonic() + timeout
        admin = self._admin()
        try:
            replicas = min(3, len(admin.describe_cluster()["brokers"]))
            while True:
                try:
                    admin.create_topics([NewTopic(name, partitions, replicas,
                                                  topic_configs=configs or {})],
                                        timeout_ms=15000)
                    return
                except KafkaError as e:
                    if time.monotonic() > deadline:
                        raise HarnessError(f"creating topic {name}: {e}") from e
                    time.sleep(0.3)
        finally:
            admin.close()


    def set_topic_config(self, name, configs):
        """Changes topic configs ({name: value}) of an existing topic."""
        admin = self._admin()
        try:
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=configs)])
        finally:
            admin.close()
    def partitions(self, topic):
        """The number of partitions of `topic` (0: no such topic)."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        try:
            return len(consumer.partitions_for_topic(topic) or ())
        finally:
            consumer.close()

    def topic_config(self, topic, name):
        """The value of topic config `name` of `topic` (None: not set or no such topic)."""
        from kafka.admin import ConfigResource, ConfigResourceType
        admin = self._admin()
        try:
            for res in admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]):
                for t in res.resources:
                    for entry in t[4]:
                        if entry[0] == name:
                            return entry[1]
            return None
        finally:
            admin.close()

    def stop(self, timeout=15):
        return None


class Daemon:
    """`sluice serve --config FILE` with stderr to a log file; `http_port` is its admin API's port
    on 127.0.0.1 (the config's `http.listen`), for job()."""

    def __init__(self, sluice, config_path, log_path, args=(), http_port=None):
        self.sluice = sluice
        self.config_path = config_path
        self.log_path = log_path
        self.args = list(args)
        self.http_port = http_port
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.sluice, "serve", "--config", self.config_path, *self.args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM, wait; returns the exit code (-9 when it had to be killed)."""
        if self.proc is None:
            return None
        code, timed_out = _stop_process(self.proc, timeout)
        return -9 if timed_out else code

    def kill(self):
        """SIGKILL (a crash: nothing drains, nothing is committed); returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)

    @contextlib.contextmanager
    def frozen(self):
        """SIGSTOP for the `with` block, then SIGCONT (a daemon frozen past its group session, as
        by a stalled VM); resumed however the block ends."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield self
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_size(self):
        return len(self.log())

    def wait_for_log(self, regex, timeout=30, since=0):
        """Waits until a line matching `regex` appears after character offset `since`; returns the
        match. Raises HarnessError on timeout or if the daemon exits first."""
        deadline = time.monotonic() + timeout
        pattern = re.compile(regex)
        while True:
            text = self.log()[since:]
            for line in text.splitlines():
                m = pattern.search(line)
                if m:
                    return m
            if not self.alive():
                raise HarnessError(f"daemon exited ({self.proc.returncode}) before /{regex}/; "
                                   f"log tail:\n{tail(text)}")
            if time.monotonic() > deadline:
                raise HarnessError(f"no /{regex}/ in the daemon log within {timeout} s; "
                                   f"log tail:\n{tail(text)}")
            time.sleep(0.1)

    def job(self, name, timeout=5.0):
        """`GET /jobs/<name>` of this daemon's admin API, as parsed JSON."""
        if self.http_port is None:
            raise HarnessError("the daemon's admin port is not known")
        return get_job(self.http_port, name, timeout=timeout)

    def settled_job(self, name, until=None, want="", timeout=20.0):
        """The job's JSON once its counts have settled: no output in flight in any partition, the
        counts unchanged over two reads 0.2 s apart, and `until(job)` true when given (`want` says
        what it waits for). Raises HarnessError with the last answer after `timeout` s, or if the
        daemon exits."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if not self.alive():
                raise HarnessError(f"daemon exited ({self.proc.returncode}) before job {name}'s "
                                   f"counts settled; log tail:\n{tail(self.log())}")
            job = self.job(name)
            in_flight = sum(p["in_flight"] for p in job["partitions"])
            if (in_flight == 0 and last is not None and job["counts"] == last["counts"]
                    and (until is None or until(job))):
                return job
            if time.monotonic() > deadline:
                raise HarnessError(f"job {name}'s counts did not settle{want} within {timeout} s "
                                   f"({in_flight} in flight): {job['counts']}")
            last = job if in_flight == 0 else None
            time.sleep(0.2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# Requests to the admin API go straight to 127.0.0.1, never through a proxy from the environment.
_ADMIN = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_job(port, name, timeout=5.0):
    """`GET http://127.0.0.1:<port>/jobs/<name>` (the Host header names 127.0.0.1:<port>, which a
    daemon on loopback accepts); returns the parsed JSON, or raises HarnessError."""
    url = f"http://127.0.0.1:{int(port)}/jobs/{urllib.parse.quote(name, safe='')}"
    try:
        with _ADMIN.open(url, timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError) as e:  # urllib's errors are OSErrors; bad JSON a ValueError
        raise HarnessError(f"GET {url}: {e}") from e


def tail(text, lines=15):
    return "\n".join(text.splitlines()[-lines:])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_server_config(path, bootstrap, jobs_dir, threads=2, http_port=None, state_dir=None,
                        extra=""):
    """Writes a `sluice serve` config (YAML; `extra`: more top-level lines) and returns its
    path."""
    http_port = http_port or free_port()
    state_dir = state_dir or os.path.join(os.path.dirname(path), "state")
    os.makedirs(jobs_dir, exist_ok=True)
    with open(path, "w") as f:
        f.write(f"kafka:\n  bootstrap.servers: {bootstrap}\n"
                f"jobs_dir: {jobs_dir}\n"
                f"http:\n  listen: 127.0.0.1:{http_port}\n"
                f"threads: {threads}\n"
                f"state_dir: {state_dir}\n" + extra)
    return path


def run_job(sluice, job_path, timeout=120):
    """`sluice run JOB`; raises HarnessError unless it exits 0."""
    r = subprocess.run([sluice, "run", job_path], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise HarnessError(f"sluice run {job_path} exited {r.returncode}: {r.stderr.strip()}")
    return r


# --------------------------------------------------------------------------------------------
# Kafka client side (kafka-python)


def produce_jsonl(bootstrap, topic, path, key_field=None, timeout=60, headers_of=None,
                  key_of=None):
    """Produces every line of a JSON Lines file to `topic` (value: the line as is; key: the JSON
    value of `key_field` as text, or `key_of(record)` (bytes), or none; headers:
    `headers_of(record)`, a list of (name, bytes), or none). acks=all, with batching. Returns the
    count."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20,
                             batch_size=64 * 1024, retries=20, retry_backoff_ms=200,
                             max_in_flight_requests_per_connection=1, request_timeout_ms=15000)
    count = 0
    futures = []
    try:
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if not line:
                    continue
                key = None
                if key_field is not None:
                    v = json.loads(line)[key_field]
                    key = (v if isinstance(v, str) else json.dumps(v)).encode()
                headers = headers_of(json.loads(line)) if headers_of else None
                if key_of is not None:
                    key = key_of(json.loads(line))
                futures.append(producer.send(topic, value=line, key=key, headers=headers))
                count += 1
        producer.flush(timeout=timeout)
        for fut in futures:
            fut.get(timeout=timeout)  # raises on a failed delivery
    finally:
        producer.close(timeout=10)
    return count


Record = collections.namedtuple("Record", "key value partition offset headers")


def committed_offsets(bootstrap, group, topic, partitions, timeout=20.0):
    """The offsets `group` has committed for partitions 0..n-1 of `topic` (None where it has none),
    read with an admin client (OffsetFetch; a KafkaConsumer in the group would delay the group's
    next join on the mock broker by seconds). kafka-python may retry without a deadline, so this
    runs on a thread that is given up on (HarnessError) after `timeout` s."""
    result = {}

    def fetch():
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            offsets = admin.list_consumer_group_offsets(
                group, partitions=[TopicPartition(topic, p) for p in range(partitions)])
            got = [offsets.get(TopicPartition(topic, p)) for p in range(partitions)]
            result["offsets"] = [o.offset if o is not None and o.offset >= 0 else None
                                 for o in got]
        except Exception as e:  # reported by the caller's thread
            result["error"] = e
        finally:
            admin.close()

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(timeout)
    if "offsets" not in result:
        raise HarnessError(f"committed offsets of group {group} on {topic}: "
                           f"{result.get('error', f'no answer within {timeout} s')}")
    return result["offsets"]


def consume_topic(bootstrap, topic, idle=3.0, max_seconds=60.0, min_records=0):
    """Reads `topic` from the beginning of every partition (no group, nothing committed) until no
    new record came for `idle` s and at least `min_records` were read, or `max_seconds` passed.
    Returns Records sorted by (partition, offset); value is the parsed JSON (or raw bytes when
    not JSON), key the decoded text or None."""
    return _read_topic(bootstrap, topic, idle, max_seconds, min_records,
                       lambda m: Record(_text(m.key), _json(m.value), m.partition, m.offset,
                                        list(m.headers or [])))


def _read_topic(bootstrap, topic, idle, max_seconds, min_records, make):
    """consume_topic's loop: `make(message)` for every kafka-python message."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    start = time.monotonic()
    records = []
    try:
        partitions = None
        while partitions is None:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                if time.monotonic() - start > max_seconds:
                    return []
                time.sleep(0.2)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        last_new = time.monotonic()
        while True:
            now = time.monotonic()
            if now - start > max_seconds:
                break
            if now - last_new > idle and len(records) >= min_records:
                break
            try:
                batch = consumer.poll(timeout_ms=200)
            except KafkaError:  # e.g. an error injected with `errors Fetch ...`: poll again
                time.sleep(0.2)
                continue
            for msgs in batch.values():
                for m in msgs:
                    records.append(make(m))
                    last_new = time.monotonic()
    finally:
        consumer.close()
    records.sort(key=lambda r: (r.partition, r.offset))
    return records


# --------------------------------------------------------------------------------------------
# Three independent readers of a topic, to compare what each sees: kafka-python (Debian),
# confluent-kafka (PyPI, its own librdkafka; confluent_read.py in the virtualenv of
# scripts/install-deps.sh) and the Java console consumer that ships with the Kafka broker.

RawRecord = collections.namedtuple(
    "RawRecord", "partition offset key value headers timestamp_type timestamp")
VENV_PYTHON = os.environ.get("SLUICE_VENV", os.path.expanduser("~/.cache/sluice/venv")) + \
    "/bin/python"
_HERE = os.path.dirname(os.path.abspath(__file__))


def read_raw(bootstrap, topic, idle=3.0, max_seconds=60.0, min_records=0):
    """kafka-python: RawRecords (key, value, header values as bytes) by (partition, offset); reads
    until no record came for `idle` s and at least `min_records` were read, or `max_seconds`."""
    kinds = {0: "CreateTime", 1: "LogAppendTime"}
    return _read_topic(bootstrap, topic, idle, max_seconds, min_records, lambda m: RawRecord(
        m.partition, m.offset, m.key, m.value, tuple((k, v) for k, v in (m.headers or [])),
        kinds.get(m.timestamp_type, "none"), m.timestamp))


def read_raw_confluent(bootstrap, topic, idle=3.0, max_seconds=60.0):
    """confluent-kafka, through confluent_read.py: the same RawRecords."""
    r = subprocess.run([VENV_PYTHON, os.path.join(_HERE, "confluent_read.py"), bootstrap, topic,
                        str(idle), str(max_seconds)], capture_output=True, text=True,
                       timeout=max_seconds + 30)
    if r.returncode != 0:
        raise HarnessError(f"confluent_read.py {topic} exited {r.returncode}: {r.stderr[-2000:]}")

    def unhex(v):
        return None if v is None else bytes.fromhex(v)

    out = []
    for line in r.stdout.splitlines():
        j = json.loads(line)
        out.append(RawRecord(j["partition"], j["offset"], unhex(j["key"]), unhex(j["value"]),
                             tuple((k, unhex(v)) for k, v in j["headers"]),
                             j["timestamp_type"], j["timestamp"]))
    return out


def read_raw_console(kafka_sh, bootstrap, topic, expected, timeout=90.0):
    """Kafka's console consumer (org.apache.kafka.tools.consumer.ConsoleConsumer, the broker's
    jars from `kafka.sh classpath`): the same RawRecords, read as UTF-8 text (keys, values and
    header values must be text). It stops after `expected` records or 5 s without one."""
    lib = subprocess.run(["bash", kafka_sh, "classpath"], capture_output=True, text=True,
                         timeout=300, check=True).stdout.strip()
    field, header, null = "\x1f", "\x1e", "\x1c"
    args = ["java", "-cp", f"{lib}/*", "-Dlog4j2.level=WARN",
            "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", bootstrap,
            "--topic", topic, "--from-beginning", "--timeout-ms", "5000",
            "--max-messages", str(expected)]
    for prop in ("print.key", "print.headers", "print.timestamp", "print.partition",
                 "print.offset"):
        args += ["--property", f"{prop}=true"]
    args += ["--property", f"key.separator={field}", "--property", f"headers.separator={header}",
             "--property", f"null.literal={null}"]
    r = subprocess.run(args, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise HarnessError(f"console consumer on {topic} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')[-2000:]}")

    def text(v):
        return None if v == null else v.encode()

    out = []
    for line in r.stdout.decode().split("\n"):
        if not line:
            continue
        ts, part, off, headers, key, value = line.split(field)
        kind, _, stamp = ts.partition(":")
        hs = () if headers == "NO_HEADERS" else tuple(
            (k, text(v)) for k, _, v in (h.partition(":") for h in headers.split(header)))
        out.append(RawRecord(int(part.split(":")[1]), int(off.split(":")[1]), text(key),
                             text(value), hs, kind, int(stamp)))
    out.sort(key=lambda r: (r.partition, r.offset))
    return out


def _text(b):
    return None if b is None else b.decode(errors="replace")


def _json(b):
    try:
        return json.loads(b)
    except (ValueError, TypeError):
        return b


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------------------------
# Comparison helpers: each returns (ok, reason); reason names the first differences.


def canon(row):
    return json.dumps(row, sort_keys=True, separators=(",", ":"))


def _diff_text(missing, extra, limit=3):
    parts = []
    if missing:
        parts.append(f"{sum(missing.values())} missing, e.g. {list(missing)[:limit]}")
    if extra:
        parts.append(f"{sum(extra.values())} unexpected, e.g. {list(extra)[:limit]}")
    return "; ".join(parts)


def multiset_equal(expected, actual):
    """Per-record outputs: the same rows, the same number of times, any order."""
    e = collections.Counter(canon(r) for r in expected)
    a = collections.Counter(canon(r) for r in actual)
    if e == a:
        return True, f"{len(actual)} rows equal"
    return False, _diff_text(e - a, a - e)


def multiset_superset(expected, actual):
    """At-least-once: every expected row is there (as often as expected); duplicates allowed,
    rows that are not expected at all are not."""
    e = collections.Counter(canon(r) for r in expected)
    a = collections.Counter(canon(r) for r in actual)
    missing = e - a
    unknown = collections.Counter({k: v for k, v in a.items() if k not in e})
    if not missing and not unknown:
        dups = sum((a - e).values())
        return True, f"{len(actual)} rows cover {len(expected)} expected ({dups} duplicates)"
    return False, _diff_text(missing, unknown)


def _key_of(row, key_cols):
    return tuple(json.dumps(row.get(c), sort_keys=True) for c in key_cols)


def changes_equal(expected, actual, key_cols, exact=True):
    """EMIT CHANGES aggregates: per key (of `key_cols`) the last row is equal (rows in output
    order), and the multiset of rows is equal (exact) or a superset (exact=False)."""
    ok, reason = (multiset_equal if exact else multiset_superset)(expected, actual)
    if not ok:
        return False, reason
    last_e = {_key_of(r, key_cols): canon(r) for r in expected}
    last_a = {_key_of(r, key_cols): canon(r) for r in actual}
    if last_e.keys() != last_a.keys():
        return False, f"keys differ: {sorted(set(last_e) ^ set(last_a))[:3]}"
    bad = [k for k in last_e if last_e[k] != last_a[k]]
    if bad:
        k = bad[0]
        return False, f"{len(bad)} keys end differently, e.g. {k}: want {last_e[k]} got {last_a[k]}"
    return True, f"{reason}; last row equal for {len(last_e)} keys"


def final_windows_equal(expected, actual, key_cols, window_cols=("_window_start", "_window_end"),
                        required=None):
    """EMIT FINAL windows: the rows, identified by (keys, window), are the same set and each row
    appears once. `required(row)` (optional) limits which expected rows must be present (e.g. only
    windows the watermark has closed); the actual rows must still all be expected ones."""
    cols = list(key_cols) + list(window_cols)
    exp = {_key_of(r, cols): canon(r) for r in expected}
    act = collections.Counter(_key_of(r, cols) for r in actual)
    act_rows = {_key_of(r, cols): canon(r) for r in actual}
    dup = [k for k, n in act.items() if n > 1]
    if dup:
        return False, f"{len(dup)} windows emitted more than once, e.g. {dup[0]}"
    extra = [k for k in act_rows if k not in exp]
    if extra:
        return False, f"{len(extra)} unexpected windows, e.g. {act_rows[extra[0]]}"
    wrong = [k for k in act_rows if act_rows[k] != exp[k]]
    if wrong:
        k = wrong[0]
        return False, f"{len(wrong)} windows differ, e.g. want {exp[k]} got {act_rows[k]}"
    need = [k for k, r in ((_key_of(r, cols), r) for r in expected) if required is None or
            required(r)]
    missing = [k for k in need if k not in act_rows]
    if missing:
        return False, f"{len(missing)} of {len(need)} windows missing, e.g. {exp[missing[0]]}"
    return True, f"{len(act_rows)} windows equal ({len(need)} required)"


# --------------------------------------------------------------------------------------------
# Avro records in the Schema Registry wire format: written and read by confluent_avro.py
# (confluent-kafka's AvroSerializer / AvroDeserializer, in the virtualenv of
# scripts/install-deps.sh), against the registry of scripts/schema-registry.sh.

SCHEMA_REGISTRY_SH = os.path.join(_HERE, "..", "..", "scripts", "schema-registry.sh")
_CONFLUENT_AVRO = os.path.join(_HERE, "confluent_avro.py")


def _confluent_avro(args, timeout):
    """Runs confluent_avro.py ARGS with the virtualenv's python; returns its stdout lines."""
    try:
        r = subprocess.run([VENV_PYTHON, _CONFLUENT_AVRO, *args], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"confluent_avro.py {args[0]}: no exit within {timeout} s") from e
    if r.returncode != 0:
        raise HarnessError(f"confluent_avro.py {' '.join(args[:4])} exited {r.returncode}: "
                           f"{r.stderr.strip()[-2000:]}")
    return r.stdout.splitlines()


def produce_avro(bootstrap, registry_url, topic, schema, path, key_field=None, timeout=90,
                 value_format="avro", key_schema=None, message=None):
    """Produces every JSON line of `path` to `topic` as one Avro record in the wire format, with
    `schema` (a dict, or the path of a .avsc file) registered under TOPIC-value (decimals given
    as strings, timestamps as epoch ms; confluent_avro.py's docstring). acks=all, every delivery
    checked. Returns (count, schema id). value_format "json": JSON Schema records instead, with
    `schema` a JSON Schema. key_schema: an Avro schema (JSON text) the key field is serialized
    with, registered under TOPIC-key. value_format "protobuf": `schema` is the path of a .proto
    file and `message` the value's message in it (confluent_avro.py --message)."""
    if not isinstance(schema, str):
        schema_path = f"{path}.avsc"
        with open(schema_path, "w") as f:
            json.dump(schema, f)
        schema = schema_path
    args = ["produce", bootstrap, registry_url, topic, schema, path, "--format", value_format]
    if key_field is not None:
        args += ["--key-field", key_field]
    if key_schema is not None:
        args += ["--key-schema", key_schema]
    if message is not None:
        args += ["--message", message]
    last = (_confluent_avro(args, timeout) or [""])[-1]
    m = re.fullmatch(r"produced (\d+) records with schema id (\d+|None)", last)
    if not m:
        raise HarnessError(f"confluent_avro.py produce printed {last!r}")
    return int(m.group(1)), None if m.group(2) == "None" else int(m.group(2))


def consume_avro(bootstrap, registry_url, topic, count, timeout=60.0, value_format="avro",
                 key_format=None):
    """Reads `count` records of `topic` from the beginning (read_committed) and deserializes them
    with the writer schemas their ids name; returns the values as dicts by (partition, offset):
    decimals as strings, timestamps as epoch ms, bytes as base64. HarnessError when fewer came
    within `timeout` s. value_format "json": JSON Schema values (validated), as they are;
    "protobuf": Protobuf values parsed with their writer schema, in the proto3 JSON mapping.
    key_format ("avro", "protobuf"): each is {"key": the key, deserialized, "value": the value}."""
    lines = _confluent_avro(["consume", bootstrap, registry_url, topic, str(count), "--timeout",
                             str(timeout), "--format", value_format]
                            + (["--key-format", key_format] if key_format else []), timeout + 30)
    return [json.loads(line) for line in lines]


def produce_raw(bootstrap, topic, values, timeout=60):
    """Produces each of `values` (bytes) as one record's value, exactly, without a key (acks=all,
    through confluent_avro.py raw-produce)."""
    _confluent_avro(["raw-produce", bootstrap, topic, *(v.hex() for v in values)], timeout)


def wire_format(schema_id, payload=b""):
    """A value in the Schema Registry wire format: magic byte 0, the 4-byte schema id, payload."""
    return b"\x00" + schema_id.to_bytes(4, "big") + payload


class SchemaRegistry:
    """A Confluent-compatible schema registry: `SchemaRegistry.start(dir)` starts one with
    scripts/schema-registry.sh in `dir` (stop() stops it and removes `dir`); `SchemaRegistry(url)`
    uses one already running (stop() leaves it). `url` is the API's base URL (.../apis/ccompat/v7),
    requests go straight to it (no proxy), each bounded by `timeout` s."""

    def __init__(self, url, directory=None):
        self.url = url.rstrip("/")
        self.directory = directory

    @classmethod
    def start(cls, directory, timeout=300):
        """Starts a registry (building it first when it is not built yet: up to a few minutes)."""
        r = subprocess.run(["bash", SCHEMA_REGISTRY_SH, "start", directory], capture_output=True,
                           text=True, timeout=timeout)
        lines = r.stdout.strip().splitlines()
        m = re.fullmatch(r"url: (\S+)", lines[-1]) if lines else None
        if r.returncode != 0 or not m:
            raise HarnessError(f"schema-registry.sh start exited {r.returncode}: "
                               f"{r.stderr.strip()[-2000:]}")
        return cls(m.group(1), directory)

    @classmethod
    def at(cls, where):
        """The registry at a URL, or in the directory of a `schema-registry.sh start DIR`."""
        if os.path.isdir(where):
            with open(os.path.join(where, "url")) as f:
                return cls(f.read().split()[-1])
        return cls(where)

    def stop(self, timeout=60):
        if self.directory is None:
            return
        r = subprocess.run(["bash", SCHEMA_REGISTRY_SH, "stop", self.directory],
                           capture_output=True, text=True, timeout=timeout)
        self.directory = None
        if r.returncode != 0:
            raise HarnessError(f"schema-registry.sh stop: {r.stderr.strip()}")

    def request(self, method, path, body=None, missing_ok=False, timeout=10.0):
        """`method` `path` (under the API's base URL) with a JSON `body`; the parsed answer. A 404
        is None with `missing_ok`, else (like any other error) a HarnessError."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers={
            "Content-Type": "application/vnd.schemaregistry.v1+json",
            "Accept": "application/vnd.schemaregistry.v1+json, application/json"})
        try:
            with _ADMIN.open(req, timeout=timeout) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            if e.code == 404 and missing_ok:
                return None
            raise HarnessError(f"{method} {req.full_url}: {e.code} {e.read()[:500]!r}") from e
        except (OSError, ValueError) as e:
            raise HarnessError(f"{method} {req.full_url}: {e}") from e

    def delete_subjects(self, *subjects):
        """Deletes the subjects (soft, then permanently) with their schemas, where they exist."""
        for s in subjects:
            q = urllib.parse.quote(s, safe="")
            self.request("DELETE", f"/subjects/{q}", missing_ok=True)
            self.request("DELETE", f"/subjects/{q}?permanent=true", missing_ok=True)

    def set_compatibility(self, subject, level):
        """PUT /config/<subject> (on Apicurio the subject must exist)."""
        q = urllib.parse.quote(subject, safe="")
        return self.request("PUT", f"/config/{q}", {"compatibility": level})

    def latest(self, subject):
        """(schema id, parsed schema) of the subject's latest version, or None without one."""
        q = urllib.parse.quote(subject, safe="")
        got = self.request("GET", f"/subjects/{q}/versions/latest", missing_ok=True)
        return None if got is None else (got["id"], json.loads(got["schema"]))

    def versions(self, subject):
        q = urllib.parse.quote(subject, safe="")
        return self.request("GET", f"/subjects/{q}/versions", missing_ok=True) or []

    def has_id(self, schema_id):
        return self.request("GET", f"/schemas/ids/{int(schema_id)}", missing_ok=True) is not None

    def unused_id(self, first=999999):
        """The first schema id from `first` on that the registry does not have."""
        i = first
        while self.has_id(i):
            i += 1
        return i
