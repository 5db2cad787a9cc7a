#include "server/kafka/topic_admin.hpp"

#include "server/kafka/rd_handles.hpp"
#include "server/pipeline/clock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <thread>

namespace sluice::server::kafka {
namespace {

using pipeline::SystemClock;

// Sends CreateTopics and waits for its result: "" when the topic exists now (`created`: by this
// request, not by someone else's), else why not.
std::string create_topic(rd_kafka_t* client, const TopicSpec& spec, int timeout_ms, bool* created) {
  std::array<char, 512> errstr{};
  NewTopicHandle topic(
      rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, -1, errstr.data(), errstr.size()));
  if (!topic) return errstr.data();
  for (const auto& [name, value] : spec.configs) {
    if (rd_kafka_resp_err_t err =
            rd_kafka_NewTopic_set_config(topic.get(), name.c_str(), value.c_str()))
      return fmt::format("config {}: {}", name, rd_kafka_err2str(err));
  }
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr.data(),
                                            errstr.size());
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr.data(),
                                              errstr.size());
  QueueHandle queue(rd_kafka_queue_new(client));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(client, topics, 1, options.get(), queue.get());
  // The request timeout bounds the answer; the margin covers librdkafka's own scheduling.
  EventHandle event(rd_kafka_queue_poll(queue.get(), timeout_ms + 1000));
  if (!event) return fmt::format("no answer to CreateTopics within {} ms", timeout_ms);
  if (rd_kafka_event_error(event.get())) return rd_kafka_event_error_string(event.get());
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      result ? rd_kafka_CreateTopics_result_topics(result, &count) : nullptr;
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    *created = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      return "";
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    return why && *why ? why : rd_kafka_err2str(err);
  }
  return "CreateTopics answered without a result for the topic";
}

}  // namespace

int32_t partition_count(rd_kafka_t* client, const std::string& topic, int timeout_ms,
                        std::string* error) {
  // The metadata of every topic, not of this one: a broker may create a topic a metadata request
  // names (auto-creation; the test broker always does), with its default partition count.
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &raw, timeout_ms);
  MetadataHandle md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    *error = fmt::format("reading the metadata of topic '{}': {}", topic, rd_kafka_err2str(err));
    return -1;
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return 0;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *error = fmt::format("metadata of topic '{}': {}", topic, rd_kafka_err2str(t.err));
      return -1;
    }
    return t.partition_cnt;
  }
  return 0;
}

std::string ensure_topic(rd_kafka_t* client, const TopicSpec& spec, int timeout_ms, bool* created) {
  *created = false;
  int64_t deadline = SystemClock::instance().steady_ms() + timeout_ms;
  auto left = [&] {
    return static_cast<int>(std::max<int64_t>(deadline - SystemClock::instance().steady_ms(), 1));
  };
  std::string error;
  int32_t have = partition_count(client, spec.name, left(), &error);
  if (have < 0) return error;
  if (have == 0) {
    if (std::string why = create_topic(client, spec, left(), created); !why.empty())
      return fmt::format("creating topic '{}' ({} partitions): {}", spec.name, spec.partitions,
                         why);
    // Created: wait until the metadata shows it (or shows what another creator made of it).
    while ((have = partition_count(client, spec.name, left(), &error)) == 0 &&
           SystemClock::instance().steady_ms() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (have < 0) return error;
    if (have == 0)
      return fmt::format("topic '{}' was created but is not in the metadata after {} ms", spec.name,
                         timeout_ms);
  }
  if (have != spec.partitions)
    return fmt::format("topic '{}' exists with {} partitions, not {}", spec.name, have,
                       spec.partitions);
  return "";
}

}  // namespace sluice::server::kafka
