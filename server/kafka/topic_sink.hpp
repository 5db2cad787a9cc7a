#pragma once
// TopicSink: pipeline::RecordSink on one topic of a job stage's KafkaProducer (the output, the
// dead-letter or the repartition topic). `send` never blocks: a full producer queue is kFull (flow
// control) and a record over the producer's message.max.bytes is kTooLarge.
// Lifecycle: lives as long as its job stage; the producer outlives it. Threading: any strand.

#include "server/kafka/producer.hpp"
#include "server/pipeline/sink.hpp"

#include <memory>
#include <string>

namespace sluice::server::kafka {

// Room left below the producer's message.max.bytes for the broker's per-record and per-batch
// overhead: a record larger than the limit less this is kTooLarge.
inline constexpr size_t kRecordOverheadBytes = 512;

class TopicSink final : public pipeline::RecordSink {
 public:
  TopicSink(std::shared_ptr<KafkaProducer> producer, std::string topic);

  pipeline::SendResult send(const pipeline::OutputRecord& record, pipeline::DeliveryTicket* ticket,
                            std::string& error) override;
  void notify_when_room(std::function<void()> room) override;
  size_t max_record_bytes() const override { return max_bytes_; }
  const std::string& name() const override { return topic_; }

 private:
  std::shared_ptr<KafkaProducer> producer_;
  std::string topic_;
  TopicHandle handle_;
  size_t max_bytes_;
};

}  // namespace sluice::server::kafka
