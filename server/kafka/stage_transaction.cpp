// JobStage's exactly-once commits (job_stage.hpp): one Kafka transaction per commit interval
// over every pipeline of the stage. A barrier parks the pipelines at a batch boundary, with their
// durable state checkpointed into the transaction and every record they sent acknowledged; their
// progress then goes into the transaction as the group's offsets, the transaction commits, and
// they read on. Records sent after the barrier can only belong to the next transaction, so the
// offsets committed are exactly those of the output committed. A transaction that fails is
// aborted and the partitions start again from what the last one committed: output, state and
// offsets are rewound together.

#include "server/kafka/job_stage.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace sluice::server::kafka {

// Waits until every pipeline parked at `barrier` (or drained), pushing the producer's queued
// records out meanwhile (a flush ignores linger.ms): false when the job failed, a stop was
// requested with output not acknowledged, or the drain timeout passed.
bool JobStage::await_barrier(const Pipelines& pipelines, uint64_t barrier) {
  auto parked = [&] {
    return std::all_of(pipelines.begin(), pipelines.end(), [&](const auto& e) {
      return e.second->parked() == barrier || e.second->drained();
    });
  };
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
  while (!parked()) {
    if (failed_.load() || std::chrono::steady_clock::now() > deadline) return false;
    rd_kafka_flush(producer_->client(), 10);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(1), parked);
  }
  return !failed_.load();
}

bool JobStage::transaction_round(const std::vector<int32_t>& keep_parked) {
  auto started = std::chrono::steady_clock::now();
  Pipelines all = current();
  uint64_t barrier = ++barrier_;
  for (auto& [id, p] : all)
    p->request_barrier(barrier);
  if (!await_barrier(all, barrier)) {
    if (failed_.load()) return false;  // the stop aborts
    rewind(fmt::format("output not acknowledged within {} ms", options_.drain_timeout_ms),
           keep_parked);
    return false;
  }
  coordinator_->round(all, {}, true);  // adds the offsets to the transaction
  Transaction::Outcome outcome = txn_->end();
  if (outcome == Transaction::Outcome::kFatal) {
    fail(fmt::format("exactly once: {}", txn_->error()));
    return false;
  }
  if (outcome == Transaction::Outcome::kAbort) {
    rewind(txn_->error(), keep_parked);
    return false;
  }
  commits_.add(1);
  note_reachable();
  transaction_us_.add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                std::chrono::steady_clock::now() - started)
                                                .count()));
  for (auto& [id, p] : all) {
    if (std::find(keep_parked.begin(), keep_parked.end(), id) == keep_parked.end())
      p->release_barrier();
  }
  return true;
}

// The pipelines' output since the last commit is discarded with the transaction, so they are
// discarded too, without committing; the partitions still assigned start again through the
// assignment path (committed offsets, restored state).
void JobStage::abort_and_retire(const std::vector<int32_t>& partitions) {
  Pipelines going = current(partitions);
  for (auto& [id, p] : going)
    p->abandon();  // (posted before the abort's purge reports)
  if (std::string why = txn_->abort(); !why.empty()) fail(fmt::format("exactly once: {}", why));
  std::vector<int32_t> ids;
  for (const auto& [id, p] : going)
    ids.push_back(id);
  retire(ids, false);
}

void JobStage::rewind(const std::string& why, const std::vector<int32_t>& gone) {
  transaction_aborts_.add(1);
  commit_failures_.add(1);
  Pipelines all = current();
  std::vector<int32_t> again;
  for (const auto& [id, p] : all) {
    if (std::find(gone.begin(), gone.end(), id) == gone.end()) again.push_back(id);
  }
  spdlog::warn(
      "job {}: transaction aborted ({}); partitions [{}] start again from their last committed "
      "offsets and state",
      job_name(), why, fmt::join(again, ","));
  abort_and_retire({});
  if (!again.empty() && !failed_.load() && !stop_requested_.load()) group_->reassign(again);
}

}  // namespace sluice::server::kafka
