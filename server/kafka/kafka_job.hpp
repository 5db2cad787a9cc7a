#pragma once
// KafkaJob: one job running against Kafka in this daemon, composed of one JobStage (the query on
// the source) or two when it repartitions (see below). A stage owns a consumer (in the stage's
// consumer group), an idempotent producer, and one PartitionPipeline (read -> decode -> execute ->
// encode -> produce) per assigned partition on its own strand of the daemon's io_context, with its
// own engine state; the compiled query is shared.
//
// Delivery: exactly once (processing.guarantee; each stage commits its output, changelog and
// offsets in one Kafka transaction per commit interval: stage_transaction.cpp), or at least once,
// nothing lost. A partition's offset is committed only when every
// output and dead-letter record derived from the records before it has been acknowledged by the
// broker, and no record before it is still held in an open window (so re-reading from the
// committed offset rebuilds the windows). The committed offset carries the event-time watermark
// and the acknowledged position as metadata, so after a restart records of windows that were
// already emitted are recognised as replayed. A non-windowed aggregate's and DISTINCT's state is
// durable: each partition snapshots it into `state_dir/<job>/<partition>/`
// (checkpoint::StateStore) and commits only offsets a snapshot on disk covers; a partition
// assigned to this daemon again restores the newest snapshot at or before its committed offset
// and reads on from the snapshot's offset. Without a snapshot (a partition new to this
// daemon) it starts empty from the committed offset, as OVER state always does.
//
// Partitioning: every partition has its own state, so a query that keeps state per key needs all
// records of a key on one partition. When the source is not declared `partitioned_by` (a subset
// of) the key columns, the job first re-keys its input through `<job>-repartition`: a router
// stage reads the source and writes each record, unchanged, keyed by its group key into that topic
// (group `<group>`); the query stage reads it (group `<group>-repartition`).
//
// Lifecycle: construct (creates the Kafka clients; throws Error kConfig naming a bad property),
// `start()`, then `stop()` (async: stop reading, drain in-flight output, commit, leave the group;
// `done` runs on an io_context thread when it has stopped). A job that fails (on_error: fail, or
// output that cannot be delivered) stops itself the same way and reports `failed`.
//
// Threading: each stage's consumer is served by its own control thread (rebalances, commits; it
// may block on Kafka requests, pool threads never do). Pipelines run on their strands; delivery
// reports are served on a producer strand. `status()` is safe from any thread.

#include "config/job_config.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace sluice::server::kafka {

class SchemaRegistry;

struct KafkaJobOptions {
  size_t batch_records = 1024;        // records read from a partition per batch
  int64_t commit_interval_ms = 1000;  // how often acknowledged positions are committed
  uint64_t max_in_flight = 50000;     // unacknowledged output per partition before it pauses
  int64_t drain_timeout_ms = 30000;   // stop/revoke: wait this long for acknowledgements
  int64_t admin_timeout_ms = 30000;   // bound of each Admin API and metadata call
  // Durable state: the daemon's state_dir (empty: none kept) and how often a partition with
  // durable state takes a full snapshot (its changelog is written every commit round).
  std::string state_dir;
  int64_t snapshot_interval_ms = 5000;
  // The guarantee of jobs that do not choose (the server config's processing.guarantee), and
  // what makes this daemon's transactional.ids its own (exactly once: `<group>@<instance>`; a
  // daemon restarted with the same one fences its predecessor's open transactions).
  config::Guarantee guarantee = config::Guarantee::kAtLeastOnce;
  std::string instance = "sluice";
  // The Schema Registry of jobs with `format: avro` (null: none configured; such jobs fail).
  std::shared_ptr<SchemaRegistry> registry;
};

// Exactly once commits a transaction this often unless the job says otherwise.
inline constexpr int64_t kTransactionIntervalMs = 100;

class JobStage;

class KafkaJob {
 public:
  // `defaults`: the server config's kafka properties; the job's own `kafka:` map wins.
  KafkaJob(boost::asio::io_context& io, std::shared_ptr<const config::JobConfig> job,
           const config::KafkaProperties& defaults, uint64_t generation,
           const KafkaJobOptions& options = {});
  ~KafkaJob();  // stops (blocking, bounded) if still running
  KafkaJob(const KafkaJob&) = delete;
  KafkaJob& operator=(const KafkaJob&) = delete;

  void start();
  // Asks the job to stop; returns at once. `done` is posted to the io_context once the job has
  // drained, committed and closed its clients. Calling it again has no effect.
  void stop(std::function<void()> done);

  // Pauses (true) or resumes (false) every partition of the job, and the partitions assigned
  // later while it is paused: each pipeline stops reading and pauses its partition in Kafka,
  // keeping its state and in-flight output (which still drains and commits). Independent of the
  // backpressure pause: Kafka resumes only when neither holds. Any thread; returns at once.
  void pause(bool paused);

  JobStatus status() const;
  const config::JobConfig& config() const;

 private:
  std::vector<std::shared_ptr<JobStage>> stages_;  // router first, when there is one
  std::shared_ptr<const config::JobConfig> job_;
};

}  // namespace sluice::server::kafka
