// The daemon's pieces: the latency histogram, record keys, the partitioning rules, and one
// KafkaJob end to end against the in-process mock broker (output, dead letters with headers,
// counts, commits).

#include "config/job_config.hpp"
#include "server/app/status_printer.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/pipeline/record_key.hpp"
#include "server/plan/job_plan.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using server::LatencyHistogram;

namespace {

config::JobConfig job_from(const std::string& yaml) {
  return config::load_job_text(yaml, "test.yaml");
}

std::string kafka_job_yaml(const std::string& sql, const std::string& extra_source = "") {
  return "name: t\nsql: " + sql +
         "\nsource:\n  type: kafka\n  topic: in\n  name: trades\n  schema: {trader_id: STRING, "
         "symbol: STRING, price: 'DECIMAL(12,2)', quantity: BIGINT}\n" +
         extra_source + "sink: {type: kafka, topic: out}\n";
}

}  // namespace

TEST_CASE("latency histogram buckets bound every value and quantiles land in the right bucket",
          "[daemon]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    v %= uint64_t{1} << 40;
    size_t b = LatencyHistogram::bucket(v);
    REQUIRE(LatencyHistogram::lower(b) <= v);
    if (b + 1 < LatencyHistogram::kBuckets) REQUIRE(v < LatencyHistogram::lower(b + 1));
  }
  for (size_t b = 1; b < LatencyHistogram::kBuckets; ++b)
    REQUIRE(LatencyHistogram::lower(b) > LatencyHistogram::lower(b - 1));

  LatencyHistogram h;
  LatencyHistogram::Snapshot empty{};
  CHECK(LatencyHistogram::quantile(empty, 0.5) < 0);
  for (int i = 1; i <= 1000; ++i)
    h.add(i * 1000);  // 1 ms .. 1 s, uniform
  LatencyHistogram::Snapshot s{};
  h.add_to(s);
  // Buckets are at most 25% wide, so the estimates are within 25% of the true quantiles.
  CHECK(LatencyHistogram::quantile(s, 0.5) == Approx(0.5).epsilon(0.25));
  CHECK(LatencyHistogram::quantile(s, 0.99) == Approx(0.99).epsilon(0.25));
  CHECK(LatencyHistogram::quantile(s, 0.5) < LatencyHistogram::quantile(s, 0.99));
}

TEST_CASE("record keys: one string column as bytes, anything else as a JSON object", "[daemon]") {
  using types::DataType;
  using types::Value;
  std::vector<format::Column> schema = {
      {"symbol", DataType::string()}, {"id", DataType::bigint()}, {"trader", DataType::string()}};
  Arena arena;
  Value row[3] = {Value::string(arena.copy("SYM1")), Value::bigint(42),
                  Value::string(arena.copy("T\"1"))};
  std::string out;

  server::pipeline::RecordKey one({0}, schema);
  REQUIRE(one.encode(row, out));
  CHECK(out == "SYM1");
  Value null_row[3] = {Value::make_null(types::TypeId::kString), Value::bigint(1), row[2]};
  CHECK_FALSE(one.encode(null_row, out));

  server::pipeline::RecordKey number({1}, schema);
  REQUIRE(number.encode(row, out));
  CHECK(out == R"({"id":42})");

  server::pipeline::RecordKey two({2, 0}, schema);
  REQUIRE(two.encode(row, out));
  CHECK(out == R"({"trader":"T\"1","symbol":"SYM1"})");

  server::pipeline::RecordKey none;
  CHECK(none.empty());
  CHECK_FALSE(none.encode(row, out));
}

