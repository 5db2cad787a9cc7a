// Joins: the parser's JOIN clauses, `sources:` in job files, the stream–table join operator on
// its own (state size, tombstones), and the daemon refusing what it does not run yet. The SQL
// semantics are in tests/sql/joins.test.

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/plan/job_plan.hpp"
#include "sql/parser.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <string>

#include "config_test_util.hpp"

using namespace sluice;

namespace {

const std::string kSources = R"(
name: enrich
sql: SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.cust = c._key
sources:
  - name: orders
    type: file
    path: orders.jsonl
    schema: {id: BIGINT, cust: STRING}
  - name: customers
    kind: table
    type: file
    path: customers.jsonl
    key_separator: "|"
    schema: {name: STRING}
sink: {type: stdout}
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// orders (cust STRING) LEFT JOIN customers (a table: name STRING), fed one record at a time.
struct TableJoinRig {
  std::shared_ptr<const exec::Query> q;
  exec::ExecContext ctx;

  explicit TableJoinRig(const std::string& sql =
                            "SELECT o.cust, c.name FROM orders o LEFT JOIN customers c "
                            "ON o.cust = c._key") {
    plan::SourceSchema orders("orders", {{"cust", types::DataType::string()}});
    plan::SourceSchema customers("customers", {{"name", types::DataType::string()}});
    customers.table = true;
    q = plan::compile_query(sql, std::vector<plan::SourceSchema>{orders, customers});
  }
  // A customer's row; an empty name: a tombstone. A table row emits nothing.
  void table_row(exec::QueryState& st, std::string_view key, std::string_view name) {
    exec::Batch in(q->input_width(1));
    types::Value* r = in.append_row({0, 0});
    bool tombstone = name.empty();
    r[0] = tombstone ? types::Value::null_of(types::DataType::string())
                     : types::Value::string(in.arena().copy(name));
    r[1] = types::Value::string(in.arena().copy(key));
    r[5] = types::Value::boolean(tombstone);
    ctx.input = 1;
    CHECK(q->process(st, in, ctx).empty());
  }
  // The name an order of `cust` is joined with ("NULL" without one).
  std::string lookup(exec::QueryState& st, std::string_view cust) {
    exec::Batch in(q->input_width(0));
    in.append_row({0, 0})[0] = types::Value::string(in.arena().copy(cust));
    ctx.input = 0;
    exec::Batch& out = q->process(st, in, ctx);
    REQUIRE(out.size() == 1);
    const types::Value& name = out.row(0)[1];
    return name.null ? std::string("NULL") : std::string(name.str());
  }
};

// `sql` over two streams, imps and clicks (ad STRING, ts TIMESTAMP, ts their event time).
std::shared_ptr<const exec::Query> interval_query(const std::string& sql) {
  plan::SourceSchema imps(
      "imps", {{"ad", types::DataType::string()}, {"ts", types::DataType::timestamp()}});
  plan::SourceSchema clicks = imps;
  clicks.name = "clicks";
  imps.event_time = clicks.event_time = "ts";
  return plan::compile_query(sql, std::vector<plan::SourceSchema>{imps, clicks});
}

}  // namespace

TEST_CASE("JOIN clauses parse into the statement", "[join]") {
  sql::SelectStatement s = sql::parse_select(
      "SELECT o.id FROM orders AS o LEFT OUTER JOIN customers c ON o.cust = c._key AND c.x");
  REQUIRE(s.joins.size() == 1);
  CHECK(s.from.name == "orders");
  CHECK(s.from.alias == "o");
  CHECK(s.joins[0].kind == sql::JoinKind::kLeft);
  CHECK(s.joins[0].right.name == "customers");
  CHECK(s.joins[0].right.alias == "c");
  CHECK(s.joins[0].on->op == "AND");
  CHECK(s.joins[0].loc.column == 30);
  // A qualifier naming a joined source stays a column reference, not a field access.
  CHECK(s.joins[0].on->args[0]->args[1]->kind == sql::ExprKind::kColumnRef);
  CHECK(s.joins[0].on->args[0]->args[1]->qualifier == "c");
  CHECK(sql::parse_select("SELECT 1 FROM a JOIN b ON 1 INNER JOIN c ON 2").joins.size() == 2);
  CHECK(sql::parse_select("SELECT 1 FROM a FULL JOIN b ON 1").joins[0].kind ==
        sql::JoinKind::kFull);
}

