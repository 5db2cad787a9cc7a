#pragma once
// GroupMember: a job stage's consumer in its consumer group. It subscribes to the source topic,
// turns the group's rebalances into `assigned` (with the progress committed for each partition,
// read from the committed offsets and their metadata) and `revoked` (lost or not) calls on its
// listener, for the eager and the cooperative protocol alike, commits progress (GroupCommitter),
// and opens each assigned partition's source.
//
// Pausing: librdkafka keeps a partition's pause across a revocation, and a pause or resume issued
// while an assignment starts fetching can overtake its fetch start and cancel it (the ops carry
// versions taken before they are queued). So the pause state of assigned partitions is set here,
// synchronously, before the assignment; their sources start knowing it, and pipelines change it
// only once they read (backpressure) or when asked (the admin API).
//
// Lifecycle: owns the consumer; `close()` leaves the group (after the listener retired every
// partition), the destructor destroys the client. Threading: the stage's control thread (which
// polls it, so rebalance and commit callbacks run there too); `source()` sources are used by the
// pipelines (see KafkaPartitionSource), which wake their fetcher through the member's FetchWaker;
// `client()` for thread-safe librdkafka calls.

#include "server/kafka/fetch_waker.hpp"
#include "server/kafka/partition_source.hpp"
#include "server/kafka/rd_handles.hpp"
#include "server/pipeline/progress.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::kafka {

class GroupListener {
 public:
  virtual ~GroupListener() = default;
  // The group assigned `partitions` (with their committed progress; offset -1: none). The
  // listener starts their pipelines; the consumer fetches them once this returns, from each
  // progress's offset as the listener left it (a restored state snapshot moves it to the
  // snapshot's). `committed_error`: why the committed offsets could not be read (empty: they
  // were; otherwise every progress is offset -1 and the consumer resumes from what is committed).
  // Returns whether they start paused (the admin API's pause).
  virtual bool assigned(std::vector<std::pair<int32_t, pipeline::Progress>>& partitions,
                        const std::string& committed_error) = 0;
  // The group takes `partitions` away; `lost`: another member may own them already, so nothing
  // may be committed for them. The listener retires their pipelines before this returns.
  virtual void revoked(const std::vector<int32_t>& partitions, bool lost) = 0;
  // A problem worth a log line (throttled by the listener).
  virtual void warn(const char* what, const std::string& message) = 0;
};

class GroupMember {
 public:
  GroupMember(rd_kafka_t* consumer, std::string topic, GroupListener& listener);
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  rd_kafka_t* client() { return consumer_.get(); }
  // Subscribes to the topic; false with `error` set on failure.
  bool subscribe(std::string* error);
  // Called by the consumer's rebalance callback (the control thread, inside a poll).
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // The source of an assigned partition (the listener's `assigned`); `routed`: of a repartition
  // topic (KafkaPartitionSource).
  std::unique_ptr<KafkaPartitionSource> source(const std::string& job, int32_t partition,
                                               bool paused, bool routed = false);
  // Commits offsets with their metadata; the outcome goes to the consumer's commit callback.
  rd_kafka_resp_err_t commit(rd_kafka_topic_partition_list_t* offsets, bool sync);
  // A metadata request (bounded): true when the cluster answered.
  bool probe(int timeout_ms);
  // Assigns `partitions` (already assigned, their pipelines retired) again from their committed
  // offsets, through the listener's `assigned` as after a rebalance (an aborted transaction).
  void reassign(const std::vector<int32_t>& partitions);
  // Leaves the group (its revocation finds nothing assigned).
  void close();
  const std::string& topic() const { return topic_; }

 private:
  void assign(rd_kafka_topic_partition_list_t* parts);
  void revoke(rd_kafka_topic_partition_list_t* parts);
  bool cooperative();

  std::string topic_;
  GroupListener& listener_;
  WakerRegistry wakers_;  // destroyed after the consumer (declared before it)
  ClientHandle consumer_;
  FetchWaker fetch_waker_;  // stopped before the consumer closes
  RefillTrigger refill_;    // the consumer's prefetch bounds, copied into each source
  bool closed_ = false;
};

}  // namespace sluice::server::kafka
