#pragma once
// Internal to exec/analytic*.cpp: the state of one partition key and the per-call frame math.
// analytic_calls.cpp computes call results for one row; analytic.cpp runs the operator (partition
// lookup, LEAD holding, expiry). Everything here belongs to one pipeline (one strand).

#include "exec/analytic.hpp"
#include "exec/analytic_frame.hpp"
#include "exec/batch.hpp"
#include "exec/state_codec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::exec::analytic {

inline constexpr int64_t kNever = INT64_MIN;  // no activity time known yet

// What one call keeps per partition; which fields are used depends on the call's kind and type.
struct CallState {
  int64_t count = 0;   // non-NULL values in the frame (COUNT, SUM, AVG)
  int128 int_sum = 0;  // BIGINT / INTERVAL: |sum| < 2^63 * 10^8 rows, so 128 bits never overflow
  WideSum decimal_sum;
  DoubleSum double_sum;
  SeqDeque extremes;  // bounded MIN / MAX
  HeldValue held;     // unbounded MIN / MAX, unbounded FIRST_VALUE
};

// An output row waiting for its LEAD values; strings are kept as offsets into `bytes`.
struct PendingRow {
  bool live = false;
  std::vector<Value> values;
  std::vector<uint32_t> offsets;
  std::string bytes;
  RecordPosition position;
  uint64_t arrival = 0;

  void set(size_t col, const Value& v) {
    values[col] = v;
    if (v.has_bytes()) {
      offsets[col] = static_cast<uint32_t>(bytes.size());
      bytes.append(v.str());
    }
  }
};

struct Partition {
  int64_t rows = 0;  // rows seen: the next row's sequence number
  int64_t rank = 0;
  int64_t dense_rank = 0;
  Value last_order;
  int64_t last_active = kNever;
  std::vector<ValueRing> rings;  // one per AnalyticSpec::inputs entry
  std::vector<CallState> calls;
  std::vector<PendingRow> pending;  // LEAD: row `seq` waits in slot seq % lead_span
};

// The durable state of one partition key (exec/analytic_state.cpp): `save` writes it, `load`
// reads it into a fresh partition and refuses what the operator could not have made (a frame
// position outside its frame, a value of another type, a ring of another size), so a restored
// partition goes on exactly as the saved one would. Bad bytes throw sluice::Error (kState).
class PartitionCodec {
 public:
  // `ring_caps` and `lead_span` are the operator's, read when used.
  PartitionCodec(const AnalyticSpec& spec, const std::vector<size_t>& ring_caps,
                 const int64_t& lead_span, size_t output_width)
      : spec_(spec), ring_caps_(ring_caps), lead_span_(lead_span), output_width_(output_width) {}

  void save(const Partition& p, StateWriter& w) const;
  // `arrivals`: the operator's arrival counter; a held LEAD row arrived before it.
  void load(StateReader& r, Partition& p, uint64_t arrivals) const;

 private:
  void save_held(const HeldValue& h, StateWriter& w) const;
  void load_held(StateReader& r, HeldValue& h, const types::DataType& type, Arena& arena) const;
  void save_call(const CallState& s, StateWriter& w) const;
  void load_call(StateReader& r, const AnalyticCall& c, const Partition& p, CallState& s,
                 Arena& arena) const;

  const AnalyticSpec& spec_;
  const std::vector<size_t>& ring_caps_;
  const int64_t& lead_span_;
  size_t output_width_;
};

// Per-call frame math over one partition. `seq` is the current row's sequence number and `args`
// the current row's (cast) argument values, one per input.
class FrameMath {
 public:
  explicit FrameMath(const AnalyticSpec& spec) : spec_(spec) {}

  // Removes the values leaving each bounded SUM / AVG / COUNT frame; call before pushing `seq`.
  void retire(Partition& p, int64_t seq) const;
  // Adds the current row and writes each call's result (LEAD: its offset-0 value or default).
  // Strings in `results` point into the partition or the input row.
  void advance(Partition& p, int64_t seq, const Value* args, const Value* fallbacks, Value* results,
               EvalContext& ctx) const;

 private:
  Value aggregate(const AnalyticCall& c, CallState& s, int64_t seq, const Partition& p,
                  const Value& arg, EvalContext& ctx) const;
  Value extreme(const AnalyticCall& c, CallState& s, int64_t seq, const ValueRing& ring,
                const Value& arg) const;
  Value sum_result(const AnalyticCall& c, const CallState& s, EvalContext& ctx) const;
  Value avg_result(const AnalyticCall& c, const CallState& s, EvalContext& ctx) const;
  void add(const AnalyticCall& c, CallState& s, const Value& v) const;
  void remove(const AnalyticCall& c, CallState& s, const Value& v) const;

  const AnalyticSpec& spec_;
};

}  // namespace sluice::exec::analytic