TEST_CASE("sources: a list of named sources with kinds", "[join][config]") {
  config::JobConfig job = config::load_job_text(kSources, "/jobs/job.yaml");
  CHECK(job.source.name == "orders");
  CHECK_FALSE(job.source.table);
  REQUIRE(job.other_sources.size() == 1);
  CHECK(job.other_sources[0].name == "customers");
  CHECK(job.other_sources[0].table);
  CHECK(job.other_sources[0].key_separator == "|");
  CHECK(job.other_sources[0].path == "/jobs/customers.jsonl");
  CHECK(job.sources().size() == 2);
  CHECK_FALSE(job.uses_kafka());

  CHECK_THAT(config::testing::job_errors(kSources +
                                         "source: {type: file, path: x, schema: {a: BIGINT}}\n"),
             Catch::Contains("give either source (one) or sources (a list), not both"));
  CHECK_THAT(config::testing::job_errors(replace(kSources, "  - name: customers\n", "  - \n")),
             Catch::Contains("sources[1].name: a source in a list needs a name"));
  CHECK_THAT(config::testing::job_errors(replace(kSources, "name: customers", "name: ORDERS")),
             Catch::Contains("'ORDERS' names another source too"));
  CHECK_THAT(config::testing::job_errors(replace(kSources, "kind: table", "kind: view")),
             Catch::Contains("sources[1].kind"));
  CHECK_THAT(
      config::testing::job_errors(replace(kSources, "key_separator: \"|\"", "key_separator: \"\"")),
      Catch::Contains("sources[1].key_separator: must not be empty"));
  CHECK_THAT(config::testing::job_errors(replace(kSources, "sources:\n  - name: orders",
                                                 "sources: []\nx:\n  - name: orders")),
             Catch::Contains("sources: expected a list of sources"));
  // Debezium change events: table sources only; file keys need key_separator and a text format.
  CHECK_NOTHROW(config::load_job_text(
      replace(kSources, "    key_separator: \"|\"\n",
              "    key_separator: \"|\"\n    format: debezium_json\n    key_format: json\n"
              "    key_type: STRUCT<id BIGINT>\n"),
      "job.yaml"));
  CHECK_THAT(config::testing::job_errors(replace(kSources, "sink: {type: stdout}",
                                                 "sink: {type: stdout, format: debezium_json}")),
             Catch::Contains("sink.format: 'debezium_json' is not a format (expected json, avro, "
                             "json_sr or protobuf)"));
  CHECK_THAT(config::testing::job_errors(
                 replace(kSources, "    key_separator: \"|\"\n", "    key_format: json\n")),
             Catch::Contains("sources[1].key_format: not allowed when type is 'file'"));
  CHECK_THAT(
      config::testing::job_errors(replace(kSources, "    key_separator: \"|\"\n",
                                          "    key_separator: \"|\"\n    key_format: avro\n")),
      Catch::Contains("a file source's keys are text: use key_format kafka or json"));
  // Problems name the source's place in the list.
  CHECK_THAT(config::testing::job_errors(replace(kSources, "    schema: {name: STRING}",
                                                 "    event_time: at\n    schema: {name: STRING}")),
             Catch::Contains("sources[1].event_time: 'at' is not a column of sources[1].schema"));
  std::string kafka = replace(kSources, "    type: file\n    path: orders.jsonl\n",
                              "    type: kafka\n    topic: orders\n    key_separator: x\n");
  CHECK_THAT(config::testing::job_errors(kafka),
             Catch::Contains("only a file source has key_separator"));
}

TEST_CASE("the daemon refuses joins and tables over Kafka for now", "[join][config]") {
  std::string kafka = replace(kSources, "    type: file\n    path: orders.jsonl\n",
                              "    type: kafka\n    topic: orders\n");
  config::JobConfig job = config::load_job_text(kafka, "job.yaml");
  CHECK(job.uses_kafka());
  try {
    server::compile_job(job);
    FAIL("expected a ConfigError");
  } catch (const config::ConfigError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("runs over files with `sluice run` only"));
  }
  // The same job over files compiles.
  CHECK(server::compile_job(config::load_job_text(kSources, "job.yaml"))->input_count() == 2);
}

