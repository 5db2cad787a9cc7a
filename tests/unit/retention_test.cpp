// What the daemon needs for commit-after-ack: Query::retained_offset (the oldest input offset still
// held in window state) as windows open, close, merge and are kept for `update`; replay of records
// re-read after a restart (counted as replayed, never rejected, kept windows rebuilt silently);
// and the key metadata of compiled queries (unbounded_state, key_output_columns,
// partition_key_inputs).

#include "plan/compile.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace sluice;

namespace {

const plan::SourceSchema kTrades{"trades",
                                 {{"symbol", types::DataType::string()},
                                  {"trader_id", types::DataType::bigint()},
                                  {"price", types::DataType::float64()},
                                  {"ts", types::DataType::timestamp()}}};

// One partition's pipeline driven by hand: rows of (symbol, event time, offset), watermarks, and
// the output rows and counters they produce.
class Pipeline {
 public:
  explicit Pipeline(const std::string& sql, exec::EventTimeSettings time = {})
      : query(plan::compile_query(sql, kTrades, time)), state(query->make_state()) {}

  // Feeds one record; returns how many rows it emitted.
  size_t feed(const char* symbol, int64_t ts, int64_t offset) {
    exec::Batch in(query->input_width());
    types::Value* r = in.append_row({0, offset});
    r[0] = types::Value::string(symbol);
    r[1] = types::Value::bigint(7);
    r[2] = types::Value::float64(1.5);
    r[3] = types::Value::timestamp(ts);
    return collect(query->process(*state, in, ctx));
  }
  size_t watermark(int64_t wm) { return collect(query->on_watermark(*state, wm, ctx)); }
  std::optional<int64_t> retained() const { return query->retained_offset(*state); }

  std::shared_ptr<const exec::Query> query;
  std::unique_ptr<exec::QueryState> state;
  exec::ExecContext ctx;
  std::vector<int64_t> counts;  // the last column of every output row (COUNT(*))

 private:
  size_t collect(exec::Batch& b) {
    for (size_t r = 0; r < b.size(); ++r)
      counts.push_back(b.row(r)[b.width() - 1].i);
    return b.size();
  }
};

const char* kTumbling =
    "SELECT symbol, _window_start, COUNT(*) FROM trades GROUP BY symbol WINDOW TUMBLING(ts, 10ms)";

}  // namespace

TEST_CASE("retained offset: tumbling EMIT FINAL advances as windows close", "[retention]") {
  Pipeline p(kTumbling);
  CHECK_FALSE(p.retained());
  p.feed("a", 1, 100);
  CHECK(p.retained() == 100);
  p.feed("b", 5, 101);
  p.feed("a", 12, 102);
  p.feed("a", 15, 90);  // an earlier offset in a later window (another partition order)
  p.feed("a", 25, 103);
  CHECK(p.retained() == 90);
  CHECK(p.watermark(10) == 2);  // [0, 10) fires and frees offsets 100, 101
  CHECK(p.retained() == 90);
  CHECK(p.watermark(20) == 1);  // [10, 20) goes with 102 and 90
  CHECK(p.retained() == 103);
  CHECK(p.watermark(30) == 1);
  CHECK_FALSE(p.retained());
}

TEST_CASE("retained offset: a hopping record is held until its last window closes", "[retention]") {
  Pipeline p(
      "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW HOPPING(ts, 20ms, 10ms) "
      "EMIT FINAL");
  p.feed("a", 15, 7);  // in [0, 20) and [10, 30)
  p.feed("a", 25, 8);  // in [10, 30) and [20, 40)
  CHECK(p.retained() == 7);
  CHECK(p.watermark(20) == 1);  // [0, 20) closes; [10, 30) still holds 7
  CHECK(p.retained() == 7);
  CHECK(p.watermark(30) == 1);
  CHECK(p.retained() == 8);
  CHECK(p.watermark(40) == 1);
  CHECK_FALSE(p.retained());
}

TEST_CASE("retained offset: merged sessions keep the smaller offset", "[retention]") {
  Pipeline p("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, 10ms)");
  p.feed("a", 18, 30);  // session [18, 18]
  p.feed("a", 0, 31);   // session [0, 0]
  p.feed("a", 9, 32);   // bridges both: [0, 18], holding 30, 31, 32
  p.feed("b", 100, 40);
  CHECK(p.retained() == 30);
  CHECK(p.watermark(27) == 0);  // [0, 18] closes at 18 + 10
  CHECK(p.retained() == 30);
  CHECK(p.watermark(28) == 1);
  CHECK(p.counts == std::vector<int64_t>{3});
  CHECK(p.retained() == 40);
  CHECK(p.watermark(110) == 1);
  CHECK_FALSE(p.retained());
}

