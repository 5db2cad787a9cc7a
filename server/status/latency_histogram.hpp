#pragma once
// LatencyHistogram: log-linear buckets of microseconds with one writer (a pipeline's strand) and
// any number of readers, who copy the buckets into a Snapshot.

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace sluice::server {

// Log-linear histogram of microseconds: four buckets per power of two, up to 2^40 µs (12 days).
// One writer; readers copy the buckets.
class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = 160;
  using Snapshot = std::array<uint64_t, kBuckets>;

  static size_t bucket(uint64_t us) {
    if (us < 4) return us;
    auto e = static_cast<unsigned>(std::bit_width(us) - 1);  // floor(log2), >= 2
    size_t i = (e - 1) * 4 + ((us >> (e - 2)) & 3);
    return i < kBuckets ? i : kBuckets - 1;
  }
  // The smallest value of bucket i.
  static uint64_t lower(size_t i) {
    if (i < 4) return i;
    size_t e = i / 4 + 1;
    return (4 + i % 4) << (e - 2);
  }

  void add(int64_t us) {
    auto& b = buckets_[bucket(us < 0 ? 0 : static_cast<uint64_t>(us))];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Adds another histogram's counts (this one's single writer calls it).
  void add(const LatencyHistogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) {
      auto& b = buckets_[i];
      b.store(b.load(std::memory_order_relaxed) + o.buckets_[i].load(std::memory_order_relaxed),
              std::memory_order_relaxed);
    }
  }
  void add_to(Snapshot& s) const {
    for (size_t i = 0; i < kBuckets; ++i)
      s[i] += buckets_[i].load(std::memory_order_relaxed);
  }
  // The q-quantile (0..1) of a snapshot in seconds, interpolated inside its bucket; -1 when empty.
  static double quantile(const Snapshot& s, double q);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

}  // namespace sluice::server
