// Faults of a job with durable state against the in-process mock broker: committed offsets that
// cannot be read at assignment, and a state directory that cannot be written.

#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"
#include "temp_dir.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

namespace {

const std::string kCounts =
    "name: c\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
    "source: {type: kafka, topic: in, name: t, partitioned_by: [k], schema: {k: STRING}}\n"
    "sink: {type: kafka, topic: out, key: [k]}\n"
    "kafka: {auto.offset.reset: earliest, fetch.wait.max.ms: 10}\n";

}  // namespace

TEST_CASE("durable state: committed offsets that cannot be read fail the job, not start it empty",
          "[kafka][durable]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}, {"c-changelog", 1}});
  test::TempDir dir("sluice-durable-faults");
  broker.push_request_errors("OffsetFetch", 100000, "KAFKA_STORAGE_ERROR");
  server::kafka::KafkaJobOptions options;
  options.state_dir = dir.path.string();
  RunningJob job(kCounts, bootstrap, options);
  auto st = job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; }, 60s);
  REQUIRE(st.state == server::JobState::kFailed);
  CHECK_THAT(st.error, Catch::Contains("reading the committed offsets of 'in' failed"));
  CHECK_THAT(st.error, Catch::Contains("the durable state cannot be restored safely"));
}

TEST_CASE(
    "durable state: a state_dir that cannot be written does not hold commits back, the "
    "changelog holds the state",
    "[kafka][durable]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}, {"c-changelog", 1}});
  test::TempDir dir("sluice-durable-faults");
  server::kafka::KafkaJobOptions options;
  options.state_dir = dir.write("not-a-directory", "x");  // every snapshot write fails
  options.snapshot_interval_ms = 100;                     // a snapshot with every checkpoint
  RunningJob job(kCounts, bootstrap, options);
  Producer producer(bootstrap);
  for (int i = 0; i < 5; ++i)
    producer.produce("in", "k", R"({"k": "a"})");
  producer.flush(20s);
  auto st = job.wait_for(
      [](const auto& s) { return s.partitions.size() == 1 && s.partitions[0].committed == 5; },
      30s);
  REQUIRE(st.partitions.size() == 1);
  CHECK(st.partitions[0].committed == 5);
  CHECK(st.state == server::JobState::kRunning);
  CHECK(st.partitions[0].changelog_records > 0);
  CHECK(st.partitions[0].snapshots > 0);
}
