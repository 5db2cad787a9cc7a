// The `processing:` section of job files and the server config: the delivery guarantee and the
// commit interval.

#include "config/job_config.hpp"
#include "config/server_config.hpp"

#include <catch2/catch.hpp>

#include "config_test_util.hpp"

using sluice::config::Guarantee;
using sluice::config::load_job_text;
using sluice::config::load_server_text;
using sluice::config::testing::job_errors;
using sluice::config::testing::server_errors;

namespace {

const std::string kKafkaJob =
    "name: j\n"
    "sql: SELECT symbol FROM t\n"
    "source:\n"
    "  name: t\n"
    "  type: kafka\n"
    "  topic: in\n"
    "  schema:\n"
    "    symbol: STRING\n"
    "sink:\n"
    "  type: kafka\n"
    "  topic: out\n";

}  // namespace

TEST_CASE("processing: the guarantee and commit interval of a job", "[config]") {
  auto job = load_job_text(kKafkaJob, "job.yaml");
  CHECK_FALSE(job.guarantee.has_value());  // the daemon's default
  CHECK(job.commit_interval_ms == 0);

  job = load_job_text(
      kKafkaJob + "processing:\n  guarantee: exactly_once\n  commit_interval: 250ms\n", "job.yaml");
  REQUIRE(job.guarantee.has_value());
  CHECK(*job.guarantee == Guarantee::kExactlyOnce);
  CHECK(job.commit_interval_ms == 250);
  CHECK(job.guarantee_mark.line == 13);

  job = load_job_text(kKafkaJob + "processing:\n  guarantee: at_least_once\n", "job.yaml");
  CHECK(*job.guarantee == Guarantee::kAtLeastOnce);
}

TEST_CASE("processing: bad values are errors naming the key", "[config]") {
  CHECK_THAT(job_errors(kKafkaJob + "processing:\n  guarantee: exactly-once\n"),
             Catch::Contains("job.yaml:13:14: processing.guarantee:") &&
                 Catch::Contains("at_least_once") && Catch::Contains("exactly_once"));
  CHECK_THAT(job_errors(kKafkaJob + "processing:\n  commit_interval: 5ms\n"),
             Catch::Contains("processing.commit_interval: expected a duration from 10ms to 1m"));
  CHECK_THAT(job_errors(kKafkaJob + "processing:\n  guarantees: exactly_once\n"),
             Catch::Contains("processing: unknown key 'guarantees' (did you mean 'guarantee'?)"));
}

TEST_CASE("processing: exactly_once needs Kafka for the source and every sink", "[config]") {
  const std::string file_sink =
      "name: j\nsql: SELECT symbol FROM t\nsource:\n  name: t\n  type: kafka\n  topic: in\n"
      "  schema:\n    symbol: STRING\nsink:\n  type: stdout\n"
      "processing:\n  guarantee: exactly_once\n";
  CHECK_THAT(job_errors(file_sink),
             Catch::Contains("processing.guarantee: exactly_once needs a Kafka sink") &&
                 Catch::Contains("of type stdout"));
  CHECK_THAT(job_errors(kKafkaJob + "dead_letter:\n  type: file\n  path: dl.jsonl\n" +
                        "processing:\n  guarantee: exactly_once\n"),
             Catch::Contains("exactly_once needs a Kafka dead_letter"));
}

TEST_CASE("processing: the server's default guarantee", "[config]") {
  CHECK(load_server_text("", "sluice.yaml").guarantee == Guarantee::kAtLeastOnce);
  CHECK(load_server_text("processing:\n  guarantee: exactly_once\n", "sluice.yaml").guarantee ==
        Guarantee::kExactlyOnce);
  CHECK_THAT(server_errors("processing:\n  guarantee: maybe\n"),
             Catch::Contains("processing.guarantee") && Catch::Contains("exactly_once"));
}
