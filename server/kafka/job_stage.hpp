#pragma once
// JobStage: one consumer group's worth of a Kafka job in this daemon. A job runs one stage (the
// query on its source), or two when it repartitions (a router re-keying the source into
// `<job>-repartition`, then the query on that topic in group `<group>-repartition`).
//
// A stage owns its GroupMember (consumer), KafkaProducer and TopicSinks, and one
// PartitionPipeline per assigned partition on its own strand. Its control thread polls the
// consumer (rebalances and commit callbacks run there), runs a commit round every commit interval
// (CommitCoordinator -> GroupCommitter) and probes Kafka while it is unreachable. On revocation it
// stops the partitions' pipelines, waits for their output to be acknowledged (bounded; then
// purged), commits what they acknowledged and drops them.
//
// Lifecycle: construct (creates the clients; throws Error kConfig naming a bad property), `start()`
// (the control thread), `request_stop()`; the control thread then drains, commits, leaves the
// group, closes the clients and calls `on_stopped`. Threading: see the members; `status()` and
// `pause()` from any thread.

#include "config/job_config.hpp"
#include "server/checkpoint/commit_coordinator.hpp"
#include "server/kafka/group_committer.hpp"
#include "server/kafka/group_member.hpp"
#include "server/kafka/producer.hpp"
#include "server/kafka/topic_admin.hpp"
#include "server/kafka/topic_sink.hpp"
#include "server/kafka/transaction.hpp"
#include "server/pipeline/partition_pipeline.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice::server::kafka {

// Exactly once: the producer's transaction.timeout.ms (the broker aborts a transaction left open
// this long, e.g. by a daemon killed before its successor took over with another
// transactional.id), also the bound of each transactional call.
inline constexpr int kTransactionTimeoutMs = 10000;

class SchemaRegistry;

struct StageOptions {
  int64_t commit_interval_ms = 1000;  // how often acknowledged positions are committed
  int64_t drain_timeout_ms = 30000;   // stop/revoke: wait this long for acknowledgements
  // The query stage of a repartitioned job: its source is the internal repartition topic, which
  // it creates (or finds, and checks) before subscribing, with as many partitions as this topic
  // (the job's source) has. Empty for a stage that reads a user's topic.
  std::string partitions_from;
  int64_t admin_timeout_ms = 30000;  // bound of each of those Admin API and metadata calls
  // Durable state (when the spec is durable): the job's directory in the daemon's state_dir, and
  // with a changelog (spec changelog), its topic, created (compacted) with as many partitions as
  // the stage's source has.
  std::string state_dir;
  std::string changelog_topic;
  // Exactly once: the stage's producer is transactional with this transactional.id (empty: at
  // least once) and its consumer reads committed records only.
  std::string transactional_id;
  // Registers an Avro sink's schema (`<topic>-value`) before the stage subscribes.
  std::shared_ptr<SchemaRegistry> registry;
};