TEST_CASE("a keyed query repartitions unless the source is partitioned by a subset of its keys",
          "[daemon]") {
  auto needs = [](const std::string& sql, const std::string& extra) {
    auto job = job_from(kafka_job_yaml(sql, extra));
    return server::needs_repartition(job, *server::compile_job(job));
  };
  const std::string by_symbol = "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol";
  CHECK(needs(by_symbol, ""));
  CHECK_FALSE(needs(by_symbol, "  partitioned_by: [symbol]\n"));
  CHECK(needs(by_symbol, "  partitioned_by: [trader_id]\n"));
  const std::string by_both =
      "SELECT trader_id, symbol, SUM(quantity) FROM trades GROUP BY trader_id, symbol";
  CHECK_FALSE(needs(by_both, "  partitioned_by: [trader_id]\n"));
  CHECK_FALSE(needs(by_both, "  partitioned_by: [symbol, trader_id]\n"));
  CHECK(needs(by_both, "  partitioned_by: [trader_id, price]\n"));
  // Stateless queries never do.
  CHECK_FALSE(needs("SELECT symbol, price FROM trades WHERE quantity > 0", ""));

  auto topics = server::job_topics(job_from(kafka_job_yaml(by_symbol)));
  CHECK(topics == std::vector<std::string>{"in", "out", "t-repartition", "t-changelog"});

  // State without a plain-column key cannot be partitioned: refused with a clear error.
  auto global = job_from(kafka_job_yaml("SELECT COUNT(*) FROM trades"));
  REQUIRE_THROWS_AS(server::compile_job(global), config::ConfigError);
  try {
    server::compile_job(global);
  } catch (const config::ConfigError& e) {
    CHECK_THAT(e.what(), Catch::Contains("not keyed by plain input columns"));
    CHECK_THAT(e.what(), Catch::Contains("test.yaml:"));
  }
  // The same query over a file is fine: one input, one state.
  auto file_job = job_from(
      "name: f\nsql: SELECT COUNT(*) FROM trades\nsource: {type: file, path: x.jsonl, name: "
      "trades, schema: {symbol: STRING}}\nsink: {type: stdout}\n");
  CHECK_NOTHROW(server::compile_job(file_job));
}

TEST_CASE("a Kafka job writes output and dead letters with headers, counts, and commits",
          "[kafka][daemon]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}, {"out.dlq", 1}});

  // 100 records over 2 partitions: 3 do not decode, 2 divide by zero.
  kafka_testing::Producer producer(bootstrap);
  std::map<std::string, std::string> bad;  // value -> expected error code
  for (int i = 0; i < 100; ++i) {
    std::string value =
        "{\"id\":" + std::to_string(i) + ",\"d\":" + std::to_string(i % 7 + 1) + "}";
    if (i == 10 || i == 50 || i == 90) {
      value = "{\"id\":" + std::to_string(i) + ",\"d\":";  // truncated
      bad[value] = "DECODE";
    } else if (i == 20 || i == 60) {
      value = "{\"id\":" + std::to_string(i) + ",\"d\":0}";
      bad[value] = "DIVISION_BY_ZERO";
    }
    producer.produce("in", "k" + std::to_string(i % 5), value);
  }
  producer.flush(std::chrono::seconds(10));

  RunningJob job(std::string("name: divide\n"
                             "sql: SELECT id, 100 / d AS q FROM nums\n"
                             "source: {type: kafka, topic: in, name: nums, schema: {id: BIGINT, "
                             "d: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n"
                             "dead_letter: {type: kafka, topic: out.dlq}\n") +
                     kTestKafka,
                 bootstrap);
  server::JobStatus st = job.wait_for(
      [](const auto& s) { return s.counts.records_out + s.counts.dead_lettered == 100; });
  CHECK(st.state == server::JobState::kRunning);
  CHECK(st.counts.records_in == 100);
  CHECK(st.counts.records_out == 95);
  CHECK(st.counts.rejected == 5);
  CHECK(st.counts.dead_lettered == 5);
  CHECK(st.partitions.size() == 2);

  bool stopped = false;
  st = job.stop(&stopped);
  REQUIRE(stopped);
  CHECK(st.state == server::JobState::kStopped);
  CHECK(st.commits >= 1);
  CHECK(st.commit_failures == 0);
  CHECK(st.counts.records_in == 100);
  check_identity(st);

  // Output: one record per good input, keyed by the input record's key.
  auto out = read_topic(bootstrap, "out", 2, 95, std::chrono::seconds(15));
  REQUIRE(out.size() == 95);
  std::set<std::string> ids;
  for (const auto& r : out) {
    CHECK(r.key.size() == 2);
    CHECK(r.key[0] == 'k');
    ids.insert(r.value.substr(0, r.value.find(',')));
  }
  CHECK(ids.size() == 95);

  // Dead letters: original key and bytes, and headers saying why and where from.
  auto dlq = read_topic(bootstrap, "out.dlq", 1, 5, std::chrono::seconds(15));
  REQUIRE(dlq.size() == 5);
  for (const auto& r : dlq) {
    REQUIRE(bad.count(r.value) == 1);
    CHECK(r.headers.at("sluice.error.code") == bad[r.value]);
    CHECK_FALSE(r.headers.at("sluice.error.message").empty());
    CHECK(r.headers.at("sluice.source.topic") == "in");
    CHECK(r.headers.at("sluice.job") == "divide");
    CHECK((r.headers.at("sluice.source.partition") == "0" ||
           r.headers.at("sluice.source.partition") == "1"));
    CHECK_FALSE(r.headers.at("sluice.source.offset").empty());
    CHECK(r.key.size() == 2);
  }

  // The committed offsets cover everything, with the pipeline's metadata.
  auto offsets = committed(bootstrap, "divide", "in", 2);
  REQUIRE(offsets.size() == 2);
  CHECK(offsets[0].first + offsets[1].first == 100);
  for (const auto& [offset, md] : offsets)
    CHECK_THAT(md, Catch::StartsWith("sluice1 wm="));
}

