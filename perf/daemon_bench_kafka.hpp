#pragma once
// librdkafka helpers of sluice_daemon_bench (daemon_bench_run.cpp): clients, the offsets of a
// topic's partitions, and the records a read_committed consumer reads from a topic. Every call
// blocks (bounded) and cleans up after itself; call from any one thread.

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::perf {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

// A client with `props`; throws sluice::Error (kConfig: a bad property; kIo: rd_kafka_new failed).
Handle make_client(rd_kafka_type_t type,
                   const std::vector<std::pair<std::string, std::string>>& props,
                   void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*) = nullptr,
                   void* opaque = nullptr);

// Low and high watermark of every partition of `topic`; throws sluice::Error (kIo).
std::vector<std::pair<int64_t, int64_t>> topic_offsets(const std::string& bootstrap,
                                                       const std::string& topic, int partitions);

// The records a read_committed consumer reads from every partition of `topic`, from the start to
// the last stable offset (commit markers and aborted records are not delivered); bounded: 120 s.
uint64_t count_committed(const std::string& bootstrap, const std::string& topic, int partitions);

}  // namespace sluice::perf
