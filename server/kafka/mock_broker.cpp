#include "server/kafka/mock_broker.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <set>

namespace sluice::server::kafka {

struct MockBroker::Handles {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;

  ~Handles() {
    // The cluster borrows the handle, so it goes first.
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

namespace {

constexpr int kMaxBrokers = 64;
constexpr int kMaxPartitions = 10000;

// Kafka's own rule for topic names.
bool valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

void check_topics(const std::vector<TopicSpec>& topics) {
  std::set<std::string> seen;
  for (const auto& t : topics) {
    if (!valid_topic_name(t.name))
      throw Error(ErrorCode::kUsage,
                  fmt::format("invalid topic name '{}': use 1..249 of a-z A-Z 0-9 . _ -", t.name));
    if (t.partitions < 1 || t.partitions > kMaxPartitions)
      throw Error(ErrorCode::kUsage, fmt::format("topic '{}': partitions must be 1..{}, got {}",
                                                 t.name, kMaxPartitions, t.partitions));
    if (!seen.insert(t.name).second)
      throw Error(ErrorCode::kUsage, fmt::format("topic '{}' is given twice", t.name));
  }
}

// The handle only hosts the cluster (librdkafka needs one for its bookkeeping); it never connects
// anywhere. log_level 4 hides its notice that no bootstrap.servers is configured.
rd_kafka_t* new_host_handle() {
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "4", errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorCode::kInternal, fmt::format("kafka mock: {}", errstr.data()));
  }
  // On success rd_kafka_new owns conf; on failure the caller still does.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.data(), errstr.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw Error(ErrorCode::kIo, fmt::format("kafka mock: cannot create client: {}", errstr.data()));
  }
  return rk;
}

}  // namespace

MockBroker::MockBroker() = default;

MockBroker::~MockBroker() {
  stop();
}

std::string MockBroker::start(int brokers, const std::vector<TopicSpec>& topics) {
  SLUICE_ASSERT(handles_ == nullptr);
  if (brokers < 1 || brokers > kMaxBrokers)
    throw Error(ErrorCode::kUsage,
                fmt::format("brokers must be 1..{}, got {}", kMaxBrokers, brokers));
  check_topics(topics);

  auto handles = std::make_unique<Handles>();
  handles->rk = new_host_handle();
  handles->cluster = rd_kafka_mock_cluster_new(handles->rk, brokers);
  if (handles->cluster == nullptr)
    throw Error(ErrorCode::kIo, "kafka mock: cannot create the cluster (no free loopback port?)");
  int replication = std::min(brokers, 3);
  for (const auto& t : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(handles->cluster, t.name.c_str(), t.partitions, replication);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw Error(ErrorCode::kIo, fmt::format("kafka mock: cannot create topic '{}': {}", t.name,
                                              rd_kafka_err2str(err)));
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(handles->cluster);
  handles_ = std::move(handles);
  return bootstrap_;
}

void MockBroker::stop() {
  handles_.reset();
  bootstrap_.clear();
}

}  // namespace sluice::server::kafka
