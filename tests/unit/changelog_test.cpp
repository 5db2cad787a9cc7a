// The engine's changelog: the keys a query's state changed since the last checkpoint, written as
// entries a compacted topic keeps, and a state rebuilt from them that continues as if never
// stopped.

#include "common/error.hpp"
#include "exec/query.hpp"
#include "plan/compile.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "exec_test_util.hpp"

using namespace sluice;
using test::add_rows;
using test::collect;
using test::trades;

namespace {

struct Entry {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

// A changelog as a topic holds it: entries in the order written.
struct Log {
  std::vector<Entry> entries;
  size_t take(const exec::Query& q, exec::QueryState& st) {
    size_t before = entries.size();
    q.save_changes(st, [&](std::string_view key, const std::string_view* value) {
      entries.push_back(
          {std::string(key), value ? std::optional<std::string>(*value) : std::nullopt});
    });
    return entries.size() - before;
  }
  // What compaction leaves: the last entry of each key, in the order of those last entries.
  Log compacted() const {
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < entries.size(); ++i)
      last[entries[i].key] = i;
    std::map<size_t, Entry> kept;
    for (const auto& [key, i] : last)
      kept.emplace(i, entries[i]);
    Log out;
    for (auto& [i, e] : kept)
      out.entries.push_back(e);
    return out;
  }
  void apply(const exec::Query& q, exec::QueryState& st) const {
    for (const Entry& e : entries) {
      std::string_view v;
      if (e.value) v = *e.value;
      q.apply_change(st, e.key, e.value ? &v : nullptr, "test changelog", nullptr);
    }
    q.finish_changes(st);
  }
};

void run(const exec::Query& q, exec::QueryState& st, int from, int to,
         std::vector<std::string>& out) {
  exec::ExecContext ctx;
  exec::Batch in(q.input_width());
  add_rows(in, from, to);
  collect(q.process(st, in, ctx), out);
}

const char* const kQueries[] = {
    ("SELECT symbol, COUNT(*), SUM(qty), AVG(price), MIN(price), MAX(symbol), "
     "COUNT(DISTINCT qty) FROM trades GROUP BY symbol"),
    "SELECT symbol, qty, SUM(price) AS p, STDDEV(qty) FROM trades GROUP BY symbol, qty",
    "SELECT COUNT(*), LAST_VALUE(symbol) FROM trades", "SELECT DISTINCT symbol, qty FROM trades",
    ("SELECT symbol, qty, SUM(qty) OVER w, AVG(price) OVER w, MIN(price) OVER w, LAG(qty) OVER w, "
     "LEAD(symbol) OVER w, RANK() OVER w FROM trades "
     "WINDOW w AS (PARTITION BY symbol ORDER BY qty ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)")};

}  // namespace

TEST_CASE("a state rebuilt from its changelog continues as if never stopped", "[changelog]") {
  for (const char* sql : kQueries) {
    INFO(sql);
    auto q = plan::compile_query(sql, trades());
    REQUIRE(q->can_changelog());
    std::vector<std::string> whole;
    {
      auto st = q->make_state();
      run(*q, *st, 0, 1000, whole);
    }
    // Checkpoints every 50 rows up to row 400; then a fresh state from the log, from row 400 on.
    Log log;
    std::vector<std::string> resumed;
    {
      auto st = q->make_state();
      REQUIRE(q->track_changes(*st));
      for (int from = 0; from < 400; from += 50) {
        run(*q, *st, from, from + 50, resumed);
        log.take(*q, *st);
        CHECK(log.take(*q, *st) == 0);  // nothing changed since
      }
      CHECK(!log.entries.empty());
    }
    for (const Log& source : {log, log.compacted()}) {
      auto st = q->make_state();
      source.apply(*q, *st);
      std::vector<std::string> out = resumed;
      run(*q, *st, 400, 1000, out);
      CHECK(out == whole);
    }
  }
}

