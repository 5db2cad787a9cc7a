#include "server/devtools/embedded_kafka.hpp"

namespace sluice::server::devtools {

void MockEmbeddedKafka::create_topic(const std::string& topic, int partitions) {
  std::lock_guard lock(mu_);
  try {
    broker_.create_topic(topic, partitions);
  } catch (const Error&) {
    // it exists already
  }
}

}  // namespace sluice::server::devtools
