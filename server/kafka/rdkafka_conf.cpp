#include "server/kafka/rdkafka_conf.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::server::kafka {

KafkaConf::KafkaConf(const config::KafkaProperties& props, std::string owner, ErrorCode code)
    : conf_(rd_kafka_conf_new()), owner_(std::move(owner)), code_(code) {
  for (const auto& [name, value] : props)
    set(name, value);
}

KafkaConf::~KafkaConf() {
  if (conf_ != nullptr) rd_kafka_conf_destroy(conf_);
}

void KafkaConf::set(const std::string& name, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf_, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    throw Error(code_, fmt::format("{}: kafka property '{}': {}", owner_, name, err));
}

void KafkaConf::set_default(const config::KafkaProperties& props, const std::string& name,
                            const std::string& value) {
  bool given =
      std::any_of(props.begin(), props.end(), [&](const auto& p) { return p.first == name; });
  if (!given) set(name, value);
}

rd_kafka_t* KafkaConf::create(rd_kafka_type_t type) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf_, err, sizeof err);
  if (rk == nullptr)
    throw Error(ErrorCode::kConfig,
                fmt::format("{}: cannot create the Kafka {}: {}", owner_,
                            type == RD_KAFKA_CONSUMER ? "consumer" : "producer", err));
  conf_ = nullptr;  // owned by the client now
  return rk;
}

}  // namespace sluice::server::kafka
