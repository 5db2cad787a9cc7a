// Grouped aggregation (continuous EMIT CHANGES, or EMIT FINAL at end of input) and DISTINCT.

#include "exec/aggregate_set.hpp"
#include "exec/change_tracker.hpp"
#include "exec/group_table.hpp"
#include "exec/operators.hpp"
#include "exec/state_codec.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

class AggregateState final : public OperatorState {
 public:
  explicit AggregateState(const AggregateSet& set)
      : set_(set),
        table(set.key_count(), set.state_size(), set.state_align()),
        scratch(set.scratch_width()) {}
  ~AggregateState() override { set_.destroy_all(table); }
  StateSize size() const override { return {0, table.size(), table.memory_bytes()}; }
  bool save(StateWriter& w) const override {
    set_.save_table(table, w);
    return true;
  }
  void load(StateReader& r) override { set_.load_table(table, r); }

  bool track_changes() override {
    changes.enable();
    return true;
  }
  void save_changes(const ChangeVisitor& out) override {
    std::string key, value;
    changes.take(
        [&](uint32_t g) {
          key.clear();
          value.clear();
          StateWriter kw(key), vw(value);
          set_.save_key(table.key(g), kw);
          set_.save_states(table.state(g), vw);
          std::string_view v = value;
          out(key, &v);
        },
        [&](const std::string& gone) {
          if (!holds(gone)) out(gone, nullptr);  // (else it is written as a changed group)
        });
  }
  void load_change(StateReader& kr, StateReader* vr) override {
    key_arena.reset();  // the table copies key strings into its own arena
    set_.load_key(kr, key_arena, key_scratch);
    kr.expect_end();
    uint64_t hash = table.hash_key(key_scratch.data());
    if (vr == nullptr) {  // a tombstone
      int64_t g = table.find(key_scratch.data(), hash);
      if (g >= 0) deletions.mark(static_cast<uint32_t>(g), true);
      return;
    }
    bool inserted = false;
    uint32_t g = table.find_or_insert(key_scratch.data(), hash, &inserted);
    if (deletions.deleted(g)) deletions.mark(g, false);
    if (set_.aggregate_count() == 0) return;
    if (!inserted) set_.destroy(table.state(g));
    set_.init(table.state(g));
    set_.load_states(table.state(g), *vr);
  }
  void finish_changes() override {
    if (!deletions.any()) return;
    std::string kept;  // the table without the deleted groups, rebuilt from its own snapshot
    StateWriter w(kept);
    set_.save_table(table, w, &deletions);
    set_.destroy_all(table);
    table.clear();
    deletions.clear();
    StateReader r(kept, "the state rebuilt without deleted groups");
    set_.load_table(table, r);
  }
  void touch(StateReader& kr) override {
    Arena scratch_arena(256);
    set_.load_key(kr, scratch_arena, key_scratch);
    kr.expect_end();
    int64_t g = table.find(key_scratch.data(), table.hash_key(key_scratch.data()));
    if (g >= 0) {
      changes.changed(static_cast<uint32_t>(g));
      return;
    }
    changes.gone(std::string(kr.whole()));
  }

  // True when the table holds the group of a key as save_key wrote it.
  // Whether the table holds `key`, written as these bytes (not only an equal key: 0.0 for -0.0).
  bool holds(std::string_view key) {
    StateReader kr(key, "a changed key");
    Arena scratch_arena(256);
    set_.load_key(kr, scratch_arena, key_scratch);
    int64_t g = table.find(key_scratch.data(), table.hash_key(key_scratch.data()));
    if (g < 0) return false;
    std::string held;
    StateWriter w(held);
    set_.save_key(table.key(static_cast<uint32_t>(g)), w);
    return held == key;
  }

  const AggregateSet& set_;
  GroupTable table;
  std::vector<Value> scratch;  // keys, then aggregate arguments, of the row being processed
  std::vector<Value> key_scratch;
  Arena key_arena{256};  // key_scratch's strings
  ChangeTracker changes;
  Deletions deletions;
};

class Aggregate final : public Operator {
 public:
  Aggregate(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggs, bool emit_changes)
      : Operator(keys.size() + aggs.size()),
        set_(std::move(keys), std::move(aggs)),
        emit_changes_(emit_changes) {}

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<AggregateState>(set_);
  }

  void process(OperatorState* base, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<AggregateState&>(*base);
    ctx.eval.arena = &out.arena();
    for (size_t r = 0; r < in.size(); ++r) {
      if (!set_.evaluate(in.row(r), st.scratch.data(), ctx.eval)) {
        ctx.reject(in.position(r));
        continue;
      }
      uint32_t g = set_.find_group(st.table, st.scratch.data());
      st.changes.changed(g);
      if (set_.aggregate_count() > 0)
        set_.update(st.table.state(g), st.scratch.data() + set_.key_count());
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
    if (set_.key_count() == 0 && st.table.size() == 0) {
      emit(st, set_.find_group(st.table, st.scratch.data()), out, {}, ctx);
    }
  }

 private:
  void emit(AggregateState& st, uint32_t g, Batch& out, RecordPosition pos,
            ExecContext& ctx) const {
    Value* dst = out.append_row(pos);
    size_t keys = set_.key_count();
    std::copy(st.table.key(g), st.table.key(g) + keys, dst);
    if (set_.aggregate_count() > 0)
      set_.finalize(st.table.state(g), dst + keys, out.arena(), ctx.eval);
    if (ctx.eval.failed) {
      out.pop_row();
      ctx.reject(pos);
    }
  }

  AggregateSet set_;
  bool emit_changes_;
};

