#include "server/kafka/changelog_reader.hpp"

#include "server/kafka/rd_handles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace sluice::server::kafka {
namespace {

// Unassigns the reader however the read ends.
struct Assignment {
  rd_kafka_t* reader;
  ~Assignment() { rd_kafka_assign(reader, nullptr); }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> reader_defaults() {
  return {{"queued.min.messages", "10000000"},
          {"queued.max.messages.kbytes", "262144"},
          {"fetch.max.bytes", "67108864"},
          {"max.partition.fetch.bytes", "16777216"},
          {"fetch.wait.max.ms", "10"},
          // An offset past the end (the topic was made anew): all of it; records the state
          // already covers are skipped by their checkpoint.
          {"auto.offset.reset", "earliest"}};
}

std::string read_partition(rd_kafka_t* reader, const std::string& topic, int32_t partition,
                           int64_t from, int timeout_ms,
                           const std::function<void(const rd_kafka_message_t&)>& record,
                           int64_t* end) {
  int64_t low = 0;
  int64_t high = 0;
  // A topic just created may not have a known leader yet (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC):
  // asked again until the timeout.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  rd_kafka_resp_err_t err;
  while (true) {
    int left =
        static_cast<int>(std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  deadline - std::chrono::steady_clock::now())
                                                  .count()));
    err = rd_kafka_query_watermark_offsets(reader, topic.c_str(), partition, &low, &high, left);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (std::chrono::steady_clock::now() >= deadline)
      return fmt::format("reading the offsets of '{}' partition {}: {}", topic, partition,
                         rd_kafka_err2str(err));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // `low` and `high` only tell the partition is there: the read goes on to the end-of-partition
  // event (librdkafka 2.0 can return low = high when one of its two ListOffsets requests failed).
  (void)low;
  (void)high;
  *end = from < 0 ? 0 : from;
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset =
      from < 0 ? RD_KAFKA_OFFSET_BEGINNING : from;
  if ((err = rd_kafka_assign(reader, list.get())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("assigning '{}' partition {}: {}", topic, partition, rd_kafka_err2str(err));
  Assignment assigned{reader};
  deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    MessageHandle m(rd_kafka_consumer_poll(reader, 100));
    if (!m) {
      if (std::chrono::steady_clock::now() > deadline)
        return fmt::format("reading '{}' partition {}: nothing arrived for {} ms", topic, partition,
                           timeout_ms);
      continue;
    }
    // (what a previous read of another partition left queued is not this one's)
    if (m->rkt != nullptr && (m->partition != partition || topic != rd_kafka_topic_name(m->rkt)))
      continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      *end = std::max(*end, m->offset);
      return "";
    }
    if (m->err)
      return fmt::format("reading '{}' partition {}: {}", topic, partition,
                         rd_kafka_message_errstr(m.get()));
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    *end = std::max(*end, m->offset + 1);
    record(*m);
  }
}

}  // namespace sluice::server::kafka
