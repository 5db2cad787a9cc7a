// Durable operator state: the binary codec, every aggregate state saved and loaded, and a grouped
// aggregate's state snapshotted mid-stream and restored into a fresh query state.

#include "exec/state_codec.hpp"

#include "common/error.hpp"
#include "functions/aggregate.hpp"
#include "plan/compile.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "exec_test_util.hpp"

using namespace sluice;
using types::DataType;
using types::TypeId;
using types::Value;

namespace {

// An aggregate state on the heap, initialised, destroyed with the holder.
class AggState {
 public:
  explicit AggState(const functions::BoundAggregate& agg) : agg_(agg) {
    p_ = ::operator new(agg.state_size, std::align_val_t(agg.state_align));
    agg.init(p_);
  }
  ~AggState() {
    if (agg_.destroy) agg_.destroy(p_);
    ::operator delete(p_, std::align_val_t(agg_.state_align));
  }
  AggState(const AggState&) = delete;
  AggState& operator=(const AggState&) = delete;
  void* get() { return p_; }
  std::string result(Arena& arena) {
    exec::EvalContext ctx;
    ctx.arena = &arena;
    Value v = agg_.finalize(p_, arena, ctx);
    if (!ctx.failed && v.has_bytes() && v.type != TypeId::kString) {
      return types::to_text(v) + ":" + std::string(v.str());  // nested values by their bytes
    }
    if (!ctx.failed) return types::to_text(v);
    std::string err = "error: ";
    return err.append(ctx.error.message);
  }