TEST_CASE("stream–table join operator: state, updates and tombstones", "[join]") {
  TableJoinRig rig;
  auto& q = rig.q;
  REQUIRE(q->input_count() == 2);
  CHECK(q->input_width(0) == 5);  // cust + 4 system columns
  CHECK(q->input_width(1) == 6);  // name + 4 system columns + the tombstone flag
  CHECK(q->unbounded_state());
  auto st = q->make_state();
  exec::ExecContext& ctx = rig.ctx;
  auto table_row = [&](std::string_view key, std::string_view name, bool tombstone) {
    rig.table_row(*st, key, tombstone ? "" : name);
  };
  auto lookup = [&](std::string_view cust) { return rig.lookup(*st, cust); };
  table_row("c1", "Ann", false);
  table_row("c2", "Bob", false);
  CHECK(q->state_size(*st).groups == 2);
  CHECK(q->state_size(*st).bytes > 0);
  CHECK(lookup("c1") == "Ann");
  table_row("c1", "Anne", false);  // an update replaces the row
  CHECK(lookup("c1") == "Anne");
  CHECK(q->state_size(*st).groups == 2);
  table_row("c2", "", true);  // a tombstone deletes the key
  CHECK(lookup("c2") == "NULL");
  CHECK(q->state_size(*st).groups == 1);
  table_row("c3", "", true);  // deleting an absent key changes nothing
  CHECK(q->state_size(*st).groups == 1);
  CHECK(ctx.rejections.empty());

  // Many keys, short and long, updated and deleted while the table grows: every lookup sees the
  // key's latest row (rows and their bytes must not move under the index as the pool grows).
  auto key_of = [](int i) {
    return i % 2 ? fmt::format("k{}", i) : fmt::format("a-long-key-over-16-bytes-{}", i);
  };
  std::map<std::string, std::string> want;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3000; ++i) {
      std::string key = key_of(i);
      if (round == 2 && i % 4 == 0) {
        table_row(key, "", true);
        want.erase(key);
      } else if (round == 0 || i % 3 == 0) {
        std::string name = fmt::format("n{}-{}", round, i);
        table_row(key, name, false);
        want[key] = name;
      }
    }
  }
  CHECK(q->state_size(*st).groups == want.size() + 1);  // and c1
  size_t wrong = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string key = key_of(i);
    auto it = want.find(key);
    wrong += lookup(key) != (it == want.end() ? std::string("NULL") : it->second) ? 1 : 0;
  }
  CHECK(wrong == 0);
}

