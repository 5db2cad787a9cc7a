#pragma once
// ROWS / OVER analytics: one output row per input row, holding the input row's values followed by
// one value per analytic call (SUM(x) OVER w, LAG(x) OVER w, ROW_NUMBER() OVER w, ...).
//
// Rows are processed in arrival order per partition key (a streaming engine: the ORDER BY column
// says what the event order is and measures inactivity, but rows are not re-sorted by it). Every
// frame ends at the current row: it holds the current row and the `preceding` rows before it in
// its partition, or every row of the partition so far (`unbounded`).
//
// Cost per row: O(1) amortised per call. SUM/AVG/COUNT add the entering and subtract the leaving
// value (exact for BIGINT, INTERVAL and DECIMAL; DOUBLE uses a compensated sum that is recomputed
// from the frame each time the frame has turned over); MIN/MAX keep a monotonic deque.
//
// LEAD(x, n) needs a later row: a row whose LEAD values are not known yet is held and emitted when
// the row n places after it in its partition arrives, so rows of LEAD queries come out in the
// order they complete. At end of input (on_close), or when the partition expires, held rows are
// emitted with the LEAD default, in arrival order.
//
// Expiry: the operator's clock is the largest ORDER BY value seen (when it is a TIMESTAMP) or the
// latest watermark (on_watermark), whichever is later. A partition key whose last row is
// `expire_after_ms` or more behind the clock is dropped; a later row of that key starts afresh.
//
// Lifecycle: immutable and shared; per-pipeline state from make_state(); process / on_watermark /
// on_close on the pipeline's strand only.

#include "exec/expression.hpp"
#include "exec/operator.hpp"
#include "types/data_type.hpp"

#include <cstdint>
#include <vector>

namespace sluice::exec {

enum class AnalyticKind : uint8_t {
  kCount,  // COUNT(x), or COUNT(*) when input < 0
  kSum,
  kAvg,
  kMin,
  kMax,
  kFirstValue,
  kLastValue,
  kLag,
  kLead,
  kRowNumber,
  kRank,
  kDenseRank,
};

struct AnalyticCall {
  AnalyticKind kind = AnalyticKind::kRowNumber;
  types::DataType result;
  int input = -1;          // index into AnalyticSpec::inputs; -1 for COUNT(*), ROW_NUMBER, RANKs
  bool unbounded = false;  // frame: every row of the partition so far
  int64_t preceding = 0;   // frame: the current row and this many rows before it
  int64_t offset = 1;      // LAG / LEAD: how many rows back / ahead
  ExpressionPtr fallback;  // LAG / LEAD default, over input rows, of type `result`; may be null
};

struct AnalyticSpec {
  std::vector<ExpressionPtr> partition_by;  // over input rows
  ExpressionPtr order_by;                   // TIMESTAMP or number; may be null
  std::vector<ExpressionPtr> inputs;        // distinct call arguments, already cast
  std::vector<AnalyticCall> calls;
  // The input row's column types: a restored held row (LEAD) must have them.
  std::vector<types::DataType> input_types;
  int64_t expire_after_ms = 3'600'000;
  // source.event_time, when the job sets it: the runtime derives the watermarks it passes to
  // on_watermark from it (Query::event_time). Not read by the operator itself.
  ExpressionPtr watermark_time;
};

inline constexpr int64_t kDefaultOverExpiryMs = 3'600'000;  // one hour of event time

// Output width: input_width + spec.calls.size().
OperatorPtr make_analytic(AnalyticSpec spec, size_t input_width);

}  // namespace sluice::exec
