#pragma once
// GroupCommitter: checkpoint::Committer on the consumer group's committed offsets. Each partition's
// offset carries its progress as metadata (checkpoint/commit_point.hpp). Asynchronous commits
// report their outcome to the consumer's commit callback (served by the control thread's poll);
// synchronous ones (revocation, shutdown) return once it is known.
// Threading: the job stage's control thread.

#include "server/checkpoint/committer.hpp"
#include "server/kafka/group_member.hpp"

#include <functional>
#include <string>

namespace sluice::server::kafka {

// The offsets of `commits` in `topic`, each with its progress as metadata.
PartitionList commit_list(const std::string& topic,
                          const std::vector<checkpoint::PartitionCommit>& commits);

class GroupCommitter final : public checkpoint::Committer {
 public:
  // `on_error` hears of a commit that could not even be sent (asynchronous ones only).
  GroupCommitter(GroupMember& member, std::function<void(const std::string&)> on_error)
      : member_(member), on_error_(std::move(on_error)) {}

  void commit(const std::vector<checkpoint::PartitionCommit>& commits, bool sync) override;

 private:
  GroupMember& member_;
  std::function<void(const std::string&)> on_error_;
};

}  // namespace sluice::server::kafka