TEST_CASE("retained offset: EMIT CHANGES holds records until the window closes", "[retention]") {
  Pipeline p(
      "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW TUMBLING(ts, 10ms) EMIT "
      "CHANGES");
  CHECK(p.feed("a", 1, 5) == 1);
  CHECK(p.feed("a", 2, 6) == 1);
  CHECK(p.retained() == 5);  // emitted, but the window's state still needs them
  p.feed("a", 11, 7);
  CHECK(p.watermark(10) == 0);
  CHECK(p.retained() == 7);
  p.watermark(20);
  CHECK_FALSE(p.retained());

  Pipeline s(
      "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, 10ms) EMIT "
      "CHANGES");
  s.feed("a", 1, 3);
  s.feed("b", 2, 4);
  CHECK(s.retained() == 3);
  s.watermark(11);
  CHECK(s.retained() == 4);
  s.watermark(12);
  CHECK_FALSE(s.retained());
}

TEST_CASE("retained offset: none without windows", "[retention]") {
  for (const char* sql :
       {"SELECT symbol, price FROM trades WHERE price > 1",
        "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", "SELECT DISTINCT symbol FROM trades",
        "SELECT symbol, SUM(price) OVER (PARTITION BY symbol) FROM trades"}) {
    INFO(sql);
    Pipeline p(sql);
    p.feed("a", 1, 1);
    p.feed("b", 2, 2);
    CHECK_FALSE(p.retained());
  }
}

TEST_CASE("retained offset: late_records update keeps closed windows retained", "[retention]") {
  Pipeline p(kTumbling, {"", false, 5, exec::LatePolicy::kUpdate});
  p.feed("a", 2, 1);
  CHECK(p.watermark(15) == 1);  // [0, 10) closes at 10 + 5; kept until 20
  CHECK(p.retained() == 1);
  CHECK(p.feed("a", 3, 2) == 1);  // late: updates the kept window and re-emits
  CHECK(p.ctx.late == 1);
  CHECK(p.counts == std::vector<int64_t>{1, 2});
  CHECK(p.retained() == 1);
  p.watermark(20);
  CHECK_FALSE(p.retained());
}

TEST_CASE("replay: late records below replay_before are replayed, not rejected", "[retention]") {
  exec::EventTimeSettings dead_letter{"", false, 0, exec::LatePolicy::kDeadLetter};
  for (const char* sql :
       {kTumbling,
        "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW HOPPING(ts, 20ms, 10ms)"}) {
    INFO(sql);
    Pipeline p(sql, dead_letter);
    p.watermark(50);  // the watermark saved with the committed offset
    p.ctx.replay_before = 100;
    CHECK(p.feed("a", 5, 98) == 0);
    CHECK(p.feed("a", 6, 99) == 0);
    CHECK(p.ctx.replayed == 2);
    CHECK(p.ctx.late == 0);
    CHECK(p.ctx.rejections.empty());
    CHECK_FALSE(p.retained());
    p.feed("a", 7, 100);  // past the replay: really late
    CHECK(p.ctx.replayed == 2);
    CHECK(p.ctx.late == 1);
    REQUIRE(p.ctx.rejections.size() == 1);
    CHECK(p.ctx.rejections[0].position.offset == 100);
    CHECK(p.ctx.rejections[0].error.code == ErrorCode::kLate);
    p.feed("a", 60, 99);  // replayed but in an open window: processed as usual
    CHECK(p.retained() == 99);
    CHECK(p.ctx.replayed == 2);
  }
}

TEST_CASE("replay: re-read session records are held until the replay ends, then replayed",
          "[retention]") {
  // A session's extent depends on the records after it: one closed under the restored
  // watermark may still grow, so it is settled only when the first record past the replay
  // arrives (or the watermark moves on).
  exec::EventTimeSettings dead_letter{"", false, 0, exec::LatePolicy::kDeadLetter};
  Pipeline p("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, 10ms)",
             dead_letter);
  p.watermark(50);
  p.ctx.replay_before = 100;
  CHECK(p.feed("a", 5, 98) == 0);
  CHECK(p.feed("a", 6, 99) == 0);
  CHECK(p.retained() == 98);
  CHECK(p.feed("a", 7, 100) == 0);  // past the replay: the session was emitted, this is late
  CHECK(p.ctx.replayed == 2);
  CHECK(p.ctx.late == 1);
  REQUIRE(p.ctx.rejections.size() == 1);
  CHECK(p.ctx.rejections[0].position.offset == 100);
  CHECK_FALSE(p.retained());
  p.feed("a", 60, 99);  // replayed but in an open session: processed as usual
  CHECK(p.retained() == 99);
  CHECK(p.ctx.replayed == 2);
}

