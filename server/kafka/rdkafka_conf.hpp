#pragma once
// Building librdkafka clients from the properties of a server config and a job file: every
// property set in order (later ones win), errors as Error kConfig naming the property and the
// reason, never its value (it may be a secret): librdkafka's messages, which may quote a value,
// are replaced (`conf_error_reason`) or have every value redacted (client creation). Internal to
// server/kafka/. Used on one thread at a time.

#include "config/job_config.hpp"

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::server::kafka {

// Why librdkafka refused a property (`res` and its message from rd_kafka_conf_set), without the
// value, which librdkafka's own message may quote: "unknown property", or "librdkafka refused the
// value (allowed: none, gzip, snappy, lz4, zstd)" with the range or values librdkafka documents.
std::string conf_error_reason(const std::string& name, rd_kafka_conf_res_t res,
                              std::string_view message);

class KafkaConf {
 public:
  // `owner`: what the properties belong to, for messages ("job 'trades'"). `code`: the code of
  // the Error thrown for a property librdkafka rejects.
  KafkaConf(const config::KafkaProperties& props, std::string owner,
            ErrorCode code = ErrorCode::kConfig);
  ~KafkaConf();
  KafkaConf(const KafkaConf&) = delete;
  KafkaConf& operator=(const KafkaConf&) = delete;

  void set(const std::string& name, const std::string& value);
  // Sets `name` unless `props` set it.
  void set_default(const config::KafkaProperties& props, const std::string& name,
                   const std::string& value);
  rd_kafka_conf_t* get() { return conf_; }
  // Creates the client; the configuration is consumed. Throws Error kIo on failure.
  rd_kafka_t* create(rd_kafka_type_t type);

 private:
  rd_kafka_conf_t* conf_;
  std::string owner_;
  ErrorCode code_;
  std::vector<std::pair<std::string, std::string>> values_;  // every value set, to redact
};

}  // namespace sluice::server::kafka
