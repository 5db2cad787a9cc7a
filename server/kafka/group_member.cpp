#include "server/kafka/group_member.hpp"

#include "server/checkpoint/commit_point.hpp"

#include <cstdlib>

namespace sluice::server::kafka {
namespace {

int64_t conf_number(rd_kafka_t* rk, const char* name) {
  char value[64];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size) != RD_KAFKA_CONF_OK) return 0;
  return std::strtoll(value, nullptr, 10);
}

}  // namespace

GroupMember::GroupMember(rd_kafka_t* consumer, std::string topic, GroupListener& listener)
    : topic_(std::move(topic)),
      listener_(listener),
      consumer_(consumer),
      fetch_waker_(consumer),
      refill_(conf_number(consumer, "queued.max.messages.kbytes") * 1024,
              conf_number(consumer, "queued.min.messages")) {}

GroupMember::~GroupMember() {
  close();
}

bool GroupMember::subscribe(std::string* error) {
  PartitionList topics = partition_list(1);
  rd_kafka_topic_partition_list_add(topics.get(), topic_.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get());
  if (err) *error = rd_kafka_err2str(err);
  return !err;
}

bool GroupMember::cooperative() {
  return std::string_view(rd_kafka_rebalance_protocol(consumer_.get())) == "COOPERATIVE";
}

void GroupMember::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(parts);
    return;
  }
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    listener_.warn("rebalance", rd_kafka_err2str(err));
  revoke(parts);
  if (cooperative())
    ErrorHandle(rd_kafka_incremental_unassign(consumer_.get(), parts));
  else
    rd_kafka_assign(consumer_.get(), nullptr);
}

void GroupMember::assign(rd_kafka_topic_partition_list_t* parts) {
  // Where to start, and the progress to restore, from the committed offsets and their metadata.
  PartitionList committed(rd_kafka_topic_partition_list_copy(parts));
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a coordinator moving: try again
    err = rd_kafka_committed(consumer_.get(), committed.get(), 10000);
    if (!err) break;
    listener_.warn("reading committed offsets", rd_kafka_err2str(err));
  }
  std::vector<std::pair<int32_t, pipeline::Progress>> assigned;
  for (int i = 0; i < parts->cnt; ++i) {
    auto& p = parts->elems[i];
    pipeline::Progress restored;
    const auto& c = committed->elems[i];
    if (!err && c.offset >= 0) {
      std::string_view md;
      if (c.metadata != nullptr) md = {static_cast<const char*>(c.metadata), c.metadata_size};
      restored = checkpoint::decode_progress(c.offset, md);
    }
    assigned.emplace_back(p.partition, restored);
  }
  bool paused = listener_.assigned(assigned, err ? rd_kafka_err2str(err) : "");
  for (int i = 0; i < parts->cnt; ++i) {
    int64_t offset = assigned[static_cast<size_t>(i)].second.offset;
    parts->elems[i].offset = offset >= 0 ? offset : RD_KAFKA_OFFSET_INVALID;
  }
  // Synchronous, and before the assignment starts fetching (see the header).
  if (paused)
    rd_kafka_pause_partitions(consumer_.get(), parts);
  else
    rd_kafka_resume_partitions(consumer_.get(), parts);
  if (cooperative())
    ErrorHandle(rd_kafka_incremental_assign(consumer_.get(), parts));
  else
    rd_kafka_assign(consumer_.get(), parts);
}

void GroupMember::reassign(const std::vector<int32_t>& partitions) {
  PartitionList parts = partition_list(static_cast<int>(partitions.size()));
  for (int32_t id : partitions)
    rd_kafka_topic_partition_list_add(parts.get(), topic_.c_str(), id);
  // Dropping them first discards what was fetched beyond the committed offsets.
  if (cooperative())
    ErrorHandle(rd_kafka_incremental_unassign(consumer_.get(), parts.get()));
  else
    rd_kafka_assign(consumer_.get(), nullptr);
  assign(parts.get());
}

void GroupMember::revoke(rd_kafka_topic_partition_list_t* parts) {
  std::vector<int32_t> ids;
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i)
    ids.push_back(parts->elems[i].partition);
  if (ids.empty()) return;
  listener_.revoked(ids, rd_kafka_assignment_lost(consumer_.get()));
}

std::unique_ptr<KafkaPartitionSource> GroupMember::source(const std::string& job, int32_t partition,
                                                          bool paused, bool routed) {
  return std::make_unique<KafkaPartitionSource>(consumer_.get(), wakers_, fetch_waker_, refill_,
                                                job, topic_, partition, paused, routed);
}

rd_kafka_resp_err_t GroupMember::commit(rd_kafka_topic_partition_list_t* offsets, bool sync) {
  return rd_kafka_commit(consumer_.get(), offsets, sync ? 0 : 1);
}

bool GroupMember::probe(int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(consumer_.get(), 0, nullptr, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return false;
  rd_kafka_metadata_destroy(md);
  return true;
}

void GroupMember::close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  fetch_waker_.stop();
  rd_kafka_consumer_close(consumer_.get());
}

}  // namespace sluice::server::kafka
