#pragma once
// The grouped-aggregation pieces shared by the continuous Aggregate operator and the windowed one
// (exec/window_aggregate.cpp): the group-key and argument expressions, the aggregates, and the
// layout of a group's state block (one aligned slot per aggregate). Immutable and shared by every
// pipeline; the blocks it works on belong to one pipeline's operator state.

#include "exec/change_tracker.hpp"
#include "exec/group_table.hpp"
#include "exec/operators.hpp"
#include "exec/state_codec.hpp"

#include <vector>

namespace sluice::exec {

class AggregateSet {
 public:
  AggregateSet(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggs);

  size_t key_count() const { return keys_.size(); }
  size_t aggregate_count() const { return aggs_.size(); }
  size_t state_size() const { return size_; }
  size_t state_align() const { return align_; }
  // Width of the scratch row `evaluate` fills: keys, then one argument per aggregate.
  size_t scratch_width() const { return keys_.size() + aggs_.size(); }

  // Evaluates the keys and aggregate arguments of `row` into `scratch`; false when one failed.
  bool evaluate(const Value* row, Value* scratch, EvalContext& ev) const;
  void init(char* block) const;
  // Feeds one row's arguments (`args`: one Value per aggregate) to the aggregates of `block`.
  void update(char* block, const Value* args) const;
  // Writes the current result of each aggregate to dst[0 .. aggregate_count()).
  void finalize(const char* block, Value* dst, Arena& arena, EvalContext& ev) const;
  void destroy(char* block) const;
  // Destroys the state of every group of `table`.
  void destroy_all(GroupTable& table) const;
  // The group of `key` in `table`, its state initialised when new.
  uint32_t find_group(GroupTable& table, const Value* key) const;
  // Copies the strings among `args` into `arena` (to keep arguments beyond their batch).
  void keep_args(Value* args, Arena& arena) const;
  // Writes every group of `table` (keys and aggregate states, in group order) but those `skip`
  // marks deleted; `load_table` reads them into an empty table, which then holds the same groups
  // in the same order. A table of another shape (key or aggregate count) or a group twice throws
  // sluice::Error (kState).
  void save_table(const GroupTable& table, StateWriter& w, const Deletions* skip = nullptr) const;
  void load_table(GroupTable& table, StateReader& r) const;
  // One group's key, and its aggregate states, as save_table writes them (changelog entries).
  void save_key(const Value* key, StateWriter& w) const;
  void save_states(const char* block, StateWriter& w) const;
  // Reads a key save_key wrote into `key` (strings in `arena`), checking its types.
  void load_key(StateReader& r, Arena& arena, std::vector<Value>& key) const;
  // Reads states save_states wrote into `block`, which holds initialised states.
  void load_states(char* block, StateReader& r) const;
  // Restored keys and arguments must have the types the query gives them (NULL aside): a value
  // of another type would be read as that type by hashing and the aggregates. Throws kState.
  void check_key(const Value* key, StateReader& r) const;
  void check_args(const Value* args, StateReader& r) const;

 private:
  std::vector<ExpressionPtr> keys_;
  std::vector<AggregateCall> aggs_;
  std::vector<size_t> offsets_;  // byte offset of each aggregate's state in a block
  // column_index_of each key, then each aggregate argument: read straight from the row when >= 0.
  std::vector<int64_t> columns_;
  size_t size_ = 0;
  size_t align_ = 1;
};

}  // namespace sluice::exec
