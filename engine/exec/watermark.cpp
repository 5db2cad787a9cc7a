#include "exec/watermark.hpp"

#include <algorithm>

namespace sluice::exec {

WatermarkTracker::WatermarkTracker(size_t inputs, int64_t max_out_of_orderness_ms,
                                   int64_t idle_timeout_ms, int64_t now_ms)
    : inputs_(inputs, Input{kNone, now_ms}),
      delay_ms_(max_out_of_orderness_ms),
      idle_timeout_ms_(idle_timeout_ms) {}

void WatermarkTracker::observe(size_t input, int64_t event_time, int64_t now_ms) {
  Input& in = inputs_[input];
  in.max_event = std::max(in.max_event, event_time);
  in.last_seen_ms = now_ms;
}

bool WatermarkTracker::idle(const Input& in, int64_t now_ms) const {
  return idle_timeout_ms_ > 0 && now_ms - in.last_seen_ms >= idle_timeout_ms_;
}

std::optional<int64_t> WatermarkTracker::merged(int64_t now_ms) const {
  int64_t merged = std::numeric_limits<int64_t>::max();
  bool any = false;
  for (const Input& in : inputs_) {
    if (idle(in, now_ms)) continue;
    any = true;
    if (in.max_event == kNone) return std::nullopt;  // an active input with nothing seen yet
    int64_t wm = in.max_event < kNone + delay_ms_ ? kNone : in.max_event - delay_ms_;
    merged = std::min(merged, wm);
  }
  if (!any) return std::nullopt;  // every input idle: nothing new to go by
  return merged;
}

std::optional<int64_t> WatermarkTracker::advance(int64_t now_ms) {
  std::optional<int64_t> m = merged(now_ms);
  if (!m || *m <= current_) return std::nullopt;
  current_ = *m;
  return current_;
}

int64_t WatermarkTracker::peek(int64_t now_ms) const {
  std::optional<int64_t> m = merged(now_ms);
  return m ? std::max(*m, current_) : current_;
}

}  // namespace sluice::exec
