// The OVER analytics operator: partition lookup (GroupTable), rank bookkeeping, LEAD holding and
// expiry of inactive partition keys. The frame math is in analytic_calls.cpp.

#include "exec/analytic_impl.hpp"
#include "exec/change_tracker.hpp"
#include "exec/group_table.hpp"
#include "types/value_ops.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

using analytic::FrameMath;
using analytic::kNever;
using analytic::Partition;
using analytic::PartitionCodec;
using analytic::PendingRow;
using types::TypeId;

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

class Analytic;

class AnalyticState final : public OperatorState {
 public:
  AnalyticState(const Analytic& op, size_t keys, size_t scratch, size_t calls)
      : op(op), table(std::make_unique<GroupTable>(keys, 0, 1)), scratch(scratch), results(calls) {}

  // Groups: the partitions; bytes: their key table and records (rows buffered in the frame
  // rings and LEAD's pending rows are not counted).
  StateSize size() const override {
    return {0, parts.size(), table->memory_bytes() + parts.capacity() * sizeof(Partition)};
  }
  // Snapshot: the clock, then each partition key with its partition.
  bool save(StateWriter& w) const override;
  void load(StateReader& r) override;
  // Changelog entries: [0][partition key] -> the partition; [1] -> the clock.
  bool track_changes() override {
    changes.enable();
    return true;
  }
  void save_changes(const ChangeVisitor& out) override;
  void load_change(StateReader& key, StateReader* value) override;
  void finish_changes() override;
  void touch(StateReader& key) override;

  // The key of partition g as its changelog entries name it.
  std::string entry_key(uint32_t g) const;
  // Keeps only the partitions `keep` accepts, renumbered in order (changed marks follow);
  // `tombstones`: the changelog is to delete the others.
  template <typename Keep>
  void compact(Keep keep, bool tombstones);

  const Analytic& op;
  std::unique_ptr<GroupTable> table;  // partition key -> index into parts
  std::vector<Partition> parts;
  std::vector<Value> scratch;  // keys, order, inputs, fallbacks of the row being processed
  std::vector<Value> results;  // call results of the row being processed
  bool has_clock = false;
  int64_t clock = 0;
  int64_t next_sweep = 0;
  uint64_t arrivals = 0;
  ChangeTracker changes;
  Deletions deletions;
  std::string clock_written;  // the clock entry last written (changelog)

 private:
  void save_clock(StateWriter& w) const;
  void load_clock(StateReader& r);
  // Reads a partition key into key_scratch, checking its types; false: the clock's entry.
  bool read_key(StateReader& r, Arena& arena);
  std::vector<Value> key_scratch;
};

