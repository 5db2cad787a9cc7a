#pragma once
// Sliding-window latency quantiles. The jobs' latency histograms are cumulative (since the job
// started); `LatencyWindows` keeps a ring of snapshots per job, taken every few seconds, and fills
// in `JobStatus::latency_window` = now − the newest snapshot at least `window` old, so p50/p90/p99
// in /metrics and /jobs cover the last `window` (60 s by default; up to one sampling period more).
// A job younger than the window, or one whose counts went back (restarted with a new generation),
// gets its histogram since it started.
//
// `LatencySampler` takes the snapshots with a timer on the daemon's io_context; run_daemon owns
// both and wraps the status source of the admin API with `apply`.
//
// Threading: `LatencyWindows` is guarded by a mutex (sample on the timer, apply on HTTP
// connections' strands). `LatencySampler` is started and stopped from the io_context's threads or
// before it runs; its timer handler runs on the io_context.

#include "server/status/job_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::server {

inline constexpr std::chrono::seconds kLatencyWindow{60};
inline constexpr std::chrono::seconds kLatencySamplePeriod{5};

class LatencyWindows {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LatencyWindows(Clock::duration window = kLatencyWindow) : window_(window) {}

  // Records every job's cumulative histogram at `now`; forgets jobs that are gone.
  void sample(Clock::time_point now, const std::vector<JobStatus>& jobs);
  // Sets each job's `latency_window` from its `latency` (read at `now`) and the ring, and its
  // `rate_in` / `rate_out` over the same span (or since the oldest sample, for a young job).
  void apply(Clock::time_point now, std::vector<JobStatus>& jobs) const;

 private:
  struct Sample {
    Clock::time_point at;
    LatencyHistogram::Snapshot latency;
    uint64_t records_in = 0;
    uint64_t records_out = 0;
  };
  struct Ring {
    uint64_t generation = 0;
    std::deque<Sample> samples;  // oldest first; at most one is older than the window
  };

  Clock::duration window_;
  mutable std::mutex mu_;
  std::map<std::string, Ring> rings_;  // by job file (unique, unlike names)
};

class LatencySampler {
 public:
  using StatusSource = std::function<std::vector<JobStatus>()>;

  LatencySampler(boost::asio::io_context& io, LatencyWindows& windows, StatusSource status,
                 std::chrono::milliseconds period = kLatencySamplePeriod)
      : timer_(io), windows_(windows), status_(std::move(status)), period_(period) {}

  void start() { arm(); }
  // Also stops a tick that already fired but has not run yet (cancel alone would miss it, and
  // its re-arming would keep the io_context busy forever).
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm();

  std::atomic<bool> stopped_{false};
  boost::asio::steady_timer timer_;
  LatencyWindows& windows_;
  StatusSource status_;
  std::chrono::milliseconds period_;
};

}  // namespace sluice::server
