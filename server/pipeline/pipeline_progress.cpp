// PartitionPipeline's progress for the commit rounds: the acknowledged position, or with durable
// state the newest state snapshot whose output is acknowledged (partition_pipeline.hpp).

#include "server/pipeline/partition_pipeline.hpp"

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
    // Only what a snapshot covers, once the snapshot's output is acknowledged.
    if (pending_snapshot_ && !blocked_ && acked_offset_ >= pending_snapshot_->offset)
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
  cp->offset = read_end_;
  cp->watermark = query_.watermark();
  cp->sources.assign(applied_sources_.begin(), applied_sources_.end());
  std::sort(cp->sources.begin(), cp->sources.end());
  try {
    if (!query_.query().snapshot(query_.state(), cp->state)) return;
  } catch (const std::exception& e) {  // out of memory: the next interval tries again
    spdlog::warn("job {}: partition {}: state snapshot not taken: {}", spec_->job->name, partition_,
                 e.what());
    last_snapshot_ms_ = clock_.steady_ms();
    return;
  }
  last_snapshot_ms_ = clock_.steady_ms();
  metrics_.snapshots.add(1);
  metrics_.snapshot_bytes.set(cp->state.size());
  pending_snapshot_ = std::move(cp);
}

void PartitionPipeline::finish_stop() {
  if (drained()) return;
  if (spec_->durable) {  // everything is acknowledged: a snapshot now is ready at once
    publish();
    take_snapshot();
  }
  publish();
  drained_.store(true, std::memory_order_release);
  host_->pipeline_drained();
}

}  // namespace sluice::server::pipeline
