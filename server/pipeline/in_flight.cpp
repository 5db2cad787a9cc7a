#include "server/pipeline/in_flight.hpp"

#include <utility>

namespace sluice::server::pipeline {

void report_delivery(DeliveryTicket* ticket, DeliveryStatus status, std::string_view error,
                     std::string_view value, int64_t offset) {
  ticket->batch->delivered(ticket, status, error, value, offset);
}

void InFlightBatch::reset(BatchOwner* owner) {
  owner_ = owner;
  tickets_.clear();
  extra_tickets_.clear();
  pending_.store(0, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  outputs_lost_.store(0, std::memory_order_relaxed);
  error_.clear();
  size_failures_.clear();
  end_offset = 0;
  watermark_after = std::numeric_limits<int64_t>::min();
  released_offset = std::numeric_limits<int64_t>::max();
  outputs_sent = messages = bytes = 0;
  timestamps.clear();
  done = holds_back = checkpoint = after_barrier = false;
  changelog_end_.store(-1, std::memory_order_relaxed);
}

void InFlightBatch::prepare(const OutputBuffer& buffer) {
  tickets_.resize(buffer.size());
  for (size_t i = 0; i < buffer.size(); ++i) {
    const auto& e = buffer.entry(i);
    tickets_[i] = {this, e.kind, e.input_offset};
  }
  pending_.store(1, std::memory_order_relaxed);  // held until sent()
}

DeliveryTicket* InFlightBatch::extra_ticket(OutputKind kind, int64_t input_offset) {
  extra_tickets_.push_back({this, kind, input_offset});
  return &extra_tickets_.back();
}

void InFlightBatch::delivered(DeliveryTicket* ticket, DeliveryStatus status, std::string_view error,
                              std::string_view value, int64_t offset) {
  if (status == DeliveryStatus::kOk && ticket->kind == OutputKind::kChangelog && offset >= 0) {
    int64_t end = changelog_end_.load(std::memory_order_relaxed);
    while (offset + 1 > end &&
           !changelog_end_.compare_exchange_weak(end, offset + 1, std::memory_order_relaxed)) {
    }
  }
  if (status != DeliveryStatus::kOk && ticket->kind == OutputKind::kOutput)
    outputs_lost_.fetch_add(1, std::memory_order_relaxed);
  if (status == DeliveryStatus::kTooLarge) {
    std::lock_guard lock(mu_);
    size_failures_.push_back({ticket->kind, ticket->input_offset, std::string(error),
                              std::string(value.substr(0, kKeptValueBytes)), value.size()});
  } else if (status == DeliveryStatus::kFailed) {
    fail(std::string(error));
  }
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) owner_->batch_delivered(this);
}

void InFlightBatch::fail(std::string why) {
  std::lock_guard lock(mu_);
  if (failed_.load(std::memory_order_relaxed)) return;
  error_ = std::move(why);
  failed_.store(true, std::memory_order_release);
}

std::vector<SizeFailure> InFlightBatch::take_size_failures() {
  std::lock_guard lock(mu_);
  return std::exchange(size_failures_, {});
}

}  // namespace sluice::server::pipeline
