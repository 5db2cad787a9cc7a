#pragma once
// KafkaPartitionSource: pipeline::PartitionSource on one partition of a job's consumer. It reads
// the partition's own queue (rd_kafka_queue_get_partition, forwarded nowhere, so only its pipeline
// reads it), in batches, and is woken by the queue's event callback when records arrive.
// `pause` pauses or resumes the partition's fetching in the consumer when that changes its state;
// the source starts in the state its GroupMember set before the assignment. When a read drains a
// queue that had filled to the prefetch bound, or the partition resumes, the source asks the
// consumer's FetchWaker to get its fetcher going at once (see fetch_waker.hpp).
//
// Lifecycle: created on the control thread at assignment; `close` (any thread, once the pipeline
// no longer needs it, at the latest before the consumer is destroyed) stops wake-ups and releases
// the queue. Threading: `read_batch`, `pause` on the pipeline's strand; `close` from the control
// thread: a mutex (taken once per batch) keeps the two apart. The wake-up function is owned by the
// consumer's WakerRegistry, so a callback already running on a librdkafka thread never outlives it.

#include "server/kafka/fetch_waker.hpp"
#include "server/kafka/rd_handles.hpp"
#include "server/pipeline/source.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::server::kafka {

// Keeps wake-up functions alive as long as the consumer whose queues call them.
class WakerRegistry {
 public:
  using Wake = std::function<void()>;
  // A stable pointer to `wake`, for a queue's event callback opaque.
  Wake* add(Wake wake);

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Wake>> wakers_;
};

class KafkaPartitionSource final : public pipeline::PartitionSource {
 public:
  // `consumer`, `wakers` and `fetch_waker` outlive the source (the job closes its sources
  // first); `refill` starts with the consumer's prefetch bounds.
  KafkaPartitionSource(rd_kafka_t* consumer, WakerRegistry& wakers, FetchWaker& fetch_waker,
                       RefillTrigger refill, std::string job, std::string topic, int32_t partition,
                       bool paused, bool routed = false);
  ~KafkaPartitionSource() override;

  std::span<const pipeline::InputRecord> read_batch(size_t max) override;
  void pause(bool paused) override;
  bool paused() const override { return paused_; }
  void set_wakeup(std::function<void()> wake) override;
  void close() override;
  int32_t partition() const override { return partition_; }
  const std::string& topic() const override { return topic_; }

 private:
  void release_messages();

  rd_kafka_t* consumer_;
  WakerRegistry& wakers_;
  FetchWaker& fetch_waker_;
  RefillTrigger refill_;
  std::string job_;
  std::string topic_;
  int32_t partition_;
  std::mutex mu_;
  bool paused_;
  bool routed_;        // a repartition topic: a router's sluice.* headers are read, not passed on
  QueueHandle queue_;  // null once closed
  std::vector<rd_kafka_message_t*> messages_;
  size_t held_ = 0;  // messages_ of the last read, destroyed at the next
  std::vector<pipeline::InputRecord> records_;
  std::vector<pipeline::RecordHeader> headers_;  // of all records_, in order
  std::vector<size_t> header_ends_;              // records_[i]'s headers end at header_ends_[i]
};

}  // namespace sluice::server::kafka
