// PartitionPipeline's progress for the commit rounds: the acknowledged position, or with durable
// state the newest state snapshot whose output is acknowledged, and the exactly-once barriers
// (partition_pipeline.hpp); and the positions applied from each source partition of a
// repartitioned job (dedupe_sources).

#include "server/pipeline/partition_pipeline.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace sluice::server::pipeline {

// Makes the acknowledged position visible to the commit rounds.
void PartitionPipeline::publish() {
  if (!spec_->route) {
    exec::StateSize size = query_.query().state_size(query_.state());
    metrics_.open_windows.set(size.open_windows);
    metrics_.groups.set(size.groups);
    metrics_.state_bytes.set(size.bytes);
  }
  if (spec_->durable) {
    // Only what a snapshot covers, once the snapshot's output is acknowledged (with a changelog:
    // once its changelog records are, checkpoint_acknowledged).
    if (!changelog_ && pending_snapshot_ && !blocked_ && acked_offset_ >= pending_snapshot_->offset)
      ready_snapshot_ = std::move(pending_snapshot_);
    if (!ready_snapshot_) return;
    Progress p;
    p.offset = ready_snapshot_->offset;
    p.watermark = ready_snapshot_->watermark;
    p.done = p.offset;  // restored with its state, nothing after it is a replay
    p.checkpoint = ready_snapshot_;
    std::lock_guard lock(progress_mu_);
    progress_ = p;
    return;
  }
  if (acked_offset_ < 0) return;  // (once blocked, acked_offset_ stays before the failure)
  Progress p;
  p.offset = acked_offset_;
  if (!spec_->route) {
    if (auto retained = query_.query().retained_offset(query_.state()))
      p.offset = std::min(p.offset, *retained);
  }
  for (const InFlightBatch* b : in_flight_)
    p.offset = std::min(p.offset, b->released_offset);
  p.offset = std::min(p.offset, blocked_released_);
  p.watermark = acked_watermark_;
  p.done = acked_done_;
  std::lock_guard lock(progress_mu_);
  progress_ = p;
}

// Snapshots the state as of every record processed so far; it becomes the progress once their
// output is acknowledged. Nothing new since the last one, a failure or a snapshot still waiting:
// nothing to do.
void PartitionPipeline::take_snapshot() {
  if (blocked_ || host_->failed() || pending_snapshot_ || read_end_ < 0) return;
  const StateCheckpoint* last = ready_snapshot_.get();
  if (last != nullptr && last->offset == read_end_) return;
  auto cp = std::make_shared<StateCheckpoint>();
  if (!snapshot_into(*cp)) return;
  pending_snapshot_ = std::move(cp);
}

// The checkpoint's position: every record processed so far.
void PartitionPipeline::position_into(StateCheckpoint& cp) const {
  cp.offset = read_end_;
  cp.watermark = query_.watermark();
  cp.sources.assign(applied_sources_.begin(), applied_sources_.end());
  std::sort(cp.sources.begin(), cp.sources.end());
}

// The checkpoint's position, and the full state into `cp.state`; false when the query could not
// save its state (an operator cannot, or out of memory: the next interval tries again).
bool PartitionPipeline::snapshot_into(StateCheckpoint& cp) {
  position_into(cp);
  last_snapshot_ms_ = clock_.steady_ms();
  try {
    if (!query_.query().snapshot(query_.state(), cp.state)) return false;
  } catch (const std::exception& e) {
    spdlog::warn("job {}: partition {}: state snapshot not taken: {}", spec_->job->name, partition_,
                 e.what());
    cp.state.clear();
    return false;
  }
  metrics_.snapshots.add(1);
  metrics_.snapshot_bytes.set(cp.state.size());
  return true;
}

namespace {

// The changelog key of the highest source offset applied from a source partition.
std::string source_key(const exec::Query& q, int32_t source_partition) {
  return q.changelog_key(exec::Query::kRuntimePart, fmt::format("source:{}", source_partition));
}

}  // namespace

// Durable state with a changelog: the keys changed since the last checkpoint go to the changelog
// as one batch behind the output so far; the checkpoint (with a full snapshot when
// `with_snapshot`) is the progress once that batch is acknowledged (checkpoint_acknowledged).
// True when a batch went out. Nothing read since the last checkpoint (unless a snapshot is asked
// for and the last one has none), a failure or a checkpoint still in flight: nothing to do.
bool PartitionPipeline::take_checkpoint(bool with_snapshot) {
  if (blocked_ || host_->failed() || pending_snapshot_ || read_end_ < 0) return false;
  if (ready_snapshot_ && ready_snapshot_->offset == read_end_ &&
      (!with_snapshot || !ready_snapshot_->state.empty()))
    return false;
  auto cp = std::make_shared<StateCheckpoint>();
  if (!with_snapshot || !snapshot_into(*cp)) {
    cp->state.clear();
    position_into(*cp);
  }
  auto own = std::make_unique<OutputBuffer>();
  std::string at = std::to_string(read_end_);
  auto add = [&](std::string_view key, const std::string_view* value) {
    own->begin(OutputKind::kChangelog, key, -1, -1);
    if (value != nullptr)
      own->set_value(*value);
    else
      own->set_tombstone();
    own->add_header(kCheckpointHeader, at);
  };
  const exec::Query& q = query_.query();
  q.save_changes(query_.state(), add);
  for (const auto& [source, offset] : cp->sources) {  // a handful: all of them, every time
    std::string value = std::to_string(offset);
    std::string_view v = value;
    add(source_key(q, source), &v);
  }
  InFlightBatch* batch = acquire();
  batch->checkpoint = true;
  batch->end_offset = read_end_;
  batch->watermark_after = query_.watermark();
  batch->prepare(*own);
  batch->messages = own->size();
  SendJob send{batch, std::move(own), {}, 0};
  for (size_t i = 0; i < send.own->size(); ++i)
    send.tickets.push_back(batch->ticket(i));
  metrics_.changelog_records.add(batch->messages);
  in_flight_.push_back(batch);
  in_flight_records_ += batch->messages;
  pending_snapshot_ = std::move(cp);
  update_flow();
  queue_send(std::move(send));
  return true;
}