TEST_CASE("interval join operator: rows wait until the watermark passes their bound", "[join]") {
  auto q = interval_query(
      "SELECT i.ad, c.ts FROM imps i LEFT JOIN clicks c WITHIN 10 SECONDS ON i.ad = c.ad");
  CHECK(q->uses_watermark());
  CHECK_FALSE(q->unbounded_state());
  auto st = q->make_state();
  exec::ExecContext ctx;
  auto feed = [&](size_t input, std::string_view ad, int64_t ts) {
    exec::Batch in(q->input_width(input));
    types::Value* r = in.append_row({0, ts});
    r[0] = types::Value::string(in.arena().copy(ad));
    r[1] = types::Value::timestamp(ts);
    ctx.input = input;
    return q->process(*st, in, ctx).size();
  };
  CHECK(feed(0, "a", 1000) == 0);
  CHECK(feed(0, "b", 2000) == 0);
  CHECK(feed(1, "a", 5000) == 1);  // joins the waiting impression
  CHECK(q->state_size(*st).groups == 3);
  // Impressions wait 10 s after their time, the click 10 s after its own (impressions up to 10 s
  // before it may still come).
  CHECK(q->on_watermark(*st, 11'000, ctx).empty());  // nothing has passed its bound yet
  exec::Batch& out = q->on_watermark(*st, 12'001, ctx);
  REQUIRE(out.size() == 1);  // b never matched: LEFT emits it with NULLs
  CHECK(out.row(0)[0].str() == "b");
  CHECK(out.row(0)[1].null);
  CHECK(q->state_size(*st).groups == 1);             // only the click is left
  CHECK(q->on_watermark(*st, 15'001, ctx).empty());  // a matched click leaves silently
  CHECK(q->state_size(*st).groups == 0);
  CHECK(feed(0, "a", 4000) == 0);  // behind the watermark: late
  CHECK(ctx.late == 1);
}

TEST_CASE("stream–table join state: snapshots and the changelog restore the table",
          "[join][state]") {
  TableJoinRig rig;
  auto& q = rig.q;
  auto table_row = [&](exec::QueryState& st, std::string_view key, std::string_view name) {
    rig.table_row(st, key, name);
  };
  auto lookup = [&](exec::QueryState& st, std::string_view cust) { return rig.lookup(st, cust); };
  const std::string long_key(40, 'k');
  auto a = q->make_state();
  REQUIRE(q->can_snapshot());
  REQUIRE(q->can_changelog());
  REQUIRE(q->track_changes(*a));
  std::map<std::string, std::optional<std::string>> log;  // compacted: the last entry per key
  auto take = [&] {
    q->save_changes(*a, [&](std::string_view key, const std::string_view* value) {
      log[std::string(key)] = value ? std::optional<std::string>(*value) : std::nullopt;
    });
  };
  table_row(*a, "c1", "Ann");
  table_row(*a, "c2", "Bob");
  table_row(*a, long_key, "Lo");
  take();
  table_row(*a, "c2", "");  // deleted
  table_row(*a, "c1", "Anne");
  table_row(*a, "c3", "Cy");
  table_row(*a, "c3", "");
  table_row(*a, "c3", "Cyd");
  take();
  CHECK(log.size() == 4);
  size_t tombstones = 0;
  for (const auto& entry : log)
    tombstones += entry.second ? 0 : 1;
  CHECK(tombstones == 1);  // c2's

  std::string snapshot;
  REQUIRE(q->snapshot(*a, snapshot));
  auto b = q->make_state();
  q->restore(*b, snapshot, "test snapshot");
  auto c = q->make_state();
  for (const auto& [key, value] : log) {
    std::string_view v = value ? std::string_view(*value) : std::string_view();
    CHECK(q->apply_change(*c, key, value ? &v : nullptr, "test changelog", nullptr) ==
          exec::Query::ChangeOwner::kOperator);
  }
  q->finish_changes(*c);
  for (exec::QueryState* st : {a.get(), b.get(), c.get()}) {
    CHECK(lookup(*st, "c1") == "Anne");
    CHECK(lookup(*st, "c2") == "NULL");
    CHECK(lookup(*st, "c3") == "Cyd");
    CHECK(lookup(*st, long_key) == "Lo");
    CHECK(q->state_size(*st).groups == 3);
  }
  // A cut snapshot, or one of another query, is refused.
  auto d = q->make_state();
  CHECK_THROWS_AS(q->restore(*d, snapshot.substr(0, snapshot.size() - 3), "cut"), Error);
  auto other = TableJoinRig("SELECT o.cust FROM orders o JOIN customers c ON o.cust = c._key").q;
  auto e = other->make_state();
  CHECK_THROWS_AS(other->restore(*e, snapshot, "other query"), Error);
}

TEST_CASE("interval join state: a restored snapshot goes on as the saved state", "[join][state]") {
  auto q = interval_query(
      "SELECT i.ad, i.ts AS shown, c.ts AS clicked FROM imps i FULL JOIN clicks c "
      "WITHIN 10 SECONDS ON i.ad = c.ad");
  REQUIRE(q->can_snapshot());
  // Records (input, ad, time), fed one at a time with the watermark following the later input.
  std::vector<std::tuple<size_t, std::string, int64_t>> records;
  for (int i = 0; i < 60; ++i)
    records.emplace_back(i % 3 == 0 ? 1 : 0, fmt::format("ad{}", i % 7), 1000 * i);
  auto feed = [&](exec::QueryState& st, size_t from, size_t to, std::vector<std::string>& out) {
    exec::ExecContext ctx;
    auto take = [&](exec::Batch& b) {
      for (size_t r = 0; r < b.size(); ++r) {
        const types::Value* row = b.row(r);
        out.push_back(fmt::format("{} {} {}", row[0].null ? "-" : std::string(row[0].str()),
                                  row[1].null ? -1 : row[1].i, row[2].null ? -1 : row[2].i));
      }
    };
    for (size_t i = from; i < to; ++i) {
      auto& [input, ad, ts] = records[i];
      exec::Batch in(q->input_width(input));
      types::Value* r = in.append_row({0, static_cast<int64_t>(i)});
      r[0] = types::Value::string(in.arena().copy(ad));
      r[1] = types::Value::timestamp(ts);
      ctx.input = input;
      take(q->process(st, in, ctx));
      take(q->on_watermark(st, ts - 2000, ctx));
    }
    if (to == records.size()) take(q->close(st, ctx));
  };
  auto a = q->make_state();
  std::vector<std::string> first, rest_a, rest_b;
  feed(*a, 0, 30, first);
  std::string snapshot;
  REQUIRE(q->snapshot(*a, snapshot));
  auto b = q->make_state();
  q->restore(*b, snapshot, "test snapshot");
  CHECK(q->state_size(*b).groups == q->state_size(*a).groups);
  CHECK(q->state_size(*b).groups > 0);
  feed(*a, 30, records.size(), rest_a);
  feed(*b, 30, records.size(), rest_b);
  CHECK_FALSE(first.empty());
  CHECK(rest_a.size() > 10);
  CHECK(rest_a == rest_b);
  auto c = q->make_state();
  CHECK_THROWS_AS(q->restore(*c, snapshot.substr(0, snapshot.size() - 5), "cut"), Error);
}
