#pragma once
// Factories for the physical operators of a query chain.

#include "exec/expression.hpp"
#include "exec/operator.hpp"
#include "functions/aggregate.hpp"

#include <vector>

namespace sluice::exec {

// Keeps rows whose predicate is TRUE. `is_having` counts drops as having_dropped, else filtered.
OperatorPtr make_filter(ExpressionPtr predicate, size_t width, bool is_having);

// Evaluates one expression per output column; a row whose evaluation fails is rejected.
// With `unnest` (the ARRAYs of the select list's EXPLODE calls, over input rows), an input row
// gives one output row per element of its longest ARRAY (the shorter ones give NULLs), with
// EvalContext::unnest set; a row whose ARRAYs are all NULL or empty gives none (counted as
// filtered).
OperatorPtr make_project(std::vector<ExpressionPtr> columns,
                         std::vector<ExpressionPtr> unnest = {});

struct AggregateCall {
  functions::BoundAggregate fn;
  ExpressionPtr arg;  // null for COUNT(*)
};

// Groups rows by `keys` and updates `aggregates`; output rows are keys followed by aggregate
// results. emit_changes: one output row per accepted input row (its group's new value);
// otherwise every group once at on_close, in first-seen order.
OperatorPtr make_aggregate(std::vector<ExpressionPtr> keys, std::vector<AggregateCall> aggregates,
                           bool emit_changes);

// Passes a row only the first time its whole value tuple is seen.
OperatorPtr make_distinct(size_t width);

}  // namespace sluice::exec
