#pragma once
// Small librdkafka clients for tests against the mock broker (server/kafka/MockBroker): a keyed
// producer that records where each message was delivered, a consumer that assigns partitions and
// reads with a bounded poll loop, a metadata query and a plain TCP connect probe. Tests may use
// librdkafka directly; product code keeps it inside server/kafka/.
//
// Lifecycle: each helper owns its handles and destroys them before returning (or in its
// destructor). Threading: one test thread; delivery reports run inside `flush` on that thread.

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sluice::kafka_testing {

// A message as produced (partition from the delivery report) or consumed.
struct Message {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string key;
  std::string value;
};

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

inline void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  std::array<char, 512> errstr{};
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr.data(), errstr.size()) !=
      RD_KAFKA_CONF_OK)
    throw std::runtime_error(std::string("conf ") + name + ": " + errstr.data());
}

inline Handle make_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr.data(), errstr.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + errstr.data());
  }
  return Handle(rk);
}

// Produces keyed messages with the default partitioner; `flush` waits for every delivery report
// and returns the delivered messages (with partition and offset) in report order.
class Producer {
 public:
  explicit Producer(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = make_handle(RD_KAFKA_PRODUCER, conf);
  }

  // `headers`: name and value (nullopt: a null value), in order.
  using Headers = std::vector<std::pair<std::string, std::optional<std::string>>>;
  void produce(const std::string& topic, const std::string& key, const std::string& value,
               const Headers& headers = {}) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
    for (const auto& [name, v] : headers)
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()),
                          v ? v->data() : nullptr, v ? static_cast<ssize_t>(v->size()) : 0);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);
      throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    }
  }

  // Waits up to `timeout` for all outstanding deliveries; throws on timeout or a failed delivery.
  std::vector<Message> flush(std::chrono::milliseconds timeout) {
    rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("flush: ") + rd_kafka_err2str(err));
    if (!failure_.empty()) throw std::runtime_error("delivery failed: " + failure_);
    return std::exchange(delivered_, {});
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->failure_ = rd_kafka_err2str(m->err);
      return;
    }
    self->delivered_.push_back({rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                                std::string(static_cast<const char*>(m->key), m->key_len),
                                std::string(static_cast<const char*>(m->payload), m->len)});
  }

  Handle rk_;
  std::vector<Message> delivered_;
  std::string failure_;
};

// Assigns partitions 0..partitions-1 of `topic` from the beginning and polls until `expected`
// messages arrived or `timeout` passed; returns what it got, in arrival order.
inline std::vector<Message> consume(const std::string& bootstrap, const std::string& topic,
                                    int partitions, size_t expected,
                                    std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", "sluice-test-" + topic);
  set(conf, "enable.auto.commit", "false");
  Handle rk = make_handle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("assign: ") + rd_kafka_err2str(err));

  std::vector<Message> got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      got.push_back({rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                     std::string(static_cast<const char*>(m->key), m->key_len),
                     std::string(static_cast<const char*>(m->payload), m->len)});
    rd_kafka_message_destroy(m);  // partition EOF and transient errors: keep polling
  }
  rd_kafka_consumer_close(rk.get());
  return got;
}

// The partition count of `topic` as the cluster's metadata reports it, or -1 if it is unknown.
inline int partition_count(const std::string& bootstrap, const std::string& topic) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  Handle rk = make_handle(RD_KAFKA_PRODUCER, conf);
  // The metadata of every topic: a request naming the topic would let the mock broker create it.
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk.get(), 1, nullptr, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int count = -1;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
      count = md->topics[i].partition_cnt;
  rd_kafka_metadata_destroy(md);
  return count;
}

// True when a TCP connection to 127.0.0.1:port succeeds.
inline bool tcp_connects(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace sluice::kafka_testing
