// The `processing:` section of job files and the server config: the delivery guarantee and the
// commit interval, and what exactly once refuses when a job's clients are configured.

#include "config/job_config.hpp"
#include "config/server_config.hpp"
#include "server/kafka/client_factory.hpp"
#include "server/kafka/kafka_job.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <memory>

#include "config_test_util.hpp"

using sluice::config::Guarantee;
using sluice::config::JobConfig;
using sluice::config::KafkaProperties;
using sluice::config::load_job_text;
using sluice::config::load_server_text;
using sluice::config::testing::job_errors;
using sluice::config::testing::server_errors;
using sluice::server::kafka::job_properties;

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

TEST_CASE("processing: exactly_once reads committed records only", "[config]") {
  const std::string uncommitted = kKafkaJob + "kafka:\n  isolation.level: read_uncommitted\n";
  // In the job file: an error at the property, naming why.
  CHECK_THAT(job_errors(uncommitted + "processing:\n  guarantee: exactly_once\n"),
             Catch::Contains(":13:20: kafka.isolation.level: must be read_committed with "
                             "processing.guarantee exactly_once") &&
                 Catch::Contains("found 'read_uncommitted'"));
  CHECK_NOTHROW(load_job_text(uncommitted, "j.yaml"));  // at least once: any isolation.level
  // From the server's kafka properties, or with exactly_once the server's default: refused when
  // the job's clients are configured.
  const JobConfig job = load_job_text(kKafkaJob, "j.yaml");
  const KafkaProperties defaults = {{"isolation.level", "read_uncommitted"}};
  CHECK(job_properties(job, defaults, false) == defaults);
  CHECK_THROWS_WITH(job_properties(job, defaults, true),
                    Catch::Contains("job 'j': kafka property 'isolation.level' must be "
                                    "read_committed with processing.guarantee exactly_once"));
  CHECK_NOTHROW(job_properties(job, {{"isolation.level", "read_committed"}}, true));
}

TEST_CASE("processing: a job the server's default makes exactly_once needs Kafka sinks",
          "[config]") {
  const std::string stdout_sink =
      "name: j\nsql: SELECT symbol FROM t\nsource:\n  name: t\n  type: kafka\n  topic: in\n"
      "  schema:\n    symbol: STRING\nsink:\n  type: stdout\n";
  auto job = std::make_shared<const JobConfig>(load_job_text(stdout_sink, "j.yaml"));
  boost::asio::io_context io;
  sluice::server::kafka::KafkaJobOptions options;
  options.guarantee = Guarantee::kExactlyOnce;
  // Refused before any client is made (no broker here).
  CHECK_THROWS_WITH(
      sluice::server::kafka::KafkaJob(io, job, {}, 1, options),
      Catch::Contains("job 'j': processing.guarantee exactly_once (the server's default) needs a "
                      "Kafka sink; its sink is of type stdout (set processing.guarantee: "
                      "at_least_once in the job file)"));
}