TEST_CASE("a checkpoint writes only the keys changed since the last one", "[changelog]") {
  auto q = plan::compile_query("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", trades());
  auto st = q->make_state();
  REQUIRE(q->track_changes(*st));
  std::vector<std::string> out;
  run(*q, *st, 0, 13, out);  // all 13 symbols
  Log log;
  CHECK(log.take(*q, *st) == 13);
  run(*q, *st, 13, 16, out);  // S0, S1, S2 again
  CHECK(log.take(*q, *st) == 3);
  run(*q, *st, 16, 16 + 26, out);  // every symbol twice: still one entry each
  CHECK(log.take(*q, *st) == 13);
  // Untracked states record nothing.
  auto quiet = q->make_state();
  run(*q, *quiet, 0, 100, out);
  Log none;
  CHECK(none.take(*q, *quiet) == 0);
}

TEST_CASE("tombstones remove keys, and a key written again after its tombstone is back",
          "[changelog]") {
  for (const char* sql : {"SELECT symbol, COUNT(*) FROM trades GROUP BY symbol",
                          "SELECT DISTINCT symbol FROM trades"}) {
    INFO(sql);
    auto q = plan::compile_query(sql, trades());
    auto a = q->make_state();
    REQUIRE(q->track_changes(*a));
    std::vector<std::string> out;
    run(*q, *a, 0, 5, out);  // S0 .. S4
    Log log;
    REQUIRE(log.take(*q, *a) == 5);
    // Tombstones for S1 and S3, then S3 again.
    Log more = log;
    more.entries.push_back({log.entries[1].key, std::nullopt});
    more.entries.push_back({log.entries[3].key, std::nullopt});
    more.entries.push_back(log.entries[3]);
    auto b = q->make_state();
    more.apply(*q, *b);
    CHECK(q->state_size(*b).groups == 4);
    std::vector<std::string> rows;
    run(*q, *b, 0, 5, rows);  // S1 is new again, the others are not
    std::vector<std::string> want =
        std::string(sql).find("DISTINCT") != std::string::npos
            ? std::vector<std::string>{"S1"}
            : std::vector<std::string>{"S0,2", "S1,1", "S2,2", "S3,2", "S4,2"};
    CHECK(rows == want);
  }
}

TEST_CASE("touched keys are written again: their state, or a tombstone when absent",
          "[changelog]") {
  auto q = plan::compile_query("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", trades());
  auto a = q->make_state();
  REQUIRE(q->track_changes(*a));
  std::vector<std::string> out;
  run(*q, *a, 0, 2, out);  // S0, S1
  Log log;
  REQUIRE(log.take(*q, *a) == 2);
  // Another state that never saw S1 is told both keys were written after its checkpoint.
  auto b = q->make_state();
  REQUIRE(q->track_changes(*b));
  run(*q, *b, 0, 1, out);  // S0 only
  Log ignore;
  ignore.take(*q, *b);
  for (const Entry& e : log.entries)
    CHECK(q->touch_change(*b, e.key, "t", nullptr) == exec::Query::ChangeOwner::kOperator);
  Log again;
  REQUIRE(again.take(*q, *b) == 2);
  int tombstones = 0;
  for (const Entry& e : again.entries)
    tombstones += e.value ? 0 : 1;
  CHECK(tombstones == 1);
  // Applied after the first log, the rewrite wins: S1 is gone, S0 counts one row.
  Log both = log;
  both.entries.insert(both.entries.end(), again.entries.begin(), again.entries.end());
  for (const Log& l : {both, both.compacted()}) {
    auto c = q->make_state();
    l.apply(*q, *c);
    CHECK(q->state_size(*c).groups == 1);
    std::vector<std::string> rows;
    run(*q, *c, 0, 1, rows);  // S0 again: its second row
    CHECK(rows == std::vector<std::string>{"S0,2"});
  }
}

