#pragma once
// An in-memory pipeline::RecordSink: it keeps every record it took (copied, with headers) and
// reports deliveries only when the test says so (`deliver`), in the order it took them, as
// delivered (at the offset = its index among those taken), refused for size, or failed. `capacity`
// bounds the records taken but not yet reported: beyond it `send` answers kFull, and `deliver`
// calls the room waiters. Used from the test thread (the pipeline's strand runs there too, through
// io_context::poll).

#include "server/pipeline/sink.hpp"

#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

class FakeSink final : public server::pipeline::RecordSink {
 public:
  struct Taken {
    std::optional<std::string> key;
    std::string value;
    int64_t timestamp_ms = -1;
    std::map<std::string, std::string> headers;
    // Every header in order (nullopt: a null value).
    std::vector<std::pair<std::string, std::optional<std::string>>> header_list;
    int32_t partition = -1;
    bool tombstone = false;
    server::pipeline::DeliveryTicket* ticket = nullptr;
  };

  explicit FakeSink(std::string name = "out", size_t max_bytes = 1'000'000,
                    size_t capacity = std::numeric_limits<size_t>::max())
      : name_(std::move(name)), max_bytes_(max_bytes), capacity_(capacity) {}

  server::pipeline::SendResult send(const server::pipeline::OutputRecord& r,
                                    server::pipeline::DeliveryTicket* ticket,
                                    std::string& error) override {
    ++sends_;
    if (!fail_next_.empty()) {
      error = fail_next_;
      fail_next_.clear();
      return server::pipeline::SendResult::kFailed;
    }
    if (r.size() > max_bytes_) return server::pipeline::SendResult::kTooLarge;
    if (unreported_.size() >= capacity_) return server::pipeline::SendResult::kFull;
    Taken t;
    if (r.key) t.key = std::string(*r.key);
    t.value = std::string(r.value);
    t.timestamp_ms = r.timestamp_ms;
    t.partition = r.partition;
    t.tombstone = r.tombstone;
    for (const auto& h : r.headers) {
      t.headers[std::string(h.name)] = std::string(h.value);
      t.header_list.emplace_back(
          h.name, h.value.data() ? std::optional<std::string>(h.value) : std::nullopt);
    }
    t.ticket = ticket;
    taken_.push_back(t);
    unreported_.push_back(taken_.size() - 1);
    return server::pipeline::SendResult::kQueued;
  }
  void notify_when_room(std::function<void()> room) override { waiters_.push_back(room); }
  size_t max_record_bytes() const override { return max_bytes_; }
  const std::string& name() const override { return name_; }

  // Reports the oldest `n` unreported records (all by default) with `status`.
  void deliver(size_t n = std::numeric_limits<size_t>::max(),
               server::pipeline::DeliveryStatus status = server::pipeline::DeliveryStatus::kOk,
               std::string error = "") {
    while (n-- > 0 && !unreported_.empty()) {
      size_t index = unreported_.front();
      const Taken& t = taken_[index];
      unreported_.pop_front();
      report(t, index, status, error);
    }
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters)
      w();
  }
  // Reports the unreported record taken `index`-th (0-based over everything taken) out of order.
  void deliver_taken(
      size_t index, server::pipeline::DeliveryStatus status = server::pipeline::DeliveryStatus::kOk,
      std::string error = "") {
    for (auto it = unreported_.begin(); it != unreported_.end(); ++it) {
      if (*it != index) continue;
      unreported_.erase(it);
      report(taken_[index], index, status, error);
      return;
    }
  }
  // The next send fails with `error`.
  void fail_next(std::string error) { fail_next_ = std::move(error); }

  const std::vector<Taken>& taken() const { return taken_; }
  size_t unreported() const { return unreported_.size(); }
  size_t sends() const { return sends_; }
  size_t waiters() const { return waiters_.size(); }

 private:
  static void report(const Taken& t, size_t index, server::pipeline::DeliveryStatus status,
                     const std::string& error) {
    bool ok = status == server::pipeline::DeliveryStatus::kOk;
    server::pipeline::report_delivery(t.ticket, status, error, t.value,
                                      ok ? static_cast<int64_t>(index) : -1);
  }

  std::string name_;
  size_t max_bytes_;
  size_t capacity_;
  std::vector<Taken> taken_;
  std::deque<size_t> unreported_;
  std::vector<std::function<void()>> waiters_;
  std::string fail_next_;
  size_t sends_ = 0;
};

}  // namespace sluice::testing
