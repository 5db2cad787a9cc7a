#pragma once
// Committer: makes partitions' progress durable. At least once, it is the consumer group's
// committed offsets with their metadata (server/kafka/group_committer); a transactional committer
// can implement it for exactly-once. Called from the job's control thread.

#include "server/pipeline/progress.hpp"

#include <cstdint>
#include <vector>

namespace sluice::server::checkpoint {

struct PartitionCommit {
  int32_t partition = 0;
  pipeline::Progress progress;
};

class Committer {
 public:
  virtual ~Committer() = default;
  // Commits every entry; `sync`: returns once the outcome is known (a revocation or shutdown).
  // The outcome is the committer's to report (status counters, log).
  virtual void commit(const std::vector<PartitionCommit>& commits, bool sync) = 0;
};

}  // namespace sluice::server::checkpoint
