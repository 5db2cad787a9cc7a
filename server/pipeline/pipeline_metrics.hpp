#pragma once
// PipelineMetrics: what one partition pipeline reports. Written on the pipeline's strand
// (single-writer counters, once per batch), read by any thread (status, /metrics).

#include "server/status/counters.hpp"
#include "server/status/job_status.hpp"
#include "server/status/latency_histogram.hpp"

#include <atomic>
#include <cstdint>

namespace sluice::server::pipeline {

struct PipelineMetrics {
  Counter records_in, records_out, filtered, rejected, dead_lettered, skipped, late, replayed,
      bytes_in, bytes_out;
  Counter position;   // next offset to read; as uint64_t(-1) before the first read
  Counter watermark;  // as uint64_t(int64_t)
  Counter in_flight, pauses, delivery_errors;
  Counter open_windows, groups, state_bytes;  // as of the last publish
  Counter snapshots, snapshot_bytes;          // durable state: taken, and the size of the last
  Counter changelog_records;                  // durable state: changelog records written
  std::atomic<bool> paused{false};            // backpressure
  LatencyHistogram latency;                   // input record timestamp -> output acknowledged, µs
  LatencyHistogram batch_latency;             // read -> last output handed to the sink, µs
  LatencyHistogram batch_records;             // records per batch

  JobCounts counts() const {
    return {records_in.get(),    records_out.get(), filtered.get(), rejected.get(),
            dead_lettered.get(), skipped.get(),     late.get(),     replayed.get(),
            bytes_in.get(),      bytes_out.get()};
  }
  PartitionStatus status(int32_t partition) const {
    PartitionStatus s;
    s.partition = partition;
    s.position = static_cast<int64_t>(position.get());
    s.watermark = static_cast<int64_t>(watermark.get());
    s.paused = paused.load(std::memory_order_relaxed);
    s.pauses = pauses.get();
    s.in_flight = in_flight.get();
    s.open_windows = open_windows.get();
    s.groups = groups.get();
    s.state_bytes = state_bytes.get();
    s.snapshots = snapshots.get();
    s.snapshot_bytes = snapshot_bytes.get();
    s.changelog_records = changelog_records.get();
    s.counts = counts();
    return s;
  }
};

}  // namespace sluice::server::pipeline
