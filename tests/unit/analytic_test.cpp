// OVER analytics: the parsed shape of OVER clauses, the frame building blocks (exact wide sums,
// compensated DOUBLE sums, the monotonic deque's ring) and what SQL files cannot drive: expiry and
// LEAD emission from watermarks (on_watermark).

#include "exec/analytic_frame.hpp"
#include "plan/compile.hpp"
#include "sql/parser.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sluice;
using types::Value;

namespace {

const sql::OverClause& over_of(const sql::SelectStatement& s, size_t item = 0) {
  REQUIRE(s.items.at(item).expr->over);
  return *s.items[item].expr->over;
}

}  // namespace

TEST_CASE("OVER clauses parse into frames", "[sql][over]") {
  auto s = sql::parse_select(
      "SELECT AVG(p) OVER (PARTITION BY a, b ORDER BY t ROWS BETWEEN 99 PRECEDING AND CURRENT "
      "ROW) FROM x");
  const auto& o = over_of(s);
  CHECK(o.partition_by.size() == 2);
  CHECK(o.order_by != nullptr);
  CHECK(o.has_frame);
  CHECK_FALSE(o.unbounded);
  CHECK(o.preceding == 99);
  CHECK(s.items[0].expr->span.end == s.items[0].expr->span.begin + 84);  // the call incl. OVER

  auto buffer = sql::parse_select(
      "SELECT AVG(p) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY t) FROM x");
  CHECK(over_of(buffer).preceding == 99);
  CHECK(over_of(buffer).partition_by.size() == 1);

  auto unbounded = sql::parse_select("SELECT SUM(p) OVER (ROWS UNBOUNDED PRECEDING) FROM x");
  CHECK(over_of(unbounded).unbounded);
  auto plain = sql::parse_select("SELECT SUM(p) OVER () FROM x");
  CHECK_FALSE(over_of(plain).has_frame);
  auto current = sql::parse_select("SELECT SUM(p) OVER (ROWS CURRENT ROW) FROM x");
  CHECK(over_of(current).has_frame);
  CHECK(over_of(current).preceding == 0);

  auto expire = sql::parse_select(
      "SELECT SUM(p) OVER (ORDER BY t EXPIRE AFTER INTERVAL '1' HOUR INACTIVITY) FROM x");
  REQUIRE(over_of(expire).expire_after);
  CHECK(over_of(expire).expire_after->kind == sql::ExprKind::kInterval);
}

TEST_CASE("named windows", "[sql][over]") {
  auto s = sql::parse_select(
      "SELECT symbol, AVG(price) OVER w, MIN(price) OVER w2 FROM market_data "
      "WINDOW w AS (PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 99 PRECEDING AND "
      "CURRENT ROW), w2 AS (ORDER BY trade_time)");
  CHECK(over_of(s, 1).window_name == "w");
  CHECK(over_of(s, 2).window_name == "w2");
  REQUIRE(s.named_windows.size() == 2);
  CHECK(s.named_windows[0].name == "w");
  CHECK(s.named_windows[0].spec.preceding == 99);
  CHECK(s.named_windows[0].spec.partition_by.size() == 1);
  CHECK(s.named_windows[1].spec.partition_by.empty());
}

TEST_CASE("wide sums stay exact past 128 bits", "[exec][over]") {
  using types::int128;
  const int128 big = static_cast<int128>(99999999999999999ll) * 1000000000000000000ll * 100;
  exec::analytic::WideSum sum;
  for (int i = 0; i < 100; ++i)
    sum.add(big);  // 100 * ~10^37 > 2^127
  int128 out = 0;
  CHECK_FALSE(sum.get(&out));
  for (int i = 0; i < 99; ++i)
    sum.sub(big);
  REQUIRE(sum.get(&out));
  CHECK(out == big);
  sum.sub(big);
  sum.sub(big);
  sum.sub(5);
  REQUIRE(sum.get(&out));
  CHECK(out == -big - 5);
}

