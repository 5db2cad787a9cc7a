#pragma once
// PartitionPipeline: one partition's path, read -> decode -> query (or route) -> encode -> send,
// driven on its own strand of the daemon's io_context. Broker-agnostic: it reads a
// PartitionSource and writes RecordSinks (server/kafka implements both; tests use fakes).
//
// Per batch: read up to `batch_records` records, decode them, run the query (or, for the first
// stage of a repartitioned job, re-key them), encode the output, settle the batch's rejections
// (RejectionPolicy: dead letters go into the same batch) and hand every record to its sink. A full
// sink is flow control: the rest of the batch waits for the sink's room call and nothing is read
// meanwhile; no thread waits. The batch is in flight until every record was reported delivered;
// batches retire in input order, moving the acknowledged position (`progress()`): its offset is
// held back to the oldest record still held in an open window, and to the oldest record of the
// windows closed by a batch whose output is not acknowledged yet; its watermark is the one after
// the last acknowledged batch. More than `max_in_flight` unacknowledged records pause the source.
//
// Lifecycle: construct, `start()`, then `request_stop()`: stop reading, wait for every delivery,
// publish the final progress and tell the host (`pipeline_drained`). A batch that could not be
// delivered, or a record that fails the job (on_error: fail), fails the job through the host and
// blocks the progress before that batch for good.
//
// Threading: every member is touched on the strand only, except the metrics (single-writer
// counters read by anyone), the published progress (behind a mutex taken once per publish and per
// read) and the drained flag. Public methods may be called from any thread: they post.

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "format/json.hpp"
#include "server/pipeline/clock.hpp"
#include "server/pipeline/decode_stage.hpp"
#include "server/pipeline/encode_stage.hpp"
#include "server/pipeline/flow_control.hpp"
#include "server/pipeline/in_flight.hpp"
#include "server/pipeline/output_buffer.hpp"
#include "server/pipeline/pipeline_metrics.hpp"
#include "server/pipeline/progress.hpp"
#include "server/pipeline/query_stage.hpp"
#include "server/pipeline/rejection_policy.hpp"
#include "server/pipeline/sink.hpp"
#include "server/pipeline/source.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::server::pipeline {

// What every pipeline of one job stage shares; immutable.
struct PipelineSpec {
  std::shared_ptr<const config::JobConfig> job;
  std::shared_ptr<const exec::Query> query;
  // Route (true): re-key each decoded input record by `key_columns` of the input row and forward
  // it unchanged; query (false): run the query and key its output by `key_columns` of the output
  // row (empty: the input record's key).
  bool route = false;
  std::vector<size_t> key_columns;
  std::vector<format::Column> key_row;          // the row `key_columns` index
  std::shared_ptr<const ValueEncoder> encoder;  // the query's output
  // `encoder` when the sink is Avro, JSON Schema or Protobuf, and the key's encoder when its
  // key_format is avro: the job stage registers their schemas and sets their ids before pipelines
  // start.
  std::shared_ptr<RegisteredValueEncoder> registered_output;
  std::shared_ptr<RegisteredValueEncoder> registered_key;
  std::shared_ptr<SchemaSource> schemas;  // an Avro or JSON Schema source's writer schemas
  size_t batch_records = 1024;
  uint64_t max_in_flight = 50000;
  // Durable state (a query whose state never closes, and can be snapshotted): the pipeline
  // snapshots its state about every `snapshot_interval_ms` (at a commit round's publish request)
  // and its progress commits only offsets a snapshot covers (Progress::checkpoint).
  bool durable = false;
  int64_t snapshot_interval_ms = 5000;
  // Durable state with a changelog (PipelineIo::changelog): a checkpoint at every publish request
  // writes the keys changed since the last one to the changelog partition of the pipeline's own
  // number, each record with header `sluice.checkpoint: <offset>`, after the output before it.
  // Its offset is the progress once those records are acknowledged; a full snapshot goes with a
  // checkpoint about every snapshot_interval_ms, and with the last one when the pipeline stops.
  bool changelog = false;
  // The query stage of a repartitioned job: a record whose `sluice.source` position is at or
  // below the highest one applied from that source partition is a copy a restarted router
  // re-sent: counted as replayed and dropped (remembered in the state snapshots when durable).
  bool dedupe_sources = false;
  // Exactly once: the stage commits a Kafka transaction at barriers (request_barrier); durable
  // state takes its checkpoint there, never at a publish request or when the pipeline stops.
  bool transactional = false;
};

