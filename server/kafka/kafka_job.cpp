#include "server/kafka/kafka_job.hpp"

#include "server/kafka/rdkafka_conf.hpp"
#include "server/run/input_stage.hpp"
#include "server/run/job_runner.hpp"
#include "server/run/record_key.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <thread>

namespace sluice::server::kafka {
namespace {

namespace asio = boost::asio;
using Strand = asio::strand<asio::io_context::executor_type>;

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t wall_ms() {
  return wall_us() / 1000;
}
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a partition's committed offset carries, so a restart can recognise replayed records:
// "sluice1 wm=<watermark> done=<offset acknowledged>".
struct CommitPoint {
  int64_t offset = -1;  // -1: nothing to commit yet
  int64_t watermark = INT64_MIN;
  int64_t done = -1;
  std::string metadata() const { return fmt::format("sluice1 wm={} done={}", watermark, done); }
  bool operator==(const CommitPoint&) const = default;
};

CommitPoint parse_metadata(const void* data, size_t size, int64_t offset) {
  CommitPoint p;
  p.offset = offset;
  p.done = offset;
  if (data == nullptr || size == 0) return p;
  std::string s(static_cast<const char*>(data), size);
  long long wm = 0;
  long long done = 0;
  if (std::sscanf(s.c_str(), "sluice1 wm=%lld done=%lld", &wm, &done) == 2) {
    p.watermark = wm;
    p.done = std::max<int64_t>(done, offset);
  }
  return p;
}

class Pipeline;

// Wakes a pipeline when its partition queue turns non-empty (called on a librdkafka thread). It
// only posts: the pipeline may be gone, so it holds a weak reference and the job owns the waker.
struct Waker {
  Strand strand;
  std::weak_ptr<Pipeline> pipeline;
};

// One batch of input records and the output derived from it, until the broker acknowledged all
// of it. `pending` counts unacknowledged messages plus one while the batch is still producing.
struct InFlight {
  std::atomic<int32_t> pending{0};
  std::atomic<bool> failed{false};
  std::string error;  // written once, by whoever set `failed`
  int64_t end_offset = 0;
  uint32_t outputs = 0;             // output records
  uint32_t messages = 0;            // output + dead-letter records
  uint64_t bytes = 0;               // output bytes
  std::vector<int64_t> timestamps;  // input record timestamps (ms), for the latency histogram
  bool done = false;                // all acknowledged (pipeline strand)
  bool holds_back = false;          // the job failed on one of its records: never commit it
  Pipeline* owner = nullptr;

  void fail(std::string why) {
    if (!failed.exchange(true)) error = std::move(why);
  }
};

struct PipelineCounters {
  Counter records_in, records_out, filtered, rejected, dead_lettered, skipped, late, replayed,
      bytes_in, bytes_out;
  JobCounts get() const {
    return {records_in.get(),    records_out.get(), filtered.get(), rejected.get(),
            dead_lettered.get(), skipped.get(),     late.get(),     replayed.get(),
            bytes_in.get(),      bytes_out.get()};
  }
};

}  // namespace

// The job's shared parts; see the header. Members are grouped by the thread that owns them.
struct KafkaJob::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, std::shared_ptr<const config::JobConfig> job, uint64_t generation,
       const KafkaJobOptions& options, KafkaJob::Stage stage);
  ~Impl();

  void create_clients(const config::KafkaProperties& defaults);
  void run_control();
  // While Kafka is unreachable, once per commit interval: a metadata request (bounded, 2 s) to
  // see it back even when there is nothing to fetch or commit.
  void probe_kafka();
  void shutdown();
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  void assign(rd_kafka_topic_partition_list_t* parts);
  void revoke(rd_kafka_topic_partition_list_t* parts);
  // Stops the pipelines of `partitions` (all when empty), waits for them to drain (bounded),
  // commits what they acknowledged and drops them.
  void retire(const std::vector<int32_t>& partitions, bool commit);
  void commit(const std::vector<int32_t>& partitions, bool sync);
  void fail(const std::string& why);
  void schedule_delivery_poll();
  void log_kafka_error(const char* what, const std::string& message);
  void pipeline_drained() {
    std::lock_guard lock(mu);
    cv.notify_all();
  }

  // Immutable after construction.
  asio::io_context& io;
  std::shared_ptr<const config::JobConfig> job;
  std::shared_ptr<const exec::Query> query;
  format::JsonEncoder encoder;
  // kQuery runs the job's query; kRouter only re-keys the source's records by the query's group
  // key into the repartition topic (the kQuery stage then reads that topic).
  KafkaJob::Stage stage;
  // The record key: output columns (sink.key, else the GROUP BY columns; empty: the input
  // record's key) for kQuery, the group key's input columns for kRouter; `key_row` describes the
  // row those positions index.
  std::vector<size_t> key_columns;
  std::vector<format::Column> key_row;
  std::string output_topic;     // the sink topic, or the repartition topic for kRouter
  std::weak_ptr<Impl> sibling;  // the other stage of a repartitioned job
  KafkaJobOptions options;
  uint64_t generation;
  std::string group_id;

  // Clients: created before start, destroyed by the control thread at its end (under client_mu).
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* producer = nullptr;
  rd_kafka_topic_t* sink_topic = nullptr;
  rd_kafka_topic_t* dead_letter_topic = nullptr;
  rd_kafka_queue_t* producer_queue = nullptr;
  std::mutex client_mu;
  bool clients_closed = false;

  Strand delivery_strand;  // serves the producer's delivery reports
  std::atomic<bool> delivery_scheduled{false};

  std::thread control;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> failed{false};
  // False once a client reported all brokers down (on_error), until a commit, fetch, assignment or
  // metadata request succeeds again (any thread; see note_reachable).
  std::atomic<bool> kafka_reachable{true};
  void note_reachable() {
    if (!kafka_reachable.load(std::memory_order_relaxed)) kafka_reachable = true;
  }

  // Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<int32_t, std::shared_ptr<Pipeline>> pipelines;
  std::vector<std::unique_ptr<Waker>> wakers;
  // Pipelines whose output was never acknowledged, not even after a purge: kept alive because
  // their in-flight records still point at them.
  std::vector<std::shared_ptr<Pipeline>> orphans;
  JobState state = JobState::kStarting;
  std::string error;
  JobCounts retired_counts;
  LatencyHistogram retired_latency;
  LatencyHistogram retired_batch_latency;
  LatencyHistogram retired_batch_records;
  std::function<void()> on_stopped;
  bool stopped = false;
  std::map<int32_t, int64_t> committed;  // last committed offset per partition
  bool user_paused = false;              // KafkaJob::pause: new pipelines start paused

  Counter commits, commit_failures, rebalances, delivery_errors;
  std::map<int32_t, CommitPoint> last_commit;  // control thread only
  int64_t last_error_log_ms = 0;               // control thread only
  uint64_t suppressed_errors = 0;
};

