#pragma once
// FetchWaker: gets a consumer's fetcher going again for a partition whose prefetch queue drained.
//
// librdkafka (before 2.2) stops fetching a partition once its local queue holds
// queued.max.messages.kbytes (or queued.min.messages), and its broker thread looks again only
// when something wakes it: a response, a request to send, or its idle timeout of one second. A
// pipeline catching up on a backlog therefore drains its queue, then waits most of a second for
// the next fetch, every time the bound fills (librdkafka #2879; 2.2 added fetch.queue.backoff.ms
// for it). Resuming a paused partition waits the same way. Any request to the partition's leader
// wakes that broker thread, which then fetches what is now below the bound: `wake` sends one,
// a ListOffsets (rd_kafka_query_watermark_offsets), on the waker's own thread, so a pipeline
// never blocks on it. Wake-ups asked for while one is pending are merged.
//
// Lifecycle: owned beside the consumer and destroyed (or `stop`ped) before it is closed.
// Threading: `wake` from any thread (it never blocks on the network); the thread starts with the
// first wake-up.

#include <librdkafka/rdkafka.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace sluice::server::kafka {

class FetchWaker {
 public:
  explicit FetchWaker(rd_kafka_t* consumer) : consumer_(consumer) {}
  ~FetchWaker() { stop(); }
  FetchWaker(const FetchWaker&) = delete;
  FetchWaker& operator=(const FetchWaker&) = delete;

  void wake(const std::string& topic, int32_t partition);
  // Waits for a request in progress (bounded by its timeout); later wake-ups are ignored.
  void stop();
  // Requests sent so far.
  uint64_t sent() const;

 private:
  void run();

  rd_kafka_t* consumer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::pair<std::string, int32_t>> pending_;
  bool stopping_ = false;
  uint64_t sent_ = 0;
  std::thread thread_;
};

// When a partition source should ask its FetchWaker: from the records it reads and the length of
// its queue before and after each read, it estimates the bytes queued (by the mean record size
// read so far); once that reached 3/4 of the bound (librdkafka stopped or is about to stop
// fetching), the first read that leaves it at half the bound or less wants a wake-up.
class RefillTrigger {
 public:
  // `max_bytes`, `max_records`: the consumer's queued.max.messages.kbytes (in bytes) and
  // queued.min.messages.
  RefillTrigger(int64_t max_bytes, int64_t max_records)
      : max_bytes_(max_bytes), max_records_(max_records) {}
  // After a read of `records` records of `bytes` bytes (values, as librdkafka counts them) that
  // found `before` records queued and left `after`: true when the fetcher should be woken.
  bool after_read(size_t records, uint64_t bytes, size_t before, size_t after);

 private:
  double fill(size_t queued) const;  // 0..: the share of the bound `queued` records take

  int64_t max_bytes_;
  int64_t max_records_;
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
  bool full_ = false;
};

}  // namespace sluice::server::kafka