// The changelog records of the pending checkpoint, and everything before them, are written.
void PartitionPipeline::checkpoint_acknowledged(const InFlightBatch& batch) {
  changelog_end_ = std::max(changelog_end_, batch.changelog_end());
  if (!pending_snapshot_) return;
  pending_snapshot_->changelog_end = changelog_end_;
  pending_snapshot_->in_changelog = true;
  ready_snapshot_ = std::move(pending_snapshot_);
}

// Queues more records of a batch already sent (dead letters, a checkpoint): behind what is being
// sent, ahead of what a barrier holds back unless the batch itself came after the barrier.
void PartitionPipeline::queue_send(SendJob send) {
  auto at = sends_.end();
  if (held_ && !send.batch->after_barrier) {
    at = std::find_if(sends_.begin(), sends_.end(),
                      [](const SendJob& j) { return j.batch->after_barrier; });
  }
  bool idle = sends_idle();
  sends_.insert(at, std::move(send));
  if (idle) send_pending();
}

// Nothing to send now: no records queued, or only those a barrier holds back.
bool PartitionPipeline::sends_idle() const {
  return sends_.empty() || (held_ && sends_.front().batch->after_barrier);
}

// Exactly once: the stage's transaction barriers (partition_pipeline.hpp).
void PartitionPipeline::request_barrier(uint64_t barrier) {
  boost::asio::post(strand_, [self = shared_from_this(), barrier] {
    if (self->drained()) return;
    self->held_ = true;
    self->barrier_ = barrier;
    if (self->spec_->durable && !self->blocked_) {
      bool due =
          self->clock_.steady_ms() - self->last_snapshot_ms_ >= self->spec_->snapshot_interval_ms;
      if (self->changelog_)
        self->take_checkpoint(due);
      else
        self->take_snapshot();  // every transaction's offsets need state that covers them
    }
    self->park_if_idle();
  });
}

// What was read while held goes out now, in order, and reading goes on.
void PartitionPipeline::release_barrier() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    if (!self->held_) return;
    self->held_ = false;
    self->held_batches_ = 0;
    for (InFlightBatch* b : self->in_flight_)
      b->after_barrier = false;
    self->send_pending();
    self->read();
  });
}

void PartitionPipeline::abandon() {
  boost::asio::post(strand_, [self = shared_from_this()] {
    self->abandoned_ = true;
    self->drop_after_barrier();
  });
}

// The batches read after the barrier, never sent: dropped (their records are read again by
// whoever gets the partition next, from the offsets the transactions committed).
void PartitionPipeline::drop_after_barrier() {
  if (!held_) return;
  while (!sends_.empty() && sends_.back().batch->after_barrier)
    sends_.pop_back();
  while (!in_flight_.empty() && in_flight_.back()->after_barrier) {
    InFlightBatch* b = in_flight_.back();
    in_flight_.pop_back();
    in_flight_records_ -= b->messages;
    recycle(b);
  }
  held_batches_ = 0;
  update_flow();
}

// At a barrier with every record sent before it acknowledged: the progress is the transaction's.
// (Batches read after the barrier are behind those in both queues.)
void PartitionPipeline::park_if_idle() {
  if (!held_ || parked() == barrier_) return;
  if (!in_flight_.empty() && !in_flight_.front()->after_barrier) return;
  if (!sends_.empty() && !sends_.front().batch->after_barrier) return;
  publish();
  parked_.store(barrier_, std::memory_order_release);
  host_->pipeline_drained();
}

void PartitionPipeline::finish_stop() {
  if (drained()) return;
  // A last checkpoint, with a full snapshot: the pipeline drains once it is acknowledged.
  // (Exactly once: the stage's last transaction took it at its barrier.)
  if (changelog_ && !final_checkpoint_ && !spec_->transactional) {
    final_checkpoint_ = true;
    if (take_checkpoint(true)) return;
  }
  if (spec_->durable && !changelog_ && !spec_->transactional) {
    // Everything is acknowledged: a snapshot now is ready.
    publish();
    take_snapshot();
  }
  publish();
  drained_.store(true, std::memory_order_release);
  host_->pipeline_drained();
}

// A copy of a record already applied from its source partition (see dedupe_sources): counted as
// replayed. Otherwise the record's source position becomes the highest applied.
bool PartitionPipeline::replayed_source(const InputRecord& r) {
  if (r.source_partition < 0) return false;
  auto [it, inserted] = applied_sources_.try_emplace(r.source_partition, r.source_offset);
  if (inserted) return false;
  if (r.source_offset <= it->second) {
    metrics_.replayed.add(1);
    return true;
  }
  it->second = r.source_offset;
  return false;
}

}  // namespace sluice::server::pipeline
