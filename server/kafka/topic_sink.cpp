#include "server/kafka/topic_sink.hpp"

#include <array>

namespace sluice::server::kafka {

TopicSink::TopicSink(std::shared_ptr<KafkaProducer> producer, std::string topic)
    : producer_(std::move(producer)),
      topic_(std::move(topic)),
      handle_(rd_kafka_topic_new(producer_->client(), topic_.c_str(), nullptr)),
      max_bytes_(producer_->max_message_bytes() > 2 * kRecordOverheadBytes
                     ? producer_->max_message_bytes() - kRecordOverheadBytes
                     : producer_->max_message_bytes()) {}

pipeline::SendResult TopicSink::send(const pipeline::OutputRecord& record,
                                     pipeline::DeliveryTicket* ticket, std::string& error) {
  if (record.size() > max_bytes_) return pipeline::SendResult::kTooLarge;
  const void* key = record.key ? record.key->data() : nullptr;
  size_t key_len = record.key ? record.key->size() : 0;
  auto* value = const_cast<char*>(record.value.data());
  rd_kafka_resp_err_t err;
  if (record.headers.empty() && record.timestamp_ms < 0 && record.partition < 0 &&
      !record.tombstone) {  // the common case, without building a produce request
    int rc = rd_kafka_produce(handle_.get(), RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value,
                              record.value.size(), key, key_len, ticket);
    err = rc == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error();
  } else {
    std::array<rd_kafka_vu_t, 8> vu{};
    size_t n = 0;
    auto add = [&](rd_kafka_vtype_t type) -> rd_kafka_vu_t& {
      vu[n].vtype = type;
      return vu[n++];
    };
    add(RD_KAFKA_VTYPE_RKT).u.rkt = handle_.get();
    add(RD_KAFKA_VTYPE_MSGFLAGS).u.i = RD_KAFKA_MSG_F_COPY;
    add(RD_KAFKA_VTYPE_OPAQUE).u.ptr = ticket;
    add(RD_KAFKA_VTYPE_KEY).u.mem = {const_cast<void*>(key), key_len};
    add(RD_KAFKA_VTYPE_VALUE).u.mem = {record.tombstone ? nullptr : value,
                                       record.tombstone ? 0 : record.value.size()};
    if (record.partition >= 0) add(RD_KAFKA_VTYPE_PARTITION).u.i32 = record.partition;
    if (record.timestamp_ms >= 0) add(RD_KAFKA_VTYPE_TIMESTAMP).u.i64 = record.timestamp_ms;
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& h : record.headers)
        rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                            h.value.data(), static_cast<ssize_t>(h.value.size()));
      add(RD_KAFKA_VTYPE_HEADERS).u.headers = headers;
    }
    rd_kafka_error_t* e = rd_kafka_produceva(producer_->client(), vu.data(), n);
    err = e != nullptr ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e != nullptr) {
      rd_kafka_error_destroy(e);
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
    }
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
