#pragma once
// The measurements of sluice_daemon_bench (perf/README.md, "sluice_daemon_bench"): for one
// scenario and partition count, a fresh in-process mock broker with the scenario's input
// preloaded, then either the raw ceiling (a plain librdkafka consume -> produce copy, no parsing)
// or the daemon (a KafkaJob running the scenario's job on an io_context run by T threads).
//
// Lifecycle: each `run_*` call builds and tears down everything it uses (broker, clients, job,
// threads); nothing outlives it. Threading: call from one thread; they start and join their own.

#include "server/devtools/scenarios.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sluice::perf {

struct DaemonBenchSetup {
  const server::devtools::Scenario* scenario = nullptr;
  int partitions = 1;
  int64_t n = 0;       // records preloaded into the input topic
  bool trace = false;  // daemon: print the job's counts to stderr every 50 ms of the timed region
  // Consumer property queued.min.messages for both sides; empty: librdkafka's default (100000).
  // librdkafka < 2.2 stops fetching a partition for up to 1 s once this many records are queued
  // locally (its issue #3662), which a preloaded backlog hits.
  std::string queued_min_messages;
  // Extra producer properties for preloading the input (after compression.type=lz4).
  std::vector<std::pair<std::string, std::string>> preload_properties;
  // A running Kafka cluster to use instead of a fresh in-process mock broker per measurement:
  // every measurement then creates its own topics (and the daemon its own consumer group), named
  // with a per-run suffix. `broker_pids`: the cluster's processes, whose CPU is reported.
  std::string bootstrap;
  std::vector<int> broker_pids;
  // Durable state: the daemon's state_dir (empty: none) and snapshot interval.
  std::string state_dir;
  int64_t snapshot_interval_ms = 5000;
  bool exactly_once = false;  // processing.guarantee exactly_once (100 ms transactions)
  // Avro values in and out (format: avro on both ends) through this Schema Registry: the input is
  // preloaded in its wire format under `<input>-value`. Empty: JSON.
  std::string registry_url;
};

struct DaemonBenchResult {
  bool ok = false;           // ran to completion (counts may still be wrong: see `wrong`)
  bool wrong = false;        // output count or topic contents differ from what is expected
  std::string error;         // why not ok, or what is wrong
  uint64_t records_in = 0;   // input records read
  uint64_t records_out = 0;  // output records acknowledged
  uint64_t expected_out = 0;
  // Records in the output topic afterwards: the partitions' high watermarks summed, or (exactly
  // once, whose commit markers take offsets too) what a read_committed consumer reads.
  uint64_t output_in_topic = 0;
  double seconds = 0;              // wall time of the timed region
  double cpu_seconds = 0;          // process CPU (every thread, the in-process broker included)
  double broker_cpu_seconds = -1;  // CPU of the external broker processes; -1: none given
  std::map<std::string, double> cpu_by_thread;  // thread name -> CPU seconds in the timed region
  double p50 = -1;  // seconds, from the job's latency histogram; -1: none (raw copy)
  double p99 = -1;
  std::vector<int64_t> input_per_partition;  // records preloaded into each input partition
  uint64_t input_topic_bytes = 0;            // value bytes preloaded
  // Exactly once: transactions committed in the timed region and the time spent committing them
  // (from the barrier to the broker's answer).
  uint64_t transactions = 0;
  double transaction_seconds = 0;

  double rate() const { return seconds > 0 ? static_cast<double>(records_in) / seconds : 0; }
  double rate_per_cpu() const {
    return cpu_seconds > 0 ? static_cast<double>(records_in) / cpu_seconds : 0;
  }
};

// Output records the streaming job must have produced once all N input records are processed:
// one per input, except S3a (EMIT FINAL), whose last window never closes (no later record moves
// the watermark past it).
uint64_t daemon_expected_rows(const server::devtools::Scenario& s, int64_t n);

// The raw ceiling: one thread assigns every input partition from the beginning and copies each
// record's key and value bytes to the output topic (idempotent producer, lz4, linger.ms 5).
// Timed from the first record consumed to the last delivery acknowledgement.
DaemonBenchResult run_raw_copy(const DaemonBenchSetup& setup);

// The daemon: the scenario's Kafka job (`sluice gen --print-job`, plus session.timeout.ms 6000 and
// compression.type lz4) as a KafkaJob on an io_context run by `threads` threads. Timed from the
// last status poll (every 5 ms) that saw no record read to the first poll that saw all N read and
// every output acknowledged (confirmed by the next poll); the group join is outside it.
DaemonBenchResult run_daemon(const DaemonBenchSetup& setup, int threads);

}  // namespace sluice::perf