class DistinctState final : public OperatorState {
 public:
  explicit DistinctState(size_t width) : table(width, 0, 1) {}
  StateSize size() const override { return {0, table.size(), table.memory_bytes()}; }
  // The rows seen, in first-seen order. Restored values are only compared, never computed on.
  bool save(StateWriter& w) const override {
    save_rows(w, nullptr);
    return true;
  }
  void load(StateReader& r) override {
    if (r.u32() != table.key_width()) r.fail("the state has rows of another width");
    if (table.size() != 0) r.fail("restoring into a table that is not empty");
    // A row takes at least a tag and a null flag per column.
    uint32_t rows = r.count(std::max<size_t>(1, 2 * table.key_width()));
    std::vector<Value> row(table.key_width());
    for (uint32_t i = 0; i < rows; ++i) {
      Arena scratch(256);  // the table copies strings into its own arena
      for (auto& v : row)
        v = r.value(scratch);
      bool inserted = false;
      table.find_or_insert(row.data(), table.hash_key(row.data()), &inserted);
      if (!inserted) r.fail("a row twice");
    }
  }
  // Changelog entries: a row's values as the key, an empty value (the row was seen).
  bool track_changes() override {
    changes.enable();
    return true;
  }
  void save_changes(const ChangeVisitor& out) override {
    std::string key;
    std::string_view seen;
    changes.take(
        [&](uint32_t g) {
          key = row_bytes(g);
          out(key, &seen);
        },
        [&](const std::string& gone) {
          if (!holds(gone)) out(gone, nullptr);  // (else it is written as a changed row)
        });
  }
  void load_change(StateReader& kr, StateReader* vr) override {
    Arena scratch(256);
    read_row(kr, scratch);
    uint64_t hash = table.hash_key(row_scratch.data());
    if (vr == nullptr) {
      int64_t g = table.find(row_scratch.data(), hash);
      if (g >= 0) deletions.mark(static_cast<uint32_t>(g), true);
      return;
    }
    vr->expect_end();
    bool inserted = false;
    uint32_t g = table.find_or_insert(row_scratch.data(), hash, &inserted);
    if (deletions.deleted(g)) deletions.mark(g, false);
  }
  void finish_changes() override {
    if (!deletions.any()) return;
    std::string kept;
    StateWriter w(kept);
    save_rows(w, &deletions);
    table.clear();
    deletions.clear();
    StateReader r(kept, "the state rebuilt without deleted rows");
    load(r);
  }
  void touch(StateReader& kr) override {
    Arena scratch(256);
    read_row(kr, scratch);
    int64_t g = table.find(row_scratch.data(), table.hash_key(row_scratch.data()));
    if (g >= 0)
      changes.changed(static_cast<uint32_t>(g));
    else
      changes.gone(std::string(kr.whole()));
  }

  GroupTable table;
  ChangeTracker changes;
  Deletions deletions;

 private:
  // Whether the table holds the row `key`, written as these bytes (not only an equal row).
  bool holds(std::string_view key) {
    StateReader kr(key, "a changed row");
    Arena scratch(256);
    read_row(kr, scratch);
    int64_t g = table.find(row_scratch.data(), table.hash_key(row_scratch.data()));
    return g >= 0 && row_bytes(static_cast<uint32_t>(g)) == key;
  }
  // A row's changelog key.
  std::string row_bytes(uint32_t g) const {
    std::string bytes;
    StateWriter w(bytes);
    const Value* row = table.key(g);
    for (size_t c = 0; c < table.key_width(); ++c)
      w.value(row[c]);
    return bytes;
  }
  void save_rows(StateWriter& w, const Deletions* skip) const {
    w.u32(static_cast<uint32_t>(table.key_width()));
    w.u32(static_cast<uint32_t>(table.size() - (skip ? skip->count() : 0)));
    for (uint32_t g = 0; g < table.size(); ++g) {
      if (skip && skip->deleted(g)) continue;
      const Value* row = table.key(g);
      for (size_t c = 0; c < table.key_width(); ++c)
        w.value(row[c]);
    }
  }
  void read_row(StateReader& kr, Arena& arena) {
    row_scratch.resize(table.key_width());
    for (auto& v : row_scratch)
      v = kr.value(arena);
    kr.expect_end();
  }
  std::vector<Value> row_scratch;
};

class Distinct final : public Operator {
 public:
  explicit Distinct(size_t width) : Operator(width) {}
  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<DistinctState>(output_width());
  }
  void process(OperatorState* base, Batch& in, Batch& out, ExecContext&) const override {
    auto& st = static_cast<DistinctState&>(*base);
    auto& table = st.table;
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      bool inserted = false;
      uint32_t g = table.find_or_insert(row, table.hash_key(row), &inserted);
      if (!inserted) continue;
      st.changes.changed(g);
      std::copy(row, row + in.width(), out.append_row(in.position(r)));
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
