#pragma once
// Derives exec::QueryKeys (which columns a query's state is keyed by, which output columns carry
// the GROUP BY keys, whether its state ever closes) from a bound LogicalPlan. Called once by
// build_query; pure function of the plan, no state.

#include "exec/query.hpp"
#include "plan/logical_plan.hpp"

namespace sluice::plan {

exec::QueryKeys query_keys(const LogicalPlan& plan);

}  // namespace sluice::plan
