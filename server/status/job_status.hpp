#pragma once
// What the daemon reports about its jobs: state, counters, per-partition positions and the
// end-to-end latency histogram. Plain values: a job assembles a JobStatus from its pipelines'
// counters (server/status/counters.hpp) when asked, on any thread.

#include "server/status/counters.hpp"
#include "server/status/latency_histogram.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::server {

enum class JobState { kStarting, kRunning, kStopping, kStopped, kFailed, kInvalid };
const char* job_state_name(JobState s);

// Counts of one pipeline or a whole job. Every input record is counted once:
// in = accepted + filtered + rejected + late + replayed, and rejected = dead_lettered + skipped
// (+ the record that failed the job).
struct JobCounts {
  uint64_t records_in = 0;
  uint64_t records_out = 0;  // output records acknowledged by the broker
  uint64_t filtered = 0;
  // Failed to decode or evaluate, had an event time too far ahead, or an output too large to
  // produce.
  uint64_t rejected = 0;
  // Rejected and written to the dead-letter topic. Late records written there
  // (late_records: dead_letter) count as late only.
  uint64_t dead_lettered = 0;
  uint64_t skipped = 0;   // rejected and skipped (on_error: skip)
  uint64_t late = 0;      // arrived after their window closed
  uint64_t replayed = 0;  // re-read after a restart, their window already emitted
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
  // Durable state: snapshots taken by this pipeline, the size of the last, the changelog records
  // it wrote, and what the pipeline started from: "snapshot" (the local state store),
  // "snapshot+changelog" (a snapshot and the changelog records after it), "changelog" (the
  // changelog alone: no usable snapshot here), "empty" (nothing to restore) or "" (the query
  // keeps no durable state), with the restore's offset, bytes, changelog records and seconds.
  uint64_t snapshots = 0;
  uint64_t snapshot_bytes = 0;
  uint64_t changelog_records = 0;
  std::string restored_from;
  int64_t restored_offset = -1;
  uint64_t restored_bytes = 0;
  uint64_t restored_records = 0;
  double restore_seconds = 0;
  JobCounts counts;
};

// A partition whose durable state is being restored (before its pipeline starts).
struct RestoringPartition {
  std::string topic;
  int32_t partition = 0;
  uint64_t records = 0;  // changelog records read so far
  double seconds = 0;    // since the restore began
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
  // processing.guarantee; with exactly_once, `commits` counts committed transactions,
  // `commit_failures` aborted ones (also `transaction_aborts`), and `transaction_seconds` the time
  // spent committing them (from the barrier to the broker's answer).
  std::string guarantee = "at_least_once";
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t transaction_aborts = 0;
  double transaction_seconds = 0;
  uint64_t rebalances = 0;
  uint64_t delivery_errors = 0;
  uint64_t routed = 0;  // records re-keyed into the repartition topic (repartitioned jobs)
  std::vector<PartitionStatus> partitions;
  std::vector<RestoringPartition> restoring;  // readiness is false while any is
  LatencyHistogram::Snapshot latency{};       // record timestamp -> output acknowledged, µs
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
  // The same over the last minute or so (LatencyWindows::apply, server/status/latency_window.hpp);
  // absent when nobody filled it in: quantiles then fall back to `latency`.
  std::optional<LatencyHistogram::Snapshot> latency_window;
  // Records per second in and out over the same window (LatencyWindows::apply); absent until a
  // sample is at least a second old.
  std::optional<double> rate_in, rate_out;
};

}  // namespace sluice::server
