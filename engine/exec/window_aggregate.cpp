// Tumbling and hopping windows (a tumbling window is a hopping one whose advance is its size),
// and the helpers every window operator shares (exec/window_impl.hpp).

#include "exec/window_impl.hpp"
#include "types/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

namespace sluice::exec {

bool WindowOperator::read_row(const Batch& in, size_t r, Value* scratch, int64_t* time,
                              ExecContext& ctx) const {
  const Value* row = in.row(r);
  Value t = spec_.time->eval(row, ctx.eval);
  if (!ctx.eval.failed && t.null) ctx.eval.fail(ErrorCode::kDecode, "the event time is NULL");
  if (!ctx.eval.failed && (t.i > kMaxEventTimeMs || t.i < -kMaxEventTimeMs)) {
    ctx.eval.fail(
        ErrorCode::kEventTime,
        fmt::format("the event time {} ms is more than 2^62 ms from 1970: not windowed", t.i));
  }
  if (!ctx.eval.failed) set_.evaluate(row, scratch, ctx.eval);
  if (ctx.eval.failed) {
    ctx.reject(in.position(r));
    return false;
  }
  *time = t.i;
  return true;
}

void WindowOperator::emit(const Value* key, int64_t start, int64_t end, const char* block,
                          Batch& out, RecordPosition pos, ExecContext& ctx, bool owned_keys) const {
  Value* dst = out.append_row(pos);
  size_t keys = set_.key_count();
  std::copy(key, key + keys, dst);
  for (size_t k = 0; owned_keys && k < keys; ++k) {
    if (dst[k].has_bytes()) dst[k] = dst[k].with_bytes(out.arena().copy(dst[k].str()));
  }
  dst[keys] = Value::timestamp(start);
  dst[keys + 1] = Value::timestamp(end);
  if (set_.aggregate_count() > 0) set_.finalize(block, dst + keys + 2, out.arena(), ctx.eval);
  if (ctx.eval.failed) {
    out.pop_row();
    ctx.reject(pos);
  }
}

void WindowOperator::on_late(RecordPosition pos, int64_t time, int64_t watermark,
                             ExecContext& ctx) const {
  if (ctx.replaying(pos)) {
    ++ctx.replayed;  // its window was emitted before the restart
    return;
  }
  ++ctx.late;
  if (spec_.late != LatePolicy::kDeadLetter) return;
  ctx.eval.fail(ErrorCode::kLate,
                fmt::format("late record: event time {} is in a window that closed (watermark {}, "
                            "allowed lateness {} ms)",
                            types::time::timestamp_to_string(time),
                            types::time::timestamp_to_string(watermark), spec_.lateness_ms));
  ctx.reject(pos);
}

namespace {

struct TimeWindow {
  std::unique_ptr<GroupTable> table;
  bool fired = false;  // its EMIT FINAL rows are out (kept only for `update`)
  int64_t min_offset = std::numeric_limits<int64_t>::max();  // of the records it holds
};

class TimeWindowState final : public OperatorState {
 public:
  explicit TimeWindowState(const AggregateSet& set) : set_(set), scratch(set.scratch_width()) {}
  ~TimeWindowState() override {
    for (auto& [start, w] : windows) {
      if (w.table) set_.destroy_all(*w.table);
    }
  }

  const AggregateSet& set_;
  std::map<int64_t, TimeWindow> windows;  // by start; every window has the same size
  // The window the last record went to: in-order input mostly hits it again. Reset when windows
  // are erased.
  int64_t last_start = 0;
  TimeWindow* last = nullptr;
  int64_t watermark = kNoWatermark;
  std::vector<Value> scratch;
  std::vector<std::unique_ptr<GroupTable>> retired;  // see WindowOperatorShell
  // No window closes or is freed before the watermark reaches this (a lower bound; exact after
  // every fire).
  int64_t due = std::numeric_limits<int64_t>::max();

  // Open: not fired yet (fired windows kept for late_records: update count in bytes only).
  StateSize size() const override {
    StateSize s;
    for (const auto& [start, w] : windows) {
      if (!w.fired) {
        ++s.open_windows;
        s.groups += w.table->size();
      }
      s.bytes += w.table->memory_bytes() + sizeof(TimeWindow);
    }
    return s;
  }

  std::optional<int64_t> retained_offset() const override {
    std::optional<int64_t> min;
    for (const auto& [start, w] : windows) {
      if (w.table->size() > 0 && (!min || w.min_offset < *min)) min = w.min_offset;
    }
    return min;
  }

  // The watermark, then each window (start, fired, oldest offset, groups).
  bool save(StateWriter& wr) const override {
    wr.i64(watermark);
    wr.u32(static_cast<uint32_t>(windows.size()));
    for (const auto& [start, w] : windows) {
      wr.i64(start);
      wr.boolean(w.fired);
      wr.i64(w.min_offset);
      set_.save_table(*w.table, wr);
    }
    return true;
  }

  void load(StateReader& r) override {
    watermark = r.i64();
    uint32_t n = r.count(8 + 1 + 8 + 12);
    for (uint32_t i = 0; i < n; ++i) {
      int64_t start = r.i64();
      check_restored_time(start, r);
      if (windows.count(start) != 0) r.fail("a window twice");
      TimeWindow& w = windows[start];
      w.table =
          std::make_unique<GroupTable>(set_.key_count(), set_.state_size(), set_.state_align());
      w.fired = r.boolean();
      w.min_offset = r.i64();
      set_.load_table(*w.table, r);
    }
    last = nullptr;
    due = std::numeric_limits<int64_t>::min();  // the next fire computes it
  }
};

class HoppingWindow final : public WindowOperatorShell<HoppingWindow, TimeWindowState> {
 public:
  using WindowOperatorShell::WindowOperatorShell;

