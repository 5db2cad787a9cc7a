#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets from the repository's tests and examples.

    tests/fuzz/make_seeds.py OUT_DIR

OUT_DIR/<target>/ gets one file per seed. The committed corpus (tests/fuzz/corpus/<target>/) is
these seeds minimised by libFuzzer's merge (scripts/fuzz.sh --seed), which keeps only the inputs
that add coverage. Sources:
  sql            every case of tests/sql/*.test: its schema and source options as the schema
                 line, the query, its input records as rows
  job            the same cases as job files, in the ways YAML can hold the SQL (block, folded,
                 plain, quoted), the jobs of deploy/examples/, and Kafka and environment cases
  server_config  the server config of README.md and variants of each key
  json           the input records of tests/sql/*.test and tests/unit/json_test.cpp, with each
                 option byte
  http           requests to every admin route, with and without the token, pipelined, chunked,
                 malformed
  state          each query of state_fuzz.cpp over a few row sets, with no edit, byte flips and
                 truncations of its snapshot
  avro           the records of tests/unit/avro_test.cpp (written by fastavro) for each writer
                 schema of avro_fuzz.cpp, truncations of them, and the schemas of both files as text
  protobuf       messages of protobuf_fuzz.cpp's schemas (written by pb() below) under a few
                 message-index paths, truncations of them, and the schemas of protobuf_fuzz.cpp,
                 tests/fixtures/protobuf_shop.hpp and tests/unit/protobuf_test.cpp as text
"""

import pathlib
import re
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECTION = re.compile(r"^(=== |schema:|input:|query:|expect:|error:|counts:|dead_letter:|"
                     r"known_bug:|batch:|source\.|sink\.|job\.)")


def parse_test_file(path):
    """The cases of one tests/sql file: dicts with schema, input, query, options."""
    defaults = {"schema": [], "input": [], "options": {}}
    cases, case, section = [], None, None
    for line in path.read_text().splitlines():
        target = case if case is not None else defaults
        if SECTION.match(line):
            section = None
            if line.startswith("=== "):
                case = {"name": line[4:], "schema": None, "input": None, "query": "",
                        "options": dict(defaults["options"])}
                cases.append(case)
            elif line.startswith("schema:"):
                target["schema"] = []
                section = "schema"
            elif line.startswith("input:"):
                target["input"] = []
                section = "input"
            elif line.startswith("query:"):
                target["query"] = line[6:].strip()
                section = "query"
            elif re.match(r"^(source|sink|job)\.", line) and ":" in line:
                key, value = line.split(":", 1)
                target["options"][key] = value.strip()
            continue
        if section == "schema" and line.startswith((" ", "\t")) and line.strip():
            target["schema"].append(line.strip())
        elif section == "input":
            target["input"].append(line)
        elif section == "query":
            target["query"] += ("\n" if target["query"] else "") + line
    for c in cases:
        if c["schema"] is None:
            c["schema"] = defaults["schema"]
        if c["input"] is None:
            c["input"] = defaults["input"]
        while c["input"] and not c["input"][-1].strip():
            c["input"].pop()
        c["query"] = c["query"].strip("\n")
    return [c for c in cases if c["query"].strip()]


def ms(duration):
    m = re.fullmatch(r"(-?\d+)(ms|s|m|h|d)?", duration.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2) or "ms"
    return n * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[unit]


def sql_seed(case):
    cols = []
    for col in case["schema"]:
        name, _, type_ = col.partition(" ")
        cols.append(f"{name} {type_.strip()}")
    opts = []
    o = case["options"]
    for key, opt in (("source.event_time", "event_time"), ("source.late_records", "late"),
                     ("source.timestamp_format", "timestamps"),
                     ("source.event_time_format", "event_time_format")):
        if key in o:
            opts.append(f"{opt}={o[key]}")
    wm = o.get("source.watermark", "")
    for key, opt in (("max_out_of_orderness", "delay"), ("allowed_lateness", "lateness"),
                     ("idle_timeout", "idle")):
        m = re.search(key + r":\s*([^,}]+)", wm)
        if m and ms(m.group(1)) is not None:
            opts.append(f"{opt}={ms(m.group(1))}")
    head = "-- schema: " + "; ".join(cols) + (" | " + " ".join(opts) if opts else "")
    text = head + "\n" + case["query"] + "\n"
    if case["input"]:
        text += "-- rows\n" + "\n".join(case["input"][:16]) + "\n"
    return text


def yaml_sql(query, style):
    if style == 0 or "\n" in query:
        return "sql: |\n" + "".join("  " + l + "\n" for l in query.split("\n"))
    if style == 1:
        return "sql: >\n  " + query + "\n"
    if style == 2 and not re.search(r"(^[-?:,\[\]{}#&*!|>'\"%@`])|(: )|( #)", query):
        return "sql: " + query + "\n"
    if style == 3:
        return "sql: '" + query.replace("'", "''") + "'\n"
    return "sql: \"" + query.replace("\\", "\\\\").replace('"', '\\"') + "\"\n"


def job_seed(case, n):
    o = case["options"]
    text = f"name: case-{n}\n" + yaml_sql(case["query"], n % 5)
    for key, value in o.items():
        if key.startswith("job."):
            text += f"{key[4:]}: {value}\n"
    text += "source:\n  name: t\n  type: file\n  path: data/in.jsonl\n  format: json\n  schema:\n"
    for col in case["schema"]:
        name, _, type_ = col.partition(" ")
        text += f"    {name}: '{type_.strip()}'\n"
    for key, value in o.items():
        if key.startswith("source."):
            text += f"  {key[7:]}: {value}\n"
    text += "sink:\n  type: file\n  path: out/out.jsonl\n"
    for key, value in o.items():
        if key.startswith("sink."):
            text += f"  {key[5:]}: {value}\n"
    if o.get("job.on_error") == "dead_letter" or o.get("source.late_records") == "dead_letter":
        text += "dead_letter: {type: file, path: out/dlq.jsonl}\n"
    return text


EXTRA_JOBS = [
    # Kafka endpoints, keys, properties, environment variables.
    """name: trades-agg
sql: SELECT symbol, COUNT(*) AS trades FROM trades GROUP BY symbol
source:
  type: kafka
  topic: ${TOPIC}
  format: json
  schema: {symbol: STRING, price: 'DECIMAL(18,4)'}
  partitioned_by: [symbol]
sink:
  type: kafka
  topic: '${TOPIC:-x}-agg'
  format: json
  key: [symbol]
dead_letter: {type: kafka, topic: trades-agg.dlq}
group_id: trades-agg
kafka:
  auto.offset.reset: earliest
  bootstrap.servers: ${KAFKA_BROKERS}
  client.id: $$literal-${EMPTY:-default}
""",
    """name: windows
sql: |2
    SELECT symbol, TUMBLE_START(ts) AS ws, COUNT(*) AS n
    FROM trades
    GROUP BY symbol, TUMBLING(ts, INTERVAL '1' MINUTE) EMIT FINAL
on_error: dead_letter
source:
  type: kafka
  topic: trades
  timestamp_format: epoch_millis
  schema:
    symbol: STRING
    ts: TIMESTAMP
  event_time: ts
  event_time_format: iso8601
  watermark:
    max_out_of_orderness: 5s
    allowed_lateness: 1m
    idle_timeout: 10s
  late_records: dead_letter
sink: {type: kafka, topic: out, timestamp_format: epoch_millis}
dead_letter:
  type: kafka
  topic: dlq
""",
    """# anchors, aliases, a folded SQL with a quoted escape
name: &n aliased
sql: "SELECT \\"symbol\\", price * 2 AS p\\n  FROM t WHERE symbol <> 'x'"
source: &src
  name: t
  type: file
  path: ${HOST}/in.jsonl
  schema: &schema
    symbol: STRING
    price: DOUBLE
sink: {type: stdout, format: json}
dead_letter: {type: file, path: '${UNSET}'}
""",
    """name: bad
sql: SELECT pricee FROM trades
source:
  type: file
  path: in.jsonl
  schema:
    price: DECIMAL(18,4
    _key: STRING
    'x y': VARCHAR(10)
  watermark: {max_out_of_orderness: 5x}
sink:
  typ: file
  path: [a, b]
on_eror: skip
""",
    "name: x\nsql: >-\n  SELECT a,\n\n  b FROM t\nsource: {type: file, path: a.jsonl, schema: {a: BIGINT, b: BOOLEAN}}\nsink: {type: stdout}\n",
    "name: x\nsql: SELECT * FROM t -- ${TOPIC} $$\nsource: {type: file, path: '${N}', schema: {a: INTERVAL}}\nsink: {type: stdout}\n",
    "{name: flow, sql: 'SELECT 1', source: {type: file, path: p, schema: {a: TIMESTAMP}}, sink: {type: stdout}}\n",
    "name: x\r\nsql: |-\r\n  SELECT a\r\n  FROM t\r\nsource:\r\n  type: file\r\n  path: a\r\n  schema:\r\n    a: STRING\r\nsink:\r\n  type: stdout\r\n",
    "--- \nname: x\nsql: !!str SELECT 1\nsource: ~\nsink: null\n...\n",
    "",
    "name: [\n",
]

SERVER_CONFIGS = [
    """kafka:
  bootstrap.servers: ${KAFKA_BROKERS:-localhost:9092}
jobs_dir: jobs/
http:
  listen: 127.0.0.1:9464
  token: ${SLUICE_TOKEN}
threads: 0
state_dir: /var/lib/sluice
""",
    "http: {listen: '[::1]:0'}\nthreads: ${N}\n",
    "http:\n  listen: 0.0.0.0:9464\n  token: ${SLUICE_TOKEN:-}\n",
    "http:\n  listen: 0.0.0.0:8080\n",
    "http:\n  listen: '[fe80::1%eth0]:65535'\nthreads: 1025\n",
    "http:\n  listen: localhost:65536\njobs_dir: ''\nstate_dir: ../state\n",
    "kafka: {group.id: x, enable.auto.commit: 'false', acks: all}\nthreads: -1\n",
    "jobs_dir: ${UNSET}\nhttp: {listen: 'host.example.com:99', tokn: x}\n",
    "kafka:\n  a: [1]\n  b: {c: d}\nthreads: 4x\nextra: 1\n",
    "http:\n  listen: ${HOST}:${PORT}\n  token: \"$$secret\"\n",
    "",
    "- a\n- b\n",
]

HTTP_JOB = ("name: posted\nsql: SELECT symbol FROM trades\nsource: {type: kafka, topic: trades, "
            "schema: {symbol: STRING}}\nsink: {type: kafka, topic: out}\n")


def http_seeds():
    auth = "Authorization: Bearer fuzz-token\r\n"
    reqs = []
    for path in ("/healthz", "/readyz", "/jobs", "/jobs/trades-agg", "/jobs/paused", "/metrics",
                 "/jobs/no-such-job", "/jobs/bad%20%22job%22", "/jobs/%zz", "/nope", "/jobs/",
                 "/jobs?x=1", "//jobs", "/jobs/a/b", "*", "http://h/jobs"):
        reqs.append(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for method, path in (("DELETE", "/jobs/trades-agg"), ("POST", "/jobs/trades-agg/pause"),
                         ("POST", "/jobs/paused/resume"), ("POST", "/jobs/bad/pause"),
                         ("PUT", "/jobs"), ("DELETE", "/healthz")):
        reqs.append(f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\n\r\n")
    for headers in (auth, "Authorization: Bearer wrong\r\n", "Authorization: bearer fuzz-token\r\n",
                    "Authorization: Basic Zm9vOmJhcg==\r\n", ""):
        body = HTTP_JOB
        reqs.append(f"POST /jobs HTTP/1.1\r\nHost: x\r\n{headers}Content-Type: application/yaml\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n{body}")
    bad = "name: x\nsql: SELECT nope FROM t\nsource: {type: kafka, topic: t, schema: {a: BIGINT}}\nsink: {type: file, path: x}\n"
    reqs.append(f"POST /jobs HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {len(bad)}\r\n\r\n{bad}")
    chunks = "".join(f"{len(p):x}\r\n{p}\r\n" for p in (HTTP_JOB[:20], HTTP_JOB[20:])) + "0\r\n\r\n"
    reqs.append(f"POST /jobs HTTP/1.1\r\nHost: x\r\n{auth}Transfer-Encoding: chunked\r\n\r\n{chunks}")
    reqs.append("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /jobs HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reqs.append("GET /jobs HTTP/1.0\r\n\r\n")
    reqs.append("GET /jobs HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n")
    reqs.append("GET /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde")
    reqs.append("GET /jobs HTTP/1.1\r\nHost: x\r\nX: " + "a" * 200 + "\r\n\r\n")
    reqs.append("GET /jobs HTTP/1.1\nHost: x\n\n")
    reqs.append("GET /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
    reqs.append("GET /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    reqs.append("GET /jobs HTTP/1.1\r\nHost: x")
    reqs.append("GARBAGE\r\n\r\n")
    return reqs


def json_records():
    lines = []
    for path in sorted((ROOT / "tests/sql").glob("*.test")):
        for case in parse_test_file(path):
            lines.extend(case["input"])
    text = (ROOT / "tests/unit/json_test.cpp").read_text()
    lines.extend(re.findall(r'R"\((\{.*?\})\)"', text))
    lines.extend([
        '{"s":"x","b":9223372036854775807,"d":-0.0,"m":"99999999999999.9999","w":1e-10,'
        '"z":99999999999999999999999999999999999999,"ok":true,"ts":"2024-01-15T10:00:00.123Z",'
        '"ev":1705312800123,"iv":-5,"PRICE":1.5,"symbol":{"nested":[1,2]},'
        '"a_much_longer_column_name_than_eight_bytes":1}',
        '{"ts":"1970-01-01T00:00:00Z","ev":"2024-02-29T23:59:59.999+01:00","b":"-12"}',
        '{"ts":1.5e3,"ev":-1,"d":1e308,"m":-0.00005,"s":"\\u00e9\\ud83d\\ude00\\n"}',
        '{"b":1.0,"ok":"true","s":true,"s":null}',
        '{"st":{"a":1,"S":"x","l":[1.5,"NaN",null,-0.0],"t":"2024-01-15T10:00:00Z","z":{}},'
        '"ar":[{"x":"1.25","y":[true,null]},null,{}],"mp":{"k":["AAE="],"k":[],"":null}}',
        '{"st":[],"ar":{"x":1},"mp":{"a":[1]}}',
        '{} trailing', '[1,2]', '"s"', '{"b":', '',
    ])
    seen, out = set(), []
    for l in lines:
        if l.strip() and l not in seen:
            seen.add(l)
            out.append(l)
    return out


def write(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data.encode() if isinstance(data, str) else data)


def state_seeds():
    """Inputs of the `state` target: query byte, row count, 3 bytes per row, then edits."""
    seeds = []
    for query in range(6):
        for rows in (0, 1, 7, 40):
            body = bytes([query, rows])
            body += bytes((i * 37 + 11) % 256 for i in range(3 * rows))
            seeds.append(body)                       # the snapshot unedited
            seeds.append(body + bytes([13, 0x80]))  # one flipped bit
            seeds.append(body + bytes([2, 1, 9]))   # a flipped byte, then truncated to 36 bytes
            seeds.append(body + bytes([5]))          # truncated to 20 bytes
    return seeds


def avro_seeds():
    """(mode byte + record) and (3 + schema text) inputs for avro_fuzz.cpp."""
    test = (ROOT / "tests/unit/avro_test.cpp").read_text()
    fuzz = (ROOT / "tests/fuzz/avro_fuzz.cpp").read_text()
    # Hex literals of the unit test: records of the trade schema and of the encoder's schema.
    records = []
    for name in ("kTrade0", "kTrade1"):
        body = re.search(name + r" =\s*((?:\s*\"[0-9a-f]+\")+);", test).group(1)
        records.append((0, bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', body)))))
    for body in re.findall(r'CHECK\(hex\(out\) ==\s*((?:\s*"[0-9a-f]+")+)\);', test):
        records.append((2, bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', body)))))
    seeds = []
    for mode, rec in records:
        seeds.append(bytes([mode]) + rec)
        seeds.append(bytes([mode]) + rec[: len(rec) // 2])
    # The nested schema: an id, two items (one nested list), an empty map, a fixed, no next.
    seeds.append(bytes([1]) + bytes.fromhex("0204026b0202000000000000f03f026c0202040003001000"
                                           "00" "106162630000"))
    schemas = re.findall(r'R"json\((.*?)\)json"', fuzz, re.S)
    schemas += re.findall(r'R"\((\{"type".*?)\)"', test)
    for text in schemas:
        seeds.append(bytes([3]) + text.encode())
    return seeds


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb(*fields):
    """Protobuf wire bytes of (number, value) fields: int as a varint, float as a fixed64 double,
    bytes/str length-delimited, a tuple as a nested message."""
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += varint(number << 3) + varint(value)
        elif isinstance(value, float):
            out += varint(number << 3 | 1) + struct.pack("<d", value)
        else:
            if isinstance(value, tuple):
                value = pb(*value)
            elif isinstance(value, str):
                value = value.encode()
            out += varint(number << 3 | 2) + varint(len(value)) + value
    return out


def protobuf_seeds():
    """(mode byte + message indexes + message) and (2 + schema text) inputs for
    protobuf_fuzz.cpp."""
    order = pb((1, 42), (2, "ada"), (3, ((1, "sku-1"), (2, 3))), (3, ((1, "sku-2"),)),
               (4, ((1, "k"), (2, 7))), (5, 1), (6, ((1, 1700000000), (2, 5000000))), (7, 0.5),
               (8, ((1, "note"),)), (9, varint(1) + varint(300) + varint(2**64 - 1)), (10, 3),
               (11, 2**64 - 1), (12, b"\x00\xff"), (13, 1), (17, ((1, 2**64 - 5), (2, "neg"))),
               (18, "card"), (20, 5), (20, 6), (21, 7), (22, "12.5"), (23, 19000))
    order += varint(14 << 3 | 5) + struct.pack("<f", 1.5) + varint(15 << 3 | 5) + b"\xff" * 4
    order += varint(16 << 3 | 1) + struct.pack("<q", -9)
    line = pb((1, "s"), (2, 2))
    leaf = pb((1, 3), (4, "leaf"), (5, struct.pack("<QQ", 1, 2**64 - 1)))
    tree = pb((1, 1), (2, pb((1, 2), (2, leaf), (3, pb((1, "a"), (2, leaf))))),
              (3, pb((1, "b"), (2, pb((1, 4))))), (3, pb((1, "c"),)))
    index0, nested = b"\x00", varint(4) + varint(0) + varint(4)  # [0], [0, 2]: Order.Line
    seeds = []
    for mode, payload in ((0, index0 + order), (0, varint(2) + varint(0) + order),
                          (0, nested + line), (1, index0 + tree), (1, varint(4) + b"\x00\x00")):
        seeds.append(bytes([mode]) + payload)
        seeds.append(bytes([mode]) + payload[: len(payload) // 2])
    texts = []
    for path in ("tests/fuzz/protobuf_fuzz.cpp", "tests/fixtures/protobuf_shop.hpp",
                 "tests/unit/protobuf_test.cpp"):
        texts += re.findall(r'R"\(\s*(syntax = .*?)\)"', (ROOT / path).read_text(), re.S)
    for text in texts:
        seeds.append(bytes([2]) + text.encode())
    return seeds


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    n = 0
    for path in sorted((ROOT / "tests/sql").glob("*.test")):
        for i, case in enumerate(parse_test_file(path)):
            write(out, "sql", f"{path.stem}-{i}", sql_seed(case))
            write(out, "job", f"{path.stem}-{i}.yaml", job_seed(case, n))
            n += 1
    for path in sorted((ROOT / "deploy/examples").glob("*.yaml")):
        write(out, "job", "example-" + path.name, path.read_text())
    for i, text in enumerate(EXTRA_JOBS):
        write(out, "job", f"extra-{i}.yaml", text)
    for i, text in enumerate(SERVER_CONFIGS):
        write(out, "server_config", f"config-{i}.yaml", text)
    for i, text in enumerate(http_seeds()):
        write(out, "http", f"request-{i}", text)
    for i, line in enumerate(json_records()):
        # Cycle the option byte: every timestamp format, event-time override and sink format.
        write(out, "json", f"record-{i}", bytes([i % 32]) + line.encode())
    for i, data in enumerate(state_seeds()):
        write(out, "state", f"snapshot-{i}", data)
    for i, data in enumerate(avro_seeds()):
        write(out, "avro", f"avro-{i}", data)
    for i, data in enumerate(protobuf_seeds()):
        write(out, "protobuf", f"protobuf-{i}", data)
    print(f"make_seeds: wrote seeds to {out}")


if __name__ == "__main__":
    main()
