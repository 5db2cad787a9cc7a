// JobStage's topics (job_stage.hpp): the repartition and changelog topics it creates (or finds)
// before anything writes to them, the producer fitted to its topics' size limits, and an Avro
// sink's schema registered before anything is written.

#include "format/schema_compare.hpp"
#include "server/kafka/job_stage.hpp"
#include "server/kafka/schema_registry.hpp"
#include "server/kafka/topic_admin.hpp"
#include "server/kafka/topic_sink.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>
#include <tuple>

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

// librdkafka batches a topic's records up to batch.size and refuses locally only a record over
// message.max.bytes (both 1,000,000 by default); the broker refuses a whole batch over the topic's
// max.message.bytes, with every record in it. So when a topic this stage writes takes less, both
// are lowered to fit it: a record too large is then rejected alone (RECORD_TOO_LARGE, before it
// is sent), and no transaction is failed by it. Bounded by a few seconds: a cluster that does not
// answer leaves the producer as configured.
void JobStage::fit_producer_to_topics(config::KafkaProperties& producer_props) {
  const config::JobConfig& job = *spec_->job;
  std::vector<std::string> topics = {output_topic_};
  if (job.dead_letter && job.dead_letter->type == "kafka") topics.push_back(job.dead_letter->topic);
  if (spec_->changelog) topics.push_back(options_.changelog_topic);
  std::string error;
  int timeout = static_cast<int>(std::min<int64_t>(options_.admin_timeout_ms, 5000));
  int64_t limit = smallest_max_message_bytes(group_->client(), topics, timeout, &error);
  if (limit < 0) {
    spdlog::warn(
        "job {}: the max.message.bytes of its output topics is unknown ({}): a topic "
        "that takes less than the producer's message.max.bytes refuses whole batches",
        job_name(), error);
    return;
  }
  auto value = [&](const char* name) {
    int64_t v = 1000000;  // librdkafka's default for both
    for (const auto& [k, text] : producer_props) {
      if (k == name) std::from_chars(text.data(), text.data() + text.size(), v);
    }
    return v;
  };
  int64_t max_bytes = value("message.max.bytes");
  if (limit == 0 || limit >= max_bytes || limit <= 2 * static_cast<int64_t>(kRecordOverheadBytes))
    return;
  int64_t batch = std::min(value("batch.size"), limit - int64_t{kRecordOverheadBytes});
  producer_props.emplace_back("message.max.bytes", std::to_string(limit));
  producer_props.emplace_back("batch.size", std::to_string(batch));
  spdlog::info(
      "job {}: a topic it writes takes batches of at most {} bytes (max.message.bytes of "
      "[{}]): its producer's message.max.bytes is {} and batch.size {}",
      job_name(), limit, fmt::join(topics, ","), limit, batch);
}

// A registry that cannot be reached (or is busy) is asked again, 1 s doubling to 30 s, until it
// answers or the stage is asked to stop: the job stays starting meanwhile. A refusal fails the job,
// as does a configured schema id whose schema is not the one the job writes.
std::string JobStage::register_schemas() {
  const config::SinkConfig& sink = spec_->job->sink;
  for (const auto& [encoder, subject, part, id] :
       {std::tuple{spec_->registered_output, sink.value_subject, "value", sink.value_schema_id},
        std::tuple{spec_->registered_key, sink.key_subject, "key", sink.key_schema_id}}) {
    std::string name = subject.empty() ? fmt::format("{}-{}", output_topic_, part) : subject;
    if (std::string error = register_schema(encoder.get(), name, id, part); !error.empty())
      return error;
  }
  return "";
}

std::string JobStage::register_schema(pipeline::RegisteredValueEncoder* encoder,
                                      const std::string& subject, std::optional<uint32_t> given,
                                      const char* part) {
  if (encoder == nullptr) return "";
  for (int64_t backoff_ms = 1000;; backoff_ms = std::min<int64_t>(backoff_ms * 2, 30000)) {
    try {
      uint32_t id = given ? *given
                          : options_.registry->register_schema(subject, encoder->schema(),
                                                               encoder->schema_type());
      if (given) {  // used as it is: only if it is the schema the job writes
        auto held = options_.registry->schema(id);
        std::string_view type = encoder->schema_type();
        std::string why =
            held.type != type
                ? "it is of type " + held.type + ", not " + std::string(type)
                : format::schema_difference(type, held.schema, held.references, encoder->schema());
        if (!why.empty()) {
          spdlog::info("job {}: the schema it writes: {}", job_name(), encoder->schema());
          return fmt::format("schema {} (sink.{}_schema_id) is not the schema the job writes: {}",
                             id, part, why);
        }
      }
      encoder->set_schema_id(id);
      if (given) {
        spdlog::info("job {}: writes {} with schema {} ({}), as configured", job_name(),
                     encoder->schema_type(), id, options_.registry->url());
      } else {
        spdlog::info("job {}: writes {} with schema {} of subject '{}' ({})", job_name(),
                     encoder->schema_type(), id, subject, options_.registry->url());
      }
      return "";
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kIo) return e.what();
      warn("schema registry", fmt::format("{}; asking again in {} s", e.what(), backoff_ms / 1000));
    }
    for (int64_t waited = 0; waited < backoff_ms; waited += 100) {
      if (stop_requested_.load())
        return "stopped before the schema of '" + subject + "' was registered";
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace sluice::server::kafka
