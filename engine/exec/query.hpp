#pragma once
// A compiled query: the chain of physical operators between decoded input rows and output rows.
// Immutable and shared by every partition pipeline of a job; each pipeline creates its own
// QueryState (operator states + reusable stage batches) with `make_state`.

#include "exec/expression.hpp"
#include "exec/operator.hpp"
#include "types/data_type.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::exec {

struct OutputColumn {
  std::string name;
  types::DataType type;
};

// What the planner knows about a query's state and keys, for the runtime (commit-after-ack,
// partitioning checks, output message keys). Set once at compile time.
struct QueryKeys {
  // Output columns that pass the GROUP BY keys through unchanged, one per key in GROUP BY order;
  // empty when the query does not aggregate or some key is not selected as a plain column.
  std::vector<size_t> key_output_columns;
  // The input columns (schema positions) the state is keyed by: GROUP BY keys of an aggregate or
  // windowed query, PARTITION BY of OVER, the selected columns of DISTINCT. Empty for a stateless
  // query; nullopt when some key is an expression or the state has no key (one global group).
  std::optional<std::vector<size_t>> partition_key_inputs = std::vector<size_t>{};
  // State that never closes: a non-windowed aggregate, DISTINCT, OVER analytics.
  bool unbounded_state = false;
  // The operators need the watermark although the query has no event time of its own: a
  // stream–stream join reads each input's (the runtime merges them).
  bool needs_watermark = false;
};

class QueryState {
 public:
  std::vector<std::unique_ptr<OperatorState>> states;
  std::vector<Batch> stages;   // stages[i] is operator i's output
  std::deque<Batch> closing;   // close()'s batches; kept until the state goes
  std::deque<Batch> flushing;  // on_watermark()'s batches; reused, valid until the next call
};

class Query {
 public:
  // `event_time` (may be null): the event time of an input row, for queries that use watermarks.
  // `state_fingerprint`: the identity of the query's state, written into its snapshots
  // (plan::state_fingerprint: the SQL and the source schema).
  // `input_widths`: the row width of each input of a join query (ExecContext::input picks one);
  // empty for a one-input query, whose rows are `input_width` wide.
  Query(size_t input_width, std::vector<OperatorPtr> ops, std::vector<OutputColumn> output,
        ExpressionPtr event_time = nullptr, QueryKeys keys = {}, uint64_t state_fingerprint = 0,
        std::vector<size_t> input_widths = {});

  std::unique_ptr<QueryState> make_state() const;
  // Runs one input batch through the chain. The returned batch (owned by `state`) holds the output
  // rows and stays valid until the next call with the same state.
  Batch& process(QueryState& state, Batch& input, ExecContext& ctx) const;
  // The watermark advanced (the runtime merges it over the pipeline's inputs): every operator
  // in order sees it, and what one emits flows through the operators after it.
  Batch& on_watermark(QueryState& state, int64_t watermark, ExecContext& ctx) const;
  // End of a bounded input: flushes every operator in order.
  Batch& close(QueryState& state, ExecContext& ctx) const;

  // Durable state. `snapshot` appends the state of every operator to `out` (a versioned header,
  // then one length-prefixed part per operator) and returns true, or returns false (leaving `out`
  // as it was) when some operator cannot save its state yet. `restore` reads a snapshot into a
  // state fresh from make_state(); a truncated, corrupt or foreign snapshot (another version,
  // another query: another state_fingerprint) throws sluice::Error (kState) naming `what`, and the
  // state is then to be discarded.
  bool snapshot(const QueryState& state, std::string& out) const;
  void restore(QueryState& state, std::string_view snapshot, const std::string& what) const;
  // True when every operator can save its state (snapshot of a fresh state succeeds).
  bool can_snapshot() const;