 private:
  const functions::BoundAggregate& agg_;
  void* p_;
};

Value random_value(DataType t, std::mt19937_64& rng, Arena& arena) {
  std::uniform_int_distribution<int64_t> small(-50, 50);
  switch (t.id) {
    case TypeId::kBoolean:
      return Value::boolean(rng() % 2 == 0);
    case TypeId::kBigInt:
      return Value::bigint(rng() % 7 == 0 ? INT64_MAX - std::abs(small(rng)) : small(rng));
    case TypeId::kDouble:
      return Value::float64(static_cast<double>(small(rng)) / 8.0);
    case TypeId::kDecimal:
      return Value::decimal(small(rng) * 12345, t.scale);
    case TypeId::kString:
      return Value::string(
          arena.copy(std::string(rng() % 40, static_cast<char>('a' + rng() % 26))));
    case TypeId::kTimestamp:
      return Value::timestamp(1'700'000'000'000 + small(rng) * 1000);
    case TypeId::kInterval:
      return Value::interval(small(rng) * 1000);
    case TypeId::kDate:
      return Value::date(19'000 + small(rng));
    case TypeId::kTime:
      return Value::time(43'200'000 + small(rng) * 1000);
    case TypeId::kBytes:
      return Value::bytes(arena.copy(std::string(rng() % 9, static_cast<char>(rng() % 256))));
    case TypeId::kArray: {
      std::vector<Value> items(rng() % 4, Value::bigint(small(rng)));
      return Value::nested(TypeId::kArray, types::nested::build(items, arena));
    }
    case TypeId::kStruct:
    case TypeId::kMap:
    case TypeId::kNull:
      break;
  }
  return Value::make_null();
}

}  // namespace

TEST_CASE("state codec round-trips every value type and rejects truncated bytes", "[state]") {
  std::vector<Value> values = {Value::make_null(TypeId::kString),
                               Value::boolean(true),
                               Value::bigint(INT64_MIN),
                               Value::float64(-0.5),
                               Value::decimal(-(types::int128(1) << 100), 7),
                               Value::string(""),
                               Value::string("ünïcode \x01 bytes"),
                               Value::timestamp(-1),
                               Value::interval(86'400'000),
                               Value::date(-719'528),
                               Value::time(86'399'999),
                               Value::bytes(std::string_view("\0\xff\x80", 3)),
                               Value::make_null(TypeId::kBytes)};
  std::string bytes;
  exec::StateWriter w(bytes);
  for (const Value& v : values)
    w.value(v);
  Arena arena;
  exec::StateReader r(bytes, "test");
  for (const Value& v : values) {
    Value back = r.value(arena);
    INFO(types::to_text(v));
    CHECK(back.type == v.type);
    CHECK(back.null == v.null);
    if (!v.null) CHECK(types::group_equal(back, v));
  }
  r.expect_end();
  // Every shorter prefix fails cleanly, naming the input.
  for (size_t n = 0; n < bytes.size(); ++n) {
    exec::StateReader cut(std::string_view(bytes).substr(0, n), "snapshot x");
    bool threw = false;
    try {
      for (size_t i = 0; i < values.size(); ++i)
        cut.value(arena);
    } catch (const Error& e) {
      threw = true;
      CHECK(e.code() == ErrorCode::kState);
      CHECK(std::string(e.what()).find("snapshot x") != std::string::npos);
    }
    CHECK(threw);
  }
  // A bad type tag, DATE and TIME values no query can make, and an impossible count.
  std::string bad = "\x0b";
  exec::StateReader tag(bad, "t");
  CHECK_THROWS_AS(tag.value(arena), Error);
  for (Value forged : {Value::date(types::time::kMaxDateDays + 1), Value::time(-1),
                       Value::time(types::time::kMsPerDay)}) {
    std::string out;
    exec::StateWriter(out).value(forged);
    exec::StateReader in(out, "t");
    CHECK_THROWS_WITH(in.value(arena), Catch::Contains("t: a "));
  }
  std::string many;
  exec::StateWriter(many).u32(1'000'000);
  exec::StateReader count(many, "t");
  CHECK_THROWS_AS(count.count(2), Error);
}

TEST_CASE("every aggregate state saves and loads: same result, same result after more rows",
          "[state]") {
  std::vector<DataType> types = {DataType::boolean(),
                                 DataType::bigint(),
                                 DataType::float64(),
                                 DataType::decimal(18, 2),
                                 DataType::string(),
                                 DataType::timestamp(),
                                 DataType::interval(),
                                 DataType::date(),
                                 DataType::time(),
                                 DataType::bytes(),
                                 DataType::array(DataType::bigint())};
  std::mt19937_64 rng(42);
  size_t checked = 0;
  for (const std::string& name : functions::aggregate_function_names()) {
    for (const DataType& type : types) {
      for (bool distinct : {false, true}) {
        functions::BoundAggregate agg;
        try {
          std::vector<DataType> args = {type};
          agg = functions::bind_aggregate(name, args, distinct, false);
        } catch (const Error&) {
          continue;  // not defined for this type
        }
        INFO(name << (distinct ? " DISTINCT " : " ") << type.to_string());
        Arena arena;
        std::vector<Value> rows;
        for (int i = 0; i < 200; ++i) {
          Value v = random_value(agg.arg_type, rng, arena);
          if (i % 50 == 7) rows.push_back(v);  // repeats, for DISTINCT
          rows.push_back(v);
        }
        AggState a(agg);
        for (size_t i = 0; i < rows.size() / 2; ++i)
          agg.update(a.get(), &rows[i]);
        std::string bytes;
        exec::StateWriter w(bytes);
        agg.save(a.get(), w);
        AggState b(agg);
        exec::StateReader r(bytes, "test");
        agg.load(b.get(), r);
        r.expect_end();
        CHECK(b.result(arena) == a.result(arena));
        for (size_t i = rows.size() / 2; i < rows.size(); ++i) {
          agg.update(a.get(), &rows[i]);
          agg.update(b.get(), &rows[i]);
        }
        CHECK(b.result(arena) == a.result(arena));
        // Truncated bytes never load silently.
        for (size_t n = 0; n < bytes.size(); n += 1 + bytes.size() / 16) {
          AggState c(agg);
          exec::StateReader cut(std::string_view(bytes).substr(0, n), "test");
          bool failed = false;
          try {
            agg.load(c.get(), cut);
            cut.expect_end();
          } catch (const Error& e) {
            failed = e.code() == ErrorCode::kState;
          }
          CHECK(failed);
        }
        ++checked;
      }
    }
  }
  CHECK(checked >= 60);
}

namespace {

using test::add_rows;
using test::collect;
using test::trades;

}  // namespace

TEST_CASE("a grouped aggregate restored from a snapshot continues as if never stopped", "[state]") {
  for (const char* sql :
       {"SELECT symbol, COUNT(*), SUM(qty), AVG(price), MIN(price), MAX(symbol), "
        "COUNT(DISTINCT qty) FROM trades GROUP BY symbol",
        "SELECT symbol, SUM(price) AS p, STDDEV(qty) FROM trades GROUP BY symbol EMIT FINAL",
        "SELECT COUNT(*), LAST_VALUE(symbol) FROM trades",
        "SELECT DISTINCT symbol, qty, price FROM trades"}) {
    INFO(sql);
    auto q = plan::compile_query(sql, trades());
    // Uninterrupted.
    std::vector<std::string> whole;
    {
      auto st = q->make_state();
      exec::ExecContext ctx;
      exec::Batch in(q->input_width());
      add_rows(in, 0, 1000);
      collect(q->process(*st, in, ctx), whole);
      collect(q->close(*st, ctx), whole);
    }
    // Stopped after 400 rows, snapshotted, restored into a new state, continued.
    std::vector<std::string> resumed;
    std::string snapshot;
    {
      auto st = q->make_state();
      exec::ExecContext ctx;
      exec::Batch in(q->input_width());
      add_rows(in, 0, 400);
      collect(q->process(*st, in, ctx), resumed);
      REQUIRE(q->snapshot(*st, snapshot));
    }
    {
      auto st = q->make_state();
      q->restore(*st, snapshot, "test snapshot");
      exec::ExecContext ctx;
      exec::Batch in(q->input_width());
      add_rows(in, 400, 1000);
      collect(q->process(*st, in, ctx), resumed);
      collect(q->close(*st, ctx), resumed);
    }
    CHECK(resumed == whole);
    // A snapshot of another query, a damaged one, or one of an unsaved state is refused.
    auto other =
        plan::compile_query("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", trades());
    auto ost = other->make_state();
    CHECK_THROWS_AS(other->restore(*ost, snapshot, "s"), Error);
    std::string damaged = snapshot;
    damaged[0] ^= 1;
    auto dst = q->make_state();
    CHECK_THROWS_AS(q->restore(*dst, damaged, "s"), Error);
    auto tst = q->make_state();
    CHECK_THROWS_AS(
        q->restore(*tst, std::string_view(snapshot).substr(0, snapshot.size() - 1), "s"), Error);
  }
}

namespace {

// OVER: sliding and running frames of every type (BIGINT, DOUBLE, DECIMAL, STRING), and
// navigation with LEAD rows held across the snapshot and keys expiring (rows every 0.7 s, three
// keys, EXPIRE AFTER 2 s).
const char* const kOverFrames =
    "SELECT k, v, SUM(v) OVER w, AVG(CAST(v AS DOUBLE)) OVER w, "
    "SUM(CAST(v AS DECIMAL(10, 2))) OVER w, MIN(v) OVER w, MAX(k) OVER w, COUNT(*) OVER w, "
    "LAG(v, 2) OVER w, FIRST_VALUE(v) OVER w, "
    "SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
    "AS running, MIN(k) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "CURRENT ROW) AS least FROM t "
    "WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)";
const char* const kOverNavigation =
    "SELECT k, v, ROW_NUMBER() OVER w, RANK() OVER w, DENSE_RANK() OVER w, LEAD(v, 2) OVER w, "
    "LEAD(k) OVER w, LAG(k) OVER w, FIRST_VALUE(k) OVER w FROM t "
    "WINDOW w AS (PARTITION BY k ORDER BY ts EXPIRE AFTER INTERVAL '2' SECOND INACTIVITY)";

// Drives a windowed query as the pipeline does: every record judged against the watermark before
// it (max event time seen), the watermark moved at the end of each batch.
struct WindowRun {
  std::shared_ptr<const exec::Query> q;
  std::unique_ptr<exec::QueryState> st;
  int64_t max_time = INT64_MIN;
  int64_t watermark = INT64_MIN;
  std::vector<std::string> out;

  explicit WindowRun(std::shared_ptr<const exec::Query> query)
      : q(std::move(query)), st(q->make_state()) {}

  // Rows (k, v, ts ms) from `from` to `to` of a fixed pseudo-random stream, in batches of 5.
  void feed(int from, int to) {
    for (int b = from; b < to; b += 5) {
      exec::Batch in(q->input_width());
      std::vector<exec::WatermarkStep> steps;
      for (int i = b; i < std::min(b + 5, to); ++i) {
        if (max_time != INT64_MIN && (steps.empty() || max_time > steps.back().watermark))
          steps.push_back({i, max_time});
        int64_t ts = int64_t{i} * 700 - (i % 4) * 900;  // out of order by up to 2.7 s
        std::string k = std::to_string(i % 3);
        k.insert(0, 1, 'k');
        Value* r = in.append_row({0, i});
        r[0] = Value::string(in.arena().copy(k));
        r[1] = Value::bigint(i);
        r[2] = Value::timestamp(ts);
        r[3] = Value::make_null(TypeId::kString);
        r[4] = Value::make_null(TypeId::kTimestamp);
        r[5] = Value::bigint(0);
        r[6] = Value::bigint(i);
        max_time = std::max(max_time, ts);
      }
      exec::ExecContext ctx;
      ctx.watermark_steps = steps;
      collect(q->process(*st, in, ctx), out);
      if (max_time > watermark) {
        watermark = max_time;
        collect(q->on_watermark(*st, watermark, ctx), out);
      }
    }
  }
  void close() {
    exec::ExecContext ctx;
    collect(q->close(*st, ctx), out);
  }
};

}  // namespace

TEST_CASE("window, session and OVER states restored from a snapshot continue as if never stopped",
          "[state]") {
  plan::SourceSchema events{
      "t", {{"k", DataType::string()}, {"v", DataType::bigint()}, {"ts", DataType::timestamp()}}};
  for (const char* sql : {
           "SELECT k, _window_start, COUNT(*) AS n, SUM(v), MAX(k) FROM t GROUP BY k WINDOW "
           "TUMBLING(ts, 5s)",
           "SELECT k, _window_start, COUNT(*) AS n, AVG(v) FROM t GROUP BY k WINDOW "
           "HOPPING(ts, 6s, 2s) EMIT CHANGES",
           "SELECT k, _window_start, _window_end, COUNT(*) AS n, FIRST_VALUE(v), LAST_VALUE(k) "
           "FROM t GROUP BY k WINDOW SESSION(ts, 2s)",
           "SELECT k, _window_start, _window_end, SUM(v) FROM t GROUP BY k WINDOW "
           "SESSION(ts, 1500ms) EMIT CHANGES",
           kOverFrames,
           kOverNavigation,
       }) {
    INFO(sql);
    auto q = plan::compile_query(sql, events);
    WindowRun whole(q);
    whole.feed(0, 300);
    whole.close();
    REQUIRE(whole.out.size() > 20);

    WindowRun first(q);
    first.feed(0, 140);
    std::string snapshot;
    REQUIRE(q->snapshot(*first.st, snapshot));
    WindowRun second(q);
    second.out = first.out;
    second.max_time = first.max_time;
    second.watermark = first.watermark;
    q->restore(*second.st, snapshot, "test snapshot");
    second.feed(140, 300);
    second.close();
    CHECK(second.out == whole.out);

    // Every truncation is refused.
    for (size_t n = 0; n < snapshot.size(); n += 1 + snapshot.size() / 40) {
      auto st = q->make_state();
      CHECK_THROWS_AS(q->restore(*st, std::string_view(snapshot).substr(0, n), "s"), Error);
    }
  }
}

TEST_CASE("a snapshot restores only into the query and source schema it was taken of", "[state]") {
  auto snapshot_of = [](const std::shared_ptr<const exec::Query>& q, int rows) {
    auto st = q->make_state();
    exec::ExecContext ctx;
    exec::Batch in(q->input_width());
    add_rows(in, 0, rows);
    q->process(*st, in, ctx);
    std::string out;
    REQUIRE(q->snapshot(*st, out));
    return out;
  };
  auto restore_error = [](const std::shared_ptr<const exec::Query>& q, std::string_view snap) {
    auto st = q->make_state();
    try {
      q->restore(*st, snap, "snapshot");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kState);
      return std::string(e.what());
    }
    return std::string();
  };
  const char* sql = "SELECT qty, SUM(price) AS p FROM trades GROUP BY qty";
  auto q = plan::compile_query(sql, trades());
  std::string snap = snapshot_of(q, 300);

