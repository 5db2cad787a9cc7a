// The topics a job creates for itself (a repartition topic, a changelog) come from the Admin API
// with the source's partition count and their own configs, never from a client naming them before
// they exist: a broker that auto-creates topics (Kafka's default, and the mock broker) would give
// them its default partition count and no compaction. The mock broker does not answer
// CreateTopics, so here the job fails saying so, and the topic must still not exist.

#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"
#include "temp_dir.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

namespace {

server::JobStatus wait_failed(RunningJob& job) {
  auto st = job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; }, 30s);
  REQUIRE(st.state == server::JobState::kFailed);
  return st;
}

}  // namespace

TEST_CASE("internal topics: a durable job's changelog is not auto-created by its producer",
          "[kafka][durable]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}});
  test::TempDir dir("sluice-internal-topics");
  server::kafka::KafkaJobOptions options;
  options.state_dir = dir.path.string();
  options.admin_timeout_ms = 2000;
  RunningJob job(
      "name: c\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], schema: {k: STRING}}\n"
      "sink: {type: kafka, topic: out, key: [k]}\n",
      bootstrap, options);
  auto st = wait_failed(job);
  CHECK_THAT(st.error,
             Catch::Contains("changelog topic: creating topic 'c-changelog' (2 partitions)"));
  CHECK_THAT(st.error, Catch::EndsWith("(it needs 2 partitions, cleanup.policy=compact)"));
  CHECK(partition_count(bootstrap, "c-changelog") == -1);
}

TEST_CASE("internal topics: a repartition topic is not auto-created by the router's producer",
          "[kafka]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}});
  server::kafka::KafkaJobOptions options;
  options.admin_timeout_ms = 2000;
  RunningJob job(
      "name: r\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [p], "
      "schema: {k: STRING, p: STRING}}\n"
      "sink: {type: kafka, topic: out, key: [k]}\n",
      bootstrap, options);
  auto st = wait_failed(job);
  CHECK_THAT(st.error,
             Catch::Contains("repartition topic: creating topic 'r-repartition' (2 partitions)"));
  CHECK_THAT(st.error, Catch::EndsWith("(it needs 2 partitions, cleanup.policy=delete, "
                                       "message.timestamp.type=CreateTime)"));
  CHECK(partition_count(bootstrap, "r-repartition") == -1);
}