class Analytic final : public Operator {
 public:
  Analytic(AnalyticSpec spec, size_t input_width)
      : Operator(input_width + spec.calls.size()),
        spec_(std::move(spec)),
        math_(spec_),
        input_width_(input_width),
        order_at_(spec_.partition_by.size()),
        inputs_at_(order_at_ + 1),
        fallbacks_at_(inputs_at_ + spec_.inputs.size()),
        scratch_width_(fallbacks_at_ + spec_.calls.size()),
        codec_(spec_, ring_caps_, lead_span_, output_width()) {
    ring_caps_.assign(spec_.inputs.size(), 1);
    for (const AnalyticCall& c : spec_.calls) {
      if (c.kind == AnalyticKind::kLead) lead_span_ = std::max(lead_span_, c.offset);
      if (c.input < 0) continue;
      // LAG reads `offset` rows back; bounded frames read their first row; the rest read only
      // the current row.
      bool current_only =
          c.unbounded || c.kind == AnalyticKind::kLastValue || c.kind == AnalyticKind::kLead;
      int64_t need = c.kind == AnalyticKind::kLag ? c.offset + 1
                     : current_only               ? 1
                                                  : c.preceding + 1;
      ring_caps_[c.input] = std::max(ring_caps_[c.input], static_cast<size_t>(need));
    }
    order_is_time_ = spec_.order_by && spec_.order_by->type().id == TypeId::kTimestamp;
    sweep_every_ = std::max<int64_t>(1, spec_.expire_after_ms / 4);
  }

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<AnalyticState>(*this, spec_.partition_by.size(), scratch_width_,
                                           spec_.calls.size());
  }

  void process(OperatorState* base, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<AnalyticState&>(*base);
    ctx.eval.arena = &out.arena();
    // The watermark in force before each record moves the clock first (see ExecContext).
    auto advance = [&](int64_t w) { advance_clock(st, w, out, ctx); };
    size_t applied = 0;
    for (size_t r = 0; r < in.size(); ++r) {
      ctx.apply_steps_through(applied, in.position(r).offset, advance);
      if (!evaluate(in.row(r), st, ctx.eval)) {
        ctx.reject(in.position(r));
        continue;
      }
      const Value& order = st.scratch[order_at_];
      if (order_is_time_ && !order.null) advance_clock(st, order.i, out, ctx);
      uint32_t g = partition_of(st, out);
      step(st, g, in.row(r), in.position(r), out, ctx);
    }
    ctx.apply_steps_through(applied, ExecContext::kAllSteps, advance);
  }

  void on_watermark(OperatorState* base, int64_t watermark, Batch& out,
                    ExecContext& ctx) const override {
    advance_clock(static_cast<AnalyticState&>(*base), watermark, out, ctx);
  }

  void on_close(OperatorState* base, Batch& out, ExecContext&) const override {
    auto& st = static_cast<AnalyticState&>(*base);
    std::vector<PendingRow*> rows;
    for (Partition& p : st.parts)
      collect_pending(p, rows);
    emit_in_arrival_order(rows, out);
  }

 private:
  bool evaluate(const Value* row, AnalyticState& st, EvalContext& ev) const {
    Value* s = st.scratch.data();
    for (size_t k = 0; k < spec_.partition_by.size(); ++k)
      s[k] = spec_.partition_by[k]->eval(row, ev);
    s[order_at_] = spec_.order_by ? spec_.order_by->eval(row, ev) : Value();
    for (size_t i = 0; i < spec_.inputs.size(); ++i)
      s[inputs_at_ + i] = spec_.inputs[i]->eval(row, ev);
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      if (spec_.calls[c].fallback) s[fallbacks_at_ + c] = spec_.calls[c].fallback->eval(row, ev);
    }
    return !ev.failed;
  }

  // ---- partitions and expiry

  uint32_t partition_of(AnalyticState& st, Batch& out) const {
    bool inserted = false;
    const Value* key = st.scratch.data();
    uint32_t g = st.table->find_or_insert(key, st.table->hash_key(key), &inserted);
    if (inserted) {
      st.parts.push_back(fresh_partition());
    } else if (expired(st, st.parts[g])) {
      // Inactive for the expiry time: its rows waiting for LEAD go out, then it starts afresh.
      std::vector<PendingRow*> rows;
      collect_pending(st.parts[g], rows);
      emit_in_arrival_order(rows, out);
      st.parts[g] = fresh_partition();
    }
    return g;
  }

  Partition fresh_partition() const {
    Partition p;
    for (size_t cap : ring_caps_)
      p.rings.emplace_back(cap);
    p.calls.resize(spec_.calls.size());
    return p;
  }

  bool expired(const AnalyticState& st, const Partition& p) const {
    return st.has_clock && p.last_active != kNever &&
           p.last_active <= saturating_add(st.clock, -spec_.expire_after_ms);
  }

  void advance_clock(AnalyticState& st, int64_t t, Batch& out, ExecContext& ctx) const {
    if (st.has_clock && t <= st.clock) return;
    if (!st.has_clock) {
      // Keys seen before any clock existed count as active now.
      for (Partition& p : st.parts) {
        if (p.last_active == kNever) p.last_active = t;
      }
      st.next_sweep = saturating_add(t, sweep_every_);
    }
    st.has_clock = true;
    st.clock = t;
    if (st.clock >= st.next_sweep) sweep(st, out, ctx);
  }

  // Drops every expired key (emitting its held LEAD rows) and compacts the key table.
  void sweep(AnalyticState& st, Batch& out, ExecContext&) const {
    st.next_sweep = saturating_add(st.clock, sweep_every_);
    std::vector<PendingRow*> rows;
    bool any = false;
    for (Partition& p : st.parts) {
      if (!expired(st, p)) continue;
      any = true;
      collect_pending(p, rows);
    }
    if (!any) return;
    emit_in_arrival_order(rows, out);
    st.compact([&](uint32_t g) { return !expired(st, st.parts[g]); }, true);
  }

  // ---- one row

  void step(AnalyticState& st, uint32_t g, const Value* row, RecordPosition pos, Batch& out,
            ExecContext& ctx) const {
    Partition& p = st.parts[g];
    st.changes.changed(g);
    const Value& order = st.scratch[order_at_];
    int64_t activity = order_is_time_ && !order.null ? order.i : (st.has_clock ? st.clock : kNever);
    p.last_active = std::max(p.last_active, activity);
    int64_t seq = p.rows++;
    update_rank(p, seq, order);
    const Value* args = st.scratch.data() + inputs_at_;
    math_.retire(p, seq);
    for (size_t i = 0; i < spec_.inputs.size(); ++i)
      p.rings[i].push(seq, args[i]);
    math_.advance(p, seq, args, st.scratch.data() + fallbacks_at_, st.results.data(), ctx.eval);
    if (lead_span_ == 0) {
      emit_row(row, st.results.data(), pos, out, ctx);
    } else {
      hold_row(st, p, seq, row, pos, out, ctx);
    }
  }

  static void update_rank(Partition& p, int64_t seq, const Value& order) {
    bool peer = seq > 0 && order.null == p.last_order.null &&
                (order.null || types::compare(order, p.last_order) == 0);
    if (!peer) {
      p.rank = seq + 1;
      ++p.dense_rank;
    }
    p.last_order = order;  // TIMESTAMP or number: no string bytes to keep
  }

  Value output_value(const Value& v, Batch& out) const {
    if (!v.has_bytes()) return v;
    return v.with_bytes(out.arena().copy(v.str()));
  }

  void emit_row(const Value* row, const Value* results, RecordPosition pos, Batch& out,
                ExecContext& ctx) const {
    if (ctx.eval.failed) {
      ctx.reject(pos);
      return;
    }
    Value* dst = out.append_row(pos);
    std::copy(row, row + input_width_, dst);
    for (size_t c = 0; c < spec_.calls.size(); ++c)
      dst[input_width_ + c] = output_value(results[c], out);
  }

  // LEAD: fills the rows this one completes, emits the one now complete, then holds this row.
  void hold_row(AnalyticState& st, Partition& p, int64_t seq, const Value* row, RecordPosition pos,
                Batch& out, ExecContext& ctx) const {
    const Value* args = st.scratch.data() + inputs_at_;
    auto span = static_cast<size_t>(lead_span_);
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      const AnalyticCall& call = spec_.calls[c];
      if (call.kind != AnalyticKind::kLead || call.offset == 0 || seq < call.offset) continue;
      PendingRow& target = p.pending[static_cast<size_t>(seq - call.offset) % span];
      if (target.live) target.set(input_width_ + c, args[call.input]);
    }
    auto slot = static_cast<size_t>(seq) % span;
    if (slot == p.pending.size()) p.pending.emplace_back();
    PendingRow& mine = p.pending[slot];
    if (mine.live) emit_pending(mine, out);  // the row lead_span_ back: all its LEADs are known
    if (ctx.eval.failed) {
      ctx.reject(pos);
      return;
    }
    mine.live = true;
    mine.position = pos;
    mine.arrival = st.arrivals++;
    mine.bytes.clear();
    mine.values.resize(output_width());
    mine.offsets.resize(output_width());
    for (size_t i = 0; i < input_width_; ++i)
      mine.set(i, row[i]);
    for (size_t c = 0; c < spec_.calls.size(); ++c)
      mine.set(input_width_ + c, st.results[c]);
  }

  void emit_pending(PendingRow& p, Batch& out) const {
    Value* dst = out.append_row(p.position);
    for (size_t i = 0; i < p.values.size(); ++i) {
      Value v = p.values[i];
      if (v.has_bytes())
        v = v.with_bytes(
            out.arena().copy(std::string_view(p.bytes).substr(p.offsets[i], v.s.size)));
      dst[i] = v;
    }
    p.live = false;
  }

  static void collect_pending(Partition& p, std::vector<PendingRow*>& rows) {
    for (PendingRow& r : p.pending) {
      if (r.live) rows.push_back(&r);
    }
  }

  void emit_in_arrival_order(std::vector<PendingRow*>& rows, Batch& out) const {
    std::sort(rows.begin(), rows.end(),
              [](const PendingRow* a, const PendingRow* b) { return a->arrival < b->arrival; });
    for (PendingRow* r : rows)
      emit_pending(*r, out);
  }

  friend class AnalyticState;

  AnalyticSpec spec_;
  FrameMath math_;
  size_t input_width_;
  size_t order_at_;
  size_t inputs_at_;
  size_t fallbacks_at_;
  size_t scratch_width_;
  std::vector<size_t> ring_caps_;
  int64_t lead_span_ = 0;
  bool order_is_time_ = false;
  int64_t sweep_every_ = 1;
  PartitionCodec codec_;  // after ring_caps_ and lead_span_, which the constructor sets first
};

