#pragma once
// SQL text -> executable query: parse, bind against the source, plan operators.
// Throws sluice::Error with a location inside `sql` and the offending text quoted.

#include "exec/query.hpp"
#include "plan/logical_plan.hpp"
#include "plan/source_schema.hpp"

#include <memory>
#include <string_view>

namespace sluice::plan {

LogicalPlan bind(const sql::SelectStatement& stmt, std::string_view sql,
                 const SourceSchema& source);
std::shared_ptr<const exec::Query> build_query(LogicalPlan plan);
std::shared_ptr<const exec::Query> compile_query(std::string_view sql, const SourceSchema& source);

}  // namespace sluice::plan
