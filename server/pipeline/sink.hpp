#pragma once
// RecordSink: where a pipeline's records go (the job's output topic, its dead-letter topic, the
// repartition topic). Broker-agnostic; server/kafka implements it on a shared producer, tests
// with an in-memory fake.
//
// A sink never blocks its caller: a full queue is reported (kFull) and the sink calls back when it
// has room. Each record it queued is reported exactly once, from the sink's own thread, through
// `report_delivery` on the ticket the pipeline passed with it.
// Threading: `send` and `notify_when_room` from any pipeline strand; reports from the sink's
// delivery thread.

#include "server/pipeline/record.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::server::pipeline {

struct DeliveryTicket;

enum class DeliveryStatus : uint8_t {
  kOk,
  kTooLarge,  // the broker (or the sink) refused the record for its size
  kFailed,    // any other failure: the record is not written
};

// Reports the delivery of the record queued with `ticket` (the sink's delivery thread). `error`
// says why it failed; `value` is the record's value as the sink still holds it (for dead-lettering
// a record refused for its size); `offset` where it was written (-1: not known).
void report_delivery(DeliveryTicket* ticket, DeliveryStatus status, std::string_view error,
                     std::string_view value, int64_t offset = -1);

enum class SendResult {
  kQueued,    // taken; its delivery will be reported
  kFull,      // nothing taken: the queue is full (flow control); retry after notify_when_room
  kTooLarge,  // nothing taken: over max_record_bytes()
  kFailed,    // nothing taken: `error` says why
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Hands `record` over (its bytes are copied).
  virtual SendResult send(const OutputRecord& record, DeliveryTicket* ticket,
                          std::string& error) = 0;
  // Calls `room` once, from any thread, after the sink made room after this call (at the latest
  // when a delivery report was served); `room` must tolerate being called when there is none.
  virtual void notify_when_room(std::function<void()> room) = 0;
  // The largest record (OutputRecord::size) the sink takes.
  virtual size_t max_record_bytes() const = 0;
  // What the sink writes to (a topic name), for messages.
  virtual const std::string& name() const = 0;
};

}  // namespace sluice::server::pipeline
