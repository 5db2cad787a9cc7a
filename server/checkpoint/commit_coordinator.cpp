#include "server/checkpoint/commit_coordinator.hpp"

#include <fmt/format.h>

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
    // A checkpoint without a full snapshot (the changelog holds it) has nothing to write.
    bool new_snapshot = progress.checkpoint && !progress.checkpoint->state.empty() &&
                        (it == last_.end() || it->second.checkpoint != progress.checkpoint);
    if (new_snapshot && !write_snapshot(id, progress)) continue;
    commits.push_back({id, progress});
    last_[id] = progress;
  }
  if (!commits.empty()) committer_.commit(commits, sync);
}

bool CommitCoordinator::write_snapshot(int32_t partition, const pipeline::Progress& progress) {
  if (store_ == nullptr) return true;
  std::string why =
      store_->write(partition, *progress.checkpoint, committed_ ? committed_(partition) : -1);
  if (why.empty()) return true;
  // With the state in the changelog the snapshot only speeds restores up: the offset commits.
  bool commit = progress.checkpoint->in_changelog;
  if (warn_)
    warn_(fmt::format(
        "partition {}: state snapshot at offset {} not written ({}): {}", partition,
        progress.checkpoint->offset,
        commit ? "the changelog holds the state, the offset is committed" : "offset not committed",
        why));
  return commit;
}

}  // namespace sluice::server::checkpoint