TEST_CASE("replay: a session re-read from its oldest record comes out whole", "[retention]") {
  // Before the restart: a@0, b@10, a@20, b@45 (gap 30 ms). a's session [0, 20] is open (it
  // closes at 50) and holds the oldest record, so the restart re-reads from offset 0 with the
  // watermark 45. a@0 alone would be closed at 45, but a@20 extends it: it must not be dropped.
  // b's session [10] was emitted before the restart: not again.
  const char* sql =
      "SELECT symbol, _window_start, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, "
      "30ms)";
  Pipeline whole(sql);
  for (auto [sym, ts, off] : {std::tuple{"a", 0, 0}, {"b", 10, 1}, {"a", 20, 2}, {"b", 45, 3}}) {
    whole.watermark(ts);  // the watermark before each record: the largest event time seen
    whole.feed(sym, ts, off);
  }
  CHECK(whole.counts == std::vector<int64_t>{1});  // b [10]
  REQUIRE(whole.retained() == 0);
  Pipeline p(sql);
  p.watermark(45);
  p.ctx.replay_before = 4;
  for (auto [sym, ts, off] : {std::tuple{"a", 0, 0}, {"b", 10, 1}, {"a", 20, 2}, {"b", 45, 3}})
    CHECK(p.feed(sym, ts, off) == 0);
  p.feed("a", 40, 4);
  p.watermark(80);
  CHECK(p.counts == std::vector<int64_t>{3, 1});  // a [0, 40] whole, b [45]; b [10] not again
  CHECK(p.ctx.replayed == 1);
  CHECK(p.ctx.late == 0);
}

TEST_CASE("replay: a window kept for update is rebuilt silently", "[retention]") {
  Pipeline p(kTumbling, {"", false, 5, exec::LatePolicy::kUpdate});
  p.watermark(15);  // after the restart: [0, 10) was emitted, its state is kept until 20
  p.ctx.replay_before = 10;
  CHECK(p.feed("a", 2, 1) == 0);
  CHECK(p.feed("a", 3, 2) == 0);
  CHECK(p.ctx.replayed == 2);
  CHECK(p.retained() == 1);
  CHECK(p.feed("a", 4, 10) == 1);  // a new late record updates the rebuilt window
  CHECK(p.counts == std::vector<int64_t>{3});
  CHECK(p.ctx.late == 1);
  p.watermark(20);
  CHECK_FALSE(p.retained());
  CHECK(p.counts.size() == 1);  // freed without firing again

  // Past the keep period a replayed record is dropped like any late one, just counted apart.
  Pipeline q(kTumbling, {"", false, 5, exec::LatePolicy::kUpdate});
  q.watermark(20);
  q.ctx.replay_before = 10;
  CHECK(q.feed("a", 2, 1) == 0);
  CHECK(q.ctx.replayed == 1);
  CHECK_FALSE(q.retained());
}

TEST_CASE("unbounded_state by query kind", "[retention]") {
  auto unbounded = [](const char* sql) {
    return plan::compile_query(sql, kTrades)->unbounded_state();
  };
  CHECK_FALSE(unbounded("SELECT symbol, price FROM trades WHERE price > 1"));
  CHECK_FALSE(unbounded(kTumbling));
  CHECK_FALSE(
      unbounded("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, "
                "1s) EMIT CHANGES"));
  CHECK(unbounded("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol"));
  CHECK(unbounded("SELECT COUNT(*) FROM trades"));
  CHECK(unbounded("SELECT DISTINCT symbol FROM trades"));
  CHECK(unbounded("SELECT symbol, AVG(price) OVER (PARTITION BY symbol) FROM trades"));
  CHECK(
      unbounded("SELECT DISTINCT symbol, COUNT(*) FROM trades GROUP BY symbol, trader_id "
                "WINDOW TUMBLING(ts, 1s)"));
}

