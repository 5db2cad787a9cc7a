#include "server/pipeline/partition_pipeline.hpp"

#include "server/pipeline/dead_letter.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace sluice::server::pipeline {
namespace {

namespace asio = boost::asio;

RecordKey make_key(const PipelineSpec& spec) {
  // A router's key only picks the repartition partition: always the default format.
  return RecordKey(spec.key_columns, spec.key_row, spec.job->sink.timestamp_format,
                   spec.route ? "" : spec.job->sink.key_format,
                   spec.route ? nullptr : spec.registered_key);
}

}  // namespace

PartitionPipeline::PartitionPipeline(std::shared_ptr<const PipelineSpec> spec, Strand strand,
                                     PipelineIo io, std::shared_ptr<PipelineHost> host,
                                     const Clock& clock, const Progress& restored,
                                     std::unique_ptr<exec::QueryState> state)
    : spec_(std::move(spec)),
      strand_(std::move(strand)),
      io_(std::move(io)),
      host_(std::move(host)),
      clock_(clock),
      partition_(io_.source->partition()),
      policy_(*spec_->job, io_.dead_letter != nullptr),
      decode_(*spec_->job, *spec_->query, clock.steady_ms(), spec_->schemas),
      query_(*spec_->query, std::move(state)),
      encode_(*spec_->encoder, make_key(*spec_), io_.output->max_record_bytes()),
      route_(make_key(*spec_), io_.output->max_record_bytes()),
      flow_(spec_->max_in_flight),
      acked_watermark_(restored.watermark) {
  replay_before_ = restored.done;
  int64_t watermark = restored.watermark;
  int64_t bound = clock.wall_ms() + spec_->job->source.max_future_skew_ms;
  if (watermark != exec::WatermarkTracker::kNone && watermark > bound) {
    // Stored by a version that let a far-future event time move it: trusting it would make every
    // record late. The windows start from the records re-read instead.
    spdlog::warn(
        "job {}: partition {}: the committed watermark {} is further ahead than "
        "source.watermark.max_future_skew allows; starting without it",
        spec_->job->name, partition_, watermark);
    watermark = exec::WatermarkTracker::kNone;
    acked_watermark_ = watermark;
    replay_before_ = -1;
  }
  if (watermark != exec::WatermarkTracker::kNone && !spec_->route)
    query_.restore_watermark(watermark);
  acked_offset_ = restored.offset;
  acked_done_ = restored.done;
  read_end_ = restored.offset;
  ready_snapshot_ = restored.checkpoint;
  changelog_ = spec_->changelog && io_.changelog != nullptr && !spec_->route;
  if (changelog_) {
    query_.query().track_changes(query_.state());
    if (restored.checkpoint) changelog_end_ = restored.checkpoint->changelog_end;
  }
  if (restored.checkpoint)
    applied_sources_.insert(restored.checkpoint->sources.begin(),
                            restored.checkpoint->sources.end());
  last_snapshot_ms_ = clock.steady_ms();
  metrics_.position.set(static_cast<uint64_t>(restored.offset));  // -1: not known yet
  metrics_.watermark.set(static_cast<uint64_t>(query_.watermark()));
}

PartitionPipeline::~PartitionPipeline() {
  close_source();
}

void PartitionPipeline::start(bool user_paused) {
  io_.source->set_wakeup([w = weak_from_this(), strand = strand_] {
    asio::post(strand, [w] {
      if (auto self = w.lock()) self->read();
    });
  });
  asio::post(strand_, [self = shared_from_this(), user_paused] {
    if (self->stopping_) return;
    self->flow_.set_user_paused(user_paused);
    self->apply_source_pause();
    self->started_ = true;
    self->read();
  });
}

void PartitionPipeline::user_pause(bool paused) {
  asio::post(strand_, [self = shared_from_this(), paused] {
    if (!self->flow_.set_user_paused(paused)) return;
    if (self->stopping_ || self->drained()) return;  // its consumer may be closing
    self->apply_source_pause();
    self->read();
  });
}

