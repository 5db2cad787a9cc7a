#pragma once
// MockBroker: an in-process Kafka-protocol broker (librdkafka's mock cluster) for local runs, tests
// and CI. It listens on 127.0.0.1 only, on ports the OS picks, and speaks the real wire protocol,
// so any Kafka client in any process can use it through `bootstrap()`.
//
// Lifecycle: construct empty, `start()` once (creates the cluster and the requested topics, returns
// the bootstrap list), then destroy (or `stop()`): the cluster's listeners and threads are gone
// when `stop()` or the destructor returns. Not copyable or movable.
//
// Threading: the cluster runs on librdkafka's own threads. `start`, `stop` and `bootstrap` must be
// called from one thread (or be externally synchronised). librdkafka types stay in the .cpp.

#include <memory>
#include <string>
#include <vector>

namespace sluice::server::kafka {

// A topic to create at start: its name and partition count (replication factor is
// min(brokers, 3)). Topics not listed are auto-created on first use by the cluster.
struct TopicSpec {
  std::string name;
  int partitions = 1;
};

class MockBroker {
 public:
  MockBroker();
  ~MockBroker();
  MockBroker(const MockBroker&) = delete;
  MockBroker& operator=(const MockBroker&) = delete;

  // Starts a cluster of `brokers` brokers (ids 1..brokers) with `topics`, and returns the bootstrap
  // list "127.0.0.1:PORT[,127.0.0.1:PORT...]". Throws Error: kUsage for a bad count or topic, kIo
  // when the cluster cannot be created. Calling it twice is a bug.
  std::string start(int brokers, const std::vector<TopicSpec>& topics);

  // The bootstrap list of a started broker; empty before `start` and after `stop`.
  const std::string& bootstrap() const { return bootstrap_; }

  // Destroys the cluster and its client handle; idempotent.
  void stop();

 private:
  struct Handles;
  std::unique_ptr<Handles> handles_;
  std::string bootstrap_;
};

}  // namespace sluice::server::kafka
