#include "server/kafka/group_committer.hpp"

#include "server/checkpoint/commit_point.hpp"

#include <cstdlib>
#include <cstring>

namespace sluice::server::kafka {

PartitionList commit_list(const std::string& topic,
                          const std::vector<checkpoint::PartitionCommit>& commits) {
  PartitionList list = partition_list(static_cast<int>(commits.size()));
  for (const auto& c : commits) {
    auto* e = rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), c.partition);
    e->offset = c.progress.offset;
    std::string md = checkpoint::encode_metadata(c.progress);
    e->metadata = malloc(md.size());  // freed by the list (rd_free)
    std::memcpy(e->metadata, md.data(), md.size());
    e->metadata_size = md.size();
  }
  return list;
}

void GroupCommitter::commit(const std::vector<checkpoint::PartitionCommit>& commits, bool sync) {
  PartitionList list = commit_list(member_.topic(), commits);
  rd_kafka_resp_err_t err = member_.commit(list.get(), sync);
  if (err && !sync) on_error_(rd_kafka_err2str(err));
}

}  // namespace sluice::server::kafka
