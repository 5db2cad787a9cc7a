"""Writes and reads Avro records in the Schema Registry wire format (magic byte 0, 4-byte schema
id, Avro binary) with confluent-kafka's AvroSerializer / AvroDeserializer: an independent client
of sluice's `format: avro`. With --format json, JSON Schema records (the same framing, JSON
after it) with its JSONSerializer / JSONDeserializer (which validates each value against the
writer schema), for `format: json_sr`. With --format protobuf, Protobuf records (the same framing,
then the message indexes, then the Protobuf binary) with its ProtobufSerializer /
ProtobufDeserializer. Needs confluent-kafka with its avro, json, protobuf and schemaregistry
extras, and for Protobuf grpcio-tools (PyPI, ../requirements.txt): run with the virtualenv's
python that scripts/install-deps.sh makes.
REGISTRY_URL is a Confluent-compatible registry's API, e.g. the url line of
scripts/schema-registry.sh start (http://127.0.0.1:PORT/apis/ccompat/v7).

usage:
  confluent_avro.py produce BOOTSTRAP REGISTRY_URL TOPIC SCHEMA_FILE RECORDS_JSONL
                    [--key-field F] [--format avro|json|protobuf] [--message NAME]
                    [--key-schema AVRO_SCHEMA_JSON]
  confluent_avro.py consume BOOTSTRAP REGISTRY_URL TOPIC COUNT [--timeout S]
                    [--format avro|json|protobuf] [--key-format avro|protobuf]
  confluent_avro.py raw-produce BOOTSTRAP TOPIC HEX [HEX ...]

produce: each JSON line of RECORDS_JSONL becomes one record, its value serialized with the schema
  in SCHEMA_FILE (an Avro schema's JSON; with --format json, a JSON Schema; with --format
  protobuf, a .proto file), which is registered under TOPIC-value (auto.register.schemas,
  TopicNameStrategy); the key is the field F as text (JSON for non-strings), or, with
  --key-schema, F serialized as Avro of that schema (registered under TOPIC-key), or none. Avro
  logical types are given in JSON as: decimal (bytes or fixed) a string ("12.3400") or a number,
  timestamp-millis / timestamp-micros / local-timestamp-millis epoch milliseconds, date days since
  the epoch; plain bytes and fixed base64. A field the line lacks gets the schema's default.
  Protobuf: the .proto file (and what it imports, from its own directory or Protobuf's
  well-known types) is compiled at run time by grpcio-tools' protoc, in process; the value is
  the message NAME (as named in the file's package, e.g. Order or Order.Line, or fully
  qualified; default: the file's first top-level message), each line converted to it by
  google.protobuf.json_format.ParseDict (the proto3 JSON mapping: fields by their .proto or JSON
  names, enums by name or number, 64-bit integers as numbers or strings, bytes base64,
  google.protobuf.Timestamp an RFC 3339 string). The registered schema is what
  confluent-kafka registers: the base64 of the file's serialized FileDescriptorProto; the
  well-known google/protobuf/ imports are not registered, other imports are, as references
  under their file name. acks=all, idempotent; every delivery is checked. Last stdout line:
  `produced N records with schema id ID`.
consume: reads TOPIC from the beginning of every partition (no group offsets, read_committed)
  until COUNT records came or S seconds (default 60) passed, deserializes each value with the
  writer schema its id names, and prints one JSON line per record, in (partition, offset) order:
  decimal as a string, timestamps as epoch milliseconds, date as days since the epoch, bytes as
  base64, a null value as null. With --format protobuf, the writer schema its id names (fetched
  from the registry: .proto source, compiled by grpcio-tools' protoc, or a base64
  FileDescriptorProto) gives the message its message indexes name, which the protobuf runtime
  parses; printed in the proto3 JSON mapping (json_format.MessageToDict): fields by their .proto
  names, fields at their default value left out, 64-bit integers as strings, enums by name, bytes
  base64, Timestamp RFC 3339. With --key-format, each key is read too (avro: by the
  AvroDeserializer; protobuf: as values are) and a line is {"key": KEY, "value": VALUE}. Exits 1 when fewer than COUNT arrived (printing
  those that did).
raw-produce: one record per HEX argument, its value exactly those bytes (no key), acks=all.

Exit status: 0 done, 1 failed (the reason on stderr), 2 usage.
"""

