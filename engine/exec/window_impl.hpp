#pragma once
// Internal to exec/: the parts the time-window (window_aggregate.cpp) and session-window
// (session_window.cpp) operators share: reading a row's keys, arguments and event time, emitting
// a window's row, the closing rule and the late-record policy. Immutable like every operator.

#include "exec/aggregate_set.hpp"
#include "exec/state_codec.hpp"
#include "exec/window_aggregate.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

namespace sluice::exec {

inline constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();

// a + b, clamped to the int64 range (window ends near the end of time must not wrap).
inline int64_t add_clamped(int64_t a, int64_t b) {
  int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// A restored window or session bound: within what records in range (kMaxEventTimeMs) give.
inline void check_restored_time(int64_t t, StateReader& r) {
  if (t < -kMaxEventTimeMs - kMaxWindowDurationMs || t > kMaxEventTimeMs)
    r.fail("a window time out of range");
}

// Floor division for possibly negative times (before 1970).
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

class WindowOperator : public Operator {
 public:
  WindowOperator(WindowSpec spec, std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggs)
      : Operator(keys.size() + 2 + aggs.size()),
        spec_(std::move(spec)),
        set_(std::move(keys), std::move(aggs)) {}

 protected:
  // Keys and arguments into `scratch`, the event time into `time`; rejects the row and returns
  // false when one fails or the event time is NULL.
  bool read_row(const Batch& in, size_t r, Value* scratch, int64_t* time, ExecContext& ctx) const;
  // Appends [key..., start, end, aggregates of `block`...]. `owned_keys`: copy the key strings
  // into the batch, because the window (and its key table) is freed before the batch is read.
  void emit(const Value* key, int64_t start, int64_t end, const char* block, Batch& out,
            RecordPosition pos, ExecContext& ctx, bool owned_keys = false) const;
  // A window whose close time (end + lateness, or last + gap + lateness) is `close_at` is closed.
  static bool closed(int64_t close_at, int64_t watermark) { return watermark >= close_at; }
  // With `update`, a closed window's state is kept for one more lateness period.
  bool kept(int64_t close_at, int64_t watermark) const {
    return spec_.late == LatePolicy::kUpdate &&
           watermark < add_clamped(close_at, spec_.lateness_ms);
  }
  // Counts a late record; with dead_letter also rejects it (error code LATE).
  void on_late(RecordPosition pos, int64_t time, int64_t watermark, ExecContext& ctx) const;

  WindowSpec spec_;
  AggregateSet set_;
};

// The operator shell every window kind shares. `Derived` provides
//   assign(State&, int64_t time, Batch& out, RecordPosition, ExecContext&)  (one accepted row)
//   fire(State&, int64_t watermark, Batch& out, ExecContext&)              (emit closed windows)
//   due(const State&)  (a watermark below which `fire` has nothing to do: a lower bound)
// and `State` (constructed from the AggregateSet) has `scratch` and `watermark` members, and
// `retired`: key tables no longer used whose strings rows already emitted may still point at
// (a window freed while its batch's rows are being built); freed at the next call, by when the
// caller has consumed the batch.
template <typename Derived, typename State>
class WindowOperatorShell : public WindowOperator {
 public:
  using WindowOperator::WindowOperator;

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<State>(set_);
  }

  // Each record is judged against the watermark in force before it (ExecContext's steps): what
  // that watermark closed is emitted first, exactly as if the records came one batch each.
  void process(OperatorState* base, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<State&>(*base);
    st.retired.clear();
    ctx.eval.arena = &out.arena();
    auto advance = [&](int64_t w) { advance_watermark(st, w, out, ctx); };
    size_t applied = 0;
    for (size_t r = 0; r < in.size(); ++r) {
      ctx.apply_steps_through(applied, in.position(r).offset, advance);
      int64_t t = 0;
      if (read_row(in, r, st.scratch.data(), &t, ctx))
        derived().assign(st, t, out, in.position(r), ctx);
    }
    ctx.apply_steps_through(applied, ExecContext::kAllSteps, advance);
  }

  void on_watermark(OperatorState* base, int64_t watermark, Batch& out,
                    ExecContext& ctx) const override {
    auto& st = static_cast<State&>(*base);
    st.retired.clear();
    advance_watermark(st, watermark, out, ctx);
  }

  void on_close(OperatorState* base, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<State&>(*base);
    st.retired.clear();
    derived().fire(st, std::numeric_limits<int64_t>::max(), out, ctx);
  }

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  // Between rows and after a batch alike, so that closing (and the memory housekeeping that
  // comes with it) happens at the same points however the records were batched.
  void advance_watermark(State& st, int64_t w, Batch& out, ExecContext& ctx) const {
    if (w <= st.watermark) return;
    st.watermark = w;
    if (w >= derived().due(st)) derived().fire(st, w, out, ctx);
    ctx.eval.arena = &out.arena();
  }
};

// Session windows (session_window.cpp); make_window_aggregate dispatches to it.
OperatorPtr make_session_window(WindowSpec spec, std::vector<ExpressionPtr> keys,
                                std::vector<AggregateCall> aggregates);

}  // namespace sluice::exec
