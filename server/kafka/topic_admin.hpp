#pragma once
// Topics the daemon creates itself — a job's internal topics (the repartition topic) — through
// Kafka's Admin API (CreateTopics), and partition counts read from the cluster's metadata. A
// cluster without topic auto-creation (most production clusters) needs them; one that has it
// would create them with its default partition count, which is wrong for a repartition topic.
//
// Blocking calls bounded by a timeout, on a client handle the caller owns (any client type: a
// stage's consumer). Threading: any thread that may use the handle; a stage calls them from its
// control thread before it subscribes.

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::kafka {

struct TopicSpec {
  std::string name;
  int32_t partitions = 0;
  // Topic configs set at creation (cleanup.policy, ...); the replication factor is the
  // cluster's default.replication.factor.
  std::vector<std::pair<std::string, std::string>> configs;
};

// The number of partitions of `topic`: 0 when the cluster has no such topic, -1 with `error` set
// when the metadata could not be read within `timeout_ms`.
int32_t partition_count(rd_kafka_t* client, const std::string& topic, int timeout_ms,
                        std::string* error);

// Makes sure `spec.name` exists with exactly `spec.partitions` partitions: finds it, or creates it
// (another daemon creating it at the same moment counts as created; `created` tells whether this
// call sent the creation). Returns "" on success, else why not: the cluster refused the creation
// (its reason), no answer within `timeout_ms`, or the topic exists with another partition count.
std::string ensure_topic(rd_kafka_t* client, const TopicSpec& spec, int timeout_ms, bool* created);

// The smallest `max.message.bytes` (the largest record batch the broker accepts) among those of
// `topics` that exist (DescribeConfigs): 0 when none exists or the cluster names no controller
// to ask (librdkafka's mock broker), -1 with `error` set when it could not be read within
// `timeout_ms`.
int64_t smallest_max_message_bytes(rd_kafka_t* client, const std::vector<std::string>& topics,
                                   int timeout_ms, std::string* error);

}  // namespace sluice::server::kafka
