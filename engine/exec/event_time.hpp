#pragma once
// Event-time settings of a source that the engine needs to bind and run windowed queries: which
// column holds the event time, how long windows stay open past their end, and what happens to a
// record that arrives after its window closed. Plain values; built by the job loader.

#include <cstdint>
#include <string>

namespace sluice::exec {

// What a late record (its window already closed: watermark >= window end + allowed lateness)
// does. It is always counted as late (ExecContext::late), never as accepted or rejected.
enum class LatePolicy {
  kDrop,        // discarded
  kDeadLetter,  // written to the dead-letter sink with error code LATE
  kUpdate,      // re-emits a corrected row while the closed window's state is kept (see README)
};

struct EventTimeSettings {
  std::string column;                 // source.event_time; empty: the record timestamp
  bool has_record_timestamp = false;  // false for file sources: `_timestamp` is always NULL
  int64_t allowed_lateness_ms = 0;    // source.watermark.allowed_lateness
  LatePolicy late = LatePolicy::kDrop;
};

}  // namespace sluice::exec