TEST_CASE("on_error: fail stops the job and never commits past the failing record",
          "[kafka][daemon]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
  kafka_testing::Producer producer(bootstrap);
  for (int i = 0; i < 40; ++i)
    producer.produce("in", "k", i == 25 ? "not json" : "{\"id\":" + std::to_string(i) + "}");
  producer.flush(std::chrono::seconds(10));

  server::kafka::KafkaJobOptions options;
  options.batch_records = 10;  // records 20..29 are one batch: the failing one
  RunningJob job(std::string("name: strict\nsql: SELECT id FROM t\non_error: fail\n"
                             "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n") +
                     kTestKafka,
                 bootstrap, options);
  server::JobStatus st = job.wait_for([](const auto& s) {
    return s.state == server::JobState::kFailed || s.state == server::JobState::kStopped;
  });
  CHECK(st.state == server::JobState::kFailed);
  CHECK_THAT(st.error, Catch::Contains("offset 25"));
  CHECK_THAT(st.error, Catch::Contains("DECODE"));
  // The outputs of the batch's other records are delivered and counted.
  st = job.stop();
  check_identity(st, 1);
  // Committed: at most up to the batch before the failing record, so it is read again.
  auto offsets = committed(bootstrap, "strict", "in", 1);
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].first <= 25);
  CHECK(offsets[0].first >= 0);
}

TEST_CASE("backpressure pauses a partition and loses nothing", "[kafka][daemon]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}});
  kafka_testing::Producer producer(bootstrap);
  const int n = 6000;
  for (int i = 0; i < n; ++i)
    producer.produce("in", fmt::format("k{}", i % 13), fmt::format("{{\"id\":{}}}", i));
  producer.flush(std::chrono::seconds(20));

  server::kafka::KafkaJobOptions options;
  options.max_in_flight = 200;  // far below what one read of the backlog produces
  options.batch_records = 256;
  RunningJob job(std::string("name: bp\nsql: SELECT id, id * 2 AS twice FROM t\n"
                             "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n") +
                     kTestKafka,
                 bootstrap, options);
  server::JobStatus st =
      job.wait_for([&](const auto& s) { return s.counts.records_out == uint64_t(n); });
  CHECK(st.counts.records_in == uint64_t(n));
  CHECK(st.counts.records_out == uint64_t(n));
  uint64_t pauses = 0;
  for (const auto& p : st.partitions) {
    pauses += p.pauses;
    CHECK(p.in_flight == 0);
  }
  CHECK(pauses > 0);
  st = job.stop();
  CHECK(st.counts.records_in == uint64_t(n));
  check_identity(st);
  auto out = read_topic(bootstrap, "out", 2, n, std::chrono::seconds(20));
  CHECK(out.size() == size_t(n));
  std::set<std::string> distinct;
  for (const auto& r : out)
    distinct.insert(r.value);
  CHECK(distinct.size() == size_t(n));
}

TEST_CASE("status line: rates over the interval, from zero again when the job restarted",
          "[daemon]") {
  server::JobStatus s;
  s.name = "j";
  s.state = server::JobState::kRunning;
  s.generation = 1;
  s.counts.records_in = 3000;
  s.counts.records_out = 1000;
  server::StatusBaseline last;
  last.generation = 1;
  last.counts.records_in = 1000;
  last.counts.records_out = 500;
  std::string line = server::status_line(s, last, 2.0);
  CHECK_THAT(line, Catch::Contains("in    1.0K/s"));
  CHECK_THAT(line, Catch::Contains("out     250/s"));
  // A hot reload restarts the job: its counts start from zero again (and its generation moves).
  s.generation = 2;
  s.counts.records_in = 400;
  s.counts.records_out = 100;
  last.counts.records_in = 3000;
  last.counts.records_out = 1000;
  line = server::status_line(s, last, 2.0);
  INFO(line);
  CHECK_THAT(line, Catch::Contains("in     200/s"));
  CHECK_THAT(line, Catch::Contains("out      50/s"));
  // Counts going back without a new generation are a restart too.
  s.generation = 1;
  line = server::status_line(s, last, 2.0);
  CHECK_THAT(line, Catch::Contains("in     200/s"));
}
