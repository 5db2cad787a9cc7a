#include "server/kafka/client_factory.hpp"

#include "server/kafka/changelog_reader.hpp"
#include "server/kafka/producer.hpp"

#include <fmt/format.h>

namespace sluice::server::kafka {

config::KafkaProperties job_properties(const config::JobConfig& job,
                                       const config::KafkaProperties& defaults, bool exactly_once) {
  config::KafkaProperties props = defaults;
  for (const auto& p : job.kafka)
    props.push_back(p);
  for (const auto& [k, v] : props) {
    std::string why = exactly_once ? config::refuse_exactly_once_property(k, v) : "";
    if (k == "enable.auto.commit" && v != "false")
      why = "must be false: sluice commits offsets itself, after the output is acknowledged";
    if (!why.empty())
      throw Error(ErrorCode::kConfig,
                  fmt::format("job '{}': kafka property '{}' {}", job.name, k, why));
  }
  return props;
}

rd_kafka_t* make_consumer(const config::JobConfig& job, const config::KafkaProperties& props,
                          const std::string& group_id, const ClientHooks& hooks) {
  KafkaConf c(props, fmt::format("job '{}'", job.name));
  c.set("group.id", group_id);
  c.set("client.id", "sluice-" + job.name);
  c.set("enable.auto.commit", "false");
  c.set("enable.auto.offset.store", "false");
  c.set_default(props, "auto.offset.reset", "earliest");
  // librdkafka 2.0 stops fetching a partition for up to a second once queued.min.messages
  // (default 100,000) records are queued locally, which stalls a pipeline catching up on a
  // backlog. Bound the prefetch by size instead: 16 MiB per partition.
  c.set_default(props, "queued.min.messages", "10000000");
  c.set_default(props, "queued.max.messages.kbytes", "16384");
  rd_kafka_conf_set_opaque(c.get(), hooks.opaque);
  rd_kafka_conf_set_rebalance_cb(c.get(), hooks.on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(c.get(), hooks.on_commit);
  rd_kafka_conf_set_log_cb(c.get(), hooks.on_log);
  rd_kafka_conf_set_error_cb(c.get(), hooks.on_error);
  rd_kafka_t* consumer = c.create(RD_KAFKA_CONSUMER);
  rd_kafka_poll_set_consumer(consumer);
  return consumer;
}

rd_kafka_t* make_reader(const config::JobConfig& job, const config::KafkaProperties& props,
                        const std::string& group_id, const ClientHooks& hooks) {
  KafkaConf c(props, fmt::format("job '{}'", job.name));
  c.set("group.id", group_id);
  c.set("client.id", "sluice-" + job.name + "-restore");
  c.set("enable.auto.commit", "false");
  c.set("enable.auto.offset.store", "false");
  c.set("enable.partition.eof", "true");
  c.set("isolation.level", "read_committed");
  for (const auto& [k, v] : reader_defaults())
    c.set_default(props, k, v);
  rd_kafka_conf_set_opaque(c.get(), hooks.opaque);
  rd_kafka_conf_set_log_cb(c.get(), hooks.on_log);
  rd_kafka_conf_set_error_cb(c.get(), hooks.on_error);
  rd_kafka_t* reader = c.create(RD_KAFKA_CONSUMER);
  rd_kafka_poll_set_consumer(reader);
  return reader;
}

rd_kafka_t* make_producer(const config::JobConfig& job, const config::KafkaProperties& props,
                          const ClientHooks& hooks) {
  KafkaConf p(props, fmt::format("job '{}'", job.name));
  p.set("client.id", "sluice-" + job.name + "-out");
  p.set("enable.idempotence", "true");
  p.set_default(props, "queue.buffering.max.messages", "1000000");
  p.set_default(props, "linger.ms", "5");
  rd_kafka_conf_set_opaque(p.get(), hooks.opaque);
  KafkaProducer::configure(p.get());
  rd_kafka_conf_set_log_cb(p.get(), hooks.on_log);
  rd_kafka_conf_set_error_cb(p.get(), hooks.on_error);
  return p.create(RD_KAFKA_PRODUCER);
}

}  // namespace sluice::server::kafka
