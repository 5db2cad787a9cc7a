"""Differential queries for event-time windows: sluice's TUMBLING and HOPPING windows against a
bucketed GROUP BY in SQLite. Rows with a NULL ts are left out of both sides (sluice rejects a record
without an event time). Each query runs over two orderings of the same rows (`data`):

- "windows_shuffled": the generator's order (times spread over three days at random), with
  max_out_of_orderness 4d, so no record is late and every window closes at the end of the input;
- "windows_sorted": sorted by ts with max_out_of_orderness 0, so windows close batch by batch as
  the watermark passes them (Query::on_watermark) and still nothing is late.

In SQLite a tumbling window of S ms is the bucket (ts / S) * S; a hopping window of size H and
advance A (H a multiple of A) holds ts in the H / A windows starting at (ts / A - j) * A,
j = 0 .. H/A - 1, joined from a small table of offsets.
"""

from queries import q

MINUTE = 60000
HOUR = 3600000
IN_ORDER = ["event_time: ts", "watermark: {max_out_of_orderness: 0s}"]
SHUFFLED = ["event_time: ts", "watermark: {max_out_of_orderness: 4d}"]


def tumbling(name, size_ms, size_sql, data, source):
    return q(name,
             "SELECT k, _window_start AS ws, _window_end AS we, COUNT(*) AS c, SUM(n) AS sn, "
             "MIN(x) AS mx, MAX(d) AS md, SUM(d) AS sd FROM t GROUP BY k WINDOW TUMBLING(%s)"
             % size_sql,
             "SELECT k, (ts / {s}) * {s} AS ws, (ts / {s}) * {s} + {s}, COUNT(*), SUM(n), MIN(x), "
             "MAX(d_c), SUM(d_c) FROM t WHERE ts IS NOT NULL GROUP BY k, ws".format(s=size_ms),
             "str ts ts int int float cents cents", data=data, source=source)


def hopping(name, size_ms, advance_ms, size_sql, data, source):
    offsets = " UNION ALL ".join("SELECT %d" % j for j in range(size_ms // advance_ms))
    return q(name,
             "SELECT k2, _window_start AS ws, _window_end AS we, COUNT(*) AS c, SUM(m) AS sm, "
             "MAX(s) AS ms FROM t GROUP BY k2 WINDOW %s" % size_sql,
             "WITH o(j) AS ({o}) SELECT k2, (ts / {a} - j) * {a} AS ws, (ts / {a} - j) * {a} + {h}, "
             "COUNT(*), SUM(m), MAX(s) FROM t, o WHERE ts IS NOT NULL GROUP BY k2, ws"
             .format(o=offsets, a=advance_ms, h=size_ms),
             "str ts ts int int str", data=data, source=source)


WINDOW_QUERIES = [
    tumbling("tumbling_shuffled", HOUR, "ts, INTERVAL '1' HOUR", "windows_shuffled", SHUFFLED),
    tumbling("tumbling_sorted", 10 * MINUTE, "10m", "windows_sorted", IN_ORDER),
    hopping("hopping_shuffled", 3 * HOUR, HOUR, "HOPPING(ts, 3h, 1h)", "windows_shuffled",
            SHUFFLED),
    hopping("hopping_sorted", 30 * MINUTE, 10 * MINUTE,
            "HOPPING (SIZE 30 MINUTES, ADVANCE BY 10 MINUTES)", "windows_sorted", IN_ORDER),
    q("tumbling_global_changes_last",
      "SELECT _window_start AS ws, COUNT(*) AS c, SUM(n) AS sn FROM t "
      "WINDOW TUMBLING(ts, 2h) EMIT CHANGES",
      "SELECT (ts / 7200000) * 7200000 AS ws, COUNT(*), SUM(n) FROM t WHERE ts IS NOT NULL "
      "GROUP BY ws",
      "ts int int", data="windows_shuffled", source=SHUFFLED, changes_last=1),
]
