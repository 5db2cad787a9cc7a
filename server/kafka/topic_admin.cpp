#include "server/kafka/topic_admin.hpp"

#include "server/kafka/rd_handles.hpp"
#include "server/pipeline/clock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
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

int64_t smallest_max_message_bytes(rd_kafka_t* client, const std::vector<std::string>& topics,
                                   int timeout_ms, std::string* error) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &raw, timeout_ms);
  MetadataHandle md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    *error = fmt::format("reading the metadata: {}", rd_kafka_err2str(err));
    return -1;
  }
  std::vector<std::string> present;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        std::find(topics.begin(), topics.end(), t.topic) != topics.end())
      present.push_back(t.topic);
  }
  // DescribeConfigs goes to the controller the metadata names: one of the brokers, or none to
  // ask (librdkafka's mock broker names broker 0, which it does not have).
  int32_t controller = rd_kafka_controllerid(client, 0);
  bool known = std::any_of(md->brokers, md->brokers + md->broker_cnt,
                           [&](const rd_kafka_metadata_broker_t& b) { return b.id == controller; });
  if (present.empty() || !known) return 0;
  std::vector<ConfigResourceHandle> owned;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& topic : present) {
    owned.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    resources.push_back(owned.back().get());
  }
  std::array<char, 512> errstr{};
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr.data(),
                                            errstr.size());
  QueueHandle queue(rd_kafka_queue_new(client));
  rd_kafka_DescribeConfigs(client, resources.data(), resources.size(), options.get(), queue.get());
  EventHandle event(rd_kafka_queue_poll(queue.get(), timeout_ms + 1000));
  if (!event) {
    *error = fmt::format("no answer to DescribeConfigs within {} ms", timeout_ms);
    return -1;
  }
  if (rd_kafka_event_error(event.get())) {
    *error = fmt::format("DescribeConfigs: {}", rd_kafka_event_error_string(event.get()));
    return -1;
  }
  const rd_kafka_DescribeConfigs_result_t* result =
      rd_kafka_event_DescribeConfigs_result(event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described =
      result ? rd_kafka_DescribeConfigs_result_resources(result, &count) : nullptr;
  int64_t smallest = 0;
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_ConfigResource_error(described[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *error = fmt::format("DescribeConfigs of topic '{}': {}",
                           rd_kafka_ConfigResource_name(described[i]),
                           rd_kafka_ConfigResource_error_string(described[i]));
      return -1;
    }
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs =
        rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t j = 0; j < entries; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(configs[j]);
      if (std::string_view(rd_kafka_ConfigEntry_name(configs[j])) != "max.message.bytes" ||
          value == nullptr)
        continue;
      int64_t bytes = 0;
      auto [end, ec] = std::from_chars(value, value + std::strlen(value), bytes);
      if (ec == std::errc() && bytes > 0 && (smallest == 0 || bytes < smallest)) smallest = bytes;
    }
  }
  return smallest;
}

}  // namespace sluice::server::kafka