// The job a pipeline runs for. Any thread.
class PipelineHost {
 public:
  virtual ~PipelineHost() = default;
  // Fails the job (first reason wins); its pipelines stop.
  virtual void fail(const std::string& why) = 0;
  virtual bool failed() const = 0;
  // The pipeline stopped and published its final progress.
  virtual void pipeline_drained() = 0;
  // Records were read: the source's broker is reachable.
  virtual void records_read() = 0;
};

struct PipelineIo {
  std::unique_ptr<PartitionSource> source;
  RecordSink* output = nullptr;       // outlives the pipeline
  RecordSink* dead_letter = nullptr;  // null: the job has no dead-letter sink
  RecordSink* changelog = nullptr;    // the stage's changelog (PipelineSpec::changelog)
};

class PartitionPipeline final : public std::enable_shared_from_this<PartitionPipeline>,
                                public BatchOwner {
 public:
  // At a barrier, the batches read ahead while the transaction commits (their output held back):
  // enough to cover a commit, few enough that the next barrier does not wait for a burst.
  static constexpr size_t kHeldBatches = 4;

  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  // `restored`: the progress stored with the committed offset (offset -1: none), or the one a
  // restored snapshot gives (its `checkpoint` set); `state`: that snapshot's state, restored
  // (null: a fresh state).
  PartitionPipeline(std::shared_ptr<const PipelineSpec> spec, Strand strand, PipelineIo io,
                    std::shared_ptr<PipelineHost> host, const Clock& clock,
                    const Progress& restored, std::unique_ptr<exec::QueryState> state = nullptr);
  ~PartitionPipeline() override;
  PartitionPipeline(const PartitionPipeline&) = delete;
  PartitionPipeline& operator=(const PartitionPipeline&) = delete;

  // Sets the source's pause state (the admin API's `user_paused`, else running: a partition
  // assigned again may come back still paused by its last pipeline) and starts reading.
  void start(bool user_paused);
  // The admin API's pause and resume, apart from backpressure.
  void user_pause(bool paused);
  void request_stop();
  bool drained() const { return drained_.load(std::memory_order_acquire); }
  // Asks for a fresh progress (the commit round's cadence: the scan of open windows runs about
  // once per commit interval, not per batch).
  void request_publish();
  Progress progress() const;
  // Exactly once. A barrier takes effect at the next batch boundary: durable state is
  // checkpointed, and once every record sent before it is acknowledged the progress is published
  // and `barrier` marked parked (telling the host, pipeline_drained). Meanwhile the pipeline
  // reads and computes on, holding the output back (it belongs to the next transaction; the
  // records in flight bound it as always); `release_barrier` sends it and goes on. `abandon`: the
  // transaction holding the pipeline's output is aborted; what was held back is dropped, and
  // deliveries failing from now on do not fail the job (the stage discards the pipeline and
  // starts its partition again). A pipeline stopped at a barrier drops what it held back too.
  void request_barrier(uint64_t barrier);
  void release_barrier();
  uint64_t parked() const { return parked_.load(std::memory_order_acquire); }
  void abandon();
  // Releases the source (after the pipeline drained; the caller's thread).
  void close_source();

  int32_t partition() const { return partition_; }
  const PipelineMetrics& metrics() const { return metrics_; }
  Strand& strand() { return strand_; }

  void batch_delivered(InFlightBatch* batch) override;  // a sink's thread: posts

 private:
  struct SendJob {
    InFlightBatch* batch = nullptr;
    std::unique_ptr<OutputBuffer> own;     // late dead letters; null: the batch's buffer_
    std::vector<DeliveryTicket*> tickets;  // of `own`
    size_t next = 0;
  };

  void read();
  void schedule_read();
  void process(std::span<const InputRecord> records);
  bool replayed_source(const InputRecord& r);
  void transform(std::span<const InputRecord> records, InFlightBatch* batch);
  bool settle_rejections(std::span<const InputRecord> records, InFlightBatch* batch);
  void send_pending();
  void queue_send(SendJob send);
  bool sends_idle() const;
  void drop_after_barrier();
  void on_room();
  void on_batch_back(InFlightBatch* batch);
  bool handle_size_failures(InFlightBatch* batch);
  void retire_done();
  void update_flow();
  void apply_source_pause();
  void publish();
  void take_snapshot();
  bool take_checkpoint(bool with_snapshot);
  void checkpoint_acknowledged(const InFlightBatch& batch);
  bool snapshot_into(StateCheckpoint& cp);
  void position_into(StateCheckpoint& cp) const;
  void finish_stop();
  void park_if_idle();
  void fail_on(const exec::Rejection& rej, InFlightBatch* batch);
  void log_skip(const exec::Rejection& rej);
  InFlightBatch* acquire();
  void recycle(InFlightBatch* batch);

  std::shared_ptr<const PipelineSpec> spec_;
  Strand strand_;
  PipelineIo io_;
  std::shared_ptr<PipelineHost> host_;
  const Clock& clock_;
  int32_t partition_;
  RejectionPolicy policy_;
  // The batch read last, while writer schemas it needs are fetched (see read()).
  std::span<const InputRecord> waiting_;
  DecodeStage decode_;
  QueryStage query_;
  EncodeStage encode_;
  RouteStage route_;
  FlowControl flow_;
  OutputBuffer buffer_;
  std::vector<Header> headers_;
  std::vector<exec::Rejection> late_rejections_;  // scratch
  std::deque<SendJob> sends_;                     // front: sending now
  std::deque<InFlightBatch*> in_flight_;          // in input order
  std::vector<std::unique_ptr<InFlightBatch>> pool_;
  std::vector<InFlightBatch*> free_;
  uint64_t in_flight_records_ = 0;
  int64_t acked_offset_ = -1;  // everything before it is acknowledged (or the restored offset)
  int64_t acked_watermark_;
  int64_t acked_done_ = -1;
  int64_t replay_before_ = -1;
  int64_t read_end_ = -1;  // one past the last record processed
  // Durable state: the snapshot taken whose output is not acknowledged yet, and the newest one
  // whose output is (what the progress commits).
  std::shared_ptr<StateCheckpoint> pending_snapshot_;
  std::shared_ptr<const StateCheckpoint> ready_snapshot_;
  bool changelog_ = false;         // spec_->changelog, with a changelog sink
  int64_t changelog_end_ = -1;     // one past the last changelog record acknowledged
  bool final_checkpoint_ = false;  // finish_stop took (or tried) its last checkpoint
  std::unordered_map<int32_t, int64_t> applied_sources_;  // dedupe_sources
  int64_t last_snapshot_ms_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  bool waited_for_room_ = false;  // a sink was full: reads were held back
  bool blocked_ = false;          // a batch failed: the progress stays before it
  bool held_ = false;             // at a barrier: output read after it is held back
  size_t held_batches_ = 0;       // batches read since the barrier (at most kHeldBatches)
  uint64_t barrier_ = 0;          // the barrier held at
  bool abandoned_ = false;        // abandon(): failed deliveries are expected
  // The oldest record of the windows closed by batches retired since the failure (theirs and the
  // failed batch's own): their output may be missing, so the progress stays before them too.
  int64_t blocked_released_ = std::numeric_limits<int64_t>::max();
  int64_t last_skip_log_ms_ = -100000;
  uint64_t skips_unlogged_ = 0;

  PipelineMetrics metrics_;
  std::atomic<bool> drained_{false};
  std::atomic<uint64_t> parked_{0};
  mutable std::mutex progress_mu_;
  Progress progress_;
};

}  // namespace sluice::server::pipeline
