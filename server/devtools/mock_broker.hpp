#pragma once
// MockBroker: an in-process Kafka-protocol broker (librdkafka's mock cluster) for local runs, tests
// and CI. It listens on 127.0.0.1 only, on ports the OS picks, and speaks the real wire protocol,
// so any Kafka client in any process can use it through `bootstrap()`.
//
// Lifecycle: construct empty, `start()` once (creates the cluster and the requested topics, returns
// the bootstrap list), then destroy (or `stop()`): the cluster's listeners and threads are gone
// when `stop()` or the destructor returns. Not copyable or movable.
//
// Fault injection (tests): `set_broker_down`/`set_broker_up`, `push_request_errors`,
// `set_partition_leader` and `create_topic` act on a started cluster; they throw Error kUsage for
// a bad argument (unknown broker id, api or error name) and kIo when the cluster refuses.
//
// Threading: the cluster runs on librdkafka's own threads. All methods must be called from one
// thread at a time (or be externally synchronised). librdkafka types stay in the .cpp.

#include <memory>
#include <string>
#include <vector>

namespace sluice::server::devtools {

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

  // Takes broker `broker_id` (1..brokers) down: its connections close and new ones are refused.
  void set_broker_down(int broker_id);
  // Brings broker `broker_id` back up.
  void set_broker_up(int broker_id);
  // The next `count` requests of API `api` (a Kafka API key name, e.g. "Produce") fail with the
  // Kafka error `error` (e.g. "NOT_LEADER_OR_FOLLOWER"); see request_error_names() for the lists.
  void push_request_errors(const std::string& api, int count, const std::string& error);
  // Makes `broker_id` the leader of `topic` [`partition`] (an existing partition).
  void set_partition_leader(const std::string& topic, int partition, int broker_id);
  // Creates `topic` with `partitions` partitions (replication min(brokers, 3)).
  void create_topic(const std::string& topic, int partitions);

  // The API key names and error names `push_request_errors` accepts, comma-separated.
  static std::string api_key_names();
  static std::string request_error_names();

 private:
  struct Handles;
  // The handles of a started cluster, for the fault-injection methods; throws kUsage before
  // `start`.
  Handles& live() const;
  void check_broker_id(int broker_id) const;

  std::unique_ptr<Handles> handles_;
  std::string bootstrap_;
  int brokers_ = 0;
};

}  // namespace sluice::server::devtools