  // Whitespace, comments and the case of keywords and names are not part of the identity.
  auto same = plan::compile_query(
      "select QTY,sum(Price)   as p -- the total\n FROM Trades group by qty", trades());
  CHECK(restore_error(same, snap).empty());

  // Another query of the same shape, or the same query over columns of other types, is refused.
  auto by_symbol =
      plan::compile_query("SELECT symbol, SUM(price) AS p FROM trades GROUP BY symbol", trades());
  CHECK_THAT(restore_error(by_symbol, snap), Catch::Contains("another query"));
  plan::SourceSchema rescaled = trades();
  rescaled.columns[1].type = DataType::decimal(18, 2);
  auto q_rescaled = plan::compile_query(sql, rescaled);
  CHECK_THAT(restore_error(q_rescaled, snap), Catch::Contains("another query"));

  // A snapshot whose identity was forged still cannot put keys of another type in the state
  // (BIGINT keys read as strings would be read through as pointers).
  std::string forged = snap;
  forged.replace(8, 8, snapshot_of(by_symbol, 0).substr(8, 8));  // after the magic and version
  CHECK_THAT(restore_error(by_symbol, forged), Catch::Contains("a group key of another type"));
}

TEST_CASE("an OVER snapshot with a forged identity cannot put frames of another shape in the state",
          "[state]") {
  plan::SourceSchema events{"t", {{"k", DataType::string()}, {"v", DataType::bigint()}}};
  auto over = [&](const char* frame) {
    return plan::compile_query(
        std::string("SELECT k, MIN(v) OVER (PARTITION BY k ROWS ") + frame + ") AS m FROM t",
        events);
  };
  auto three = over("3 PRECEDING");
  auto st = three->make_state();
  exec::ExecContext ctx;
  exec::Batch in(three->input_width());
  for (int i = 0; i < 20; ++i) {
    Value* r = in.append_row({0, i});
    r[0] = Value::string(in.arena().copy(i % 2 ? "a" : "b"));
    r[1] = Value::bigint(20 - i);
    for (int c = 2; c < 6; ++c)
      r[c] = Value::make_null(TypeId::kNull);
  }
  three->process(*st, in, ctx);
  std::string snap;
  REQUIRE(three->snapshot(*st, snap));
  // The same bytes claimed by a query whose frame is five rows: its rings and deques differ.
  auto five = over("5 PRECEDING");
  std::string empty;
  REQUIRE(five->snapshot(*five->make_state(), empty));
  std::string forged = snap;
  forged.replace(8, 8, empty.substr(8, 8));  // after the magic and version
  auto target = five->make_state();
  try {
    five->restore(*target, forged, "forged");
    FAIL("a forged OVER snapshot was restored");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("a frame ring of another size"));
  }
}

