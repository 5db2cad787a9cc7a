// Operators and their building blocks: group table, LIKE matching, the operator chain.

#include "exec/expressions.hpp"
#include "exec/group_table.hpp"
#include "plan/compile.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "exec_test_util.hpp"

using namespace sluice;
using types::DataType;
using types::Value;

TEST_CASE("group table finds, inserts and grows", "[exec]") {
  exec::GroupTable table(2, 16, 8);
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i)
    names.push_back("key-" + std::to_string(i % 1000));
  for (int i = 0; i < 5000; ++i) {
    Value key[2] = {Value::string(names[i]), Value::bigint(i % 7 == 0 ? 1 : 0)};
    bool inserted = false;
    uint32_t g = table.find_or_insert(key, table.hash_key(key), &inserted);
    REQUIRE(table.key(g)[0].str() == names[i]);
    // The key's string is copied: the table does not point at the caller's bytes.
    REQUIRE(table.key(g)[0].s.data != names[i].data());
    *reinterpret_cast<int64_t*>(table.state(g)) =
        inserted ? 1 : *reinterpret_cast<int64_t*>(table.state(g)) + 1;
  }
  // (i % 1000, i % 7 == 0) pairs over 0..4999: every i%1000 value shows up with both flags
  // except where no multiple of 7 hits it; count distinct pairs directly.
  std::set<std::pair<int, int>> expected;
  for (int i = 0; i < 5000; ++i)
    expected.insert({i % 1000, i % 7 == 0 ? 1 : 0});
  REQUIRE(table.size() == expected.size());
}

TEST_CASE("group table treats NULL keys as one group", "[exec]") {
  exec::GroupTable table(1, 0, 1);
  bool inserted = false;
  Value null_key[1] = {Value::make_null(types::TypeId::kString)};
  table.find_or_insert(null_key, table.hash_key(null_key), &inserted);
  REQUIRE(inserted);
  table.find_or_insert(null_key, table.hash_key(null_key), &inserted);
  REQUIRE_FALSE(inserted);
  Value empty[1] = {Value::string("")};
  table.find_or_insert(empty, table.hash_key(empty), &inserted);
  REQUIRE(inserted);  // '' is not NULL
}

TEST_CASE("LIKE matching", "[exec]") {
  using exec::like_match;
  CHECK(like_match("hello", "h%", 0));
  CHECK(like_match("hello", "%llo", 0));
  CHECK(like_match("hello", "h_llo", 0));
  CHECK(like_match("hello", "%", 0));
  CHECK(like_match("", "%", 0));
  CHECK_FALSE(like_match("", "_", 0));
  CHECK_FALSE(like_match("hello", "h_lo", 0));
  CHECK(like_match("a%b", "a!%b", '!'));
  CHECK_FALSE(like_match("axb", "a!%b", '!'));
  CHECK(like_match("mississippi", "%iss%ppi", 0));
  CHECK(like_match("\xc3\xa9t\xc3\xa9", "_t_", 0));  // é is one character
  CHECK_FALSE(like_match("abc", "ABC", 0));          // case-sensitive
  CHECK(like_match("aaa", "%%a%%", 0));
}

namespace {

using test::trades;

// Runs rows (symbol, price unscaled at scale 4, qty) through a compiled query.
std::vector<std::string> run(const std::string& sql,
                             const std::vector<std::tuple<const char*, int64_t, int64_t>>& rows,
                             size_t* rejected = nullptr) {
  auto q = plan::compile_query(sql, trades());
  auto st = q->make_state();
  exec::Batch in(q->input_width());
  for (size_t i = 0; i < rows.size(); ++i) {
    auto [s, p, n] = rows[i];
    Value* r = in.append_row({0, static_cast<int64_t>(i)});
    r[0] = Value::string(s);
    r[1] = Value::decimal(p, 4);
    r[2] = Value::bigint(n);
    r[3] = Value::make_null(types::TypeId::kString);
    r[4] = Value::make_null(types::TypeId::kTimestamp);
    r[5] = Value::bigint(0);
    r[6] = Value::bigint(static_cast<int64_t>(i));
  }
  std::vector<std::string> out;
  exec::ExecContext ctx;
  auto collect = [&](exec::Batch& b) {
    for (size_t r = 0; r < b.size(); ++r) {
      std::string line;
      for (size_t c = 0; c < b.width(); ++c)
        line.append(c ? "," : "").append(types::to_text(b.row(r)[c]));
      out.push_back(line);
    }
  };
  collect(q->process(*st, in, ctx));
  collect(q->close(*st, ctx));
  if (rejected) *rejected = ctx.rejections.size();
  return out;
}

}  // namespace

TEST_CASE("EMIT CHANGES emits the updated group per input row", "[exec]") {
  auto out = run("SELECT symbol, COUNT(*), SUM(qty) FROM trades GROUP BY symbol",
                 {{"A", 10000, 1}, {"B", 20000, 2}, {"A", 30000, 3}});
  REQUIRE(out == std::vector<std::string>{"A,1,1", "B,1,2", "A,2,4"});
}

TEST_CASE("EMIT FINAL emits each group once at close, in first-seen order", "[exec]") {
  auto out = run("SELECT symbol, SUM(price) AS p FROM trades GROUP BY symbol EMIT FINAL",
                 {{"B", 10000, 1}, {"A", 20500, 2}, {"B", 1, 3}});
  REQUIRE(out == std::vector<std::string>{"B,1.0001", "A,2.0500"});
}

TEST_CASE("a global aggregate over no rows still yields one row", "[exec]") {
  auto out = run("SELECT COUNT(*), SUM(qty) FROM trades EMIT FINAL", {});
  REQUIRE(out == std::vector<std::string>{"0,NULL"});
}

TEST_CASE("HAVING, DISTINCT and WHERE compose", "[exec]") {
  auto out =
      run("SELECT DISTINCT symbol FROM trades WHERE qty > 1 GROUP BY symbol HAVING COUNT(*) >= 1",
          {{"A", 1, 1}, {"A", 1, 2}, {"B", 1, 3}, {"A", 1, 4}});
  REQUIRE(out == std::vector<std::string>{"A", "B"});
}

TEST_CASE("a failing expression rejects only its row", "[exec]") {
  size_t rejected = 0;
  auto out = run("SELECT symbol, 10 / qty AS x FROM trades",
                 {{"A", 1, 2}, {"B", 1, 0}, {"C", 1, 5}}, &rejected);
  REQUIRE(out == std::vector<std::string>{"A,5", "C,2"});
  REQUIRE(rejected == 1);
}
