#include "server/kafka/fetch_waker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sluice::server::kafka {
namespace {

// A ListOffsets round trip; bounded so that stopping never waits long.
constexpr int kRequestTimeoutMs = 2000;

}  // namespace

void FetchWaker::wake(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  pending_.emplace(topic, partition);
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_one();
}

void FetchWaker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    pending_.clear();
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

uint64_t FetchWaker::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

void FetchWaker::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    auto [topic, partition] = *pending_.begin();
    pending_.erase(pending_.begin());
    ++sent_;
    lock.unlock();
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_, topic.c_str(), partition,
                                                               &low, &high, kRequestTimeoutMs);
    // Only the request matters; a failure leaves librdkafka's own idle wake-up to fetch.
    if (err)
      spdlog::debug("fetch wake-up for {} [{}]: {}", topic, partition, rd_kafka_err2str(err));
    lock.lock();
  }
}

double RefillTrigger::fill(size_t queued) const {
  double by_count = max_records_ > 0 ? double(queued) / double(max_records_) : 0.0;
  double by_bytes = 0.0;
  if (max_bytes_ > 0 && records_ > 0)
    by_bytes = double(queued) * (double(bytes_) / double(records_)) / double(max_bytes_);
  return std::max(by_count, by_bytes);
}

bool RefillTrigger::after_read(size_t records, uint64_t bytes, size_t before, size_t after) {
  records_ += records;
  bytes_ += bytes;
  if (fill(before) >= 0.75) full_ = true;
  if (!full_ || fill(after) > 0.5) return false;
  full_ = false;
  return true;
}

}  // namespace sluice::server::kafka