void PartitionPipeline::request_stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopping_ = true;
    self->drop_after_barrier();  // (a transaction committed up to the barrier, or none did)
    if (self->in_flight_.empty() && self->sends_.empty()) self->finish_stop();
  });
}

void PartitionPipeline::request_publish() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->drained()) return;
    if (self->spec_->durable && !self->spec_->transactional) {
      bool due =
          self->clock_.steady_ms() - self->last_snapshot_ms_ >= self->spec_->snapshot_interval_ms;
      if (self->changelog_)
        self->take_checkpoint(due);
      else if (due)
        self->take_snapshot();
    }
    self->publish();
  });
}

Progress PartitionPipeline::progress() const {
  std::lock_guard lock(progress_mu_);
  return progress_;
}

void PartitionPipeline::close_source() {
  if (io_.source) io_.source->close();
}

void PartitionPipeline::batch_delivered(InFlightBatch* batch) {
  asio::post(strand_, [self = shared_from_this(), batch] { self->on_batch_back(batch); });
}

void PartitionPipeline::schedule_read() {
  asio::post(strand_, [self = shared_from_this()] { self->read(); });
}

void PartitionPipeline::read() {
  if (!started_ || stopping_ || !flow_.can_read() || !sends_idle() || host_->failed()) return;
  if (held_ && held_batches_ >= kHeldBatches) return;
  // A batch waiting for writer schemas stays the source's last read (its views stay valid) until
  // they arrive; nothing more is read meanwhile.
  auto records = waiting_.empty() ? io_.source->read_batch(spec_->batch_records) : waiting_;
  if (records.empty()) return;
  waiting_ = {};
  // The registry's thread calls back: post first, so the pipeline is only ever held (and so
  // destroyed) on its strand.
  if (!decode_.prepare(records, [self = weak_from_this(), strand = strand_] {
        asio::post(strand, [self] {
          if (auto p = self.lock()) p->read();
        });
      })) {
    waiting_ = records;
    return;
  }
  process(records);
  // More may be waiting: the source wakes us only after an empty read (a short read is not one:
  // a Kafka partition queue counts the errors it handed out instead of records).
  schedule_read();
}