// ---- durable state

void AnalyticState::save_clock(StateWriter& w) const {
  w.boolean(has_clock);
  w.i64(clock);
  w.i64(next_sweep);
  w.u64(arrivals);
}

void AnalyticState::load_clock(StateReader& r) {
  has_clock = r.boolean();
  clock = r.i64();
  next_sweep = r.i64();
  arrivals = static_cast<uint64_t>(r.counter());
}

bool AnalyticState::read_key(StateReader& r, Arena& arena) {
  if (r.u8() != 0) return false;
  key_scratch.resize(op.spec_.partition_by.size());
  for (size_t k = 0; k < key_scratch.size(); ++k) {
    key_scratch[k] = r.value(arena);
    if (!of_type(key_scratch[k], op.spec_.partition_by[k]->type()))
      r.fail("a partition key of another type than the query's");
  }
  return true;
}

bool AnalyticState::save(StateWriter& w) const {
  save_clock(w);
  w.u32(static_cast<uint32_t>(parts.size()));
  for (uint32_t g = 0; g < parts.size(); ++g) {
    const Value* key = table->key(g);
    for (size_t k = 0; k < table->key_width(); ++k)
      w.value(key[k]);
    op.codec_.save(parts[g], w);
  }
  return true;
}

void AnalyticState::load(StateReader& r) {
  if (!parts.empty()) r.fail("restoring into a state that is not empty");
  load_clock(r);
  // A partition takes at least a tag and a null flag per key and 40 bytes of counters.
  uint32_t n = r.count(2 * table->key_width() + 40);
  key_scratch.resize(table->key_width());
  for (uint32_t i = 0; i < n; ++i) {
    Arena arena(256);  // the table copies key strings into its own arena
    for (size_t k = 0; k < key_scratch.size(); ++k) {
      key_scratch[k] = r.value(arena);
      if (!of_type(key_scratch[k], op.spec_.partition_by[k]->type()))
        r.fail("a partition key of another type than the query's");
    }
    bool inserted = false;
    table->find_or_insert(key_scratch.data(), table->hash_key(key_scratch.data()), &inserted);
    if (!inserted) r.fail("a partition key twice");
    parts.push_back(op.fresh_partition());
    op.codec_.load(r, parts.back(), arrivals);
  }
}

