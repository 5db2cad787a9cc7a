#include "server/kafka/topic_sink.hpp"

namespace sluice::server::kafka {
namespace {

// Room left for the broker's per-record and per-batch overhead below message.max.bytes.
constexpr size_t kOverheadBytes = 512;

}  // namespace

TopicSink::TopicSink(std::shared_ptr<KafkaProducer> producer, std::string topic)
    : producer_(std::move(producer)),
      topic_(std::move(topic)),
      handle_(rd_kafka_topic_new(producer_->client(), topic_.c_str(), nullptr)),
      max_bytes_(producer_->max_message_bytes() > 2 * kOverheadBytes
                     ? producer_->max_message_bytes() - kOverheadBytes
                     : producer_->max_message_bytes()) {}

pipeline::SendResult TopicSink::send(const pipeline::OutputRecord& record,
                                     pipeline::DeliveryTicket* ticket, std::string& error) {
  if (record.size() > max_bytes_) return pipeline::SendResult::kTooLarge;
  const void* key = record.key ? record.key->data() : nullptr;
  size_t key_len = record.key ? record.key->size() : 0;
  auto* value = const_cast<char*>(record.value.data());
  rd_kafka_resp_err_t err;
  if (!record.headers.empty()) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& h : record.headers)
      rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                          h.value.data(), static_cast<ssize_t>(h.value.size()));
    err = rd_kafka_producev(producer_->client(), RD_KAFKA_V_RKT(handle_.get()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                            RD_KAFKA_V_VALUE(value, record.value.size()),
                            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(ticket), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(headers);
  } else if (record.timestamp_ms >= 0) {
    err = rd_kafka_producev(producer_->client(), RD_KAFKA_V_RKT(handle_.get()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                            RD_KAFKA_V_VALUE(value, record.value.size()),
                            RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_OPAQUE(ticket),
                            RD_KAFKA_V_END);
  } else {
    int rc = rd_kafka_produce(handle_.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value,
                              record.value.size(), key, key_len, ticket);
    err = rc == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
  }
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return pipeline::SendResult::kQueued;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return pipeline::SendResult::kFull;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return pipeline::SendResult::kTooLarge;
    default:
      error = rd_kafka_err2str(err);
      return pipeline::SendResult::kFailed;
  }
}

void TopicSink::notify_when_room(std::function<void()> room) {
  producer_->notify_when_room(std::move(room));
}

}  // namespace sluice::server::kafka
