#pragma once
// CommitCoordinator: one commit round of a job stage. It asks each pipeline to publish a fresh
// progress for the next round, takes the progress each published since the last one, and hands the
// partitions whose progress changed to the Committer. The publish request is answered on the
// pipeline's strand later, so a round commits what the pipelines published a round ago (about one
// commit interval): the scan of open windows runs once per interval, not per batch.
// Lifecycle: lives as long as its job stage. Threading: the job's control thread only.

#include "server/checkpoint/committer.hpp"
#include "server/pipeline/partition_pipeline.hpp"

#include <map>
#include <memory>
#include <vector>

namespace sluice::server::checkpoint {

class CommitCoordinator {
 public:
  explicit CommitCoordinator(Committer& committer) : committer_(committer) {}

  using Pipelines = std::map<int32_t, std::shared_ptr<pipeline::PartitionPipeline>>;
  // Commits the changed progress of `pipelines` (only those of `partitions`, when not empty).
  void round(const Pipelines& pipelines, const std::vector<int32_t>& partitions, bool sync);
  // A partition left the job stage: its next owner starts from what is committed.
  void forget(int32_t partition) { last_.erase(partition); }

 private:
  Committer& committer_;
  std::map<int32_t, pipeline::Progress> last_;  // the last progress committed per partition
};

}  // namespace sluice::server::checkpoint