std::string AnalyticState::entry_key(uint32_t g) const {
  std::string key;
  StateWriter w(key);
  w.u8(0);
  const Value* values = table->key(g);
  for (size_t k = 0; k < table->key_width(); ++k)
    w.value(values[k]);
  return key;
}

template <typename Keep>
void AnalyticState::compact(Keep keep, bool tombstones) {
  auto rebuilt = std::make_unique<GroupTable>(table->key_width(), 0, 1);
  std::vector<Partition> kept;
  std::vector<int64_t> to(parts.size(), -1);
  for (uint32_t g = 0; g < parts.size(); ++g) {
    if (!keep(g)) {
      if (tombstones && changes.on()) changes.gone(entry_key(g));  // unless it is back by then
      continue;
    }
    bool inserted = false;
    const Value* key = table->key(g);
    to[g] = rebuilt->find_or_insert(key, rebuilt->hash_key(key), &inserted);
    kept.push_back(std::move(parts[g]));
  }
  changes.remap(to);
  table = std::move(rebuilt);
  parts = std::move(kept);
}

void AnalyticState::save_changes(const ChangeVisitor& out) {
  std::string value;
  changes.take(
      [&](uint32_t g) {
        std::string key = entry_key(g);
        value.clear();
        StateWriter w(value);
        op.codec_.save(parts[g], w);
        std::string_view v = value;
        out(key, &v);
      },
      [&](const std::string& gone) {
        StateReader r(gone, "a partition key gone");
        Arena arena(256);
        read_key(r, arena);
        int64_t g = table->find(key_scratch.data(), table->hash_key(key_scratch.data()));
        if (g < 0 || entry_key(static_cast<uint32_t>(g)) != gone)
          out(gone, nullptr);  // (else it is written as a changed partition)
      });
  value.clear();
  StateWriter w(value);
  save_clock(w);
  if (value != clock_written) {
    std::string key(1, '\1');
    std::string_view v = value;
    out(key, &v);
    clock_written = value;
  }
}

