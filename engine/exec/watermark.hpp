#pragma once
// Event-time watermark of one pipeline, merged over its inputs (a file, or the Kafka partitions a
// pipeline reads). Per input: watermark = max event time seen - max_out_of_orderness. The
// pipeline's watermark is the minimum over the inputs that are not idle; an input is idle when it
// delivered nothing for idle_timeout (0: never idle), so a silent partition stops holding windows
// open. The merged watermark never goes back. An input that has seen no record yet holds the
// watermark at "none" until it becomes idle.
// Processing time is passed in (`now_ms`), so the class is deterministic and needs no clock.
// Owned by one pipeline; not thread-safe.

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace sluice::exec {

class WatermarkTracker {
 public:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

  WatermarkTracker(size_t inputs, int64_t max_out_of_orderness_ms, int64_t idle_timeout_ms,
                   int64_t now_ms);

  // A record of `input` with event time `event_time` arrived at processing time `now_ms`.
  void observe(size_t input, int64_t event_time, int64_t now_ms);
  // The merged watermark at `now_ms` when it moved past the last one returned; nullopt otherwise.
  std::optional<int64_t> advance(int64_t now_ms);
  // The last watermark `advance` returned (kNone before the first).
  int64_t current() const { return current_; }
  // The watermark `advance(now_ms)` would return now (or the current one when it would not move),
  // without moving it: the watermark in force before the next record, for per-record event time.
  int64_t peek(int64_t now_ms) const;

 private:
  struct Input {
    int64_t max_event = kNone;
    int64_t last_seen_ms = 0;
  };
  bool idle(const Input& in, int64_t now_ms) const;
  std::optional<int64_t> merged(int64_t now_ms) const;

  std::vector<Input> inputs_;
  int64_t delay_ms_;
  int64_t idle_timeout_ms_;
  int64_t current_ = kNone;
};

}  // namespace sluice::exec
