// JobStage's internal topics (job_stage.hpp): the repartition and changelog topics it creates
// (or finds) before anything writes to them.

#include "server/kafka/job_stage.hpp"
#include "server/kafka/topic_admin.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sluice::server::kafka {

// A topic the job creates for itself, with as many partitions as `source` has: found so, or
// created through the Admin API; "" or why not. Nothing names it before (a producer's topic
// handle would let a broker that auto-creates topics make it with its own defaults).
std::string JobStage::prepare_internal_topic(const std::string& source, const char* kind,
                                             TopicSpec spec) {
  int timeout = static_cast<int>(options_.admin_timeout_ms);
  std::string error;
  int32_t partitions = partition_count(group_->client(), source, timeout, &error);
  if (partitions < 0) return error;
  if (partitions == 0)
    return fmt::format(
        "source topic '{}' does not exist (the {} topic '{}' gets as many partitions as it has)",
        source, kind, spec.name);
  spec.partitions = partitions;
  bool created = false;
  if (std::string why = ensure_topic(group_->client(), spec, timeout, &created); !why.empty()) {
    // What an operator can do about it (no right to create topics, a broker that does not
    // answer): create it, as sluice would have.
    std::string configs;
    for (const auto& [name, value] : spec.configs)
      configs += fmt::format(", {}={}", name, value);
    return fmt::format("{} topic: {} (it needs {} partitions{})", kind, why, partitions, configs);
  }
  if (created)
    spdlog::info("job {}: created {} topic '{}' ({} partitions, as '{}')", job_name(), kind,
                 spec.name, partitions, source);
  return "";
}

// The repartition topic (between the router and the query stage; either stage may be first),
// then the changelog; the sinks writing to them exist only once they do.
std::string JobStage::prepare_topics() {
  // Delete, never compact (records of one key are all needed), and keep each record's own
  // timestamp: the query stage's event time and `_timestamp` come from it.
  const std::vector<std::pair<std::string, std::string>> repartition = {
      {"cleanup.policy", "delete"}, {"message.timestamp.type", "CreateTime"}};
  std::string error;
  if (is_router()) {
    error = prepare_internal_topic(group_->topic(), "repartition", {output_topic_, 0, repartition});
    if (!error.empty()) return error;
    std::lock_guard lock(mu_);
    output_sink_ = std::make_unique<TopicSink>(producer_, output_topic_);
  } else if (!options_.partitions_from.empty()) {
    error = prepare_internal_topic(options_.partitions_from, "repartition",
                                   {group_->topic(), 0, repartition});
    if (!error.empty()) return error;
  }
  if (spec_->changelog) {
    // Compacted: the latest state of each key is what counts.
    error = prepare_internal_topic(group_->topic(), "changelog",
                                   {options_.changelog_topic, 0, {{"cleanup.policy", "compact"}}});
    if (!error.empty()) return error;
    std::lock_guard lock(mu_);
    changelog_sink_ = std::make_unique<TopicSink>(producer_, options_.changelog_topic);
  }
  return "";
}

}  // namespace sluice::server::kafka