  // Changelog: durable state written as the keys that changed since the last checkpoint. An
  // entry's key is [u8 version][u64 state fingerprint][u8 part][the part's key]: part i is
  // operator i's state, kRuntimePart the runtime's own entries (changelog_key builds theirs).
  // The state fingerprint keeps another query's entries apart (kForeign: ignored).
  static constexpr uint8_t kRuntimePart = 255;
  enum class ChangeOwner { kOperator, kRuntime, kForeign };
  // Starts tracking changes in `state`; false when some operator cannot (no changelog).
  bool track_changes(QueryState& state) const;
  bool can_changelog() const;
  // Hands every entry changed since the last call to `out` (value null: a tombstone).
  void save_changes(QueryState& state, const ChangeVisitor& out) const;
  std::string changelog_key(uint8_t part, std::string_view key) const;
  // Applies an entry (value null: a tombstone) to `state`, or, `touch_change`, marks its key to be
  // written again by the next save_changes. A runtime entry is neither: its part's key is set in
  // `runtime_key`. Bad bytes throw sluice::Error (kState) naming `what`.
  ChangeOwner apply_change(QueryState& state, std::string_view key, const std::string_view* value,
                           const std::string& what, std::string_view* runtime_key) const;
  ChangeOwner touch_change(QueryState& state, std::string_view key, const std::string& what,
                           std::string_view* runtime_key) const;
  // Ends a run of apply_change calls: call it after the last, before touch_change or processing.
  void finish_changes(QueryState& state) const;

  size_t input_width() const { return input_width_; }
  // Inputs: 1, or a join's; the row width of input `i`.
  size_t input_count() const { return input_widths_.size(); }
  size_t input_width(size_t i) const { return input_widths_[i]; }
  // The event time of an input row for windowed and expiring OVER queries (null otherwise); the
  // runtime reads it to track the watermark.
  const ExpressionPtr& event_time() const { return event_time_; }
  const std::vector<OutputColumn>& output_columns() const { return output_; }

  // The smallest input offset whose record is still held in open window state of `state`
  // (including closed windows kept for late_records: update); nullopt when no window holds a
  // record. Committing past it would lose those records on restart. Scans the open windows: call
  // it about once a second, not per record.
  std::optional<int64_t> retained_offset(const QueryState& state) const;
  // The sum of the operators' StateSize (open windows, groups, approximate bytes); same cost
  // caveat as retained_offset.
  StateSize state_size(const QueryState& state) const;
  // True when the query holds state that never closes (non-windowed GROUP BY aggregate, DISTINCT,
  // OVER analytics): re-reading from a committed offset does not rebuild it.
  bool unbounded_state() const { return keys_.unbounded_state; }
  // True when the runtime is to call on_watermark (an event time, or a stream–stream join).
  bool uses_watermark() const { return event_time_ != nullptr || keys_.needs_watermark; }
  // See QueryKeys.
  const std::vector<size_t>& key_output_columns() const { return keys_.key_output_columns; }
  const std::optional<std::vector<size_t>>& partition_key_inputs() const {
    return keys_.partition_key_inputs;
  }

 private:
  // The operator state an entry's key names (its part's key in `part_key`); null for another
  // query's entry or the runtime's (`owner`; a runtime entry's part key also in `runtime_key`).
  OperatorState* change_target(QueryState& state, std::string_view key, const std::string& what,
                               std::string_view* runtime_key, ChangeOwner& owner,
                               std::string_view& part_key) const;
  Batch& run_from(size_t first, QueryState& state, Batch& input, ExecContext& ctx) const;
  // Runs `flush` on each operator after feeding it the rows the operators before it emitted.
  template <typename Flush>
  Batch& flush_all(QueryState& state, std::deque<Batch>& batches, ExecContext& ctx,
                   Flush flush) const;

  size_t input_width_;
  std::vector<size_t> input_widths_;
  std::vector<OperatorPtr> ops_;
  std::vector<OutputColumn> output_;
  ExpressionPtr event_time_;
  QueryKeys keys_;
  uint64_t state_fingerprint_;
};

}  // namespace sluice::exec
