#pragma once
// The Kafka clients of one job stage, configured from the server config's `kafka:` properties and
// the job's own (which win), with what sluice decides itself: the group, client ids, manual
// offset commits, idempotence, and the defaults that suit a pipeline per partition.
// Internal to server/kafka/. Any thread; each call builds a new client.

#include "config/job_config.hpp"
#include "server/kafka/rdkafka_conf.hpp"

#include <string>

namespace sluice::server::kafka {

// Callbacks and opaque a client gets (the job stage's).
struct ClientHooks {
  void* opaque = nullptr;
  void (*on_error)(rd_kafka_t*, int, const char*, void*) = nullptr;
  void (*on_log)(const rd_kafka_t*, int, const char*, const char*) = nullptr;
  void (*on_rebalance)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*,
                       void*) = nullptr;
  void (*on_commit)(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*,
                    void*) = nullptr;
};

// The job's properties after the server's. Throws Error kConfig for properties sluice decides
// (with `exactly_once`, also an isolation.level other than read_committed).
config::KafkaProperties job_properties(const config::JobConfig& job,
                                       const config::KafkaProperties& defaults,
                                       bool exactly_once = false);

rd_kafka_t* make_consumer(const config::JobConfig& job, const config::KafkaProperties& props,
                          const std::string& group_id, const ClientHooks& hooks);
// A consumer that reads partitions it assigns itself (a changelog, on restore): it never joins
// or commits for `group_id`; committed transactions only, with end-of-partition events.
rd_kafka_t* make_reader(const config::JobConfig& job, const config::KafkaProperties& props,
                        const std::string& group_id, const ClientHooks& hooks);
rd_kafka_t* make_producer(const config::JobConfig& job, const config::KafkaProperties& props,
                          const ClientHooks& hooks);

}  // namespace sluice::server::kafka