namespace {

void on_partition_queue_event(rd_kafka_t* /*rk*/, void* opaque);

// One partition's read -> decode -> execute -> encode -> produce pipeline. Lives on its strand:
// every member below is touched only there, except the Counters and commit point (read by the
// control thread and status).
class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  Pipeline(std::shared_ptr<KafkaJob::Impl> job, int32_t partition, rd_kafka_queue_t* queue,
           const CommitPoint& restored)
      : job_(std::move(job)),
        strand_(asio::make_strand(job_->io)),
        partition_(partition),
        queue_(queue),
        input_(*job_->job, *job_->query, steady_ms()),
        key_(job_->key_columns, job_->key_row, job_->job->sink.timestamp_format),
        messages_(job_->options.batch_records) {
    replay_before_ = restored.done;
    if (restored.watermark != INT64_MIN) input_.restore_watermark(restored.watermark);
    position_.set(static_cast<uint64_t>(restored.offset));      // -1: not known yet
    watermark_.set(static_cast<uint64_t>(input_.watermark()));  // none yet, or the restored one
    acked_offset_ = restored.offset;
  }

  ~Pipeline() { close_queue(); }

  // Stops wake-ups and releases the partition queue (control thread, after the pipeline drained:
  // a stopping pipeline no longer reads it).
  void close_queue() {
    if (queue_ == nullptr) return;
    rd_kafka_queue_cb_event_enable(queue_, nullptr, nullptr);
    rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
  }

  // Before start (under the job's mutex): the pipeline starts paused by the admin API.
  void init_paused(bool paused) { user_paused_ = paused; }

  // Enables wake-ups from the partition queue and reads what is already there (or, when it
  // starts paused, pauses its partition in Kafka).
  void start(Waker* waker) {
    rd_kafka_queue_cb_event_enable(queue_, on_partition_queue_event, waker);
    asio::post(strand_, [self = shared_from_this()] {
      if (self->stopping_) return;
      if (self->user_paused_)
        self->set_paused(true);
      else
        self->read();
    });
  }

  // The admin API's pause/resume, kept apart from backpressure (`paused_`): Kafka is resumed
  // only when neither holds. A stopping pipeline only records it (its consumer may be closing).
  void user_pause(bool pause) {
    asio::post(strand_, [self = shared_from_this(), pause] {
      if (self->user_paused_ == pause) return;
      self->user_paused_ = pause;
      if (self->stopping_ || self->drained_.load() || self->paused_) return;
      self->set_paused(pause);
      if (!pause) self->read();
    });
  }

  void schedule_read() {
    asio::post(strand_, [self = shared_from_this()] { self->read(); });
  }

  // Stop reading; when every output is acknowledged, publish the final commit point and tell
  // the job.
  void request_stop() {
    asio::post(strand_, [self = shared_from_this()] {
      self->stopping_ = true;
      if (self->in_flight_.empty()) self->finish_stop();
    });
  }
  bool drained() const { return drained_.load(); }

  CommitPoint commit_point() const {
    std::lock_guard lock(commit_mu_);
    return commit_point_;
  }

  // A batch's last acknowledgement arrived (on the delivery strand): continue on our strand.
  void post_acked(InFlight* f) {
    asio::post(strand_, [self = shared_from_this(), f] { self->acked(f); });
  }

  int32_t partition() const { return partition_; }
  PartitionStatus status() const {
    PartitionStatus s;
    s.partition = partition_;
    s.position = static_cast<int64_t>(position_.get());
    s.watermark = static_cast<int64_t>(watermark_.get());
    s.paused = paused_flag_.load();
    s.pauses = pauses_.get();
    s.in_flight = in_flight_messages_.get();
    s.open_windows = open_windows_.get();
    s.groups = groups_.get();
    s.state_bytes = state_bytes_.get();
    s.counts = counters_.get();
    return s;
  }
  JobCounts counts() const { return counters_.get(); }
  const LatencyHistogram& latency() const { return latency_; }
  const LatencyHistogram& batch_latency() const { return batch_latency_; }
  const LatencyHistogram& batch_records() const { return batch_records_; }

