// Fuzz target `state`: operator state snapshots (Query::snapshot / Query::restore), which a
// daemon reads back from disk and from Kafka and must never trust. Byte 0 picks one of the
// queries below (grouped aggregates, a hopping window, sessions, DISTINCT, OVER frames and
// navigation, a stream–table and an interval join); byte 1 (mod 64) is a row count; then 3 bytes
// per row (symbol, quantity and lateness, price) feed the query as a pipeline does; the rest are
// edits of the snapshot taken after those rows: pairs (position byte, xor byte), or when odd one
// byte left that truncates the snapshot to (byte * 4) bytes.
//
// Checked: restoring the unedited snapshot always works, and the restored state, given the same
// further rows and closed, emits exactly what the uninterrupted state emits. An edited snapshot
// either throws sluice::Error with code STATE, or restores into a state that runs further rows,
// closes and snapshots again without a crash (ASan/UBSan watch).
// Queries with a changelog also write their changes at two checkpoints (a quarter and half of the
// rows); a state rebuilt from those entries must continue as the uninterrupted one, and the same
// edits applied to the entries' bytes must give an Error (STATE) or a state that runs.

#include "common/error.hpp"
#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "types/value_ops.hpp"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using namespace sluice;
using types::DataType;
using types::TypeId;
using types::Value;

constexpr std::array<const char*, 11> kQueries = {
    "SELECT symbol, COUNT(*), SUM(qty), AVG(price), MIN(price), MAX(symbol), FIRST_VALUE(qty), "
    "LAST_VALUE(price), STDDEV(qty) FROM trades GROUP BY symbol",
    "SELECT symbol, COUNT(DISTINCT qty), SUM(DISTINCT price), MIN(DISTINCT symbol) FROM trades "
    "GROUP BY symbol EMIT FINAL",
    "SELECT COUNT(*), SUM(price), VAR_POP(qty) FROM trades",
    "SELECT symbol, qty, COUNT(*) FROM trades WHERE qty > 1 GROUP BY symbol, qty",
    "SELECT symbol, _window_start, COUNT(*), SUM(price), MIN(symbol) FROM trades GROUP BY symbol "
    "WINDOW HOPPING(ts, 4s, 2s) EMIT CHANGES",
    "SELECT symbol, _window_start, _window_end, COUNT(*), LAST_VALUE(symbol), AVG(qty) FROM "
    "trades GROUP BY symbol WINDOW SESSION(ts, 1500ms)",
    "SELECT DISTINCT symbol, qty, price FROM trades",
    "SELECT symbol, qty, SUM(qty) OVER w, AVG(price) OVER w, MIN(price) OVER w, MAX(symbol) OVER "
    "w, COUNT(*) OVER w, LAG(price, 2) OVER w, FIRST_VALUE(symbol) OVER w, SUM(CAST(qty AS "
    "DOUBLE)) OVER w FROM trades WINDOW w AS (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 3 "
    "PRECEDING AND CURRENT ROW EXPIRE AFTER INTERVAL '2' SECOND INACTIVITY)",
    "SELECT symbol, ROW_NUMBER() OVER w, RANK() OVER w, DENSE_RANK() OVER w, LEAD(qty, 2) OVER w, "
    "LEAD(symbol) OVER w, MAX(price) OVER w, FIRST_VALUE(qty) OVER w FROM trades WINDOW w AS "
    "(PARTITION BY qty ORDER BY ts EXPIRE AFTER INTERVAL '3' SECOND INACTIVITY)",
    // Joins: trades with a second source of the same columns (a table keyed by symbol; a
    // stream), each row going to one of them (see add_rows).
    "SELECT t.symbol, t.qty, q.price, q._key AS k FROM trades t LEFT JOIN quotes q ON t.symbol = "
    "q._key AND q.qty <> 3",
    "SELECT t.symbol, t.qty, u.qty AS uq, u.price FROM trades t FULL JOIN trades2 u WITHIN 1 "
    "SECOND "
    "GRACE PERIOD 500ms ON t.symbol = u.symbol",
};

const exec::Query& query(size_t i) {
  static std::vector<std::shared_ptr<const exec::Query>> compiled = [] {
    plan::SourceSchema trades{"trades",
                              {{"symbol", DataType::string()},
                               {"price", DataType::decimal(18, 4)},
                               {"qty", DataType::bigint()},
                               {"ts", DataType::timestamp()}}};
    trades.event_time = "ts";
    plan::SourceSchema quotes = trades, trades2 = trades;
    quotes.name = "quotes";
    quotes.table = true;
    trades2.name = "trades2";
    std::vector<std::shared_ptr<const exec::Query>> qs;
    for (const char* sql : kQueries) {
      std::string_view text(sql);
      qs.push_back(text.find("quotes") != std::string_view::npos
                       ? plan::compile_query(sql, std::vector<plan::SourceSchema>{trades, quotes})
                   : text.find("trades2") != std::string_view::npos
                       ? plan::compile_query(sql, std::vector<plan::SourceSchema>{trades, trades2})
                       : plan::compile_query(sql, trades));
    }
    return qs;
  }();
  return *compiled[i];
}

