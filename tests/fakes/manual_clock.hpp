#pragma once
// A pipeline::Clock the test sets by hand. Thread-safe (atomics).

#include "server/pipeline/clock.hpp"

#include <atomic>
#include <cstdint>

namespace sluice::testing {

class ManualClock final : public server::pipeline::Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000) : wall_us_(wall_ms * 1000) {}
  int64_t steady_ms() const override { return steady_ms_.load(); }
  int64_t wall_us() const override { return wall_us_.load(); }
  void advance_ms(int64_t ms) {
    steady_ms_ += ms;
    wall_us_ += ms * 1000;
  }

 private:
  std::atomic<int64_t> steady_ms_{0};
  std::atomic<int64_t> wall_us_;
};

}  // namespace sluice::testing
