"""Reads a whole topic with confluent-kafka (PyPI; run with the virtualenv's python that
scripts/install-deps.sh makes) and prints one JSON object per record, sorted by partition and
offset: partition, offset, key and value as hex (null: none), headers as [name, hex] pairs,
timestamp_type (CreateTime / LogAppendTime) and timestamp.

usage: confluent_read.py BOOTSTRAP TOPIC [IDLE_SECONDS] [MAX_SECONDS]

Reads from the beginning of every partition, without a group, until no record came for
IDLE_SECONDS (default 3) or MAX_SECONDS (default 60) passed; exits 1 on a consumer error.
"""

import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition, OFFSET_BEGINNING
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME


def main(bootstrap, topic, idle=3.0, max_seconds=60.0):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "confluent-read",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    try:
        meta = consumer.list_topics(topic, timeout=10)
        if meta.topics[topic].error is not None:
            raise KafkaException(meta.topics[topic].error)
        partitions = sorted(meta.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        start = last = time.monotonic()
        out = []
        while time.monotonic() - last < idle and time.monotonic() - start < max_seconds:
            m = consumer.poll(0.2)
            if m is None:
                continue
            if m.error() is not None:
                raise KafkaException(m.error())
            last = time.monotonic()
            kind, ts = m.timestamp()
            out.append({
                "partition": m.partition(), "offset": m.offset(),
                "key": None if m.key() is None else m.key().hex(),
                "value": None if m.value() is None else m.value().hex(),
                "headers": [[k, None if v is None else v.hex()] for k, v in (m.headers() or [])],
                "timestamp_type": {TIMESTAMP_CREATE_TIME: "CreateTime",
                                   TIMESTAMP_LOG_APPEND_TIME: "LogAppendTime"}.get(kind, "none"),
                "timestamp": ts})
    finally:
        consumer.close()
    for r in sorted(out, key=lambda r: (r["partition"], r["offset"])):
        print(json.dumps(r, separators=(",", ":")))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2], *(float(a) for a in sys.argv[3:5]))