import argparse
import base64
import datetime
import decimal
import importlib.resources
import json
import os
import sys
import tempfile
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH_DATE = datetime.date(1970, 1, 1)


class Failure(Exception):
    pass


# --------------------------------------------------------------------------------------------
# JSON values -> the Python values fastavro writes for a schema


def _named_types(schema, namespace=None, names=None):
    """Every named type (record, enum, fixed) defined in `schema`, by full and by short name."""
    names = {} if names is None else names
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, namespace, names)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "error", "enum", "fixed") and "name" in schema:
            name = schema["name"]
            namespace = schema.get("namespace", namespace) if "." not in name else \
                name.rsplit(".", 1)[0]
            full = name if "." in name or not namespace else f"{namespace}.{name}"
            names[full] = names[full.rsplit(".", 1)[-1]] = schema
        for field in schema.get("fields", ()):
            _named_types(field["type"], namespace, names)
        for key in ("items", "values"):
            if key in schema:
                _named_types(schema[key], namespace, names)
        if isinstance(schema.get("type"), (dict, list)):
            _named_types(schema["type"], namespace, names)
    return names


def to_avro(value, schema, names):
    """Converts a JSON value to what fastavro expects for `schema` (Decimal for decimals, an
    aware datetime for timestamps, date for dates, bytes for bytes/fixed)."""
    if value is None:
        return None
    if isinstance(schema, str):
        return to_avro(value, names[schema], names) if schema in names else value
    if isinstance(schema, list):  # a union: converted for its one non-null branch, if one
        branches = [b for b in schema if b != "null"]
        return to_avro(value, branches[0], names) if len(branches) == 1 else value
    kind, logical = schema.get("type"), schema.get("logicalType")
    if isinstance(kind, (dict, list)):
        return to_avro(value, kind, names)
    if logical == "decimal" and kind in ("bytes", "fixed"):
        if isinstance(value, float):
            value = repr(value)
        return value if isinstance(value, decimal.Decimal) else decimal.Decimal(value)
    if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
        return EPOCH + datetime.timedelta(milliseconds=value)
    if logical == "local-timestamp-millis" and kind == "long":
        return (EPOCH + datetime.timedelta(milliseconds=value)).replace(tzinfo=None)
    if logical == "date" and kind == "int":
        return EPOCH_DATE + datetime.timedelta(days=value)
    if kind in ("bytes", "fixed") and isinstance(value, str):
        return base64.b64decode(value)
    if kind in ("record", "error"):
        # Fields the line lacks stay out: fastavro writes their defaults.
        return {f["name"]: to_avro(value[f["name"]], f["type"], names)
                for f in schema["fields"] if f["name"] in value}
    if kind == "array":
        return [to_avro(v, schema["items"], names) for v in value]
    if kind == "map":
        return {k: to_avro(v, schema["values"], names) for k, v in value.items()}
    if kind in names and kind not in ("record", "enum", "fixed"):
        return to_avro(value, names[kind], names)
    return value