const std::array<std::string, 8> kSymbols = {"", "a", "bb", "ünï", "AAPL", "x\x01y", "NULL", "z"};

// Appends rows `first`.. from 3 bytes each; event times grow by 0.5 s a row, up to 1.5 s out
// of order. Returns the watermark steps of the batch (max event time before each row), starting
// from `*max_time`, which it advances.
std::vector<exec::WatermarkStep> add_rows(exec::Batch& in, const uint8_t* rows, size_t n,
                                          int64_t first, int64_t* max_time) {
  std::vector<exec::WatermarkStep> steps;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* r = rows + 3 * i;
    int64_t offset = first + static_cast<int64_t>(i);
    if (*max_time != INT64_MIN && (steps.empty() || *max_time > steps.back().watermark))
      steps.push_back({offset, *max_time});
    int64_t ts = offset * 500 - (r[1] / 16 % 4) * 500;
    Value* row = in.append_row({0, offset});
    row[0] = r[0] % 9 == 8 ? Value::make_null(TypeId::kString)
                           : Value::string(kSymbols[r[0] % 9 % kSymbols.size()]);
    row[1] = r[2] == 0 ? Value::make_null(TypeId::kDecimal)
                       : Value::decimal((static_cast<int64_t>(r[2]) - 128) * 12345, 4);
    row[2] = Value::bigint(static_cast<int64_t>(r[1] % 16) - 4);
    row[3] = Value::timestamp(ts);
    row[4] = Value::make_null(TypeId::kString);
    row[5] = Value::make_null(TypeId::kTimestamp);
    row[6] = Value::bigint(0);
    row[7] = Value::bigint(offset);
    *max_time = std::max(*max_time, ts);
  }
  return steps;
}

void collect(exec::Batch& b, std::vector<std::string>& out) {
  for (size_t r = 0; r < b.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < b.width(); ++c)
      line.append(c ? "," : "").append(types::to_text(b.row(r)[c]));
    out.push_back(line);
  }
}

// Runs rows into `st` as a pipeline does (per-record watermark, the watermark moved after the
// batch); `close` then flushes it.
void feed(const exec::Query& q, exec::QueryState& st, const uint8_t* rows, size_t n, int64_t first,
          int64_t* max_time, std::vector<std::string>& out) {
  exec::ExecContext ctx;
  if (q.input_count() > 1) {
    // A join: each row to the input bit 6 of its second byte picks, one at a time, the
    // watermark following the rows.
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* r = rows + 3 * i;
      ctx.input = (r[1] >> 6) & 1;
      exec::Batch in(q.input_width(ctx.input));
      add_rows(in, r, 1, first + static_cast<int64_t>(i), max_time);
      if (in.width() > 8) {  // a table row: keyed by its symbol; no price makes it a tombstone
        Value* row = in.row(0);
        row[4] = row[0];
        row[8] = Value::boolean(row[1].null);
      }
      collect(q.process(st, in, ctx), out);
      if (q.uses_watermark() && *max_time != INT64_MIN)
        collect(q.on_watermark(st, *max_time - 1000, ctx), out);
    }
    return;
  }
  exec::Batch in(q.input_width());
  std::vector<exec::WatermarkStep> steps = add_rows(in, rows, n, first, max_time);
  if (q.event_time()) ctx.watermark_steps = steps;
  collect(q.process(st, in, ctx), out);
  if (q.event_time() && *max_time != INT64_MIN) collect(q.on_watermark(st, *max_time, ctx), out);
}

std::vector<std::string> finish(const exec::Query& q, exec::QueryState& st, const uint8_t* rows,
                                size_t n, int64_t first, int64_t max_time) {
  std::vector<std::string> out;
  feed(q, st, rows, n, first, &max_time, out);
  exec::ExecContext ctx;
  collect(q.close(st, ctx), out);
  return out;
}

struct Change {
  std::string key;
  bool tombstone = false;
  std::string value;
};

