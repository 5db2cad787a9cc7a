#pragma once
// Clock: the pipeline's two times. The steady clock measures durations (idleness, batch latency,
// log throttling); the wall clock stamps records (end-to-end latency, the event-time skew bound).
// Tests use a manual clock. Implementations are thread-safe.

#include <chrono>
#include <cstdint>

namespace sluice::server::pipeline {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t steady_ms() const = 0;
  virtual int64_t wall_us() const = 0;
  int64_t wall_ms() const { return wall_us() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t steady_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t wall_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace sluice::server::pipeline