  // Asks the pipeline to publish its commit point; the control thread does so before each commit
  // round, so the scan of open windows runs about once per commit interval, not per batch.
  void request_publish() {
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->drained_.load()) self->publish();
    });
  }

  Strand& strand() { return strand_; }

  // Reads and processes one batch from the partition queue (strand).
  void read() {
    if (stopping_ || paused_ || user_paused_ || job_->failed.load()) return;
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, messages_.data(), messages_.size());
    if (n <= 0) return;
    process(static_cast<size_t>(n));
    for (ssize_t i = 0; i < n; ++i)
      rd_kafka_message_destroy(messages_[static_cast<size_t>(i)]);
    // A full batch: more may be waiting (the queue only wakes us when it turns non-empty).
    if (static_cast<size_t>(n) == messages_.size()) schedule_read();
  }

 private:
  void process(size_t n) {
    auto started = std::chrono::steady_clock::now();  // one clock read here, one at the hand-off
    InFlight* f = acquire();
    f->pending.store(1);  // held until the batch has produced everything
    int64_t now = steady_ms();
    input_.begin(now);
    int64_t last_offset = -1;
    uint64_t bytes = 0;
    batch_ = {messages_.data(), n};
    for (rd_kafka_message_t* m : batch_) {
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          spdlog::warn("job {}: partition {}: {}", job_->job->name, partition_,
                       rd_kafka_message_errstr(m));
        continue;
      }
      last_offset = m->offset;
      bytes += m->len;
      rd_kafka_timestamp_type_t type;
      int64_t ts = rd_kafka_message_timestamp(m, &type);
      f->timestamps.push_back(ts >= 0 ? ts : wall_ms());
      RecordMeta meta;
      if (m->key != nullptr)
        meta.key = std::string_view(static_cast<const char*>(m->key), m->key_len);
      if (ts >= 0) meta.timestamp_ms = ts;
      meta.position = {partition_, m->offset};
      if (m->payload == nullptr) {
        input_.reject(meta.position, {ErrorCode::kDecode, "the record has no value (a tombstone)"});
        continue;
      }
      input_.add(std::string_view(static_cast<const char*>(m->payload), m->len), meta);
    }
    if (last_offset < 0) {  // only errors
      release(f);
      return;
    }
    counters_.records_in.add(f->timestamps.size());
    job_->note_reachable();  // a fetch succeeded
    counters_.bytes_in.add(bytes);
    position_.set(static_cast<uint64_t>(last_offset + 1));

    exec::ExecContext ctx;
    ctx.replay_before = replay_before_;
    if (job_->stage == KafkaJob::Stage::kRouter)
      input_.route(ctx, [&](exec::Batch& in) { route_rows(in, f); });
    else
      input_.run(ctx, [&](exec::Batch& out) { produce_rows(out, f); });
    counters_.filtered.add(ctx.filtered);
    counters_.late.add(ctx.late);
    counters_.replayed.add(ctx.replayed);
    watermark_.set(static_cast<uint64_t>(input_.watermark()));
    for (auto& rej : input_.rejections()) {
      if (!handle_rejection(rej, f)) break;  // the job failed
    }
    batch_latency_.add(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count());
    batch_records_.add(static_cast<int64_t>(f->timestamps.size()));
    f->end_offset = last_offset + 1;
    in_flight_.push_back(f);
    in_flight_messages_.add(f->messages);
    if (in_flight_messages_.get() > job_->options.max_in_flight && !paused_) pause();
    if (f->pending.fetch_sub(1) == 1) acked(f);
  }

  // The input record at `offset` in the current batch (null when it is not in it).
  const rd_kafka_message_t* original(int64_t offset) const {
    auto it =
        std::lower_bound(batch_.begin(), batch_.end(), offset,
                         [](const rd_kafka_message_t* m, int64_t o) { return m->offset < o; });
    return it != batch_.end() && (*it)->offset == offset ? *it : nullptr;
  }

  void produce_rows(exec::Batch& out, InFlight* f) {
    for (size_t r = 0; r < out.size(); ++r) {
      const types::Value* row = out.row(r);
      value_.clear();
      job_->encoder.encode(row, value_);
      std::string_view key;
      bool has_key = false;
      if (!key_.empty()) {
        has_key = key_.encode(row, key_bytes_);
        key = key_bytes_;
      } else if (const auto* m = original(out.position(r).offset); m && m->key) {
        key = std::string_view(static_cast<const char*>(m->key), m->key_len);
        has_key = true;
      }
      produce(job_->sink_topic, has_key ? &key : nullptr, value_, nullptr, -1, f);
      ++f->outputs;
      f->bytes += value_.size();
    }
  }

  // Repartitioning: each decoded record goes, unchanged (value, timestamp), to the repartition
  // topic keyed by its group key, so every record of a group reaches one partition.
  void route_rows(exec::Batch& in, InFlight* f) {
    for (size_t r = 0; r < in.size(); ++r) {
      const rd_kafka_message_t* m = original(in.position(r).offset);
      if (m == nullptr) continue;
      bool has_key = key_.encode(in.row(r), key_bytes_);
      std::string_view key = key_bytes_;
      rd_kafka_timestamp_type_t type;
      int64_t ts = rd_kafka_message_timestamp(m, &type);
      std::string_view value(static_cast<const char*>(m->payload), m->len);
      produce(job_->sink_topic, has_key ? &key : nullptr, value, nullptr, ts, f);
      ++f->outputs;
      f->bytes += m->len;
    }
  }

  // Dead-letters, skips or fails on one rejected record. Returns false when the job failed.
  bool handle_rejection(const exec::Rejection& rej, InFlight* f) {
    const auto& job = *job_->job;
    bool late = rej.error.code == ErrorCode::kLate;  // late_records: dead_letter; counted as late
    if (!late) {
      counters_.rejected.add(1);
      if (job.on_error == config::OnError::kFail) {
        job_->fail(fmt::format("record at partition {} offset {} of topic '{}': {} ({})",
                               partition_, rej.position.offset, job.source.topic, rej.error.message,
                               error_code_name(rej.error.code)));
        stopping_ = true;
        f->holds_back = true;
        return false;
      }
    }
    if (job_->dead_letter_topic == nullptr ||
        (!late && job.on_error != config::OnError::kDeadLetter)) {
      if (!late) {
        counters_.skipped.add(1);
        log_skip(rej);
      }
      return true;
    }
    const rd_kafka_message_t* m = original(rej.position.offset);
    rd_kafka_headers_t* h = rd_kafka_headers_new(6);
    auto add = [&](const char* name, std::string_view v) {
      rd_kafka_header_add(h, name, -1, v.data(), static_cast<ssize_t>(v.size()));
    };
    add("sluice.error.code", error_code_name(rej.error.code));
    add("sluice.error.message", rej.error.message);
    add("sluice.source.topic", job.source.topic);
    add("sluice.source.partition", std::to_string(partition_));
    add("sluice.source.offset", std::to_string(rej.position.offset));
    add("sluice.job", job.name);
    std::string_view key;
    std::string_view value;
    if (m != nullptr && m->key != nullptr)
      key = std::string_view(static_cast<const char*>(m->key), m->key_len);
    if (m != nullptr && m->payload != nullptr)
      value = std::string_view(static_cast<const char*>(m->payload), m->len);
    produce(job_->dead_letter_topic, m != nullptr && m->key != nullptr ? &key : nullptr, value, h,
            -1, f);
    counters_.dead_lettered.add(1);
    return true;
  }

  void log_skip(const exec::Rejection& rej) {
    int64_t now = steady_ms();
    if (now - last_skip_log_ms_ < 10000) {
      ++skips_unlogged_;
      return;
    }
    spdlog::warn("job {}: partition {} offset {}: skipped: {} ({}){}", job_->job->name, partition_,
                 rej.position.offset, rej.error.message, error_code_name(rej.error.code),
                 skips_unlogged_
                     ? fmt::format(" ({} more skipped since the last report)", skips_unlogged_)
                     : "");
    skips_unlogged_ = 0;
    last_skip_log_ms_ = now;
  }

  // Hands one record to the producer (copied). Takes ownership of `headers`; `timestamp` -1:
  // now. Never blocks for long: backpressure keeps the producer queue below its bound; should it
  // still be full, the delivery reports are served here until there is room.
  void produce(rd_kafka_topic_t* topic, const std::string_view* key, std::string_view value,
               rd_kafka_headers_t* headers, int64_t timestamp, InFlight* f) {
    f->pending.fetch_add(1, std::memory_order_relaxed);
    ++f->messages;
    for (int attempt = 0;; ++attempt) {
      rd_kafka_resp_err_t err;
      if (headers != nullptr) {
        err = rd_kafka_producev(job_->producer, RD_KAFKA_V_RKT(topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key ? key->data() : nullptr, key ? key->size() : 0),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(f), RD_KAFKA_V_END);
      } else if (timestamp >= 0) {
        err = rd_kafka_producev(
            job_->producer, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key ? key->data() : nullptr, key ? key->size() : 0),
            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
            RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_OPAQUE(f), RD_KAFKA_V_END);
      } else {
        int rc = rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                  const_cast<char*>(value.data()), value.size(),
                                  key ? key->data() : nullptr, key ? key->size() : 0, f);
        err = rc == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
      }
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempt < 6000) {
        rd_kafka_poll(job_->producer, 5);
        continue;
      }
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      f->fail(
          fmt::format("producing to '{}': {}", rd_kafka_topic_name(topic), rd_kafka_err2str(err)));
      f->pending.fetch_sub(1);  // the guard of the batch keeps it above zero
      return;
    }
  }

  void pause() {
    spdlog::debug("job {}: partition {}: paused ({} records in flight)", job_->job->name,
                  partition_, in_flight_messages_.get());
    paused_ = true;
    paused_flag_ = true;
    pauses_.add(1);
    if (!user_paused_) set_paused(true);  // else Kafka is paused already
  }
  void set_paused(bool pause) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, job_->job->source.topic.c_str(), partition_);
    if (pause)
      rd_kafka_pause_partitions(job_->consumer, l);
    else
      rd_kafka_resume_partitions(job_->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
  }

  void acked(InFlight* f) {
    f->done = true;
    int64_t now_us = wall_us();
    while (!in_flight_.empty() && in_flight_.front()->done) {
      InFlight* g = in_flight_.front();
      in_flight_.pop_front();
      if (g->failed.load()) {
        job_->delivery_errors.add(1);
        if (!blocked_) job_->fail(fmt::format("partition {}: {}", partition_, g->error));
      }
      if (g->failed.load() || g->holds_back) {
        blocked_ = true;  // never commit past output that was not delivered
        stopping_ = true;
      }
      if (!blocked_) {
        acked_offset_ = g->end_offset;
        counters_.records_out.add(g->outputs);
        counters_.bytes_out.add(g->bytes);
        for (int64_t ts : g->timestamps)
          latency_.add(now_us - ts * 1000);
      }
      in_flight_messages_.set(in_flight_messages_.get() - g->messages);
      recycle(g);
    }
    if (paused_ && !stopping_ && in_flight_messages_.get() <= job_->options.max_in_flight / 2) {
      spdlog::debug("job {}: partition {}: resumed", job_->job->name, partition_);
      paused_ = false;
      paused_flag_ = false;
      if (!user_paused_) {
        set_paused(false);
        schedule_read();
      }
    }
    if (stopping_ && in_flight_.empty()) finish_stop();
  }

  // Makes the acknowledged position (held back to the oldest record in an open window) visible
  // to the control thread's commits.
  void publish() {
    exec::StateSize size = input_.query().state_size(input_.state());  // (its gauges too)
    open_windows_.set(size.open_windows);
    groups_.set(size.groups);
    state_bytes_.set(size.bytes);
    if (acked_offset_ < 0) return;  // (once blocked, acked_offset_ stays before the failure)
    CommitPoint p;
    p.offset = acked_offset_;
    if (auto retained = input_.query().retained_offset(input_.state()))
      p.offset = std::min(p.offset, *retained);
    p.watermark = input_.watermark();
    p.done = acked_offset_;
    std::lock_guard lock(commit_mu_);
    commit_point_ = p;
  }

  void finish_stop() {
    if (drained_.load()) return;
    publish();
    drained_ = true;
    job_->pipeline_drained();
  }

  InFlight* acquire() {
    std::unique_ptr<InFlight> f;
    if (!free_.empty()) {
      f = std::move(free_.back());
      free_.pop_back();
    } else {
      f = std::make_unique<InFlight>();
      f->owner = this;
    }
    f->failed = false;
    f->error.clear();
    f->outputs = f->messages = 0;
    f->bytes = 0;
    f->done = false;
    f->timestamps.clear();
    InFlight* raw = f.get();
    owned_.push_back(std::move(f));
    return raw;
  }
  void release(InFlight* f) { recycle(f); }
  void recycle(InFlight* f) {
    auto it =
        std::find_if(owned_.begin(), owned_.end(), [&](const auto& p) { return p.get() == f; });
    free_.push_back(std::move(*it));
    owned_.erase(it);
  }

  std::shared_ptr<KafkaJob::Impl> job_;
  Strand strand_;
  int32_t partition_;
  rd_kafka_queue_t* queue_;
  InputStage input_;
  RecordKey key_;
  std::vector<rd_kafka_message_t*> messages_;
  std::span<rd_kafka_message_t*> batch_;
  std::string value_;
  std::string key_bytes_;
  std::deque<InFlight*> in_flight_;  // in input order
  std::vector<std::unique_ptr<InFlight>> owned_;
  std::vector<std::unique_ptr<InFlight>> free_;
  int64_t acked_offset_ = -1;  // everything before it is acknowledged
  int64_t replay_before_ = -1;
  bool stopping_ = false;
  bool paused_ = false;       // backpressure
  bool user_paused_ = false;  // the admin API
  bool blocked_ = false;
  int64_t last_skip_log_ms_ = -100000;
  uint64_t skips_unlogged_ = 0;

  // Read from other threads.
  PipelineCounters counters_;
  Counter position_, watermark_, in_flight_messages_, pauses_;
  Counter open_windows_, groups_, state_bytes_;  // set by publish()
  std::atomic<bool> paused_flag_{false};
  std::atomic<bool> drained_{false};
  LatencyHistogram latency_;
  LatencyHistogram batch_latency_;  // read -> last output handed to the producer, µs
  LatencyHistogram batch_records_;  // records per batch
  mutable std::mutex commit_mu_;    // taken once per publish and per commit, never per record
  CommitPoint commit_point_;
};