TEST_CASE("changelog entries of another query, the runtime's, and damaged ones", "[changelog]") {
  auto q = plan::compile_query("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol", trades());
  auto other = plan::compile_query("SELECT symbol, SUM(qty) FROM trades GROUP BY symbol", trades());
  auto st = other->make_state();
  REQUIRE(other->track_changes(*st));
  std::vector<std::string> out;
  run(*other, *st, 0, 20, out);
  Log log;
  log.take(*other, *st);
  REQUIRE(!log.entries.empty());
  auto mine = q->make_state();
  for (const Entry& e : log.entries) {
    std::string_view v = *e.value;
    CHECK(q->apply_change(*mine, e.key, &v, "t", nullptr) == exec::Query::ChangeOwner::kForeign);
  }
  CHECK(q->state_size(*mine).groups == 0);

  std::string runtime = q->changelog_key(exec::Query::kRuntimePart, "source-7");
  std::string_view part;
  CHECK(q->apply_change(*mine, runtime, nullptr, "t", &part) == exec::Query::ChangeOwner::kRuntime);
  CHECK(part == "source-7");

  // Damaged: a key or value cut short, a value with bytes left over, an operator without state.
  auto own = q->make_state();
  REQUIRE(q->track_changes(*own));
  run(*q, *own, 0, 20, out);
  Log mine_log;
  mine_log.take(*q, *own);
  const Entry& e = mine_log.entries.front();
  std::string key = q->changelog_key(0, "");
  std::string good_key = e.key;
  std::string value = *e.value;
  std::string_view v = value;
  CHECK(q->apply_change(*mine, good_key, &v, "t", nullptr) == exec::Query::ChangeOwner::kOperator);
  std::string_view short_value = std::string_view(value).substr(0, value.size() - 1);
  CHECK_THROWS_AS(q->apply_change(*mine, good_key, &short_value, "t", nullptr), Error);
  std::string longer = value + "x";
  std::string_view lv = longer;
  CHECK_THROWS_AS(q->apply_change(*mine, good_key, &lv, "t", nullptr), Error);
  std::string cut = good_key.substr(0, good_key.size() - 1);
  CHECK_THROWS_AS(q->apply_change(*mine, cut, &v, "t", nullptr), Error);
  std::string no_state = q->changelog_key(7, std::string_view(e.key).substr(key.size()));
  CHECK_THROWS_AS(q->apply_change(*mine, no_state, &v, "t", nullptr), Error);
}

TEST_CASE("queries whose state has no changelog yet say so", "[changelog]") {
  plan::SourceSchema events{
      "events", {{"k", types::DataType::string()}, {"ts", types::DataType::timestamp()}}};
  auto q = plan::compile_query("SELECT k, COUNT(*) FROM events GROUP BY k WINDOW TUMBLING(ts, 1m)",
                               events);
  CHECK_FALSE(q->can_changelog());
  // A stateless query has nothing to write, and can.
  auto s = plan::compile_query("SELECT symbol FROM trades WHERE qty > 1", trades());
  CHECK(s->can_changelog());
}

