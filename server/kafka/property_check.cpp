#include "server/kafka/property_check.hpp"

#include "server/kafka/rdkafka_conf.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>

namespace sluice::server::kafka {

void check_job_properties(const config::JobConfig& job) {
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(),
                                                                          &rd_kafka_conf_destroy);
  std::vector<config::ConfigIssue> issues;
  for (std::size_t i = 0; i < job.kafka.size(); ++i) {
    const auto& [name, value] = job.kafka[i];
    char err[512];
    rd_kafka_conf_res_t res =
        rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof err);
    if (res == RD_KAFKA_CONF_OK) continue;
    config::Mark mark = i < job.kafka_marks.size() ? job.kafka_marks[i] : config::Mark{};
    issues.push_back({job.file, mark, "kafka." + name, conf_error_reason(name, res, err)});
  }
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
}

}  // namespace sluice::server::kafka