void on_partition_queue_event(rd_kafka_t* /*rk*/, void* opaque) {
  auto* w = static_cast<Waker*>(opaque);
  asio::post(w->strand, [p = w->pipeline] {
    if (auto self = p.lock()) self->read();
  });
}

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
  auto* f = static_cast<InFlight*>(m->_private);
  if (f == nullptr) return;
  if (m->err) f->fail(fmt::format("delivery failed: {}", rd_kafka_err2str(m->err)));
  if (f->pending.fetch_sub(1) == 1) f->owner->post_acked(f);
}

void on_producer_queue_event(rd_kafka_t* /*rk*/, void* opaque) {
  static_cast<KafkaJob::Impl*>(opaque)->schedule_delivery_poll();
}

void on_rebalance(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaJob::Impl*>(opaque)->on_rebalance(err, parts);
}

void on_commit(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* job = static_cast<KafkaJob::Impl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;  // nothing to commit
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (offsets != nullptr) {
    std::lock_guard lock(job->mu);
    for (int i = 0; i < offsets->cnt; ++i) {
      const auto& p = offsets->elems[i];
      if (p.err) ok = false;
      if (!p.err && !err) job->committed[p.partition] = p.offset;
    }
  }
  if (ok) {
    job->commits.add(1);
    job->note_reachable();
  } else {
    job->commit_failures.add(1);
    job->log_kafka_error("commit failed", rd_kafka_err2str(err ? err : RD_KAFKA_RESP_ERR__FAIL));
  }
}