TEST_CASE("compensated DOUBLE sums", "[exec][over]") {
  exec::analytic::DoubleSum sum;
  sum.add(1e16);
  sum.add(1.0);
  sum.add(1.0);
  sum.sub(1e16);
  CHECK(sum.value() == 2.0);  // a plain running sum gives 0 or 4 here
  sum.add(HUGE_VAL);
  CHECK(sum.value() == HUGE_VAL);
  sum.add(-HUGE_VAL);
  CHECK(std::isnan(sum.value()));
  sum.sub(HUGE_VAL);
  sum.sub(-HUGE_VAL);
  CHECK(sum.value() == 2.0);
}

TEST_CASE("the sequence deque wraps and grows", "[exec][over]") {
  exec::analytic::SeqDeque dq;
  int64_t next_front = 0;
  for (int64_t i = 0; i < 100; ++i) {
    dq.push_back(i);
    if (i % 3 == 2) {
      CHECK(dq.front() == next_front);
      dq.pop_front();
      ++next_front;
    }
  }
  CHECK(dq.back() == 99);
  dq.pop_back();
  CHECK(dq.back() == 98);
  CHECK(dq.front() == next_front);
}

namespace {

plan::SourceSchema keyed() {
  return {"t", {{"k", types::DataType::string()}, {"seq", types::DataType::bigint()}}};
}

// Feeds (k, seq) rows and watermarks (k empty) one at a time; returns each output row as text.
std::vector<std::string> drive(const std::string& sql,
                               const std::vector<std::pair<std::string, int64_t>>& events) {
  auto q = plan::compile_query(sql, keyed());
  auto st = q->make_state();
  exec::ExecContext ctx;
  std::vector<std::string> out;
  auto collect = [&](exec::Batch& b) {
    for (size_t r = 0; r < b.size(); ++r) {
      std::string line;
      for (size_t c = 0; c < b.width(); ++c)
        line.append(c ? "," : "").append(types::to_text(b.row(r)[c]));
      out.push_back(line);
    }
  };
  for (const auto& [k, v] : events) {
    if (k.empty()) {
      out.push_back("wm " + std::to_string(v));
      collect(q->on_watermark(*st, v, ctx));
      continue;
    }
    exec::Batch in(q->input_width());
    Value* r = in.append_row();
    r[0] = Value::string(k);
    r[1] = Value::bigint(v);
    for (size_t c = 2; c < in.width(); ++c)
      r[c] = Value::make_null(types::TypeId::kBigInt);
    collect(q->process(*st, in, ctx));
  }
  collect(q->close(*st, ctx));
  return out;
}

}  // namespace

TEST_CASE("watermarks expire keys when ORDER BY is not a timestamp", "[exec][over]") {
  // Keys seen before the first watermark count as active at it; a key is dropped once the clock
  // reaches its last activity + 10 s.
  auto out = drive(
      "SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY seq EXPIRE AFTER INTERVAL '10' SECOND "
      "INACTIVITY) AS rn FROM t",
      {{"a", 1},
       {"b", 2},
       {"", 1000},
       {"a", 3},
       {"", 10999},
       {"a", 4},
       {"", 11000},
       {"b", 5},
       {"", 20999},
       {"a", 6}});
  // At 11000 b's last activity (1000, the first watermark) is 10 s old: b starts afresh. At 20999
  // a's (10999) is.
  std::vector<std::string> want = {"a,1", "b,1",      "wm 1000", "a,2",      "wm 10999",
                                   "a,3", "wm 11000", "b,1",     "wm 20999", "a,1"};
  CHECK(out == want);
}

TEST_CASE("a watermark emits the LEAD rows of keys it expires", "[exec][over]") {
  auto out = drive(
      "SELECT k, seq, LEAD(seq, 1, -1) OVER (PARTITION BY k ORDER BY seq EXPIRE AFTER INTERVAL "
      "'1' SECOND INACTIVITY) AS nx FROM t",
      {{"a", 1}, {"b", 2}, {"", 0}, {"b", 3}, {"", 5000}, {"a", 7}});
  // b's first row completes when b's second arrives; the watermark at 5000 expires a and b, whose
  // waiting rows go out with the default, in arrival order; a's next row starts afresh.
  std::vector<std::string> want = {"wm 0", "b,2,3", "wm 5000", "a,1,-1", "b,3,-1", "a,7,-1"};
  CHECK(out == want);
}
