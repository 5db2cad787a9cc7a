#pragma once
// A compiled query: the chain of physical operators between decoded input rows and output rows.
// Immutable and shared by every partition pipeline of a job; each pipeline creates its own
// QueryState (operator states + reusable stage batches) with `make_state`.

#include "exec/expression.hpp"
#include "exec/operator.hpp"
#include "types/data_type.hpp"

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace sluice::exec {

struct OutputColumn {
  std::string name;
  types::DataType type;
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
  Query(size_t input_width, std::vector<OperatorPtr> ops, std::vector<OutputColumn> output,
        ExpressionPtr event_time = nullptr);

  std::unique_ptr<QueryState> make_state() const;
  // Runs one input batch through the chain. The returned batch (owned by `state`) holds the output
  // rows and stays valid until the next call with the same state.
  Batch& process(QueryState& state, Batch& input, ExecContext& ctx) const;
  // The watermark advanced (the runtime merges it over the pipeline's inputs): every operator
  // in order sees it, and what one emits flows through the operators after it.
  Batch& on_watermark(QueryState& state, int64_t watermark, ExecContext& ctx) const;
  // End of a bounded input: flushes every operator in order.
  Batch& close(QueryState& state, ExecContext& ctx) const;

  size_t input_width() const { return input_width_; }
  // The event time of an input row for windowed and expiring OVER queries (null otherwise); the
  // runtime reads it to track the watermark.
  const ExpressionPtr& event_time() const { return event_time_; }
  const std::vector<OutputColumn>& output_columns() const { return output_; }

 private:
  Batch& run_from(size_t first, QueryState& state, Batch& input, ExecContext& ctx) const;
  // Runs `flush` on each operator after feeding it the rows the operators before it emitted.
  template <typename Flush>
  Batch& flush_all(QueryState& state, std::deque<Batch>& batches, ExecContext& ctx,
                   Flush flush) const;

  size_t input_width_;
  std::vector<OperatorPtr> ops_;
  std::vector<OutputColumn> output_;
  ExpressionPtr event_time_;
};

}  // namespace sluice::exec