// librdkafka's client-level errors (both clients). Logged as librdkafka logs them without an
// error_cb; all brokers down marks the job unreachable until Kafka answers again.
void on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* job = static_cast<KafkaJob::Impl*>(opaque);
  spdlog::error("job {}: kafka: ERROR: {}", job->job->name, reason);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && job->kafka_reachable.exchange(false))
    spdlog::warn("job {}: kafka unreachable: all brokers are down", job->job->name);
}

void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Properties meant for the other client (consumer vs producer) are shared by design.
  if (std::string_view(fac) == "CONFWARN") return;
  auto* job = static_cast<KafkaJob::Impl*>(rd_kafka_opaque(rk));
  const std::string& name = job != nullptr ? job->job->name : std::string();
  if (level <= 3)
    spdlog::error("job {}: kafka: {}: {}", name, fac, buf);
  else if (level <= 5)
    spdlog::warn("job {}: kafka: {}: {}", name, fac, buf);
  else
    spdlog::debug("job {}: kafka: {}: {}", name, fac, buf);
}

// The output columns making the record key: sink.key, else the GROUP BY columns.
std::vector<size_t> key_columns(const config::JobConfig& job, const exec::Query& q) {
  if (job.sink.key.empty()) return q.key_output_columns();
  std::vector<size_t> cols;
  for (const auto& name : job.sink.key) {
    for (size_t c = 0; c < q.output_columns().size(); ++c) {
      if (q.output_columns()[c].name == name) {
        cols.push_back(c);
        break;
      }
    }
  }
  return cols;
}

}  // namespace

KafkaJob::Impl::Impl(asio::io_context& io_, std::shared_ptr<const config::JobConfig> job_,
                     uint64_t generation_, const KafkaJobOptions& options_, KafkaJob::Stage stage_)
    : io(io_),
      job(std::move(job_)),
      query(compile_job(*job)),
      encoder(output_columns(*query), job->sink.timestamp_format),
      stage(stage_),
      options(options_),
      generation(generation_),
      group_id(job->group_id.empty() ? job->name : job->group_id),
      delivery_strand(asio::make_strand(io_)) {
  if (stage == KafkaJob::Stage::kRouter) {
    key_columns = *query->partition_key_inputs();
    key_row = job->source.schema;
    output_topic = repartition_topic(*job);
  } else {
    key_columns = kafka::key_columns(*job, *query);
    key_row = output_columns(*query);
    output_topic = job->sink.topic;
  }
}

KafkaJob::Impl::~Impl() {
  // KafkaJob joins the control thread; should the thread itself drop the last reference, it must
  // not join itself.
  if (control.joinable()) control.detach();
}

