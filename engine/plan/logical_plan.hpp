#pragma once
// The bound, typed form of a query, before it becomes a chain of operators:
//   source -> [filter] -> [aggregate -> [having]] -> project -> [distinct]
// Expressions are already physical (exec::Expression); the planner only arranges operators.

#include "exec/operators.hpp"
#include "exec/query.hpp"
#include "sql/ast.hpp"

#include <vector>

namespace sluice::plan {

struct LogicalPlan {
  size_t input_width = 0;
  exec::ExpressionPtr where;  // over input rows; may be null

  bool aggregate = false;
  std::vector<exec::ExpressionPtr> group_keys;  // over input rows
  std::vector<exec::AggregateCall> aggregates;  // arguments over input rows
  exec::ExpressionPtr having;                   // over [keys..., aggregates...]; may be null

  std::vector<exec::ExpressionPtr> projections;  // over input rows, or over grouped rows
  std::vector<exec::OutputColumn> output;
  bool distinct = false;
  bool emit_changes = true;  // aggregates: EMIT CHANGES (default) or EMIT FINAL
};

}  // namespace sluice::plan