def from_avro(value):
    """json.dumps's `default`: what a deserialized value that JSON lacks becomes."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(value, datetime.date):
        return (value - EPOCH_DATE).days
    if isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + \
            value.microsecond // 1000
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)  # uuid.UUID and the like


# --------------------------------------------------------------------------------------------
# Protobuf message classes, compiled at run time from a .proto file (there is no protoc binary:
# grpcio-tools runs protoc in process). Their modules are imported where used, not at the top, so
# that the Avro and JSON modes need neither grpcio-tools nor the protobuf runtime.


def _compile_proto(proto_path):
    """(DescriptorPool, FileDescriptor) of a .proto file: protoc writes the FileDescriptorSet of
    the file and its imports (from the file's directory, or Protobuf's well-known types that
    grpcio-tools ships), which a DescriptorPool of its own loads."""
    from google.protobuf import descriptor_pb2, descriptor_pool
    from grpc_tools import protoc

    proto_path = os.path.abspath(proto_path)
    if not os.path.isfile(proto_path):
        raise Failure(f"{proto_path}: no such file")
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "descriptor_set.pb")
        status = protoc.main(["protoc", f"-I{os.path.dirname(proto_path)}", f"-I{well_known}",
                              "--include_imports", f"--descriptor_set_out={out}", proto_path])
        if status != 0:
            raise Failure(f"{proto_path}: protoc exited {status} (its errors are above)")
        with open(out, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file
    pool = descriptor_pool.DescriptorPool()
    for file_proto in files:  # dependencies first
        pool.Add(file_proto)
    return pool, pool.FindFileByName(os.path.basename(proto_path))


def _writer_file(schema_str):
    """(DescriptorPool, FileDescriptor) of a writer schema as a registry serves it: a base64
    FileDescriptorProto (what ProtobufSerializer registers; its well-known imports from the
    protobuf runtime) or .proto source."""
    import binascii

    from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2, wrappers_pb2
    from google.protobuf.message import DecodeError

    try:
        proto = descriptor_pb2.FileDescriptorProto.FromString(
            base64.b64decode(schema_str, validate=True))
    except (binascii.Error, DecodeError, ValueError):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "writer.proto")
            with open(path, "w") as f:
                f.write(schema_str)
            return _compile_proto(path)
    pool = descriptor_pool.DescriptorPool()
    for known in (timestamp_pb2, wrappers_pb2):
        if known.DESCRIPTOR.name in proto.dependency:
            fdp = descriptor_pb2.FileDescriptorProto()
            known.DESCRIPTOR.CopyToProto(fdp)
            pool.Add(fdp)
    pool.Add(proto)
    return pool, pool.FindFileByName(proto.name)


def _zigzag_varint(data, at):
    """(value, next position) of the zigzag varint at data[at]."""
    v, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (v >> 1) ^ -(v & 1), at


def parse_protobuf(data, writer_files):
    """The message of a framed Protobuf value (magic byte, schema id, message indexes, message)
    as a dict in the proto3 JSON mapping; `writer_files` caches schema id -> _writer_file."""
    from google.protobuf import json_format, message_factory

    schema_id = int.from_bytes(data[1:5], "big")
    pool, fd = writer_files(schema_id)
    count, at = _zigzag_varint(data, 5)
    path = [0] if count == 0 else []
    for _ in range(count):
        i, at = _zigzag_varint(data, at)
        path.append(i)
    desc = list(fd.message_types_by_name.values())[path[0]]
    for i in path[1:]:
        desc = desc.nested_types[i]
    msg = message_factory.GetMessageClass(desc).FromString(data[at:])
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def proto_message_class(proto_path, message=None):
    """The class of the message `message` of the .proto file: its name in the file's package
    (Order, Order.Line) or its full name; None: the file's first top-level message."""
    from google.protobuf import message_factory

    pool, fd = _compile_proto(proto_path)

    def messages(descriptors):  # depth first, in declaration order; no map entries
        for d in descriptors:
            if not d.GetOptions().map_entry:
                yield d
                yield from messages(d.nested_types)

    prefix = f"{fd.package}." if fd.package else ""
    defined = {d.full_name: d for d in messages(fd.message_types_by_name.values())}
    if not defined:
        raise Failure(f"{proto_path}: defines no message")
    if message is None:
        desc = next(iter(fd.message_types_by_name.values()))
    else:
        desc = defined.get(prefix + message) or defined.get(message)
        if desc is None:
            raise Failure(f"{proto_path}: no message {message}; it defines "
                          + ", ".join(name[len(prefix):] for name in defined))
    return message_factory.GetMessageClass(desc)


# --------------------------------------------------------------------------------------------
# Producing


class _Deliveries:
    """Counts deliveries and keeps the first errors (librdkafka's delivery callback)."""

    def __init__(self):
        self.ok = 0
        self.errors = []

    def __call__(self, err, msg):
        if err is not None:
            self.errors.append(f"{msg.topic()}: {err}")
        else:
            self.ok += 1


