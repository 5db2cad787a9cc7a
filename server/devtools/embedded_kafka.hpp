#pragma once
// EmbeddedKafka on librdkafka's mock cluster (MockBroker): `sluice serve --embedded-kafka` and
// `sluice demo` run the daemon on it. One broker; topics created on demand by the daemon.
// Threading: as EmbeddedKafka (the daemon's thread and its io threads; MockBroker serialises).

#include "server/app/daemon.hpp"
#include "server/devtools/mock_broker.hpp"

#include <mutex>
#include <string>

namespace sluice::server::devtools {

class MockEmbeddedKafka final : public EmbeddedKafka {
 public:
  std::string start() override { return broker_.start(1, {}); }
  const std::string& bootstrap() const override { return broker_.bootstrap(); }
  void create_topic(const std::string& topic, int partitions) override;

 private:
  std::mutex mu_;
  MockBroker broker_;
};

}  // namespace sluice::server::devtools
