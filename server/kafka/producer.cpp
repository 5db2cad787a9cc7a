#include "server/kafka/producer.hpp"

#include "server/pipeline/sink.hpp"

#include <boost/asio/post.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>

namespace sluice::server::kafka {
namespace {

size_t read_max_message_bytes(rd_kafka_t* rk) {
  std::array<char, 32> buf{};
  size_t size = buf.size();
  size_t value = 1000000;  // librdkafka's default
  if (rd_kafka_conf_get(rd_kafka_conf(rk), "message.max.bytes", buf.data(), &size) ==
      RD_KAFKA_CONF_OK)
    std::from_chars(buf.data(), buf.data() + std::strlen(buf.data()), value);
  return value;
}

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
  auto* ticket = static_cast<pipeline::DeliveryTicket*>(m->_private);
  if (ticket == nullptr) return;
  pipeline::DeliveryStatus status = pipeline::DeliveryStatus::kOk;
  if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    status = pipeline::DeliveryStatus::kTooLarge;
  else if (m->err)
    status = pipeline::DeliveryStatus::kFailed;
  std::string_view value;
  if (m->err && m->payload != nullptr)
    value = std::string_view(static_cast<const char*>(m->payload), m->len);
  pipeline::report_delivery(
      ticket, status, m->err ? std::string_view(rd_kafka_err2str(m->err)) : std::string_view(),
      value, m->err ? -1 : m->offset);
}

}  // namespace

KafkaProducer::KafkaProducer(boost::asio::io_context& io, rd_kafka_t* client)
    : strand_(boost::asio::make_strand(io)),
      max_message_bytes_(read_max_message_bytes(client)),
      client_(client),
      queue_(rd_kafka_queue_get_main(client)),
      room_timer_(strand_) {}

KafkaProducer::~KafkaProducer() {
  close();
}

void KafkaProducer::configure(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
}

void KafkaProducer::start() {
  rd_kafka_queue_cb_event_enable(queue_.get(), on_queue_event, this);
}

void KafkaProducer::on_queue_event(rd_kafka_t* /*rk*/, void* opaque) {
  static_cast<KafkaProducer*>(opaque)->schedule_poll();
}

void KafkaProducer::schedule_poll() {
  if (poll_scheduled_.exchange(true)) return;
  boost::asio::post(strand_, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self) return;
    self->poll_scheduled_ = false;
    int served = 0;
    {
      std::lock_guard lock(self->mu_);
      if (!self->client_) return;
      while (int n = rd_kafka_poll(self->client_.get(), 0))
        served += n;
    }
    if (served > 0) self->wake_waiters();
  });
}

// strand_
void KafkaProducer::wake_waiters() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(room_mu_);
    waiters.swap(room_waiters_);
  }
  for (auto& w : waiters)
    w();
}

void KafkaProducer::notify_when_room(std::function<void()> room) {
  {
    std::lock_guard lock(room_mu_);
    room_waiters_.push_back(std::move(room));
  }
  boost::asio::post(strand_, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self || self->room_timer_armed_) return;
    self->room_timer_armed_ = true;
    self->room_timer_.expires_after(std::chrono::milliseconds(50));
    self->room_timer_.async_wait([w](const boost::system::error_code&) {
      auto self = w.lock();
      if (!self) return;
      self->room_timer_armed_ = false;
      self->wake_waiters();
    });
  });
  schedule_poll();
}

void KafkaProducer::flush(int timeout_ms) {
  std::lock_guard lock(mu_);
  if (client_) rd_kafka_flush(client_.get(), timeout_ms);
}

void KafkaProducer::purge() {
  std::lock_guard lock(mu_);
  if (!client_) return;
  rd_kafka_purge(client_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(client_.get(), 0);  // serves the purged records' reports
}

void KafkaProducer::close() {
  boost::asio::post(strand_, [w = weak_from_this()] {
    if (auto self = w.lock()) self->room_timer_.cancel();
  });
  std::lock_guard lock(mu_);
  if (!client_) return;
  rd_kafka_queue_cb_event_enable(queue_.get(), nullptr, nullptr);
  queue_.reset();
  client_.reset();
}

uint64_t KafkaProducer::queue_length() const {
  std::lock_guard lock(mu_);
  return client_ ? static_cast<uint64_t>(rd_kafka_outq_len(client_.get())) : 0;
}

}  // namespace sluice::server::kafka
