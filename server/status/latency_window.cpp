#include "server/status/latency_window.hpp"

#include <set>

namespace sluice::server {

void LatencyWindows::sample(Clock::time_point now, const std::vector<JobStatus>& jobs) {
  std::lock_guard lock(mu_);
  std::set<std::string> present;
  for (const auto& job : jobs) {
    if (job.state == JobState::kInvalid) continue;
    present.insert(job.file);
    Ring& ring = rings_[job.file];
    if (ring.generation != job.generation) ring = Ring{job.generation, {}};
    ring.samples.push_back({now, job.latency, job.counts.records_in, job.counts.records_out});
    // Keep one sample at least a window old (the base), drop the ones before it.
    while (ring.samples.size() >= 2 && now - ring.samples[1].at >= window_)
      ring.samples.pop_front();
  }
  std::erase_if(rings_, [&](const auto& r) { return !present.contains(r.first); });
}

void LatencyWindows::apply(Clock::time_point now, std::vector<JobStatus>& jobs) const {
  std::lock_guard lock(mu_);
  for (auto& job : jobs) {
    LatencyHistogram::Snapshot window = job.latency;
    auto it = rings_.find(job.file);
    if (it != rings_.end() && it->second.generation == job.generation) {
      // The newest sample at least a window old; none: the job is younger, take it all.
      const Sample* base = nullptr;
      for (const auto& s : it->second.samples) {
        if (now - s.at >= window_) base = &s;
      }
      bool monotonic = base != nullptr;
      for (size_t i = 0; monotonic && i < window.size(); ++i)
        monotonic = base->latency[i] <= window[i];
      if (monotonic) {
        for (size_t i = 0; i < window.size(); ++i)
          window[i] -= base->latency[i];
      }
    }
    job.latency_window = window;
    if (it != rings_.end() && it->second.generation == job.generation &&
        !it->second.samples.empty()) {
      // Rates since the window's base, or since the oldest sample of a younger job.
      const Sample* from = &it->second.samples.front();
      for (const auto& s : it->second.samples) {
        if (now - s.at >= window_) from = &s;
      }
      double seconds = std::chrono::duration<double>(now - from->at).count();
      if (seconds >= 1 && job.counts.records_in >= from->records_in &&
          job.counts.records_out >= from->records_out) {
        job.rate_in = static_cast<double>(job.counts.records_in - from->records_in) / seconds;
        job.rate_out = static_cast<double>(job.counts.records_out - from->records_out) / seconds;
      }
    }
  }
}

void LatencySampler::arm() {
  if (stopped_) return;
  timer_.expires_after(period_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    windows_.sample(LatencyWindows::Clock::now(), status_());
    arm();
  });
}

}  // namespace sluice::server
