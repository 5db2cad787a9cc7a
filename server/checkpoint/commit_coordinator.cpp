#include "server/checkpoint/commit_coordinator.hpp"

#include <algorithm>

namespace sluice::server::checkpoint {

void CommitCoordinator::round(const Pipelines& pipelines, const std::vector<int32_t>& partitions,
                              bool sync) {
  std::vector<PartitionCommit> commits;
  for (const auto& [id, p] : pipelines) {
    p->request_publish();  // for the next round (a drained pipeline published already)
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), id) == partitions.end())
      continue;
    pipeline::Progress progress = p->progress();
    if (progress.offset < 0) continue;
    auto it = last_.find(id);
    if (it != last_.end() && it->second == progress) continue;
    commits.push_back({id, progress});
    last_[id] = progress;
  }
  if (!commits.empty()) committer_.commit(commits, sync);
}

}  // namespace sluice::server::checkpoint