// Applies `log` to a fresh state; throws what apply_change throws.
std::unique_ptr<exec::QueryState> rebuild(const exec::Query& q, const std::vector<Change>& log) {
  auto st = q.make_state();
  for (const Change& c : log) {
    std::string_view v = c.value;
    q.apply_change(*st, c.key, c.tombstone ? nullptr : &v, "fuzz changelog", nullptr);
  }
  q.finish_changes(*st);
  return st;
}

template <typename Edit>
void check_changelog(const exec::Query& q, const uint8_t* rows, size_t n,
                     const std::vector<std::string>& expected, Edit edit) {
  size_t quarter = n / 4, head = n / 2;
  auto st = q.make_state();
  FUZZ_CHECK(q.track_changes(*st), "the query's state tracks its changes");
  std::vector<Change> log;
  auto take = [&] {
    q.save_changes(*st, [&](std::string_view key, const std::string_view* value) {
      log.push_back({std::string(key), value == nullptr, value ? std::string(*value) : ""});
    });
  };
  int64_t max_time = INT64_MIN;
  std::vector<std::string> ignored;
  feed(q, *st, rows, quarter, 0, &max_time, ignored);
  take();
  feed(q, *st, rows + 3 * quarter, head - quarter, static_cast<int64_t>(quarter), &max_time,
       ignored);
  take();
  const int64_t tail_first = static_cast<int64_t>(head);
  try {
    auto restored = rebuild(q, log);
    auto got = finish(q, *restored, rows + 3 * head, n - head, tail_first, max_time);
    FUZZ_CHECK(got == expected, "the state rebuilt from its changelog continues as the saved one");
  } catch (const Error& e) {
    FUZZ_CHECK(false, e.what());
  }
  if (log.empty()) return;
  // The edits, applied to one entry's key or value (picked by the row count).
  Change& victim = log[n % log.size()];
  std::string& bytes = n % 2 == 0 || victim.tombstone ? victim.key : victim.value;
  std::string before = bytes;
  bytes = edit(bytes);
  if (bytes == before) return;
  std::unique_ptr<exec::QueryState> damaged;
  try {
    damaged = rebuild(q, log);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kState, e.what());
    return;
  }
  finish(q, *damaged, rows + 3 * head, n - head, tail_first, max_time);
  std::string again;
  FUZZ_CHECK(q.snapshot(*damaged, again), "a state rebuilt from edited entries saves");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const exec::Query& q = query(data[0] % kQueries.size());
  size_t n = data[1] % 64;
  if (size < 2 + 3 * n) return 0;
  const uint8_t* rows = data + 2;
  const uint8_t* edits = rows + 3 * n;
  size_t edit_bytes = size - 2 - 3 * n;
  // The first half of the rows before the snapshot, the second after it.
  size_t head = n / 2;

  auto st = q.make_state();
  std::string snapshot;
  int64_t max_time = INT64_MIN;
  {
    std::vector<std::string> ignored;
    feed(q, *st, rows, head, 0, &max_time, ignored);
    FUZZ_CHECK(q.snapshot(*st, snapshot), "the query's state saves");
  }
  const int64_t tail_first = static_cast<int64_t>(head);
  std::vector<std::string> expected =
      finish(q, *st, rows + 3 * head, n - head, tail_first, max_time);
  {
    auto restored = q.make_state();
    try {
      q.restore(*restored, snapshot, "fuzz snapshot");
    } catch (const Error& e) {
      FUZZ_CHECK(false, e.what());
    }
    auto got = finish(q, *restored, rows + 3 * head, n - head, tail_first, max_time);
    FUZZ_CHECK(got == expected, "the restored state continues as the saved one");
  }

  auto edit = [&](const std::string& bytes) {
    std::string edited = bytes;
    for (size_t i = 0; i + 1 < edit_bytes; i += 2) {
      if (edited.empty()) break;
      edited[edits[i] % edited.size()] ^= static_cast<char>(edits[i + 1]);
    }
    if (edit_bytes % 2 == 1)
      edited.resize(std::min<size_t>(edited.size(), edits[edit_bytes - 1] * 4u));
    return edited;
  };
  if (q.can_changelog()) check_changelog(q, rows, n, expected, edit);

  std::string edited = edit(snapshot);
  if (edited == snapshot) return 0;
  auto damaged = q.make_state();
  try {
    q.restore(*damaged, edited, "fuzz snapshot");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kState, e.what());
    return 0;
  }
  // Restored from edited bytes (e.g. a changed count or sum): it must still run and save.
  finish(q, *damaged, rows + 3 * head, n - head, tail_first, max_time);
  std::string again;
  FUZZ_CHECK(q.snapshot(*damaged, again), "a restored state saves again");
  return 0;
}
