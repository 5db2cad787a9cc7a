#include "server/app/status_printer.hpp"

#include "server/status/status_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace sluice::server {
namespace {

// `now - before` of a counter that went back to zero when its job restarted (a new generation
// or a changed file): what it counted since.
uint64_t since(uint64_t now, uint64_t before) {
  return now >= before ? now - before : now;
}

}  // namespace

std::string status_line(const JobStatus& s, const StatusBaseline& last, double interval_s) {
  if (s.state == JobState::kInvalid) return fmt::format("{:<20} invalid (see the log)\n", s.name);
  // A restarted job counts from zero again: measure from zero, not from the old totals.
  bool restarted = s.generation != last.generation ||
                   s.counts.records_in < last.counts.records_in ||
                   s.counts.records_out < last.counts.records_out;
  StatusBaseline zero;
  const StatusBaseline& base = restarted ? zero : last;
  double in = static_cast<double>(since(s.counts.records_in, base.counts.records_in)) / interval_s;
  double out =
      static_cast<double>(since(s.counts.records_out, base.counts.records_out)) / interval_s;
  LatencyHistogram::Snapshot window{};
  for (size_t i = 0; i < window.size(); ++i)
    window[i] = since(s.latency[i], base.latency[i]);
  int64_t lag = 0;
  for (const auto& p : s.partitions)
    lag += std::max<int64_t>(0, p.lag);
  return fmt::format(
      "{:<20} {:<8} in {:>7}/s  out {:>7}/s  p50 {:>7}  p99 {:>7}  lag {:>8}  partitions {}  "
      "rejected {}  late {}\n",
      s.name, s.paused && s.state == JobState::kRunning ? "paused" : job_state_name(s.state),
      rate_text(in), rate_text(out), seconds_text(LatencyHistogram::quantile(window, 0.5)),
      seconds_text(LatencyHistogram::quantile(window, 0.99)), lag, s.partitions.size(),
      s.counts.rejected, s.counts.late);
}

StatusPrinter::StatusPrinter(boost::asio::io_context& io,
                             std::function<std::vector<JobStatus>()> jobs, double interval_s,
                             std::ostream& out)
    : timer_(io), jobs_(std::move(jobs)), interval_(interval_s), out_(out) {}

void StatusPrinter::stop() {
  stopped_ = true;
  timer_.cancel();
}

void StatusPrinter::arm() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(interval_ * 1000)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    print();
    arm();
  });
}

void StatusPrinter::print() {
  for (const auto& s : jobs_()) {
    StatusBaseline& last = last_[s.name];
    out_ << status_line(s, last, interval_);
    last.generation = s.generation;
    last.counts = s.counts;
    last.latency = s.latency;
  }
  out_.flush();
}

}  // namespace sluice::server