def _producer(bootstrap):
    return Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                     "linger.ms": 20, "message.timeout.ms": 30000})


def _send(producer, deliveries, topic, value, key=None):
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=deliveries)
            break
        except BufferError:  # the local queue is full: let deliveries drain
            producer.poll(0.2)
    producer.poll(0)


def _finish(producer, deliveries, want, timeout=60):
    left = producer.flush(timeout)
    if left:
        raise Failure(f"{left} of {want} records not delivered within {timeout} s")
    if deliveries.errors:
        raise Failure(f"{len(deliveries.errors)} deliveries failed, e.g. {deliveries.errors[0]}")
    if deliveries.ok != want:
        raise Failure(f"{deliveries.ok} of {want} records acknowledged")


def _value_serializer(registry, conf, value_format, schema_path, message):
    """serialize(row, ctx) -> the framed value of the JSON row, in `value_format`."""
    if value_format == "protobuf":
        from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
        from google.protobuf import json_format

        message_class = proto_message_class(schema_path, message)
        pb_serializer = ProtobufSerializer(message_class, registry,
                                           conf={**conf, "use.deprecated.format": False})
        return lambda row, ctx: pb_serializer(json_format.ParseDict(row, message_class()), ctx)
    with open(schema_path, encoding="utf-8") as f:
        schema_text = f.read()
    if value_format == "json":
        return JSONSerializer(schema_text, registry, conf=conf)
    schema = json.loads(schema_text)
    names = _named_types(schema)
    avro_serializer = AvroSerializer(registry, schema_text, conf=conf)
    return lambda row, ctx: avro_serializer(to_avro(row, schema, names), ctx)


