#pragma once
// KafkaProducer: a job stage's idempotent producer, shared by its TopicSinks. Its delivery reports
// are served on a strand of the daemon's io_context (the producer queue's event callback only
// posts there) and go to each record's pipeline ticket. After a round of reports it calls the room
// waiters: a pipeline that found the queue full sends the rest of its batch then.
//
// Lifecycle: construct with a configured client, `start()`, then `close()` (the control thread,
// after the pipelines drained): stops serving reports and destroys the client. A waiter is called
// after the next round that served reports, or after at most 50 ms. Threading: `send`
// (through TopicSink) and `notify_when_room` from any strand; `queue_length` from any thread.

#include "server/kafka/rd_handles.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::server::kafka {

class KafkaProducer : public std::enable_shared_from_this<KafkaProducer> {
 public:
  // `client` was created with `KafkaProducer::configure` applied to its configuration.
  KafkaProducer(boost::asio::io_context& io, rd_kafka_t* client);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Sets the delivery report callback on a producer configuration.
  static void configure(rd_kafka_conf_t* conf);

  void start();
  rd_kafka_t* client() { return client_.get(); }
  // The client's message.max.bytes.
  size_t max_message_bytes() const { return max_message_bytes_; }
  void notify_when_room(std::function<void()> room);
  // Waits up to `timeout_ms` for outstanding deliveries; then purges what is left (reported as
  // failed). The control thread.
  void flush(int timeout_ms);
  void purge();
  // Stops serving reports and destroys the client (after flush or purge).
  void close();
  uint64_t queue_length() const;

 private:
  void schedule_poll();
  void wake_waiters();
  static void on_queue_event(rd_kafka_t* rk, void* opaque);

  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  size_t max_message_bytes_;
  mutable std::mutex mu_;  // guards client_ against close() for pollers and readers
  ClientHandle client_;
  QueueHandle queue_;
  std::atomic<bool> poll_scheduled_{false};
  std::mutex room_mu_;
  std::vector<std::function<void()>> room_waiters_;
  // Wakes the waiters when no report came for a while (the queue may have room for other reasons,
  // e.g. reports served before they registered); on strand_.
  boost::asio::steady_timer room_timer_;
  bool room_timer_armed_ = false;  // strand_
};

}  // namespace sluice::server::kafka
