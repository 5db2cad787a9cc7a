#pragma once
// In-flight tracking: a batch of input records, and the records it handed to its sinks, until
// every one of them was reported delivered. Batches complete in any order; the pipeline retires
// them in input order (InFlightQueue), so the acknowledged position only moves over batches whose
// every output and dead letter is written.
//
// Threading: a batch is filled on its pipeline's strand before its first send; delivery reports
// (report_delivery) run on the sinks' threads and only touch the atomics, their own ticket and,
// for the rare failures, the mutex-guarded failure list. The report that completes the batch hands
// it back to its owner, which continues on its strand.

#include "server/pipeline/output_buffer.hpp"
#include "server/pipeline/sink.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::server::pipeline {

class InFlightBatch;

// Who gets a batch back when its last delivery was reported (a pipeline). Called on a sink's
// thread: it must only post to the owner's strand.
class BatchOwner {
 public:
  virtual ~BatchOwner() = default;
  virtual void batch_delivered(InFlightBatch* batch) = 0;
};

// One queued record: its batch and what it was.
struct DeliveryTicket {
  InFlightBatch* batch = nullptr;
  OutputKind kind = OutputKind::kOutput;
  int64_t input_offset = -1;  // the input record it derives from; -1: none
};

// A record the sink refused for its size after it was queued (the broker's limit was lower than
// ours): dead-lettered, skipped or failing the job once its batch is back on the strand.
struct SizeFailure {
  OutputKind kind = OutputKind::kOutput;
  int64_t input_offset = -1;
  std::string error;
  std::string value;      // the start of the refused value
  size_t value_size = 0;  // the refused value's full size
};

class InFlightBatch {
 public:
  // Up to this much of a refused record's value is kept for its dead letter.
  static constexpr size_t kKeptValueBytes = 64 * 1024;

  // Resets for a new batch (the strand; the batch is not in flight).
  void reset(BatchOwner* owner);

  // The strand, before sending: one ticket per record of `buffer` (stable until the batch is
  // retired); the batch holds one extra pending count until `sent()`.
  void prepare(const OutputBuffer& buffer);
  DeliveryTicket* ticket(size_t i) { return &tickets_[i]; }
  // A ticket for a record added after the batch went out (a dead letter of a size failure).
  DeliveryTicket* extra_ticket(OutputKind kind, int64_t input_offset);
  // The strand: a record is about to be handed to a sink (before `send`), or was not taken.
  void sending() { pending_.fetch_add(1, std::memory_order_relaxed); }
  void not_sent() { pending_.fetch_sub(1, std::memory_order_relaxed); }
  // The strand: the batch sent everything it had. True when nothing is pending any more (the
  // caller then handles the batch as delivered itself).
  bool sent() { return pending_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  // The strand, before sending more records for the batch after it went out: holds it open.
  void hold() { pending_.fetch_add(1, std::memory_order_relaxed); }

  // The sinks' threads (report_delivery), or the strand for a record a sink refused outright.
  void delivered(DeliveryTicket* ticket, DeliveryStatus status, std::string_view error,
                 std::string_view value, int64_t offset = -1);
  // One past the highest offset a changelog record of the batch was written at; -1: none known.
  // Read on the strand once the batch is back.
  int64_t changelog_end() const { return changelog_end_.load(std::memory_order_relaxed); }
  // Fails the batch: it is never acknowledged (first reason wins). Any thread.
  void fail(std::string why);

  // Read on the strand once the batch is back (every report seen).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  const std::string& error() const { return error_; }
  // The size failures reported since the last call (moved out).
  std::vector<SizeFailure> take_size_failures();
  // Output records (not dead letters) delivered, of those sent.
  uint64_t outputs_delivered() const {
    return outputs_sent - outputs_lost_.load(std::memory_order_relaxed);
  }

  // Filled on the strand while the batch is built.
  int64_t end_offset = 0;  // one past its last input record
  // The watermark after the batch: committed with its position once it is acknowledged.
  int64_t watermark_after = std::numeric_limits<int64_t>::min();
  // The oldest input record held by windows the batch closed (ExecContext::released_offset):
  // until the batch is acknowledged, nothing from there on may be committed.
  int64_t released_offset = std::numeric_limits<int64_t>::max();
  uint64_t outputs_sent = 0;        // output records handed to the output sink
  uint64_t messages = 0;            // records handed to any sink
  uint64_t bytes = 0;               // output bytes
  std::vector<int64_t> timestamps;  // input record timestamps (ms), for the latency histogram
  bool done = false;                // every report seen and handled (strand)
  bool holds_back = false;          // the job failed on one of its records: never commit it
  bool checkpoint = false;          // a checkpoint's changelog records (no input records)
  // Read after an exactly-once barrier the pipeline is held at: its records are sent only once
  // the barrier is released (they belong to the next transaction).
  bool after_barrier = false;

 private:
  BatchOwner* owner_ = nullptr;
  std::vector<DeliveryTicket> tickets_;
  std::deque<DeliveryTicket> extra_tickets_;  // stable addresses; rare
  std::atomic<int32_t> pending_{0};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> outputs_lost_{0};
  std::atomic<int64_t> changelog_end_{-1};
  std::mutex mu_;  // guards error_ (until failed_ is set) and size_failures_
  std::string error_;
  std::vector<SizeFailure> size_failures_;
};

}  // namespace sluice::server::pipeline
