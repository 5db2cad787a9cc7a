#pragma once
// FlowControl: whether a pipeline reads, and whether its source's fetching is paused.
// - backpressure: more than `max_in_flight` records unacknowledged pauses the partition; it resumes
//   at half that, so the pause does not flap;
// - the admin API's pause (independent: the partition resumes only when neither holds);
// - a full sink: reading stops until the sink has room (a short wait: the fetch stays on).
// Each setter returns true when the source's pause state must change (`source_paused()`).
// Owned by one pipeline (its strand).

#include <cstdint>

namespace sluice::server::pipeline {

class FlowControl {
 public:
  explicit FlowControl(uint64_t max_in_flight) : max_(max_in_flight) {}

  bool set_user_paused(bool paused) {
    return change([&] { user_ = paused; });
  }
  // The records in flight changed to `n`.
  bool set_in_flight(uint64_t n) {
    return change([&] {
      if (!backpressure_ && n > max_) {
        backpressure_ = true;
        ++pauses_;
      } else if (backpressure_ && n <= max_ / 2) {
        backpressure_ = false;
      }
    });
  }
  void set_sink_full(bool full) { sink_full_ = full; }

  bool source_paused() const { return backpressure_ || user_; }
  bool can_read() const { return !source_paused() && !sink_full_; }
  bool backpressure() const { return backpressure_; }
  bool user_paused() const { return user_; }
  uint64_t pauses() const { return pauses_; }

 private:
  template <typename F>
  bool change(F&& f) {
    bool before = source_paused();
    f();
    return before != source_paused();
  }

  uint64_t max_;
  bool backpressure_ = false;
  bool user_ = false;
  bool sink_full_ = false;
  uint64_t pauses_ = 0;
};

}  // namespace sluice::server::pipeline
