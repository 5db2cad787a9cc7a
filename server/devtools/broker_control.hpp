#pragma once
// Control commands for `sluice broker --control stdin`: fault injection for tests, one command per
// line, one answer line (`ok` or `error: <why>`) per command.
//
//   down BROKER_ID | up BROKER_ID            take a broker down / bring it back
//   errors API COUNT ERROR                   the next COUNT requests of API fail with ERROR
//   leader TOPIC PARTITION BROKER_ID         move a partition's leadership
//   create TOPIC PARTITIONS                  create a topic
//
// Lifecycle: `ControlReader` starts its thread in the constructor (after the caller has blocked
// its stop signals, so the thread inherits the mask) and stops it in `stop()` or the destructor.
// It reads `fd` until EOF; EOF only ends the reading, never the broker. `stop()` returns within
// about kPollMillis even while the fd stays open with nothing to read.
//
// Threading: the reader thread is the only caller of the broker's fault-injection methods and the
// only writer to `out` while it runs; the owner must not touch either until `stop()` returns.

#include "server/devtools/mock_broker.hpp"

#include <atomic>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

namespace sluice::server::devtools {

// Runs one command line against `broker`; returns the answer line without the newline. Blank
// lines and lines starting with '#' return an empty string (no answer).
std::string run_control_command(MockBroker& broker, std::string_view line);

class ControlReader {
 public:
  static constexpr int kPollMillis = 100;

  ControlReader(MockBroker& broker, int fd, std::ostream& out);
  ~ControlReader();
  ControlReader(const ControlReader&) = delete;
  ControlReader& operator=(const ControlReader&) = delete;

  // Asks the thread to finish and joins it; idempotent.
  void stop();

 private:
  void run();
  void handle_lines(std::string& pending);

  MockBroker& broker_;
  int fd_;
  std::ostream& out_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sluice::server::devtools