void PartitionPipeline::process(std::span<const InputRecord> records) {
  auto started = std::chrono::steady_clock::now();
  InFlightBatch* batch = acquire();
  int64_t wall = clock_.wall_ms();
  decode_.begin(clock_.steady_ms(), wall);
  uint64_t bytes = 0;
  for (const InputRecord& r : records) {
    if (spec_->dedupe_sources && replayed_source(r)) continue;
    std::optional<int64_t> ts;
    if (r.timestamp_ms >= 0) ts = r.timestamp_ms;
    batch->timestamps.push_back(ts.value_or(wall));
    RecordMeta meta{r.own_key(), ts, r.headers, {partition_, r.offset}};
    if (!r.value) {
      decode_.reject(meta.position, {ErrorCode::kDecode, "the record has no value (a tombstone)"});
      continue;
    }
    bytes += r.value->size();
    decode_.add(*r.value, meta);
  }
  host_->records_read();
  metrics_.records_in.add(records.size());
  metrics_.bytes_in.add(bytes);
  metrics_.position.set(static_cast<uint64_t>(records.back().offset + 1));
  batch->end_offset = records.back().offset + 1;
  read_end_ = batch->end_offset;

  transform(records, batch);
  metrics_.batch_latency.add(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
  metrics_.batch_records.add(static_cast<int64_t>(records.size()));

  batch->prepare(buffer_);
  batch->messages = buffer_.size();
  in_flight_.push_back(batch);
  in_flight_records_ += batch->messages;
  update_flow();
  if (held_) {
    // After the barrier: kept, with a buffer of its own, until the barrier is released.
    batch->after_barrier = true;
    ++held_batches_;
    SendJob held{batch, std::make_unique<OutputBuffer>(std::move(buffer_)), {}, 0};
    buffer_.clear();
    for (size_t i = 0; i < held.own->size(); ++i)
      held.tickets.push_back(batch->ticket(i));
    sends_.push_back(std::move(held));
    return;
  }
  sends_.push_back({batch, nullptr, {}, 0});
  send_pending();
}

// Decode rejections, query (or route), encode, and the batch's rejections settled.
void PartitionPipeline::transform(std::span<const InputRecord> records, InFlightBatch* batch) {
  buffer_.clear();
  auto& rejections = decode_.rejections();
  exec::ExecContext ctx;
  ctx.replay_before = replay_before_;
  ctx.watermark_steps = decode_.watermark_steps();
  if (spec_->route) {
    route_.route(decode_.batch(), records, buffer_, rejections);
  } else {
    query_.run(decode_.batch(), decode_.advance_watermark(), ctx, rejections,
               [&](exec::Batch& out) { encode_.encode(out, records, buffer_, rejections); });
  }
  metrics_.filtered.add(ctx.filtered);
  metrics_.late.add(ctx.late);
  metrics_.replayed.add(ctx.replayed);
  metrics_.watermark.set(static_cast<uint64_t>(query_.watermark()));
  batch->watermark_after = query_.watermark();
  batch->released_offset = ctx.released_offset;
  std::stable_sort(rejections.begin(), rejections.end(), [](const auto& a, const auto& b) {
    return a.position.offset < b.position.offset;
  });
  settle_rejections(records, batch);
}

// Dead-letters, skips or fails on each rejected record, in input order. False when the job failed.
bool PartitionPipeline::settle_rejections(std::span<const InputRecord> records,
                                          InFlightBatch* batch) {
  const config::JobConfig& job = *spec_->job;
  DeadLetterSource where{job.name, job.source.topic, partition_};
  size_t max = io_.dead_letter != nullptr ? io_.dead_letter->max_record_bytes() : 0;
  int64_t last = -1;
  for (const exec::Rejection& rej : decode_.rejections()) {
    // An input record with several outputs (a hopping window's rows) is rejected once.
    if (rej.position.offset >= 0 && rej.position.offset == last) continue;
    last = rej.position.offset;
    RejectionAction action = policy_.decide(rej);
    if (action == RejectionAction::kFail) {
      metrics_.rejected.add(1);
      fail_on(rej, batch);
      return false;
    }
    if (action != RejectionAction::kLateDeadLetter) metrics_.rejected.add(1);
    if (action == RejectionAction::kSkip) {
      metrics_.skipped.add(1);
      log_skip(rej);
      continue;
    }
    if (io_.dead_letter == nullptr) continue;  // late records without a dead-letter sink
    if (action == RejectionAction::kDeadLetter) metrics_.dead_lettered.add(1);
    const InputRecord* in = find_input(records, rej.position.offset);
    std::optional<std::string_view> key;
    std::string_view value;
    if (in != nullptr) {
      key = in->own_key();
      value = in->value.value_or(std::string_view());
    }
    add_dead_letter(rej, where, key, value, max, buffer_);
  }
  return true;
}

void PartitionPipeline::fail_on(const exec::Rejection& rej, InFlightBatch* batch) {
  const config::JobConfig& job = *spec_->job;
  host_->fail(fmt::format("record at partition {} offset {} of topic '{}': {} ({})", partition_,
                          rej.position.offset, job.source.topic, rej.error.message,
                          error_code_name(rej.error.code)));
  stopping_ = true;
  batch->holds_back = true;
}

void PartitionPipeline::log_skip(const exec::Rejection& rej) {
  int64_t now = clock_.steady_ms();
  if (now - last_skip_log_ms_ < 10000) {
    ++skips_unlogged_;
    return;
  }
  spdlog::warn("job {}: partition {} offset {}: skipped: {} ({}){}", spec_->job->name, partition_,
               rej.position.offset, rej.error.message, error_code_name(rej.error.code),
               skips_unlogged_
                   ? fmt::format(" ({} more skipped since the last report)", skips_unlogged_)
                   : "");
  skips_unlogged_ = 0;
  last_skip_log_ms_ = now;
}

// Hands the queued records to their sinks until done or a sink is full.
void PartitionPipeline::send_pending() {
  std::string error;
  while (!sends_.empty() && !sends_idle()) {
    SendJob& job = sends_.front();
    OutputBuffer& buffer = job.own ? *job.own : buffer_;
    while (job.next < buffer.size()) {
      const auto& entry = buffer.entry(job.next);
      RecordSink* sink = entry.kind == OutputKind::kOutput       ? io_.output
                         : entry.kind == OutputKind::kDeadLetter ? io_.dead_letter
                                                                 : io_.changelog;
      DeliveryTicket* ticket = job.own ? job.tickets[job.next] : job.batch->ticket(job.next);
      OutputRecord record = buffer.record(job.next, headers_);
      if (entry.kind == OutputKind::kChangelog) record.partition = partition_;
      job.batch->sending();
      SendResult result = sink->send(record, ticket, error);
      if (result == SendResult::kQueued) {
        if (entry.kind == OutputKind::kOutput) {
          ++job.batch->outputs_sent;
          job.batch->bytes += entry.value_len;
        }
        ++job.next;
        continue;
      }
      if (result == SendResult::kFull) {
        job.batch->not_sent();
        flow_.set_sink_full(true);
        waited_for_room_ = true;
        sink->notify_when_room([w = weak_from_this(), strand = strand_] {
          asio::post(strand, [w] {
            if (auto self = w.lock()) self->on_room();
          });
        });
        return;
      }
      if (result == SendResult::kTooLarge && entry.kind == OutputKind::kChangelog) {
        job.batch->not_sent();
        job.batch->fail(
            fmt::format("a changelog record of {} bytes is over the limit of '{}': raise the job's "
                        "message.max.bytes (and the topic's max.message.bytes)",
                        record.size(), sink->name()));
        job.next = buffer.size();
        continue;
      }
      if (result == SendResult::kTooLarge) {
        // Refused outright: handled like a size failure the broker reported.
        if (entry.kind == OutputKind::kOutput) ++job.batch->outputs_sent;
        job.batch->delivered(ticket, DeliveryStatus::kTooLarge,
                             fmt::format("over the limit of '{}'", sink->name()), record.value);
        ++job.next;
        continue;
      }
      job.batch->not_sent();
      job.batch->fail(fmt::format("producing to '{}': {}", sink->name(), error));
      job.next = buffer.size();  // the batch failed: the rest need not go out
    }
    InFlightBatch* batch = job.batch;
    sends_.pop_front();
    flow_.set_sink_full(false);
    if (batch->sent()) on_batch_back(batch);
  }
  if (waited_for_room_) {  // reads were held back meanwhile
    waited_for_room_ = false;
    schedule_read();
  }
}

void PartitionPipeline::on_room() {
  if (!sends_.empty()) send_pending();
}

// Every record of the batch was reported (strand).
void PartitionPipeline::on_batch_back(InFlightBatch* batch) {
  if (handle_size_failures(batch)) return;  // dead letters of refused records still go out
  batch->done = true;
  retire_done();
}

// Records the sink refused for their size after queueing them (the broker's limit was lower):
// rejected like records over our own limit. True when dead letters were queued for them.
bool PartitionPipeline::handle_size_failures(InFlightBatch* batch) {
  std::vector<SizeFailure> failures = batch->take_size_failures();
  if (failures.empty()) return false;
  const config::JobConfig& job = *spec_->job;
  auto own = std::make_unique<OutputBuffer>();
  std::vector<int64_t> rejected;  // input offsets: one record with several outputs counts once
  for (SizeFailure& f : failures) {
    exec::Rejection rej{{partition_, f.input_offset},
                        {ErrorCode::kTooLarge, fmt::format("refused: {}", f.error)}};
    if (f.kind != OutputKind::kOutput) {
      batch->fail(fmt::format(
          "the {} topic refused a record for its size ({}): raise its max.message.bytes{}",
          f.kind == OutputKind::kDeadLetter ? "dead-letter" : "changelog", f.error,
          f.kind == OutputKind::kDeadLetter ? " or lower the job's message.max.bytes" : ""));
      continue;
    }
    if (f.input_offset >= 0) {
      if (std::find(rejected.begin(), rejected.end(), f.input_offset) != rejected.end()) continue;
      rejected.push_back(f.input_offset);
    }
    RejectionAction action = policy_.decide(rej);
    metrics_.rejected.add(1);
    if (action == RejectionAction::kFail) {
      fail_on(rej, batch);
    } else if (action == RejectionAction::kSkip) {
      metrics_.skipped.add(1);
      log_skip(rej);
    } else {
      metrics_.dead_lettered.add(1);
      add_dead_letter(rej, {job.name, job.source.topic, partition_}, std::nullopt, f.value,
                      io_.dead_letter->max_record_bytes(), *own, f.value_size);
    }
  }
  if (own->empty()) return false;
  SendJob send{batch, std::move(own), {}, 0};
  for (size_t i = 0; i < send.own->size(); ++i)
    send.tickets.push_back(
        batch->extra_ticket(OutputKind::kDeadLetter, send.own->entry(i).input_offset));
  batch->hold();
  batch->messages += send.own->size();
  in_flight_records_ += send.own->size();
  queue_send(std::move(send));
  return true;
}

// Retires the batches at the front whose every record is reported, in input order.
void PartitionPipeline::retire_done() {
  int64_t now_us = clock_.wall_us();
  while (!in_flight_.empty() && in_flight_.front()->done) {
    InFlightBatch* b = in_flight_.front();
    in_flight_.pop_front();
    if (b->failed()) {
      metrics_.delivery_errors.add(1);
      if (!blocked_ && !abandoned_)
        host_->fail(fmt::format("partition {}: {}", partition_, b->error()));
    }
    if (b->failed() || b->holds_back) {
      blocked_ = true;  // never commit past what was not delivered
      stopping_ = true;
    }
    if (blocked_) blocked_released_ = std::min(blocked_released_, b->released_offset);
    metrics_.records_out.add(b->outputs_delivered());
    metrics_.bytes_out.add(b->bytes);
    if (b->checkpoint && !blocked_) checkpoint_acknowledged(*b);
    if (!blocked_) {
      acked_offset_ = b->end_offset;
      acked_done_ = std::max(acked_done_, b->end_offset);
      acked_watermark_ = b->watermark_after;
      for (int64_t ts : b->timestamps)
        metrics_.latency.add(now_us - ts * 1000);
    }
    in_flight_records_ -= b->messages;
    recycle(b);
  }
  update_flow();
  if (stopping_ && in_flight_.empty() && sends_.empty()) finish_stop();
  park_if_idle();
}

void PartitionPipeline::update_flow() {
  metrics_.in_flight.set(in_flight_records_);
  if (!flow_.set_in_flight(in_flight_records_)) return;
  metrics_.pauses.set(flow_.pauses());
  metrics_.paused.store(flow_.backpressure(), std::memory_order_relaxed);
  if (stopping_) return;  // a stopping pipeline keeps its partition as it is
  spdlog::debug("job {}: partition {}: {} ({} records in flight)", spec_->job->name, partition_,
                flow_.backpressure() ? "paused" : "resumed", in_flight_records_);
  apply_source_pause();
  if (flow_.can_read()) schedule_read();
}

void PartitionPipeline::apply_source_pause() {
  io_.source->pause(flow_.source_paused());
}

InFlightBatch* PartitionPipeline::acquire() {
  if (free_.empty()) {
    pool_.push_back(std::make_unique<InFlightBatch>());
    free_.push_back(pool_.back().get());
  }
  InFlightBatch* b = free_.back();
  free_.pop_back();
  b->reset(this);
  return b;
}

void PartitionPipeline::recycle(InFlightBatch* batch) {
  free_.push_back(batch);
}

}  // namespace sluice::server::pipeline