TEST_CASE("key columns of compiled queries", "[retention]") {
  using Cols = std::vector<size_t>;
  auto q = [](const char* sql) { return plan::compile_query(sql, kTrades); };

  auto by_symbol = q("SELECT COUNT(*) AS n, symbol FROM trades GROUP BY symbol");
  CHECK(by_symbol->key_output_columns() == Cols{1});
  CHECK(by_symbol->partition_key_inputs() == Cols{0});

  auto two =
      q("SELECT symbol, _window_start, trader_id, SUM(price) FROM trades "
        "GROUP BY trader_id, symbol WINDOW TUMBLING(ts, 1m)");
  CHECK(two->key_output_columns() == Cols{2, 0});  // in GROUP BY order; window start excluded
  CHECK(two->partition_key_inputs() == Cols{1, 0});

  auto unselected = q("SELECT symbol, COUNT(*) FROM trades GROUP BY trader_id, symbol");
  CHECK(unselected->key_output_columns().empty());  // trader_id is not in the output
  CHECK(unselected->partition_key_inputs() == Cols{1, 0});

  auto by_alias = q("SELECT UPPER(symbol) AS s, COUNT(*) FROM trades GROUP BY s");
  CHECK(by_alias->key_output_columns() == Cols{0});  // passes the (computed) key through
  CHECK_FALSE(by_alias->partition_key_inputs());

  auto computed = q("SELECT COUNT(*) FROM trades GROUP BY trader_id % 4");
  CHECK(computed->key_output_columns().empty());
  CHECK_FALSE(computed->partition_key_inputs());

  auto global = q("SELECT COUNT(*) FROM trades");
  CHECK(global->key_output_columns().empty());
  CHECK_FALSE(global->partition_key_inputs());

  auto over = q("SELECT symbol, price, AVG(price) OVER (PARTITION BY symbol) FROM trades");
  CHECK(over->key_output_columns().empty());
  CHECK(over->partition_key_inputs() == Cols{0});
  CHECK_FALSE(
      q("SELECT symbol, AVG(price) OVER (ORDER BY ts) FROM trades")->partition_key_inputs());

  auto plain = q("SELECT symbol, price * 2 FROM trades WHERE trader_id = 7");
  CHECK(plain->key_output_columns().empty());
  CHECK(plain->partition_key_inputs() == Cols{});

  CHECK(q("SELECT DISTINCT trader_id, symbol FROM trades")->partition_key_inputs() == Cols{1, 0});
  CHECK_FALSE(q("SELECT DISTINCT UPPER(symbol) FROM trades")->partition_key_inputs());
}

TEST_CASE("state size: tumbling windows and groups before and after a window closes", "[state]") {
  Pipeline p(kTumbling);
  exec::StateSize s = p.query->state_size(*p.state);
  CHECK(s.open_windows == 0);
  CHECK(s.groups == 0);
  p.feed("a", 1, 1);
  p.feed("b", 5, 2);
  p.feed("a", 7, 3);
  p.feed("a", 12, 4);
  s = p.query->state_size(*p.state);
  CHECK(s.open_windows == 2);  // [0, 10) with a and b, [10, 20) with a
  CHECK(s.groups == 3);
  CHECK(s.bytes > 0);
  uint64_t before = s.bytes;
  CHECK(p.watermark(10) == 2);  // [0, 10) closes
  s = p.query->state_size(*p.state);
  CHECK(s.open_windows == 1);
  CHECK(s.groups == 1);
  CHECK(s.bytes < before);
  p.watermark(20);
  s = p.query->state_size(*p.state);
  CHECK(s.open_windows == 0);
  CHECK(s.groups == 0);
  CHECK(s.bytes == 0);
}

TEST_CASE("state size: sessions, aggregates, DISTINCT and OVER count their groups", "[state]") {
  Pipeline session("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol WINDOW SESSION(ts, 10ms)");
  session.feed("a", 0, 1);
  session.feed("a", 50, 2);  // a second session of a
  session.feed("b", 3, 3);
  exec::StateSize s = session.query->state_size(*session.state);
  CHECK(s.open_windows == 3);
  CHECK(s.groups == 2);
  CHECK(s.bytes > 0);
  session.watermark(20);  // a's [0, 0] and b's [3, 3] close
  s = session.query->state_size(*session.state);
  CHECK(s.open_windows == 1);
  CHECK(s.groups == 1);

  for (const char* sql :
       {"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", "SELECT DISTINCT symbol FROM trades",
        "SELECT symbol, SUM(price) OVER (PARTITION BY symbol) FROM trades"}) {
    INFO(sql);
    Pipeline p(sql);
    p.feed("a", 1, 1);
    p.feed("b", 2, 2);
    p.feed("a", 3, 3);
    s = p.query->state_size(*p.state);
    CHECK(s.open_windows == 0);
    CHECK(s.groups == 2);
    CHECK(s.bytes > 0);
  }
  Pipeline filter("SELECT symbol, price FROM trades WHERE price > 1");
  filter.feed("a", 1, 1);
  s = filter.query->state_size(*filter.state);
  CHECK(s.groups == 0);
  CHECK(s.bytes == 0);
}
