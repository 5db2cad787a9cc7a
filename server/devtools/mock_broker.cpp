#include "server/devtools/mock_broker.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

namespace sluice::server::devtools {

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

struct ApiKeyName {
  std::string_view name;
  int16_t key;
};

// Kafka API keys (the protocol's numbers; librdkafka's own constants are private headers).
constexpr std::array<ApiKeyName, 12> kApiKeys{{{"Produce", 0},
                                               {"Fetch", 1},
                                               {"ListOffsets", 2},
                                               {"Metadata", 3},
                                               {"OffsetCommit", 8},
                                               {"OffsetFetch", 9},
                                               {"FindCoordinator", 10},
                                               {"JoinGroup", 11},
                                               {"Heartbeat", 12},
                                               {"LeaveGroup", 13},
                                               {"SyncGroup", 14},
                                               {"InitProducerId", 22}}};

struct ErrorName {
  std::string_view name;
  rd_kafka_resp_err_t err;
};

// Kafka's current names, plus the older NOT_LEADER_FOR_PARTITION alias librdkafka still uses.
constexpr std::array<ErrorName, 14> kErrors{{
    {"UNKNOWN_TOPIC_OR_PARTITION", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART},
    {"LEADER_NOT_AVAILABLE", RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE},
    {"NOT_LEADER_OR_FOLLOWER", RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
    {"NOT_LEADER_FOR_PARTITION", RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
    {"REQUEST_TIMED_OUT", RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT},
    {"NETWORK_EXCEPTION", RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION},
    {"COORDINATOR_LOAD_IN_PROGRESS", RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS},
    {"COORDINATOR_NOT_AVAILABLE", RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE},
    {"NOT_COORDINATOR", RD_KAFKA_RESP_ERR_NOT_COORDINATOR},
    {"NOT_ENOUGH_REPLICAS", RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS},
    {"ILLEGAL_GENERATION", RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION},
    {"UNKNOWN_MEMBER_ID", RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID},
    {"REBALANCE_IN_PROGRESS", RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS},
    {"KAFKA_STORAGE_ERROR", RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR},
}};

constexpr int kMaxPushedErrors = 100000;

template <typename Table>
std::string names_of(const Table& table) {
  std::string out;
  for (const auto& entry : table) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

void check_result(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw Error(ErrorCode::kIo, fmt::format("kafka mock: {}: {}", what, rd_kafka_err2str(err)));
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
  brokers_ = brokers;
  return bootstrap_;
}

void MockBroker::stop() {
  handles_.reset();
  bootstrap_.clear();
  brokers_ = 0;
}

MockBroker::Handles& MockBroker::live() const {
  if (handles_ == nullptr) throw Error(ErrorCode::kUsage, "kafka mock: the broker is not running");
  return *handles_;
}

void MockBroker::check_broker_id(int broker_id) const {
  if (broker_id < 1 || broker_id > brokers_)
    throw Error(ErrorCode::kUsage,
                fmt::format("no broker {}: broker ids are 1..{}", broker_id, brokers_));
}

void MockBroker::set_broker_down(int broker_id) {
  auto& h = live();
  check_broker_id(broker_id);
  check_result(rd_kafka_mock_broker_set_down(h.cluster, broker_id),
               fmt::format("broker {} down", broker_id));
}

void MockBroker::set_broker_up(int broker_id) {
  auto& h = live();
  check_broker_id(broker_id);
  check_result(rd_kafka_mock_broker_set_up(h.cluster, broker_id),
               fmt::format("broker {} up", broker_id));
}

void MockBroker::push_request_errors(const std::string& api, int count, const std::string& error) {
  auto& h = live();
  const auto* key = std::find_if(kApiKeys.begin(), kApiKeys.end(),
                                 [&](const ApiKeyName& k) { return k.name == api; });
  if (key == kApiKeys.end())
    throw Error(ErrorCode::kUsage,
                fmt::format("unknown API '{}': expected one of {}", api, api_key_names()));
  const auto* code = std::find_if(kErrors.begin(), kErrors.end(),
                                  [&](const ErrorName& e) { return e.name == error; });
  if (code == kErrors.end())
    throw Error(ErrorCode::kUsage, fmt::format("unknown error '{}': expected one of {}", error,
                                               request_error_names()));
  if (count < 1 || count > kMaxPushedErrors)
    throw Error(ErrorCode::kUsage,
                fmt::format("error count must be 1..{}, got {}", kMaxPushedErrors, count));
  std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count), code->err);
  rd_kafka_mock_push_request_errors_array(h.cluster, key->key, errors.size(), errors.data());
}

void MockBroker::set_partition_leader(const std::string& topic, int partition, int broker_id) {
  auto& h = live();
  check_broker_id(broker_id);
  check_result(rd_kafka_mock_partition_set_leader(h.cluster, topic.c_str(), partition, broker_id),
               fmt::format("leader of {} [{}]", topic, partition));
}

void MockBroker::create_topic(const std::string& topic, int partitions) {
  auto& h = live();
  check_topics({{topic, partitions}});
  check_result(
      rd_kafka_mock_topic_create(h.cluster, topic.c_str(), partitions, std::min(brokers_, 3)),
      fmt::format("cannot create topic '{}'", topic));
}

std::string MockBroker::api_key_names() {
  return names_of(kApiKeys);
}

std::string MockBroker::request_error_names() {
  return names_of(kErrors);
}

}  // namespace sluice::server::devtools
