#pragma once
// Windowed grouped aggregation: tumbling, hopping and session windows over event time, with
// EMIT FINAL (one row per window and group once the watermark passes window end + lateness, or at
// end of input) or EMIT CHANGES (one row per input row and window it falls in). Output rows are
// [group keys..., window_start, window_end, aggregates...].
//
// Lifecycle: process (assigns rows to windows), on_watermark (fires and frees closed windows, in
// order of window end, then first-seen group order), on_close (fires what is left). The operator
// is immutable and shared; its per-pipeline state (open windows, the last watermark) lives in the
// OperatorState from make_state and is only touched on that pipeline's strand.
//
// Lateness: a window [start, end) closes when the watermark reaches end + lateness. A record none
// of whose windows is open any more is late: counted in ExecContext::late and dropped, rejected
// with LATE (dead_letter), or, with `update`, added to the closed window while its state is still
// kept (until the watermark reaches end + 2 x lateness) and that window's row re-emitted. A
// hopping record whose earlier windows closed but a later one is open is accepted; the closed
// windows ignore it (with `update`, kept ones take it and re-emit).
// Replay (ExecContext::replay_before): a late record re-read after a restart is counted as
// replayed, never rejected; with `update` it rebuilds a kept time window without re-emitting.
// Each window remembers the smallest input offset it holds (OperatorState::retained_offset).
// Sessions: two records of a group are in one session when less than `gap` apart; a record that
// bridges two sessions merges them. A session [first record, last record] closes when the
// watermark reaches last + gap + lateness; its window_start/window_end are its first and last
// record times (ksqlDB's convention).

#include "exec/event_time.hpp"
#include "exec/operators.hpp"

namespace sluice::exec {

enum class WindowKind { kTumbling, kHopping, kSession };

struct WindowSpec {
  WindowKind kind = WindowKind::kTumbling;
  int64_t size_ms = 0;     // tumbling/hopping size; session gap
  int64_t advance_ms = 0;  // hopping advance (== size for tumbling)
  int64_t lateness_ms = 0;
  LatePolicy late = LatePolicy::kDrop;
  bool emit_changes = false;
  ExpressionPtr time;  // the event time of an input row (TIMESTAMP)
};

// A hopping window's record updates ceil(size / advance) windows, each with a group table of its
// own: the binder refuses more than this many, which would make one record cost more memory and
// time than a whole batch.
inline constexpr int64_t kMaxWindowsPerRecord = 10000;

// The bounds that keep window arithmetic (start + size, time - gap, ...) inside 64 bits: the
// binder refuses a size, advance, gap or grace period above 1000 years, and a window rejects
// (EVENT_TIME) a record whose event time is more than 2^62 ms (about 146 million years) from 1970.
inline constexpr int64_t kMaxWindowDurationMs = int64_t{365'250} * 86'400'000;
inline constexpr int64_t kMaxEventTimeMs = int64_t{1} << 62;

OperatorPtr make_window_aggregate(WindowSpec spec, std::vector<ExpressionPtr> keys,
                                  std::vector<AggregateCall> aggregates);

}  // namespace sluice::exec