void KafkaJob::Impl::create_clients(const config::KafkaProperties& defaults) {
  config::KafkaProperties props = defaults;
  for (const auto& p : job->kafka)
    props.push_back(p);
  for (const auto& [k, v] : props) {
    if (k == "enable.auto.commit" && v != "false")
      throw Error(ErrorCode::kConfig,
                  fmt::format("job '{}': kafka property 'enable.auto.commit' must be false: sluice "
                              "commits offsets itself, after the output is acknowledged",
                              job->name));
  }
  const std::string& n = job->name;
  std::string owner = fmt::format("job '{}'", n);
  KafkaConf c(props, owner);
  c.set("group.id", group_id);
  c.set("client.id", "sluice-" + n);
  c.set("enable.auto.commit", "false");
  c.set("enable.auto.offset.store", "false");
  c.set_default(props, "auto.offset.reset", "earliest");
  // librdkafka 2.0 stops fetching a partition for up to a second once queued.min.messages
  // (default 100,000) records are queued locally, which stalls a pipeline catching up on a
  // backlog. Bound the prefetch by size instead: 16 MiB per partition.
  c.set_default(props, "queued.min.messages", "10000000");
  c.set_default(props, "queued.max.messages.kbytes", "16384");
  rd_kafka_conf_set_opaque(c.get(), this);
  rd_kafka_conf_set_rebalance_cb(c.get(), kafka::on_rebalance);
  rd_kafka_conf_set_offset_commit_cb(c.get(), on_commit);
  rd_kafka_conf_set_log_cb(c.get(), on_log);
  rd_kafka_conf_set_error_cb(c.get(), on_error);
  consumer = c.create(RD_KAFKA_CONSUMER);

  KafkaConf p(props, owner);
  p.set("client.id", "sluice-" + n + "-out");
  p.set("enable.idempotence", "true");
  p.set_default(props, "queue.buffering.max.messages", "1000000");
  p.set_default(props, "linger.ms", "5");
  rd_kafka_conf_set_opaque(p.get(), this);
  rd_kafka_conf_set_dr_msg_cb(p.get(), on_delivery);
  rd_kafka_conf_set_log_cb(p.get(), on_log);
  rd_kafka_conf_set_error_cb(p.get(), on_error);
  producer = p.create(RD_KAFKA_PRODUCER);

  sink_topic = rd_kafka_topic_new(producer, output_topic.c_str(), nullptr);
  if (job->dead_letter && job->dead_letter->type == "kafka")
    dead_letter_topic = rd_kafka_topic_new(producer, job->dead_letter->topic.c_str(), nullptr);
  producer_queue = rd_kafka_queue_get_main(producer);
  rd_kafka_queue_cb_event_enable(producer_queue, on_producer_queue_event, this);
  rd_kafka_poll_set_consumer(consumer);
}

void KafkaJob::Impl::schedule_delivery_poll() {
  if (delivery_scheduled.exchange(true)) return;
  asio::post(delivery_strand, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self) return;
    self->delivery_scheduled = false;
    std::lock_guard lock(self->client_mu);
    if (self->clients_closed) return;
    while (rd_kafka_poll(self->producer, 0) > 0) {
    }
  });
}

void KafkaJob::Impl::log_kafka_error(const char* what, const std::string& message) {
  int64_t now = steady_ms();
  std::lock_guard lock(mu);
  if (now - last_error_log_ms < 5000) {
    ++suppressed_errors;
    return;
  }
  spdlog::warn(
      "job {}: {}: {}{}", job->name, what, message,
      suppressed_errors ? fmt::format(" ({} similar errors not logged)", suppressed_errors) : "");
  suppressed_errors = 0;
  last_error_log_ms = now;
}

void KafkaJob::Impl::fail(const std::string& why) {
  {
    std::lock_guard lock(mu);
    if (failed.exchange(true)) return;
    error = why;
    spdlog::error("job {}: failed: {}", job->name, why);
  }
  // The other stage of a repartitioned job stops too (outside our lock: it may call back).
  if (auto other = sibling.lock())
    other->fail(fmt::format("the job's other stage failed: {}", why));
}

void KafkaJob::Impl::run_control() {
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, job->source.topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err) {
    fail(fmt::format("subscribing to '{}': {}", job->source.topic, rd_kafka_err2str(err)));
  } else {
    std::lock_guard lock(mu);
    state = JobState::kRunning;
  }
  spdlog::info("job {}: started (generation {}, topic '{}', group '{}', file {})", job->name,
               generation, job->source.topic, group_id, job->file);
  int64_t next_commit = steady_ms() + options.commit_interval_ms;
  while (!stop_requested.load() && !failed.load()) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100)) {
      if (m->err) {
        log_kafka_error("consumer", rd_kafka_message_errstr(m));
      } else {
        // Partition queues are read by the pipelines: a record here would be lost to them.
        fail(fmt::format("record of partition {} arrived outside its pipeline", m->partition));
      }
      rd_kafka_message_destroy(m);
    }
    if (steady_ms() >= next_commit) {
      commit({}, false);
      if (!kafka_reachable.load()) probe_kafka();
      next_commit = steady_ms() + options.commit_interval_ms;
    }
  }
  shutdown();
}

void KafkaJob::Impl::probe_kafka() {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(consumer, 0, nullptr, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_metadata_destroy(md);
  if (kafka_reachable.exchange(true)) return;
  spdlog::info("job {}: kafka reachable again", job->name);
}

void KafkaJob::Impl::shutdown() {
  {
    std::lock_guard lock(mu);
    if (state != JobState::kFailed) state = JobState::kStopping;
  }
  retire({}, true);
  rd_kafka_consumer_close(consumer);  // leaves the group; its revocation finds nothing assigned
  rd_kafka_flush(producer, 5000);
  {
    std::lock_guard lock(client_mu);
    rd_kafka_queue_cb_event_enable(producer_queue, nullptr, nullptr);
    rd_kafka_queue_destroy(producer_queue);
    rd_kafka_topic_destroy(sink_topic);
    if (dead_letter_topic != nullptr) rd_kafka_topic_destroy(dead_letter_topic);
    clients_closed = true;
  }
  std::function<void()> done;
  {
    std::lock_guard lock(mu);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    consumer = producer = nullptr;
    state = failed.load() ? JobState::kFailed : JobState::kStopped;
    stopped = true;
    done = std::move(on_stopped);
  }
  spdlog::info("job {}: {}", job->name, failed.load() ? "stopped after failure" : "stopped");
  if (done) asio::post(io, std::move(done));
}

void KafkaJob::Impl::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  rebalances.add(1);
  bool cooperative = std::string_view(rd_kafka_rebalance_protocol(consumer)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(parts);
    return;
  }
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    log_kafka_error("rebalance", rd_kafka_err2str(err));
  revoke(parts);
  if (cooperative)
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(consumer, parts));
  else
    rd_kafka_assign(consumer, nullptr);
}