class JobStage final : public pipeline::PipelineHost,
                       public GroupListener,
                       public std::enable_shared_from_this<JobStage> {
 public:
  JobStage(boost::asio::io_context& io, std::shared_ptr<const pipeline::PipelineSpec> spec,
           std::string group_id, std::string output_topic, uint64_t generation,
           const StageOptions& options);
  ~JobStage() override;

  // Creates the consumers (throws Error kConfig); before start(). The producer is made by the
  // control thread when it starts (it first asks the cluster for its topics' limits).
  void create_clients(const config::KafkaProperties& defaults);
  void start();
  // Asks the control thread to stop; `done` is posted to the io_context once it stopped.
  void request_stop(std::function<void()> done);
  // Waits for the control thread (the destructor of the owning job).
  void join();
  void pause(bool paused);
  void set_sibling(std::weak_ptr<JobStage> other) { sibling_ = std::move(other); }

  const pipeline::PipelineSpec& spec() const { return *spec_; }
  bool is_router() const { return spec_->route; }
  uint64_t generation() const { return generation_; }
  bool stopped() const;
  // The stage's status: counters summed over current and retired pipelines, one PartitionStatus
  // per current pipeline.
  struct Snapshot {
    JobState state = JobState::kStarting;
    std::string error;
    JobCounts counts;
    std::vector<PartitionStatus> partitions;
    LatencyHistogram::Snapshot latency{}, batch_latency{}, batch_records{};
    uint64_t commits = 0, commit_failures = 0, rebalances = 0, delivery_errors = 0;
    uint64_t producer_queue = 0;
    uint64_t transaction_aborts = 0;
    double transaction_seconds = 0;  // spent committing transactions (barrier to commit)
    bool kafka_reachable = true;
    bool paused = false;
    std::vector<RestoringPartition> restoring;
  };
  Snapshot snapshot() const;

  // pipeline::PipelineHost
  void fail(const std::string& why) override;
  bool failed() const override { return failed_.load(); }
  void pipeline_drained() override;
  void records_read() override { note_reachable(); }

  // GroupListener (the control thread)
  bool assigned(std::vector<std::pair<int32_t, pipeline::Progress>>& parts,
                const std::string& committed_error) override;
  void revoked(const std::vector<int32_t>& parts, bool lost) override;
  void warn(const char* what, const std::string& message) override;

  // librdkafka callbacks (the control thread, or any for errors and logs).
  void on_commit_result(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);
  void on_client_error(int err, const char* reason);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  const std::string& job_name() const { return spec_->job->name; }

 private:
  using Pipelines = checkpoint::CommitCoordinator::Pipelines;
  void run_control();
  std::string prepare_internal_topic(const std::string& source, const char* kind, TopicSpec spec);
  std::string create_producer();
  // A sink writing a registry format: registers the output schema as `<topic>-value` (and a
  // registered key's as `<topic>-key`), or checks the configured schema id holds it, and gives
  // each encoder its id. Empty, or why it failed. `part`: "value" or "key".
  std::string register_schemas();
  std::string register_schema(pipeline::RegisteredValueEncoder* encoder, const std::string& subject,
                              std::optional<uint32_t> given, const char* part);
  std::string prepare_topics();
  void fit_producer_to_topics(config::KafkaProperties& producer_props);
  void shutdown();
  void retire(const std::vector<int32_t>& partitions, bool commit);
  void commit_round(const std::vector<int32_t>& partitions, bool sync);
  // Exactly once (stage_transaction.cpp): one transaction over every pipeline, parked at a
  // barrier meanwhile; those of `keep_parked` stay parked (they are being retired). False when
  // it was aborted (the partitions rewound) or the job failed.
  bool transaction_round(const std::vector<int32_t>& keep_parked);
  bool await_barrier(const Pipelines& pipelines, uint64_t barrier);
  // Aborts the open transaction and starts every partition (but `gone`) again from its
  // committed offset and state.
  void rewind(const std::string& why, const std::vector<int32_t>& gone = {});
  void abort_and_retire(const std::vector<int32_t>& partitions);
  void note_reachable();
  // The state a durable partition starts from: its newest usable local snapshot at or before the
  // committed offset, restored (moves `restored` back to the snapshot's offset), or null (empty
  // state from the committed offset; none committed: no snapshot is used either). With a
  // changelog, the records after the snapshot (or all) bring the state to the committed offset
  // (stage_restore.cpp); a changelog that cannot be read fails the job.
  std::unique_ptr<exec::QueryState> restore_state(int32_t partition, pipeline::Progress& restored);
  std::shared_ptr<const pipeline::StateCheckpoint> read_snapshot(int32_t partition,
                                                                 int64_t committed,
                                                                 exec::QueryState& state);
  bool replay_changelog(int32_t partition, pipeline::Progress& restored, exec::QueryState& state,
                        const pipeline::StateCheckpoint* snapshot);
  Pipelines current(const std::vector<int32_t>& partitions = {}) const;

  // Immutable after construction.
  boost::asio::io_context& io_;
  std::shared_ptr<const pipeline::PipelineSpec> spec_;
  std::string group_id_;
  std::string output_topic_;
  uint64_t generation_;
  StageOptions options_;
  std::weak_ptr<JobStage> sibling_;

  // Clients: created before start (the sinks of the repartition and changelog topics once those
  // exist, by the control thread); the control thread closes them at its end.
  std::unique_ptr<GroupMember> group_;
  config::KafkaProperties producer_props_;   // create_clients, for create_producer
  std::shared_ptr<KafkaProducer> producer_;  // made by the control thread (mu_ when set)
  std::unique_ptr<TopicSink> output_sink_;
  std::unique_ptr<TopicSink> dead_letter_sink_;
  std::unique_ptr<TopicSink> changelog_sink_;  // durable state with a changelog
  ClientHandle reader_;                        // reads the changelog on restore
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<Transaction> txn_;                            // exactly once
  std::unique_ptr<checkpoint::StateStore> store_;               // durable state only
  std::unique_ptr<checkpoint::CommitCoordinator> coordinator_;  // the control thread

  std::thread control_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> kafka_reachable_{true};
  SharedCounter commits_, commit_failures_, rebalances_, transaction_aborts_;
  SharedCounter transaction_us_;
  uint64_t barrier_ = 0;  // the control thread

  // Guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Pipelines pipelines_;
  // Pipelines whose output was never acknowledged, not even after a purge: kept alive because
  // their in-flight records still point at them.
  std::vector<std::shared_ptr<pipeline::PartitionPipeline>> orphans_;
  JobState state_ = JobState::kStarting;
  std::string error_;
  JobCounts retired_counts_;
  uint64_t retired_delivery_errors_ = 0;
  LatencyHistogram retired_latency_, retired_batch_latency_, retired_batch_records_;
  std::function<void()> on_stopped_;
  bool stopped_ = false;
  std::map<int32_t, int64_t> committed_;  // last committed offset per partition
  struct Restore {
    std::string from;  // see PartitionStatus::restored_from
    int64_t offset = -1;
    uint64_t bytes = 0;
    uint64_t records = 0;  // changelog records applied
    double seconds = 0;
  };
  std::map<int32_t, Restore> restores_;  // per current partition
  struct Restoring {
    std::chrono::steady_clock::time_point since;
    uint64_t records = 0;
  };
  std::map<int32_t, Restoring> restoring_;  // restores under way
  bool user_paused_ = false;                // pause(): new pipelines start paused
  int64_t last_error_log_ms_ = 0;
  uint64_t suppressed_errors_ = 0;
};

}  // namespace sluice::server::kafka
