#pragma once
// CommitCoordinator: one commit round of a job stage. It asks each pipeline to publish a fresh
// progress for the next round, takes the progress each published since the last one, and hands the
// partitions whose progress changed to the Committer. The publish request is answered on the
// pipeline's strand later, so a round commits what the pipelines published a round ago (about one
// commit interval): the scan of open windows runs once per interval, not per batch.
//
// Durable state: a progress that carries a new full state snapshot has it written to the
// StateStore first (a changelog checkpoint's records are acknowledged before it is progress); its
// offset is committed only once the snapshot is on disk (a failed write commits nothing for that
// partition and is tried again next round), so the committed offset is never ahead of the state
// that covers it. When the changelog holds that state (StateCheckpoint::in_changelog), a failed
// write is only warned about and the offset commits. Lifecycle: lives as long as its job stage.
// Threading: the job's control thread only.

#include "server/checkpoint/committer.hpp"
#include "server/checkpoint/state_store.hpp"
#include "server/pipeline/partition_pipeline.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sluice::server::checkpoint {

class CommitCoordinator {
 public:
  // `store`: where snapshots go (null: the stage keeps no durable state); `warn` reports a
  // snapshot that could not be written; `committed(partition)`: the last offset Kafka confirmed
  // as committed for it (-1: none), which the store keeps a snapshot for.
  explicit CommitCoordinator(Committer& committer, const StateStore* store = nullptr,
                             std::function<void(const std::string&)> warn = {},
                             std::function<int64_t(int32_t)> committed = {})
      : committer_(committer),
        store_(store),
        warn_(std::move(warn)),
        committed_(std::move(committed)) {}

  using Pipelines = std::map<int32_t, std::shared_ptr<pipeline::PartitionPipeline>>;
  // Commits the changed progress of `pipelines` (only those of `partitions`, when not empty).
  void round(const Pipelines& pipelines, const std::vector<int32_t>& partitions, bool sync);
  // A partition starts from a restored snapshot (`progress`): it is on disk already.
  void restored(int32_t partition, const pipeline::Progress& progress) {
    last_[partition] = progress;
  }
  // A partition left the job stage: its next owner starts from what is committed.
  void forget(int32_t partition) { last_.erase(partition); }

 private:
  bool write_snapshot(int32_t partition, const pipeline::Progress& progress);

  Committer& committer_;
  const StateStore* store_;
  std::function<void(const std::string&)> warn_;
  std::function<int64_t(int32_t)> committed_;
  std::map<int32_t, pipeline::Progress> last_;  // the last progress committed per partition
};

}  // namespace sluice::server::checkpoint
