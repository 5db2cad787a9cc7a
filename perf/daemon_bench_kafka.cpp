#include "perf/daemon_bench_kafka.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>

namespace sluice::perf {

using Clock = std::chrono::steady_clock;

Handle make_client(rd_kafka_type_t type,
                   const std::vector<std::pair<std::string, std::string>>& props,
                   void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*),
                   void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::array<char, 512> err{};
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw Error(ErrorCode::kConfig, fmt::format("{}={}: {}", k, v, err.data()));
    }
  }
  if (on_delivery != nullptr) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err.data(), err.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorCode::kIo, fmt::format("rd_kafka_new: {}", err.data()));
  }
  return Handle(rk);
}

std::vector<std::pair<int64_t, int64_t>> topic_offsets(const std::string& bootstrap,
                                                       const std::string& topic, int partitions) {
  Handle h = make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}});
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = -1;
    int64_t hi = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(h.get(), topic.c_str(), p, &lo, &hi, 10000);
    if (err)
      throw Error(ErrorCode::kIo,
                  fmt::format("offsets of {} [{}]: {}", topic, p, rd_kafka_err2str(err)));
    out.emplace_back(lo, hi);
  }
  return out;
}

uint64_t count_committed(const std::string& bootstrap, const std::string& topic, int partitions) {
  Handle h = make_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                             {"group.id", "sluice-bench-count"},
                                             {"isolation.level", "read_committed"},
                                             {"enable.partition.eof", "true"},
                                             {"enable.auto.commit", "false"}});
  rd_kafka_poll_set_consumer(h.get());
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(h.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err)
    throw Error(ErrorCode::kIo, fmt::format("assigning {}: {}", topic, rd_kafka_err2str(err)));
  uint64_t count = 0;
  int at_end = 0;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (at_end < partitions) {
    if (Clock::now() > deadline)
      throw Error(ErrorCode::kIo, fmt::format("reading {} read_committed: not at its end in 120 s "
                                              "({} records so far)",
                                              topic, count));
    rd_kafka_message_t* m = rd_kafka_consumer_poll(h.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      ++at_end;  // (each partition once: nothing is written to it any more)
    else if (m->err)
      at_end = partitions + 1;  // reported below
    else
      ++count;
    std::string error = m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF
                            ? rd_kafka_message_errstr(m)
                            : std::string();
    rd_kafka_message_destroy(m);
    if (!error.empty())
      throw Error(ErrorCode::kIo, fmt::format("reading {} read_committed: {}", topic, error));
  }
  rd_kafka_consumer_close(h.get());
  return count;
}

}  // namespace sluice::perf