TEST_CASE("an OVER state rebuilt from its changelog continues, expired keys deleted",
          "[changelog]") {
  plan::SourceSchema events{"t",
                            {{"k", types::DataType::string()},
                             {"v", types::DataType::bigint()},
                             {"ts", types::DataType::timestamp()}}};
  auto q = plan::compile_query(
      "SELECT k, v, SUM(v) OVER w, MAX(v) OVER w, LAG(v) OVER w, LEAD(v, 2) OVER w, "
      "ROW_NUMBER() OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 "
      "PRECEDING AND CURRENT ROW EXPIRE AFTER INTERVAL '3' SECOND INACTIVITY)",
      events);
  REQUIRE(q->can_changelog());
  // Key k<i % 7> at 500 ms per row, with k6 only in the first 100 rows: every key is inactive
  // for 3.5 s between its rows, so each expires and comes back; k6 expires for good.
  auto feed = [&](exec::QueryState& st, int from, int to, std::vector<std::string>& out) {
    exec::ExecContext ctx;
    exec::Batch in(q->input_width());
    for (int i = from; i < to; ++i) {
      int key = i % 7 == 6 && i >= 100 ? i % 6 : i % 7;
      std::string name = std::to_string(key);
      name.insert(0, 1, 'k');  // (not "k" + ...: GCC 12 warns of a false overlap)
      types::Value* r = in.append_row({0, i});
      r[0] = types::Value::string(in.arena().copy(name));
      r[1] = types::Value::bigint(i);
      r[2] = types::Value::timestamp(int64_t{i} * 500);
      r[3] = types::Value::make_null(types::TypeId::kString);
      r[4] = types::Value::make_null(types::TypeId::kTimestamp);
      r[5] = types::Value::bigint(0);
      r[6] = types::Value::bigint(i);
    }
    collect(q->process(st, in, ctx), out);
  };
  std::vector<std::string> whole;
  {
    auto st = q->make_state();
    for (int from = 0; from < 300; from += 10)
      feed(*st, from, from + 10, whole);
  }
  Log log;
  std::vector<std::string> resumed;
  {
    auto st = q->make_state();
    REQUIRE(q->track_changes(*st));
    for (int from = 0; from < 200; from += 10) {
      feed(*st, from, from + 10, resumed);
      log.take(*q, *st);
    }
  }
  size_t tombstones = 0;
  for (const Entry& e : log.entries)
    tombstones += e.value ? 0 : 1;
  CHECK(tombstones > 0);
  for (const Log& source : {log, log.compacted()}) {
    auto st = q->make_state();
    source.apply(*q, *st);
    std::vector<std::string> out = resumed;
    for (int from = 200; from < 300; from += 10)
      feed(*st, from, from + 10, out);
    CHECK(out == whole);
  }
}

TEST_CASE("a key that comes back as an equal but different value still gets its tombstone",
          "[changelog]") {
  // -0.0 and 0.0 are one partition key (they compare equal) with different bytes: the partition
  // -0.0 made expires, 0.0 starts it again before the checkpoint, and it expires again later.
  // The changelog must end with no live entry for either form: once compaction drops the
  // tombstones, a restore would bring back the rows of the first -0.0 partition.
  plan::SourceSchema events{"t",
                            {{"k", types::DataType::float64()},
                             {"v", types::DataType::bigint()},
                             {"ts", types::DataType::timestamp()}}};
  auto q = plan::compile_query(
      "SELECT k, v, SUM(v) OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 "
      "PRECEDING AND CURRENT ROW EXPIRE AFTER INTERVAL '1' SECOND INACTIVITY)",
      events);
  REQUIRE(q->can_changelog());
  auto feed = [&](exec::QueryState& st, double key, int64_t ts_ms) {
    exec::ExecContext ctx;
    exec::Batch in(q->input_width());
    types::Value* r = in.append_row({0, ts_ms});
    r[0] = types::Value::float64(key);
    r[1] = types::Value::bigint(ts_ms);
    r[2] = types::Value::timestamp(ts_ms);
    r[3] = types::Value::make_null(types::TypeId::kString);  // (the runtime's columns)
    r[4] = types::Value::make_null(types::TypeId::kTimestamp);
    r[5] = types::Value::bigint(0);
    r[6] = types::Value::bigint(ts_ms);
    std::vector<std::string> out;
    collect(q->process(st, in, ctx), out);
  };
  auto st = q->make_state();
  REQUIRE(q->track_changes(*st));
  Log log;
  feed(*st, -0.0, 0);
  log.take(*q, *st);
  feed(*st, 7.0, 5000);  // -0.0 expires
  feed(*st, 0.0, 5001);  // and is back, as 0.0, before the checkpoint
  log.take(*q, *st);
  feed(*st, 7.0, 10000);  // both expire
  feed(*st, 7.0, 15000);
  log.take(*q, *st);
  REQUIRE(q->state_size(*st).groups == 1);  // 7.0 only
  // What the topic holds once compaction has run and, after delete.retention.ms, dropped the
  // tombstones too.
  Log kept;
  for (const Entry& e : log.compacted().entries) {
    if (e.value) kept.entries.push_back(e);
  }
  for (const Log& source : {log.compacted(), kept}) {
    auto restored = q->make_state();
    source.apply(*q, *restored);
    CHECK(q->state_size(*restored).groups == 1);
  }
}
