#pragma once
// What the daemon reports about its jobs: state, counters, per-partition positions and the
// end-to-end latency histogram. Written by the pipelines (each on its own strand) into
// single-writer atomics once per batch, read by any thread (status line, admin API).

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::server {

enum class JobState { kStarting, kRunning, kStopping, kStopped, kFailed, kInvalid };
const char* job_state_name(JobState s);

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

// Counts of one pipeline or a whole job. Every input record is counted once:
// in = accepted + filtered + rejected + late + replayed, and rejected = dead_lettered + skipped
// (+ the record that failed the job).
struct JobCounts {
  uint64_t records_in = 0;
  uint64_t records_out = 0;  // output records acknowledged by the broker
  uint64_t filtered = 0;
  uint64_t rejected = 0;       // failed to decode or evaluate
  uint64_t dead_lettered = 0;  // written to the dead-letter topic (rejected or late)
  uint64_t skipped = 0;        // rejected and skipped (on_error: skip)
  uint64_t late = 0;           // arrived after their window closed
  uint64_t replayed = 0;       // re-read after a restart, their window already emitted
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  void add(const JobCounts& o);
};

struct PartitionStatus {
  std::string topic;  // the source, or the repartition topic of a repartitioned job
  int32_t partition = 0;
  int64_t position = -1;          // next offset to read
  int64_t committed = -1;         // last committed offset
  int64_t high_watermark = -1;    // end of the partition
  int64_t lag = -1;               // high_watermark - position
  int64_t watermark = INT64_MIN;  // event-time watermark (none: INT64_MIN)
  bool paused = false;            // backpressure
  uint64_t pauses = 0;            // times backpressure paused it
  uint64_t in_flight = 0;         // output records not yet acknowledged
  // The engine state (exec::StateSize), as of the last commit point (about once a second).
  uint64_t open_windows = 0;
  uint64_t groups = 0;       // summed over the open windows; partitions for OVER
  uint64_t state_bytes = 0;  // approximate
  JobCounts counts;
};

struct JobStatus {
  std::string name;
  std::string file;
  std::string sql;  // the job's query (empty for an invalid file)
  std::string source_topic, sink_topic, dead_letter_topic;  // empty when not Kafka / not set
  JobState state = JobState::kStarting;
  std::string error;        // why it is invalid or failed
  uint64_t generation = 0;  // config generation: bumped when its file changes
  bool paused = false;      // paused through the admin API (POST /jobs/{name}/pause)
  JobCounts counts;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t rebalances = 0;
  uint64_t delivery_errors = 0;
  uint64_t routed = 0;  // records re-keyed into the repartition topic (repartitioned jobs)
  std::vector<PartitionStatus> partitions;
  LatencyHistogram::Snapshot latency{};  // record timestamp -> output acknowledged, µs
  // Per batch, over every pipeline of the job (both stages of a repartitioned one), since the job
  // started: the time from reading a batch to handing its last output to the producer (µs), and
  // the batch's record count (in the same log-linear buckets, as counts).
  LatencyHistogram::Snapshot batch_latency{};
  LatencyHistogram::Snapshot batch_records{};
  uint64_t producer_queue =
      0;  // messages and requests in the producers' queues (rd_kafka_outq_len)
  // False from the moment Kafka reported all brokers down until a later successful commit, fetch,
  // assignment or metadata request.
  bool kafka_reachable = true;
  // The same over the last minute or so (LatencyWindows::apply, server/daemon/latency_window.hpp);
  // absent when nobody filled it in: quantiles then fall back to `latency`.
  std::optional<LatencyHistogram::Snapshot> latency_window;
  // Records per second in and out over the same window (LatencyWindows::apply); absent until a
  // sample is at least a second old.
  std::optional<double> rate_in, rate_out;
};

}  // namespace sluice::server