 private:
  friend class WindowOperatorShell<HoppingWindow, TimeWindowState>;

  // Adds the row to every window [s, s + size) holding `t`, s a multiple of the advance.
  void assign(TimeWindowState& st, int64_t t, Batch& out, RecordPosition pos,
              ExecContext& ctx) const {
    int64_t adv = spec_.advance_ms;
    int64_t last = floor_div(t, adv) * adv;
    int64_t first = (floor_div(t - spec_.size_ms, adv) + 1) * adv;
    bool open = false;
    for (int64_t s = first; s <= last; s += adv) {
      int64_t close_at = add_clamped(s + spec_.size_ms, spec_.lateness_ms);
      if (!closed(close_at, st.watermark)) {
        open = true;
        add(st, s, window(st, s), out, pos, ctx, true);
      } else if (auto it = st.windows.find(s); it != st.windows.end()) {
        // Kept for `update`: re-emits, unless the record is replayed (its row went out before).
        add(st, s, it->second, out, pos, ctx, !ctx.replaying(pos));
      } else if (ctx.replaying(pos) && kept(close_at, st.watermark)) {
        rebuild(st, s, out, pos, ctx);
      }
    }
    if (!open) on_late(pos, t, st.watermark, ctx);
  }

  // A replayed record of a window that closed and was emitted before the restart but is still
  // kept for `update`: rebuilds that window's state silently, so a later late record updates it.
  void rebuild(TimeWindowState& st, int64_t start, Batch& out, RecordPosition pos,
               ExecContext& ctx) const {
    TimeWindow& w = window(st, start);
    w.fired = true;
    add(st, start, w, out, pos, ctx, false);
  }

  TimeWindow& window(TimeWindowState& st, int64_t start) const {
    if (st.last != nullptr && st.last_start == start) return *st.last;
    TimeWindow& w = st.windows[start];
    st.last = &w;
    st.last_start = start;
    if (!w.table) {
      w.table =
          std::make_unique<GroupTable>(set_.key_count(), set_.state_size(), set_.state_align());
      st.due = std::min(st.due, add_clamped(start + spec_.size_ms, spec_.lateness_ms));
    }
    return w;
  }

  void add(TimeWindowState& st, int64_t start, TimeWindow& w, Batch& out, RecordPosition pos,
           ExecContext& ctx, bool may_emit) const {
    uint32_t g = set_.find_group(*w.table, st.scratch.data());
    char* block = set_.aggregate_count() > 0 ? w.table->state(g) : nullptr;
    if (block != nullptr) set_.update(block, st.scratch.data() + set_.key_count());
    w.min_offset = std::min(w.min_offset, pos.offset);
    if (may_emit && (spec_.emit_changes || w.fired)) {
      emit(w.table->key(g), start, start + spec_.size_ms, block, out, pos, ctx);
    }
  }

  int64_t due(const TimeWindowState& st) const { return st.due; }

  // Emits (EMIT FINAL) and frees the windows the watermark closed, in order of window end.
  void fire(TimeWindowState& st, int64_t watermark, Batch& out, ExecContext& ctx) const {
    for (auto it = st.windows.begin(); it != st.windows.end();) {
      int64_t end = it->first + spec_.size_ms;
      int64_t close_at = add_clamped(end, spec_.lateness_ms);
      if (!closed(close_at, watermark)) break;
      TimeWindow& w = it->second;
      if (!w.fired && !spec_.emit_changes) {
        for (uint32_t g = 0; g < w.table->size(); ++g) {
          const char* block = set_.aggregate_count() > 0 ? w.table->state(g) : nullptr;
          emit(w.table->key(g), it->first, end, block, out, {}, ctx, true);
        }
      }
      w.fired = true;
      if (kept(close_at, watermark)) {
        ++it;
        continue;
      }
      if (w.table->size() > 0) ctx.release(w.min_offset);
      set_.destroy_all(*w.table);
      st.retired.push_back(std::move(w.table));  // `out` may hold rows with its keys
      if (st.last == &w) st.last = nullptr;
      it = st.windows.erase(it);
    }
    // Windows are ordered by start, so by close: the fired ones kept for `update` come first.
    st.due = std::numeric_limits<int64_t>::max();
    for (const auto& [start, w] : st.windows) {
      int64_t close_at = add_clamped(start + spec_.size_ms, spec_.lateness_ms);
      if (!w.fired) {
        st.due = std::min(st.due, close_at);
        break;
      }
      st.due = std::min(st.due, add_clamped(close_at, spec_.lateness_ms));
    }
  }
};

}  // namespace

OperatorPtr make_window_aggregate(WindowSpec spec, std::vector<ExpressionPtr> keys,
                                  std::vector<AggregateCall> aggregates) {
  if (spec.kind == WindowKind::kSession) {
    return make_session_window(std::move(spec), std::move(keys), std::move(aggregates));
  }
  if (spec.kind == WindowKind::kTumbling) spec.advance_ms = spec.size_ms;
  return std::make_unique<HoppingWindow>(std::move(spec), std::move(keys), std::move(aggregates));
}

}  // namespace sluice::exec
