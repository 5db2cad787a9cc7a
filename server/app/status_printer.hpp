#pragma once
// StatusPrinter: `sluice serve --status-interval S` prints one line per job every S seconds: state,
// input and output rate since the last line, p50/p99 of the end-to-end latency over the interval,
// total lag, rejected and late records. A job that restarted in between (hot reload: its counts
// start from zero again) is measured from zero, never as a negative difference.
// Lifecycle: start() after construction, stop() before the io_context runs out of work.
// Threading: the timer's handler runs on the io_context; start/stop from any of its threads.

#include "server/status/job_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace sluice::server {

// What a job's last status line was measured against.
struct StatusBaseline {
  uint64_t generation = 0;
  JobCounts counts;
  LatencyHistogram::Snapshot latency{};
};

// One job's status line, with rates over `interval_s` since `last` (a pure function).
std::string status_line(const JobStatus& now, const StatusBaseline& last, double interval_s);

class StatusPrinter {
 public:
  StatusPrinter(boost::asio::io_context& io, std::function<std::vector<JobStatus>()> jobs,
                double interval_s, std::ostream& out);

  void start() { arm(); }
  // Also stops a tick that already fired but has not run yet (see LatencySampler::stop).
  void stop();

 private:
  void arm();
  void print();

  boost::asio::steady_timer timer_;
  std::atomic<bool> stopped_{false};
  std::function<std::vector<JobStatus>()> jobs_;
  double interval_;
  std::ostream& out_;
  std::map<std::string, StatusBaseline> last_;
};

}  // namespace sluice::server
