#pragma once
// The bound, typed form of a query, before it becomes a chain of operators:
//   source -> [filter] -> [aggregate -> [having]] -> project -> [distinct]
// Expressions are already physical (exec::Expression); the planner only arranges operators.

#include "exec/analytic.hpp"
#include "exec/join.hpp"
#include "exec/operators.hpp"
#include "exec/query.hpp"
#include "exec/window_aggregate.hpp"
#include "sql/ast.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace sluice::plan {

struct LogicalPlan {
  size_t input_width = 0;  // of the rows the operators after a join read: the joined rows
  // A join: its operator comes first, and reads inputs this wide (exec/join.hpp).
  std::optional<exec::StreamTableJoinSpec> join;
  std::optional<exec::IntervalJoinSpec> interval_join;
  std::vector<size_t> input_widths;
  exec::ExpressionPtr where;  // over input rows; may be null

  bool aggregate = false;
  std::vector<exec::ExpressionPtr> group_keys;  // over input rows
  std::vector<exec::AggregateCall> aggregates;  // arguments over input rows
  exec::ExpressionPtr having;                   // over [keys..., aggregates...]; may be null

  std::vector<exec::ExpressionPtr> projections;  // over input rows, or over grouped rows
  std::vector<exec::ExpressionPtr> unnest;       // EXPLODE's ARRAYs (see exec::make_project)
  std::vector<exec::OutputColumn> output;
  bool distinct = false;
  bool emit_changes = true;  // aggregates: EMIT CHANGES (default) or EMIT FINAL
  // A time window: the aggregate is windowed, its rows are [keys..., window_start, window_end,
  // aggregates...] and HAVING / projections read them so.
  std::optional<exec::WindowSpec> window;
  // OVER analytics: [filter] -> analytic -> project; projections read [input..., calls...].
  std::shared_ptr<exec::AnalyticSpec> analytic;
  // See state_fingerprint.hpp; set by bind().
  uint64_t state_fingerprint = 0;
};

}  // namespace sluice::plan
