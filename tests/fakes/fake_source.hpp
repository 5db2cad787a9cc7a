#pragma once
// An in-memory pipeline::PartitionSource: the test appends records (offsets count from 0), the
// source hands them out in batches, records its pause state and calls the wake-up when records are
// appended after a read came back empty. Used from the test thread and the pipeline's strand
// (io_context::poll on the test thread in these tests); a mutex keeps it safe either way.

#include "server/pipeline/source.hpp"

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

class FakeSource final : public server::pipeline::PartitionSource {
 public:
  struct Record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp_ms = -1;
    int32_t source_partition = -1;  // the `sluice.source` header a router wrote; -1: none
    int64_t source_offset = -1;
    // The record's headers (nullopt: a header with a null value).
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };

  explicit FakeSource(int32_t partition = 0, bool start_paused = false)
      : partition_(partition), paused_(start_paused) {}

  // The offset the next append gets (a partition read from a restored position).
  void set_next_offset(int64_t offset) {
    std::lock_guard lock(mu_);
    next_offset_ = offset;
  }
  // Appends a record; returns its offset.
  int64_t append(Record r) {
    std::function<void()> wake;
    int64_t offset;
    {
      std::lock_guard lock(mu_);
      offset = next_offset_++;
      pending_.push_back({offset, std::move(r)});
      if (starved_) wake = wake_;
      starved_ = false;
    }
    if (wake) wake();
    return offset;
  }
  int64_t append(std::string value, std::optional<std::string> key = std::nullopt,
                 int64_t timestamp_ms = -1) {
    Record r;
    r.key = std::move(key);
    r.value = std::move(value);
    r.timestamp_ms = timestamp_ms;
    return append(std::move(r));
  }

  std::span<const server::pipeline::InputRecord> read_batch(size_t max) override {
    std::lock_guard lock(mu_);
    held_.clear();
    records_.clear();
    headers_.clear();
    if (closed_ || paused_) {
      starved_ = true;
      return {};
    }
    while (!pending_.empty() && held_.size() < max) {
      held_.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    for (const auto& [offset, r] : held_) {
      server::pipeline::InputRecord in;
      in.offset = offset;
      if (r.key) in.key = *r.key;
      if (r.value) in.value = *r.value;
      in.timestamp_ms = r.timestamp_ms;
      in.source_partition = r.source_partition;
      in.source_offset = r.source_offset;
      records_.push_back(in);
      for (const auto& [name, value] : r.headers) {
        server::pipeline::RecordHeader h{name, std::nullopt};
        if (value) h.value = *value;
        headers_.push_back(h);
      }
    }
    for (size_t i = 0, first = 0; i < held_.size(); first += held_[i++].second.headers.size())
      records_[i].headers = {headers_.data() + first, held_[i].second.headers.size()};
    if (records_.empty()) starved_ = true;
    ++reads_;
    return records_;
  }
  void pause(bool paused) override {
    std::lock_guard lock(mu_);
    if (paused == paused_) return;
    paused_ = paused;
    pause_calls_.push_back(paused);
  }
  void set_wakeup(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
  }
  void close() override {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  int32_t partition() const override { return partition_; }
  const std::string& topic() const override { return topic_; }

  bool paused() const override {
    std::lock_guard lock(mu_);
    return paused_;
  }
  std::vector<bool> pause_calls() const {
    std::lock_guard lock(mu_);
    return pause_calls_;
  }
  size_t unread() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

 private:
  int32_t partition_;
  std::string topic_ = "in";
  mutable std::mutex mu_;
  bool paused_;
  bool closed_ = false;
  bool starved_ = true;
  int64_t next_offset_ = 0;
  uint64_t reads_ = 0;
  std::deque<std::pair<int64_t, Record>> pending_;
  std::vector<std::pair<int64_t, Record>> held_;
  std::vector<server::pipeline::InputRecord> records_;
  std::vector<server::pipeline::RecordHeader> headers_;  // of all records_, in order
  std::function<void()> wake_;
  std::vector<bool> pause_calls_;
};

}  // namespace sluice::testing
