// Event time and windows below SQL: the watermark tracker (several inputs, idle inputs), the
// parsed form of every WINDOW syntax, duration parsing of the job file, and the windowed operator
// driven directly through Query::on_watermark (memory freed as windows close).

#include "config/job_config.hpp"
#include "exec/watermark.hpp"
#include "plan/compile.hpp"
#include "sql/parser.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace sluice;
using exec::WatermarkTracker;

TEST_CASE("watermark: one input is max event time minus the allowed disorder", "[window]") {
  WatermarkTracker wm(1, 5000, 0, 0);
  CHECK_FALSE(wm.advance(0));  // nothing seen yet
  wm.observe(0, 10'000, 0);
  CHECK(wm.advance(0) == 5000);
  wm.observe(0, 8'000, 0);  // older record: no step back, no new watermark
  CHECK_FALSE(wm.advance(0));
  CHECK(wm.current() == 5000);
  wm.observe(0, 12'000, 0);
  CHECK(wm.advance(0) == 7000);
}

TEST_CASE("watermark: the minimum over inputs, held back by one that saw nothing", "[window]") {
  WatermarkTracker wm(3, 0, 0, 0);
  wm.observe(0, 50, 0);
  wm.observe(1, 30, 0);
  CHECK_FALSE(wm.advance(0));  // input 2 has seen nothing and idleness is off
  wm.observe(2, 40, 0);
  CHECK(wm.advance(0) == 30);
  wm.observe(1, 100, 0);
  CHECK(wm.advance(0) == 40);
  wm.observe(2, 45, 0);
  CHECK(wm.advance(0) == 45);
}

TEST_CASE("watermark: an idle input stops holding the watermark back", "[window]") {
  WatermarkTracker wm(2, 1000, 10'000, 0);
  wm.observe(0, 5000, 1000);
  wm.observe(1, 2000, 1000);
  CHECK(wm.advance(1000) == 1000);  // min(5000, 2000) - 1000
  wm.observe(0, 9000, 5000);
  CHECK_FALSE(wm.advance(5000));  // input 1 still holds it at 1000
  wm.observe(0, 20'000, 10'999);
  CHECK_FALSE(wm.advance(10'999));      // input 1 silent for 9999 ms: not idle yet
  CHECK(wm.advance(11'000) == 19'000);  // silent for 10 s: idle, input 0 alone counts
  wm.observe(1, 3000, 12'000);          // back, far behind: the watermark never goes back
  CHECK_FALSE(wm.advance(12'000));
  CHECK(wm.current() == 19'000);
  wm.observe(0, 30'000, 12'000);
  wm.observe(1, 25'000, 12'000);
  CHECK(wm.advance(12'000) == 24'000);  // active again: the minimum holds
}

TEST_CASE("watermark: an input that never delivers becomes idle; all idle changes nothing",
          "[window]") {
  WatermarkTracker wm(2, 0, 500, 100);
  wm.observe(0, 7000, 200);
  CHECK_FALSE(wm.advance(599));     // input 1 silent since construction (100) for 499 ms
  CHECK(wm.advance(600) == 7000);   // now idle
  CHECK_FALSE(wm.advance(10'000));  // both idle: stays
  CHECK(wm.current() == 7000);
}

namespace {

sql::WindowClause window_of(const std::string& sql) {
  sql::SelectStatement stmt = sql::parse_select(sql);
  REQUIRE(stmt.window);
  return std::move(*stmt.window);
}

std::string duration(const sql::ExprPtr& e) {
  if (!e) return "-";
  if (e->kind == sql::ExprKind::kInterval) return e->text + " " + e->name;
  return "expr";
}

}  // namespace

TEST_CASE("WINDOW syntaxes parse to one clause", "[window][sql]") {
  auto w = window_of("SELECT COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(INTERVAL '1' MINUTE)");
  CHECK(w.kind == sql::WindowKind::kTumbling);
  CHECK_FALSE(w.time_column);
  CHECK(duration(w.size) == "1 MINUTE");

  w = window_of("SELECT COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(trade_time, 500ms)");
  REQUIRE(w.time_column);
  CHECK(w.time_column->name == "trade_time");
  CHECK(duration(w.size) == "500 MILLISECOND");

  w = window_of("SELECT COUNT(*) FROM t GROUP BY k WINDOW hopping(ts, 2h, 30s)");
  CHECK(w.kind == sql::WindowKind::kHopping);
  CHECK(duration(w.size) == "2 HOUR");
  CHECK(duration(w.advance) == "30 SECOND");

  w = window_of("SELECT COUNT(*) FROM t GROUP BY k WINDOW SLIDING(1d, 1m)");
  CHECK(w.kind == sql::WindowKind::kHopping);
  CHECK(duration(w.size) == "1 DAY");

  w = window_of("SELECT COUNT(*) FROM t WINDOW SESSION (30 SECONDS) GROUP BY k");
  CHECK(w.kind == sql::WindowKind::kSession);
  CHECK(duration(w.size) == "30 SECOND");

  w = window_of(
      "SELECT COUNT(*) FROM t WHERE x > 1 WINDOW TUMBLING (SIZE 30 SECONDS, GRACE PERIOD 5 "
      "SECONDS) GROUP BY k");
  CHECK(duration(w.size) == "30 SECOND");
  CHECK(duration(w.grace) == "5 SECOND");

  w = window_of(
      "SELECT COUNT(*) FROM t GROUP BY k WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 10 SECONDS)");
  CHECK(duration(w.advance) == "10 SECOND");

  w = window_of("SELECT COUNT(*) FROM t GROUP BY k WINDOW SESSION(ts, 1m, GRACE PERIOD 2m)");
  CHECK(duration(w.grace) == "2 MINUTE");
  CHECK(w.loc.column == 42);
}

TEST_CASE("job file durations", "[window][config]") {
  const std::string job =
      "name: j\nsql: SELECT COUNT(*) FROM t\nsink: {type: stdout}\nsource:\n  type: file\n"
      "  path: t.jsonl\n  schema: {ts: TIMESTAMP}\n  event_time: ts\n";
  auto c = config::load_job_text(
      job +
          "  watermark: {max_out_of_orderness: 500ms, allowed_lateness: 2h, idle_timeout: 1d}\n"
          "  late_records: update\n",
      "j.yaml");
  CHECK(c.source.max_out_of_orderness_ms == 500);
  CHECK(c.source.allowed_lateness_ms == 7'200'000);
  CHECK(c.source.idle_timeout_ms == 86'400'000);
  CHECK(c.source.late_records == exec::LatePolicy::kUpdate);
  CHECK(c.source.event_time == "ts");
  c = config::load_job_text(job + "  watermark: {max_out_of_orderness: 0, allowed_lateness: 1m}\n",
                            "j.yaml");
  CHECK(c.source.max_out_of_orderness_ms == 0);
  CHECK(c.source.allowed_lateness_ms == 60'000);
  CHECK(c.source.late_records == exec::LatePolicy::kDrop);
  CHECK_THROWS_WITH(
      config::load_job_text(job + "  watermark: {idle_timeout: 10}\n", "j.yaml"),
      Catch::Contains("j.yaml:9:29: source.watermark.idle_timeout: expected a duration"));
}

namespace {

// Runs (key, event time) rows through a windowed query `batch` rows per batch, as a pipeline
// does: the watermark is the largest event time seen, each row judged against the watermark
// before it, the watermark advanced after each batch; returns "key start end count" rows.
std::vector<std::string> run_windowed(const std::string& sql,
                                      const std::vector<std::pair<const char*, int64_t>>& rows,
                                      size_t batch = 1) {
  plan::SourceSchema schema{
      "t", {{"k", types::DataType::string()}, {"ts", types::DataType::timestamp()}}};
  auto q = plan::compile_query(sql, schema);
  REQUIRE(q->event_time());
  auto st = q->make_state();
  std::vector<std::string> out;
  auto collect = [&](exec::Batch& b) {
    for (size_t r = 0; r < b.size(); ++r) {
      const types::Value* v = b.row(r);
      out.push_back(std::string(v[0].str()) + " " + std::to_string(v[1].i) + " " +
                    std::to_string(v[2].i) + " " + std::to_string(v[3].i));
    }
  };
  int64_t watermark = INT64_MIN;
  int64_t max_time = INT64_MIN;
  for (size_t from = 0; from < rows.size(); from += batch) {
    exec::Batch in(q->input_width());
    std::vector<exec::WatermarkStep> steps;
    std::vector<std::string> keys;  // the batch does not own them: the operator must copy
    keys.reserve(batch);
    for (size_t i = from; i < std::min(rows.size(), from + batch); ++i) {
      auto offset = static_cast<int64_t>(i);
      if (max_time > watermark && (steps.empty() || max_time > steps.back().watermark))
        steps.push_back({offset, max_time});
      types::Value* r = in.append_row({0, offset});
      r[0] = types::Value::string(keys.emplace_back(rows[i].first));
      r[1] = types::Value::timestamp(rows[i].second);
      max_time = std::max(max_time, rows[i].second);
    }
    exec::ExecContext ctx;
    ctx.watermark_steps = steps;
    collect(q->process(*st, in, ctx));
    for (auto& k : keys)
      k.assign(k.size(), '#');
    if (max_time > watermark) {
      watermark = max_time;
      collect(q->on_watermark(*st, watermark, ctx));
    }
  }
  exec::ExecContext ctx;
  collect(q->close(*st, ctx));
  return out;
}

}  // namespace

TEST_CASE("windowed operator through Query::on_watermark", "[window][exec]") {
  auto tumbling = run_windowed(
      "SELECT k, _window_start, _window_end, COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(ts, 10ms)",
      {{"a", 1}, {"b", 2}, {"a", 10}, {"b", 25}});
  CHECK(tumbling == std::vector<std::string>{"a 0 10 1", "b 0 10 1", "a 10 20 1", "b 20 30 1"});
  auto session = run_windowed(
      "SELECT k, _window_start, _window_end, COUNT(*) FROM t GROUP BY k WINDOW SESSION(ts, 10ms)",
      {{"a", 1}, {"a", 5}, {"b", 6}, {"a", 16}, {"b", 40}});
  CHECK(session == std::vector<std::string>{"a 1 5 2", "b 6 6 1", "a 16 16 1", "b 40 40 1"});
}

TEST_CASE("session key table is compacted as sessions close", "[window][exec]") {
  // 5000 distinct keys, each in its own short session: every session closes and its memory goes;
  // the output stays in order of session end.
  std::vector<std::pair<const char*, int64_t>> rows;
  std::vector<std::string> keys;
  keys.reserve(5000);
  for (int i = 0; i < 5000; ++i)
    keys.push_back(fmt::format("k{}", i));
  for (int i = 0; i < 5000; ++i)
    rows.emplace_back(keys[static_cast<size_t>(i)].c_str(), i * 100);
  auto out = run_windowed(
      "SELECT k, _window_start, _window_end, COUNT(*) FROM t GROUP BY k WINDOW SESSION(ts, 50ms)",
      rows);
  REQUIRE(out.size() == 5000);
  CHECK(out.front() == "k0 0 0 1");
  CHECK(out[4321] == "k4321 432100 432100 1");
  CHECK(out.back() == "k4999 499900 499900 1");
}

TEST_CASE("sessions closing together come out in one order however the input is batched",
          "[window][exec]") {
  // Key a's session closes and empties its group; 1100 late records of new keys leave empty
  // groups behind, enough for the key table to be compacted; then a and c have sessions ending at
  // the same time (they come out in the order of their first records). Where the compaction falls
  // depends on how often the watermark is applied, and it renumbers the groups: the order of
  // sessions closing together must not depend on it.
  std::vector<std::string> late_keys;
  late_keys.reserve(1100);
  std::vector<std::pair<const char*, int64_t>> rows = {{"a", 0}, {"c", 5000}};
  for (int i = 0; i < 1100; ++i)
    rows.emplace_back(late_keys.emplace_back(fmt::format("late{}", i)).c_str(), 0);
  // y moves the watermark without closing anything: applied alone (batch 1) it runs the closing
  // pass, which compacts; applied as a step inside a batch it does not.
  rows.insert(rows.end(), {{"y", 5001}, {"a", 5000}, {"z", 100'000}});
  const char* sql =
      "SELECT k, _window_start, _window_end, COUNT(*) FROM t GROUP BY k WINDOW SESSION(ts, 1s)";
  auto one_by_one = run_windowed(sql, rows, 1);
  CHECK(one_by_one == std::vector<std::string>{"a 0 0 1", "c 5000 5000 1", "a 5000 5000 1",
                                               "y 5001 5001 1", "z 100000 100000 1"});
  for (size_t batch : {7, 1024, 4096}) {
    INFO("batch " << batch);
    CHECK(run_windowed(sql, rows, batch) == one_by_one);
  }
}
