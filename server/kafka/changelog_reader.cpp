#include "server/kafka/changelog_reader.hpp"

#include "server/kafka/rd_handles.hpp"

#include <fmt/format.h>

#include <chrono>

namespace sluice::server::kafka {
namespace {

// Unassigns the reader however the read ends.
struct Assignment {
  rd_kafka_t* reader;
  ~Assignment() { rd_kafka_assign(reader, nullptr); }
};

}  // namespace

std::string read_partition(rd_kafka_t* reader, const std::string& topic, int32_t partition,
                           int64_t from, int timeout_ms,
                           const std::function<void(const rd_kafka_message_t&)>& record,
                           int64_t* end) {
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(reader, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("reading the offsets of '{}' partition {}: {}", topic, partition,
                       rd_kafka_err2str(err));
  *end = high;
  int64_t start = from < low ? low : from;
  if (start >= high) return "";
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = start;
  if ((err = rd_kafka_assign(reader, list.get())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("assigning '{}' partition {}: {}", topic, partition, rd_kafka_err2str(err));
  Assignment assigned{reader};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    MessageHandle m(rd_kafka_consumer_poll(reader, 100));
    if (!m) {
      if (std::chrono::steady_clock::now() > deadline)
        return fmt::format("reading '{}' partition {}: nothing arrived for {} ms", topic, partition,
                           timeout_ms);
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return "";
    if (m->err)
      return fmt::format("reading '{}' partition {}: {}", topic, partition,
                         rd_kafka_message_errstr(m.get()));
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    record(*m);
    if (m->offset + 1 >= high) return "";
  }
}

}  // namespace sluice::server::kafka