void KafkaJob::Impl::assign(rd_kafka_topic_partition_list_t* parts) {
  note_reachable();
  // Where to start, and the watermark to restore, from the committed offsets and their metadata.
  rd_kafka_topic_partition_list_t* committed_list = rd_kafka_topic_partition_list_copy(parts);
  rd_kafka_resp_err_t err = rd_kafka_committed(consumer, committed_list, 10000);
  if (err) log_kafka_error("reading committed offsets", rd_kafka_err2str(err));
  std::vector<int32_t> ids;
  std::vector<std::pair<std::shared_ptr<Pipeline>, Waker*>> started;
  for (int i = 0; i < parts->cnt; ++i) {
    auto& p = parts->elems[i];
    CommitPoint restored;
    if (!err) {
      const auto& c = committed_list->elems[i];
      if (c.offset >= 0) restored = parse_metadata(c.metadata, c.metadata_size, c.offset);
    }
    rd_kafka_queue_t* q = rd_kafka_queue_get_partition(consumer, p.topic, p.partition);
    rd_kafka_queue_forward(q, nullptr);  // this partition's records go to its pipeline only
    auto pipeline = std::make_shared<Pipeline>(shared_from_this(), p.partition, q, restored);
    auto waker = std::make_unique<Waker>(Waker{pipeline->strand(), pipeline});
    started.emplace_back(pipeline, waker.get());
    p.offset = restored.offset >= 0 ? restored.offset : RD_KAFKA_OFFSET_INVALID;
    ids.push_back(p.partition);
    std::lock_guard lock(mu);
    pipeline->init_paused(user_paused);
    pipelines[p.partition] = pipeline;
    if (restored.offset >= 0) committed[p.partition] = restored.offset;
    wakers.push_back(std::move(waker));
  }
  rd_kafka_topic_partition_list_destroy(committed_list);
  if (std::string_view(rd_kafka_rebalance_protocol(consumer)) == "COOPERATIVE")
    rd_kafka_error_destroy(rd_kafka_incremental_assign(consumer, parts));
  else
    rd_kafka_assign(consumer, parts);
  for (auto& [pipeline, waker] : started)
    pipeline->start(waker);
  spdlog::info("job {}: assigned {} [{}]", job->name, job->source.topic, fmt::join(ids, ","));
}

void KafkaJob::Impl::revoke(rd_kafka_topic_partition_list_t* parts) {
  std::vector<int32_t> ids;
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i)
    ids.push_back(parts->elems[i].partition);
  if (ids.empty()) return;
  bool lost = rd_kafka_assignment_lost(consumer);
  retire(ids, !lost);
  spdlog::info("job {}: revoked {} [{}]{}", job->name, job->source.topic, fmt::join(ids, ","),
               lost ? " (lost: not committed)" : "");
}

void KafkaJob::Impl::retire(const std::vector<int32_t>& partitions, bool do_commit) {
  std::vector<std::shared_ptr<Pipeline>> going;
  {
    std::lock_guard lock(mu);
    for (auto& [id, p] : pipelines) {
      if (partitions.empty() ||
          std::find(partitions.begin(), partitions.end(), id) != partitions.end())
        going.push_back(p);
    }
  }
  if (going.empty()) return;
  for (auto& p : going)
    p->request_stop();
  auto all_drained = [&] {
    return std::all_of(going.begin(), going.end(), [](const auto& p) { return p->drained(); });
  };
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::milliseconds(options.drain_timeout_ms), all_drained)) {
      lock.unlock();
      // Output the broker did not acknowledge in time: purged, reported as delivery failures, so
      // the pipelines drain without committing past it.
      spdlog::error(
          "job {}: output not acknowledged within {} ms; purging it (its input will be "
          "read again)",
          job->name, options.drain_timeout_ms);
      rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      lock.lock();
      cv.wait_for(lock, std::chrono::milliseconds(10000), all_drained);
    }
  }
  std::vector<int32_t> ids;
  for (auto& p : going)
    ids.push_back(p->partition());
  if (do_commit) commit(ids, true);
  std::lock_guard lock(mu);
  for (auto& p : going) {
    retired_counts.add(p->counts());
    retired_latency.add(p->latency());
    retired_batch_latency.add(p->batch_latency());
    retired_batch_records.add(p->batch_records());
    pipelines.erase(p->partition());
    if (p->drained())
      p->close_queue();
    else
      orphans.push_back(p);
  }
}

void KafkaJob::Impl::commit(const std::vector<int32_t>& partitions, bool sync) {
  std::vector<std::pair<int32_t, CommitPoint>> points;
  {
    std::lock_guard lock(mu);
    for (auto& [id, p] : pipelines) {
      p->request_publish();  // for the next round (a stopped pipeline published already)
      if (!partitions.empty() &&
          std::find(partitions.begin(), partitions.end(), id) == partitions.end())
        continue;
      CommitPoint cp = p->commit_point();
      if (cp.offset < 0) continue;
      auto it = last_commit.find(id);
      if (it != last_commit.end() && it->second == cp) continue;
      points.emplace_back(id, cp);
    }
  }
  if (points.empty()) return;
  rd_kafka_topic_partition_list_t* l =
      rd_kafka_topic_partition_list_new(static_cast<int>(points.size()));
  for (auto& [id, cp] : points) {
    auto* e = rd_kafka_topic_partition_list_add(l, job->source.topic.c_str(), id);
    e->offset = cp.offset;
    std::string md = cp.metadata();
    e->metadata = malloc(md.size());  // freed by the list (rd_free)
    memcpy(e->metadata, md.data(), md.size());
    e->metadata_size = md.size();
    last_commit[id] = cp;
  }
  // The outcome is reported to on_commit (served by the consumer poll), sync or not.
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer, l, sync ? 0 : 1);
  if (err && !sync) log_kafka_error("commit", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(l);
}