def produce(bootstrap, registry_url, topic, schema_path, records_path, key_field=None,
            value_format="avro", key_schema=None, message=None):
    registry = SchemaRegistryClient({"url": registry_url})
    conf = {"auto.register.schemas": True, "subject.name.strategy": topic_subject_name_strategy}
    serializer = _value_serializer(registry, conf, value_format, schema_path, message)
    ctx = SerializationContext(topic, MessageField.VALUE)
    key_serializer = None
    if key_schema is not None:  # the key field as Avro of this schema, under TOPIC-key
        key_serializer = AvroSerializer(registry, key_schema, conf=conf)
        key_ctx = SerializationContext(topic, MessageField.KEY)
    producer = _producer(bootstrap)
    deliveries = _Deliveries()
    count = 0
    schema_id = None
    with open(records_path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                value = serializer(row, ctx)
            except Exception as e:
                raise Failure(f"{records_path}:{number}: cannot serialize {line.strip()[:200]}: "
                              f"{type(e).__name__}: {e}") from e
            schema_id = int.from_bytes(value[1:5], "big")
            key = None
            if key_field is not None and key_serializer is not None:
                key = key_serializer(row[key_field], key_ctx)
            elif key_field is not None:
                k = row[key_field]
                key = (k if isinstance(k, str) else json.dumps(k)).encode()
            _send(producer, deliveries, topic, value, key)
            count += 1
    _finish(producer, deliveries, count)
    print(f"produced {count} records with schema id {schema_id}")


def raw_produce(bootstrap, topic, values_hex):
    producer = _producer(bootstrap)
    deliveries = _Deliveries()
    for h in values_hex:
        _send(producer, deliveries, topic, bytes.fromhex(h))
    _finish(producer, deliveries, len(values_hex))
    print(f"produced {len(values_hex)} records")


# --------------------------------------------------------------------------------------------
# Consuming


def _deserializer(registry, value_format):
    """The deserializer (data, ctx) of `value_format` with the writer schemas of `registry`."""
    if value_format == "json":  # validates each value against the writer schema its id names
        return JSONDeserializer(None, schema_registry_client=registry)
    if value_format == "protobuf":  # the writer's message, from its schema in the registry
        files = {}

        def writer_files(schema_id):
            if schema_id not in files:
                files[schema_id] = _writer_file(registry.get_schema(schema_id).schema_str)
            return files[schema_id]

        def deserializer(data, ctx):
            if data[:1] != b"\0":
                raise ValueError(f"magic byte {data[0]}")
            return parse_protobuf(data, writer_files)
        return deserializer
    return AvroDeserializer(registry)


def consume(bootstrap, registry_url, topic, count, timeout=60.0, value_format="avro",
            key_format=None):
    deadline = time.monotonic() + timeout
    registry = SchemaRegistryClient({"url": registry_url})
    deserializer = _deserializer(registry, value_format)
    ctx = SerializationContext(topic, MessageField.VALUE)
    key_ctx = SerializationContext(topic, MessageField.KEY)
    key_deserializer = _deserializer(registry, key_format) if key_format else None
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "confluent-avro",
                         "enable.auto.commit": False, "enable.partition.eof": False,
                         "isolation.level": "read_committed"})
    got = []
    try:
        while True:  # the topic may still be being created
            meta = consumer.list_topics(topic, timeout=max(1.0, deadline - time.monotonic()))
            if meta.topics[topic].error is None and meta.topics[topic].partitions:
                break
            if time.monotonic() > deadline:
                raise Failure(f"topic {topic}: {meta.topics[topic].error}")
            time.sleep(0.2)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                         for p in sorted(meta.topics[topic].partitions)])
        while len(got) < count and time.monotonic() < deadline:
            m = consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
            if m is None:
                continue
            if m.error() is not None:
                raise KafkaException(m.error())
            try:
                value = None if m.value() is None else deserializer(m.value(), ctx)
                if key_deserializer is not None:
                    key = None if m.key() is None else key_deserializer(m.key(), key_ctx)
                    value = {"key": key, "value": value}
            except Exception as e:
                raw = m.value()[:40].hex()
                raise Failure(f"{topic} {m.partition()}/{m.offset()}: cannot deserialize "
                              f"(starts {raw}): {type(e).__name__}: {e}") from e
            got.append((m.partition(), m.offset(), value))
    finally:
        consumer.close()
    for _, _, value in sorted(got, key=lambda r: r[:2]):
        print(json.dumps(value, default=from_avro, separators=(",", ":")))
    if len(got) < count:
        raise Failure(f"{len(got)} of {count} records of {topic} within {timeout} s")


def main(argv):
    parser = argparse.ArgumentParser(prog="confluent_avro.py", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("produce")
    for name in ("bootstrap", "registry_url", "topic", "schema_file", "records_jsonl"):
        p.add_argument(name)
    p.add_argument("--key-field")
    p.add_argument("--format", choices=("avro", "json", "protobuf"), default="avro")
    p.add_argument("--message")
    p.add_argument("--key-schema")
    c = sub.add_parser("consume")
    for name in ("bootstrap", "registry_url", "topic"):
        c.add_argument(name)
    c.add_argument("count", type=int)
    c.add_argument("--timeout", type=float, default=60.0)
    c.add_argument("--format", choices=("avro", "json", "protobuf"), default="avro")
    c.add_argument("--key-format", choices=("avro", "protobuf"))
    r = sub.add_parser("raw-produce")
    r.add_argument("bootstrap")
    r.add_argument("topic")
    r.add_argument("hex", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "produce" and args.format != "protobuf" and args.message:
        parser.error("--message is for --format protobuf")
    try:
        if args.command == "produce":
            produce(args.bootstrap, args.registry_url, args.topic, args.schema_file,
                    args.records_jsonl, args.key_field, args.format, args.key_schema,
                    args.message)
        elif args.command == "consume":
            consume(args.bootstrap, args.registry_url, args.topic, args.count, args.timeout,
                    args.format, args.key_format)
        else:
            for v in args.hex:
                try:
                    bytes.fromhex(v)
                except ValueError as e:
                    parser.error(f"HEX {v!r}: {e}")
            raw_produce(args.bootstrap, args.topic, args.hex)
    except (Failure, ImportError, KafkaException, OSError, ValueError) as e:
        print(f"confluent_avro.py {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
