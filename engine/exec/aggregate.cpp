// Grouped aggregation (continuous EMIT CHANGES, or EMIT FINAL at end of input) and DISTINCT.

#include "exec/group_table.hpp"
#include "exec/operators.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

// Byte offset of each aggregate's state inside a group's state block, and the block's layout.
struct StateLayout {
  std::vector<size_t> offsets;
  size_t size = 0;
  size_t align = 1;
};

StateLayout layout_of(const std::vector<AggregateCall>& aggs) {
  StateLayout l;
  for (const auto& a : aggs) {
    size_t align = std::max<size_t>(1, a.fn.state_align);
    l.size = (l.size + align - 1) / align * align;
    l.offsets.push_back(l.size);
    l.size += a.fn.state_size;
    l.align = std::max(l.align, align);
  }
  return l;
}

class AggregateState final : public OperatorState {
 public:
  AggregateState(const std::vector<AggregateCall>& aggs, const StateLayout& layout, size_t keys)
      : aggs_(aggs),
        layout_(layout),
        table(keys, layout.size, layout.align),
        scratch(keys + aggs.size()) {}
  ~AggregateState() override {
    for (uint32_t g = 0; g < table.size(); ++g) {
      char* block = table.state(g);
      for (size_t a = 0; a < aggs_.size(); ++a) {
        if (aggs_[a].fn.destroy) aggs_[a].fn.destroy(block + layout_.offsets[a]);
      }
    }
  }

  const std::vector<AggregateCall>& aggs_;
  const StateLayout& layout_;
  GroupTable table;
  std::vector<Value> scratch;  // keys, then aggregate arguments, of the row being processed
};

class Aggregate final : public Operator {
 public:
  Aggregate(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggs, bool emit_changes)
      : Operator(keys.size() + aggs.size()),
        keys_(std::move(keys)),
        aggs_(std::move(aggs)),
        layout_(layout_of(aggs_)),
        emit_changes_(emit_changes) {}

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<AggregateState>(aggs_, layout_, keys_.size());
  }

  void process(OperatorState* base, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<AggregateState&>(*base);
    ctx.eval.arena = &out.arena();
    for (size_t r = 0; r < in.size(); ++r) {
      if (!evaluate_inputs(in.row(r), st.scratch.data(), ctx.eval)) {
        ctx.reject(in.position(r));
        continue;
      }
      uint32_t g = update_group(st);
      if (emit_changes_) emit(st, g, out, in.position(r), ctx);
    }
  }

  void on_close(OperatorState* base, Batch& out, ExecContext& ctx) const override {
    if (emit_changes_) return;
    auto& st = static_cast<AggregateState&>(*base);
    ctx.eval.arena = &out.arena();
    for (uint32_t g = 0; g < st.table.size(); ++g)
      emit(st, g, out, {}, ctx);
    // A global aggregate over no rows still has one result row (COUNT(*) = 0), as in SQL.
    if (keys_.empty() && st.table.size() == 0) emit(st, find_group(st), out, {}, ctx);
  }

 private:
  bool evaluate_inputs(const Value* row, Value* scratch, EvalContext& ev) const {
    for (size_t k = 0; k < keys_.size(); ++k)
      scratch[k] = keys_[k]->eval(row, ev);
    for (size_t a = 0; a < aggs_.size(); ++a) {
      if (aggs_[a].arg) scratch[keys_.size() + a] = aggs_[a].arg->eval(row, ev);
    }
    return !ev.failed;
  }

  uint32_t find_group(AggregateState& st) const {
    bool inserted = false;
    const Value* key = st.scratch.data();
    uint32_t g = st.table.find_or_insert(key, st.table.hash_key(key), &inserted);
    if (inserted) {
      char* block = st.table.state(g);
      for (size_t a = 0; a < aggs_.size(); ++a)
        aggs_[a].fn.init(block + layout_.offsets[a]);
    }
    return g;
  }

  uint32_t update_group(AggregateState& st) const {
    uint32_t g = find_group(st);
    char* block = st.table.state(g);
    const Value* args = st.scratch.data() + keys_.size();
    for (size_t a = 0; a < aggs_.size(); ++a) {
      const AggregateCall& call = aggs_[a];
      if (!call.arg) {
        call.fn.update(block + layout_.offsets[a], nullptr);
      } else if (!args[a].null || call.fn.takes_nulls) {
        call.fn.update(block + layout_.offsets[a], &args[a]);
      }
    }
    return g;
  }

  void emit(AggregateState& st, uint32_t g, Batch& out, RecordPosition pos,
            ExecContext& ctx) const {
    Value* dst = out.append_row(pos);
    std::copy(st.table.key(g), st.table.key(g) + keys_.size(), dst);
    const char* block = st.table.state(g);
    for (size_t a = 0; a < aggs_.size(); ++a) {
      dst[keys_.size() + a] =
          aggs_[a].fn.finalize(block + layout_.offsets[a], out.arena(), ctx.eval);
    }
    if (ctx.eval.failed) {
      out.pop_row();
      ctx.reject(pos);
    }
  }

  std::vector<ExpressionPtr> keys_;
  std::vector<AggregateCall> aggs_;
  StateLayout layout_;
  bool emit_changes_;
};

class DistinctState final : public OperatorState {
 public:
  explicit DistinctState(size_t width) : table(width, 0, 1) {}
  GroupTable table;
};

class Distinct final : public Operator {
 public:
  explicit Distinct(size_t width) : Operator(width) {}
  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<DistinctState>(output_width());
  }
  void process(OperatorState* base, Batch& in, Batch& out, ExecContext&) const override {
    auto& table = static_cast<DistinctState&>(*base).table;
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      bool inserted = false;
      table.find_or_insert(row, table.hash_key(row), &inserted);
      if (inserted) std::copy(row, row + in.width(), out.append_row(in.position(r)));
    }
  }
};

}  // namespace

OperatorPtr make_aggregate(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggregates,
                           bool emit_changes) {
  return std::make_unique<Aggregate>(std::move(keys), std::move(aggregates), emit_changes);
}

OperatorPtr make_distinct(size_t width) {
  return std::make_unique<Distinct>(width);
}

}  // namespace sluice::exec
