#pragma once
// The Prometheus exposition of `GET /metrics`, built at scrape time from the jobs' status
// (JobManager::status()) with prometheus-cpp's data model and text serializer. Nothing is
// registered or looked up on the hot path: the pipelines count per batch into single-writer
// atomics (server/status/job_status.hpp) and a scrape reads them.
//
// Series (labels `job_name`, and `topic` + `partition` for per-pipeline series; never `job`):
//   sluice_records_total{job_name,topic,partition,outcome}, sluice_bytes_total{...,direction},
//   sluice_end_to_end_latency_seconds (histogram, per job),
//   sluice_end_to_end_latency_quantile_seconds{job_name,quantile} (a summary over the job's
//   `latency_window`, the last 60 s, when set; else since the start),
//   sluice_consumer_lag, sluice_watermark_lag_seconds, sluice_pipeline_paused,
//   sluice_in_flight_records, sluice_backpressure_pauses_total (per partition),
//   sluice_commits_total, sluice_commit_failures_total, sluice_rebalances_total,
//   sluice_delivery_errors_total, sluice_job_state{job_name,state},
//   sluice_job_config_generation (per job), sluice_batch_processing_seconds and
//   sluice_batch_records (histograms per job), sluice_producer_queue_records (per job),
//   sluice_state_open_windows, sluice_state_groups, sluice_state_bytes (per partition),
//   sluice_process_cpu_seconds_total,
//   sluice_process_resident_memory_bytes.
//
// Pure functions of their arguments (plus /proc/self for the process series): any thread.

#include "server/status/job_status.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::http {

// The Content-Type of the exposition.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The upper bounds (seconds) of sluice_end_to_end_latency_seconds, 100 µs to 60 s (+Inf implied).
const std::vector<double>& latency_bucket_bounds();

struct CumulativeHistogram {
  std::vector<std::pair<double, uint64_t>> buckets;  // (upper bound in seconds, cumulative count)
  uint64_t count = 0;
  double sum = 0;  // seconds, estimated from the log-linear buckets' midpoints
};
// Converts a log-linear snapshot: each of its buckets [lower(i), lower(i+1)) µs is counted in the
// first Prometheus bucket whose bound is >= lower(i+1) µs, so no count sits below its true bound.
CumulativeHistogram to_cumulative(const LatencyHistogram::Snapshot& s);
// The same for JobStatus::batch_latency (µs), into bounds of 10 µs to 1 s.
CumulativeHistogram batch_latency_histogram(const LatencyHistogram::Snapshot& s);
// JobStatus::batch_records (counts, exact integers) into bounds 1, 2, 4, ..., 4096: a bucket of
// the log-linear histogram holding [lo, hi) goes to the first bound >= hi - 1; _sum uses midpoints.
CumulativeHistogram batch_records_histogram(const LatencyHistogram::Snapshot& s);

// One status per job name: a name two files claim is reported once, by the file that runs it.
std::vector<const JobStatus*> unique_jobs(const std::vector<JobStatus>& jobs);

// The whole exposition; `now_ms` (Unix epoch) is the reference for the watermark lag.
std::string render_metrics(const std::vector<JobStatus>& jobs, int64_t now_ms);

}  // namespace sluice::server::http