namespace {

// The query stage of a repartitioned job reads the repartition topic in its own group.
std::shared_ptr<const config::JobConfig> query_stage_config(const config::JobConfig& job,
                                                            const exec::Query& query) {
  auto cfg = std::make_shared<config::JobConfig>(job);
  cfg->source.topic = repartition_topic(job);
  cfg->group_id = repartition_group(job);
  cfg->source.partitioned_by.clear();
  for (size_t c : *query.partition_key_inputs())
    cfg->source.partitioned_by.push_back(job.source.schema[c].name);
  return cfg;
}

}  // namespace

KafkaJob::KafkaJob(asio::io_context& io, std::shared_ptr<const config::JobConfig> job,
                   const config::KafkaProperties& defaults, uint64_t generation,
                   const KafkaJobOptions& options)
    : job_(job) {
  auto query = compile_job(*job);
  if (needs_repartition(*job, *query)) {
    auto router = std::make_shared<Impl>(io, job, generation, options, Stage::kRouter);
    auto main = std::make_shared<Impl>(io, query_stage_config(*job, *query), generation, options,
                                       Stage::kQuery);
    router->sibling = main;
    main->sibling = router;
    stages_ = {router, main};
  } else {
    stages_ = {std::make_shared<Impl>(io, job, generation, options, Stage::kQuery)};
  }
  for (auto& s : stages_)
    s->create_clients(defaults);
}

KafkaJob::~KafkaJob() {
  for (auto& s : stages_)
    s->stop_requested = true;
  for (auto& s : stages_) {
    if (s->control.joinable()) s->control.join();
  }
}

void KafkaJob::start() {
  for (auto& s : stages_)
    s->control = std::thread([impl = s] { impl->run_control(); });
}

void KafkaJob::stop(std::function<void()> done) {
  // `done` runs once, after the last stage stopped.
  auto remaining = std::make_shared<std::atomic<size_t>>(stages_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& s : stages_) {
    auto one = [remaining, shared_done] {
      if (remaining->fetch_sub(1) == 1 && *shared_done) (*shared_done)();
    };
    std::lock_guard lock(s->mu);
    if (s->stopped) {
      asio::post(s->io, one);
      continue;
    }
    if (s->stop_requested.load()) continue;
    s->on_stopped = one;
    if (s->state != JobState::kFailed) s->state = JobState::kStopping;
    s->stop_requested = true;
  }
}

void KafkaJob::pause(bool paused) {
  size_t partitions = 0;
  for (auto& s : stages_) {
    std::lock_guard lock(s->mu);
    s->user_paused = paused;
    for (auto& [id, p] : s->pipelines)
      p->user_pause(paused);
    partitions += s->pipelines.size();
  }
  spdlog::info("job {}: {} ({} partitions)", job_->name, paused ? "paused" : "resumed", partitions);
}

const config::JobConfig& KafkaJob::config() const {
  return *job_;
}

JobStatus KafkaJob::status() const {
  JobStatus s;
  s.name = job_->name;
  s.file = job_->file;
  s.sql = job_->sql;
  s.source_topic = job_->source.topic;
  s.sink_topic = job_->sink.topic;
  if (job_->dead_letter) s.dead_letter_topic = job_->dead_letter->topic;
  s.state = JobState::kStopped;
  bool first = true;
  for (const auto& stage : stages_) {
    const Impl& j = *stage;
    s.generation = j.generation;
    s.commits += j.commits.get();
    s.commit_failures += j.commit_failures.get();
    s.rebalances += j.rebalances.get();
    s.delivery_errors += j.delivery_errors.get();
    s.kafka_reachable = s.kafka_reachable && j.kafka_reachable.load();
    std::lock_guard lock(j.mu);  // the producer is destroyed under it
    if (j.producer != nullptr)
      s.producer_queue += static_cast<uint64_t>(rd_kafka_outq_len(j.producer));
    s.paused = s.paused || j.user_paused;
    j.retired_batch_latency.add_to(s.batch_latency);
    j.retired_batch_records.add_to(s.batch_records);
    JobState state = j.failed.load() && j.state != JobState::kStopped ? JobState::kFailed : j.state;
    // The job's state is its least advanced stage's; failed wins.
    if (first || state == JobState::kFailed ||
        (s.state != JobState::kFailed && static_cast<int>(state) < static_cast<int>(s.state)))
      s.state = state;
    first = false;
    if (s.error.empty()) s.error = j.error;
    JobCounts counts = j.retired_counts;
    LatencyHistogram::Snapshot latency{};
    j.retired_latency.add_to(latency);
    for (const auto& [id, p] : j.pipelines) {
      PartitionStatus ps = p->status();
      ps.topic = j.job->source.topic;
      auto c = j.committed.find(id);
      if (c != j.committed.end()) ps.committed = c->second;
      int64_t lo = 0;
      int64_t hi = 0;
      if (j.consumer != nullptr &&
          rd_kafka_get_watermark_offsets(j.consumer, j.job->source.topic.c_str(), id, &lo, &hi) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          hi >= 0) {
        ps.high_watermark = hi;
        ps.lag = std::max<int64_t>(0, hi - (ps.position >= 0 ? ps.position : lo));
      }
      counts.add(ps.counts);
      p->latency().add_to(latency);
      p->batch_latency().add_to(s.batch_latency);
      p->batch_records().add_to(s.batch_records);
      s.partitions.push_back(ps);
    }
    if (j.stage == Stage::kRouter) {
      // The router's records reach the query stage again: count them in once, at the router,
      // with its decode failures; its outputs are internal.
      s.counts.records_in += counts.records_in;
      s.counts.bytes_in += counts.bytes_in;
      s.counts.rejected += counts.rejected;
      s.counts.dead_lettered += counts.dead_lettered;
      s.counts.skipped += counts.skipped;
      s.routed = counts.records_out;
    } else {
      if (stages_.size() > 1) {
        counts.records_in = 0;
        counts.bytes_in = 0;
      }
      s.counts.add(counts);
      for (size_t i = 0; i < latency.size(); ++i)
        s.latency[i] += latency[i];
    }
  }
  return s;
}

}  // namespace sluice::server::kafka
