#include "server/status/latency_histogram.hpp"

namespace sluice::server {

double LatencyHistogram::quantile(const Snapshot& s, double q) {
  uint64_t total = 0;
  for (uint64_t c : s)
    total += c;
  if (total == 0) return -1;
  double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (s[i] == 0) continue;
    if (static_cast<double>(seen + s[i]) >= rank) {
      double lo = static_cast<double>(lower(i));
      double hi = static_cast<double>(i + 1 < kBuckets ? lower(i + 1) : lower(i) * 2);
      double frac = (rank - static_cast<double>(seen)) / static_cast<double>(s[i]);
      return (lo + (hi - lo) * frac) * 1e-6;
    }
    seen += s[i];
  }
  return static_cast<double>(lower(kBuckets - 1)) * 1e-6;
}

}  // namespace sluice::server
