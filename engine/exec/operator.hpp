#pragma once
// Physical operators. An Operator is immutable and shared by every partition pipeline of a job;
// whatever it remembers between batches lives in the OperatorState it creates (`make_state`), which
// belongs to one pipeline and is only touched on that pipeline's strand.
// Lifecycle: process(batch)* [on_close at end of a bounded input]. Watermarks come with windows.

#include "exec/batch.hpp"
#include "exec/eval_context.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::exec {

class StateWriter;
class StateReader;

// A record the data plane rejected: where it came from and why.
struct Rejection {
  RecordPosition position;
  RecordError error;
};

// Per-record event time: from the input record at `offset` on (in the batch's offset order), the
// watermark in force before each record is at least `watermark`.
struct WatermarkStep {
  int64_t offset = 0;
  int64_t watermark = 0;
};

// What happened to the input records of one batch; filled by the operators, read by the pipeline.
struct ExecContext {
  EvalContext eval;
  // The input the batch being processed came from (0 in a one-input query; a join's operator
  // reads it, exec/join.hpp). Set by the runtime.
  size_t input = 0;
  uint64_t filtered = 0;        // dropped by WHERE, or by an INNER JOIN without a match
  uint64_t having_dropped = 0;  // aggregate rows not emitted because of HAVING
  uint64_t late = 0;  // input records that arrived after their window closed (any late policy)
  // Replay after a restart: a record whose window already closed and whose offset is below
  // `replay_before` was processed (and its window emitted) before the restart. It is counted in
  // `replayed` instead of `late` and never rejected. Set by the pipeline; INT64_MIN: no replay.
  int64_t replay_before = std::numeric_limits<int64_t>::min();
  uint64_t replayed = 0;
  // The smallest input offset of the records held by the windows this call freed (closed and no
  // longer kept); INT64_MAX when none. Until the output of this call is acknowledged, the runtime
  // must not commit past it: those records are no longer in `retained_offset`.
  int64_t released_offset = std::numeric_limits<int64_t>::max();
  std::vector<Rejection> rejections;

  void release(int64_t min_offset) {
    if (min_offset < released_offset) released_offset = min_offset;
  }

  // True when the record at `pos` is being re-read after a restart (see replay_before).
  bool replaying(RecordPosition pos) const { return pos.offset < replay_before; }

  // The batch's watermark steps (set by the runtime; empty for a query without event time).
  // Operators judge each record against the watermark in force before it, so that what is late
  // and what closes when depends on the input order alone, not on how records were batched.
  std::span<const WatermarkStep> watermark_steps;
  // Calls `apply(watermark)` for every step at or before the input record at `offset` that
  // `cursor` (0 at the start of each batch, kept by the operator) has not passed yet, in order.
  // An operator calls it before each row it reads, then with kAllSteps after its last row: every
  // step is applied one by one, those of records it never sees (dropped by WHERE) too, so what it
  // does is what it would do were the records fed one batch each.
  static constexpr int64_t kAllSteps = std::numeric_limits<int64_t>::max();
  template <typename Apply>
  void apply_steps_through(size_t& cursor, int64_t offset, Apply&& apply) const {
    while (cursor < watermark_steps.size() && watermark_steps[cursor].offset <= offset)
      apply(watermark_steps[cursor++].watermark);
  }

  // Rejects the row whose evaluation failed (eval.failed) and resets the evaluation context.
  void reject(RecordPosition pos) {
    rejections.push_back({pos, std::move(eval.error)});
    eval.clear();
  }
};

// What an operator state holds, for metrics: windows still open, groups (summed over the open
// windows; partitions for OVER) and an estimate of the bytes they take (hash tables, keys, string
// arenas and aggregate state blocks; per-record buffers of sessions and OVER are approximated).
// One changelog entry: a key's bytes and its state's bytes, or a tombstone (`value` null: the
// state holds no such key). Views valid during the call.
using ChangeVisitor = std::function<void(std::string_view key, const std::string_view* value)>;

struct StateSize {
  uint64_t open_windows = 0;
  uint64_t groups = 0;
  uint64_t bytes = 0;
  StateSize& operator+=(const StateSize& o) {
    open_windows += o.open_windows;
    groups += o.groups;
    bytes += o.bytes;
    return *this;
  }
};

class OperatorState {
 public:
  virtual ~OperatorState() = default;
  // What the state holds (see StateSize); none for stateless operators. May scan the open
  // windows: meant to be called about once a second, not per record.
  virtual StateSize size() const { return {}; }
  // The smallest input offset of any record whose effect this state still holds in a window that
  // can change or emit again (open windows, and closed ones kept for late_records: update);
  // nullopt when it holds none. Re-reading the input from there rebuilds the state. May scan the
  // open windows: meant to be called about once a second, not per record.
  virtual std::optional<int64_t> retained_offset() const { return std::nullopt; }
  // Durable state: `save` writes what the state holds and returns true, or returns false when
  // this operator cannot save its state (yet); `load` reads what `save` wrote into a state fresh
  // from make_state(), which then behaves as the saved one would. Bad bytes throw sluice::Error
  // (kState); the state is then to be discarded.
  virtual bool save(StateWriter&) const { return false; }
  virtual void load(StateReader& r);
  // Changelog: durable state written as the keys that changed. After `track_changes` (true: this
  // state can) the state remembers which keys records changed; `save_changes` hands each to `out`
  // with its state, or as a tombstone, and forgets them. `load_change` applies such an entry
  // (`r` reads the value; null: a tombstone) and `touch` marks a key to be written by the next
  // save_changes, whatever the state holds for it then. Bad bytes throw sluice::Error (kState).
  // `finish_changes` ends a run of load_change calls (a tombstone removes its key only then);
  // touch and processing come after it.
  virtual bool track_changes() { return false; }
  virtual void save_changes(const ChangeVisitor&) {}
  virtual void load_change(StateReader& key, StateReader* value);
  virtual void finish_changes() {}
  virtual void touch(StateReader& key);
};

class Operator {
 public:
  explicit Operator(size_t output_width) : output_width_(output_width) {}
  virtual ~Operator() = default;

  virtual std::unique_ptr<OperatorState> make_state() const { return nullptr; }
  // Reads the rows of `in`, appends its output rows to `out` (width output_width()). Output rows
  // may point at string bytes owned by `in`, `out` or the state.
  virtual void process(OperatorState* state, Batch& in, Batch& out, ExecContext& ctx) const = 0;
  // The pipeline's event-time watermark advanced to `watermark` (epoch ms): no record with an
  // earlier event time is expected any more. Emits what that completes (closed windows).
  virtual void on_watermark(OperatorState*, int64_t /*watermark*/, Batch& /*out*/,
                            ExecContext&) const {}
  // End of a bounded input: emits whatever is still held.
  virtual void on_close(OperatorState*, Batch&, ExecContext&) const {}
  size_t output_width() const { return output_width_; }

 private:
  size_t output_width_;
};

using OperatorPtr = std::unique_ptr<const Operator>;

}  // namespace sluice::exec
