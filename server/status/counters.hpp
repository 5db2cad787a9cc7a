#pragma once
// Counters read by any thread (status, /metrics) and written by the data path.
// `Counter` has one writer (a pipeline's strand, or the one thread that owns it): it adds without
// a locked instruction. `SharedCounter` may be written from any thread (a locked add): for events
// reported by several strands or threads, which are rare (errors, commits, rebalances).

#include <atomic>
#include <cstdint>

namespace sluice::server {

// A counter with one writer (a pipeline's strand) and any number of readers: the writer adds
// without a locked instruction.
class Counter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A counter any thread may add to.
class SharedCounter {
 public:
  void add(uint64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace sluice::server
