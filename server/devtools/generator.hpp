#pragma once
// TopicGenerator: produces a scenario's records (server/devtools/scenarios.hpp) to a Kafka topic
// with its own librdkafka producer: idempotent, linger.ms=5, no compression unless a property asks
// for it; key = the scenario's key column text (null for an unkeyed scenario), value = the JSON
// line (no newline), timestamp = CreateTime now. Used by `sluice gen`, the live demo and the tests.
// `write_file` writes the same values as JSON Lines, for `sluice run`.
//
// Lifecycle: construct (creates the producer; throws Error kUsage for a bad property), call
// `produce` any number of times, destroy (the producer is destroyed; anything still queued after
// a `produce` call returned has already been counted as undelivered and purged).
//
// Threading: one TopicGenerator is used by one thread at a time. `produce` blocks the calling
// thread and serves delivery reports on it; `stop` may be set from any thread (or a signal
// handler: it is a lock-free atomic) and is checked between records and while waiting.

#include "server/devtools/scenarios.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::devtools {

// librdkafka property overrides (name, value), applied after the generator's defaults.
using ProducerProperties = std::vector<std::pair<std::string, std::string>>;

struct GenerateStats {
  uint64_t produced = 0;         // records handed to the producer
  uint64_t delivered = 0;        // acknowledged by the broker
  uint64_t delivery_errors = 0;  // failed delivery reports, plus records still unacknowledged
                                 // when the bounded flush ended (purged, never sent again)
  std::string first_error;       // the first delivery error's text; empty when none
  double seconds = 0;            // wall time, first produce to the end of the flush
  bool stopped = false;          // `stop` was set before all `count` records were produced

  bool ok() const { return delivery_errors == 0 && delivered == produced; }
};

class TopicGenerator {
 public:
  // `bootstrap` is a bootstrap.servers list. Throws Error kUsage when librdkafka rejects a
  // property, kIo when the producer cannot be created.
  TopicGenerator(const devtools::Scenario& scenario, const std::string& bootstrap,
                 std::string topic, const ProducerProperties& properties = {});
  ~TopicGenerator();
  TopicGenerator(const TopicGenerator&) = delete;
  TopicGenerator& operator=(const TopicGenerator&) = delete;

  // Waits up to `timeout` for the topic's metadata (any broker answering; a cluster that
  // auto-creates topics creates it now); throws Error kIo naming the bootstrap list when none
  // does. Optional, but without it a producer facing an unreachable cluster only fails its
  // messages after message.timeout.ms, and the first records to a new topic wait about a second.
  void check_reachable(std::chrono::milliseconds timeout);

  // Writes record i's value into `out` (appending) instead of its JSON line: another format.
  using ValueWriter = std::function<void(int64_t i, std::string& out)>;
  void set_values(ValueWriter write) { write_ = std::move(write); }

  // Produces records first .. first+count-1, at most `rate_per_second` records per second on
  // average (0: as fast as the producer takes them), until done or `stop` is set; then flushes for
  // at most `flush_timeout` and purges what is still unacknowledged (counted in delivery_errors).
  // Never throws for delivery problems: they are counted in the result.
  GenerateStats produce(int64_t first, int64_t count, double rate_per_second,
                        const std::atomic<bool>& stop,
                        std::chrono::milliseconds flush_timeout = std::chrono::seconds(30));

 private:
  struct Handles;
  const devtools::Scenario& scenario_;
  std::string topic_;
  std::string bootstrap_;
  std::unique_ptr<Handles> handles_;
  ValueWriter write_;
};

// Writes records first .. first+count-1 of `scenario` to `path` as JSON Lines (each the exact
// bytes `produce` sends as a value, then '\n'); "-" writes to stdout. Returns the bytes written;
// throws Error kIo when the file cannot be written.
uint64_t write_file(const devtools::Scenario& scenario, const std::string& path, int64_t first,
                    int64_t count);

}  // namespace sluice::server::devtools