void AnalyticState::load_change(StateReader& kr, StateReader* vr) {
  Arena arena(256);
  if (!read_key(kr, arena)) {
    kr.expect_end();
    if (vr == nullptr) kr.fail("a tombstone for the operator's clock");
    load_clock(*vr);
    vr->expect_end();
    return;
  }
  kr.expect_end();
  uint64_t hash = table->hash_key(key_scratch.data());
  if (vr == nullptr) {
    int64_t g = table->find(key_scratch.data(), hash);
    if (g >= 0) deletions.mark(static_cast<uint32_t>(g), true);
    return;
  }
  bool inserted = false;
  uint32_t g = table->find_or_insert(key_scratch.data(), hash, &inserted);
  if (inserted) parts.emplace_back();
  if (deletions.deleted(g)) deletions.mark(g, false);
  parts[g] = op.fresh_partition();
  // The clock's entry may come later: held rows are checked against it in finish_changes.
  op.codec_.load(*vr, parts[g], UINT64_MAX);
  vr->expect_end();
}

void AnalyticState::finish_changes() {
  if (deletions.any()) {
    compact([&](uint32_t g) { return !deletions.deleted(g); }, false);
    deletions.clear();
  }
  // Rows held for LEAD keep their arrival order ahead of every later row.
  for (const Partition& p : parts) {
    for (const PendingRow& row : p.pending) {
      if (row.live) arrivals = std::max(arrivals, row.arrival + 1);
    }
  }
}

void AnalyticState::touch(StateReader& kr) {
  Arena arena(256);
  if (!read_key(kr, arena)) {
    kr.expect_end();
    clock_written.clear();  // written again with the next changes
    return;
  }
  kr.expect_end();
  int64_t g = table->find(key_scratch.data(), table->hash_key(key_scratch.data()));
  if (g >= 0)
    changes.changed(static_cast<uint32_t>(g));
  else
    changes.gone(std::string(kr.whole()));
}

}  // namespace

OperatorPtr make_analytic(AnalyticSpec spec, size_t input_width) {
  return std::make_unique<Analytic>(std::move(spec), input_width);
}

}  // namespace sluice::exec