TEST_CASE("an OVER snapshot refuses decimals beyond 38 digits", "[state]") {
  auto q = plan::compile_query(
      "SELECT symbol, SUM(price) OVER (PARTITION BY symbol ROWS 1 PRECEDING) AS s, MIN(price) "
      "OVER (PARTITION BY symbol ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS m "
      "FROM trades",
      trades());
  auto st = q->make_state();
  exec::ExecContext ctx;
  exec::Batch in(q->input_width());
  Value* r = in.append_row({0, 0});
  r[0] = Value::string("AAPL");
  r[1] = Value::decimal(424242424242, 4);
  r[2] = Value::bigint(1);
  for (int c = 3; c < 7; ++c)
    r[c] = Value::make_null(TypeId::kNull);
  q->process(*st, in, ctx);
  std::string snap;
  REQUIRE(q->snapshot(*st, snap));
  // Every copy of the value (the frame ring, the SUM, the held MIN) made -2^127: negating it, as
  // a value leaving a SUM frame does, is undefined.
  std::string value(16, '\0');
  for (int i = 0; i < 8; ++i)
    value[static_cast<size_t>(i)] = static_cast<char>((424242424242LL >> (8 * i)) & 0xff);
  std::string min128(16, '\0');
  min128[15] = static_cast<char>(0x80);
  std::string forged = snap;
  size_t copies = 0;
  for (size_t at = forged.find(value); at != std::string::npos; at = forged.find(value, at + 16)) {
    forged.replace(at, 16, min128);
    ++copies;
  }
  REQUIRE(copies >= 2);
  auto target = q->make_state();
  CHECK_THROWS_WITH(q->restore(*target, forged, "forged"),
                    Catch::Contains("of another type than the query's"));
}
