#pragma once
// SQL text -> executable query: parse, bind against the source, plan operators.
// Throws sluice::Error with a location inside `sql` and the offending text quoted.

#include "exec/event_time.hpp"
#include "exec/query.hpp"
#include "plan/logical_plan.hpp"
#include "plan/source_schema.hpp"

#include <memory>
#include <string_view>

namespace sluice::plan {

// `time`: the source's event-time settings, used by windowed queries (source.event_time,
// allowed lateness, late-record policy).
// `sources`: every source of the job; the query reads each (FROM and JOIN name them). A query
// without JOIN reads one.
LogicalPlan bind(const sql::SelectStatement& stmt, std::string_view sql,
                 const std::vector<SourceSchema>& sources,
                 const exec::EventTimeSettings& time = {});
LogicalPlan bind(const sql::SelectStatement& stmt, std::string_view sql, const SourceSchema& source,
                 const exec::EventTimeSettings& time = {});
std::shared_ptr<const exec::Query> build_query(LogicalPlan plan);
std::shared_ptr<const exec::Query> compile_query(std::string_view sql,
                                                 const std::vector<SourceSchema>& sources,
                                                 const exec::EventTimeSettings& time = {});
std::shared_ptr<const exec::Query> compile_query(std::string_view sql, const SourceSchema& source,
                                                 const exec::EventTimeSettings& time = {});

}  // namespace sluice::plan
