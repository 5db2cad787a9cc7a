// Key metadata of a compiled query. Only plain column references count as keys: the runtime
// compares them with source.partitioned_by and uses them as output message keys, and neither is
// sound for a computed key (GROUP BY UPPER(symbol) groups records whose symbols differ).

#include "plan/query_keys.hpp"

#include "exec/expressions.hpp"

namespace sluice::plan {
namespace {

// The input column each expression reads, when every one is a plain column; nullopt when some is
// computed or there is none (the state is one global group).
std::optional<std::vector<size_t>> plain_columns(const std::vector<exec::ExpressionPtr>& exprs) {
  if (exprs.empty()) return std::nullopt;
  std::vector<size_t> cols;
  for (const auto& e : exprs) {
    int64_t c = exec::column_index_of(*e);
    if (c < 0) return std::nullopt;
    cols.push_back(static_cast<size_t>(c));
  }
  return cols;
}

// Grouped-row column `c` holds the same value as GROUP BY key `key` (itself, or a repeated key).
bool same_key(const LogicalPlan& plan, int64_t c, size_t key) {
  if (c < 0 || static_cast<size_t>(c) >= plan.group_keys.size()) return false;
  if (static_cast<size_t>(c) == key) return true;
  int64_t a = exec::column_index_of(*plan.group_keys[static_cast<size_t>(c)]);
  return a >= 0 && a == exec::column_index_of(*plan.group_keys[key]);
}

// The output column passing each GROUP BY key through; empty unless every key has one.
std::vector<size_t> key_outputs(const LogicalPlan& plan) {
  std::vector<size_t> out;
  for (size_t k = 0; k < plan.group_keys.size(); ++k) {
    size_t j = 0;
    while (j < plan.projections.size() &&
           !same_key(plan, exec::column_index_of(*plan.projections[j]), k))
      ++j;
    if (j == plan.projections.size()) return {};
    out.push_back(j);
  }
  return out;
}

}  // namespace

exec::QueryKeys query_keys(const LogicalPlan& plan) {
  exec::QueryKeys keys;
  if (plan.analytic) {
    keys.unbounded_state = true;
    keys.partition_key_inputs = plain_columns(plan.analytic->partition_by);
  } else if (plan.aggregate) {
    // Windows close; a plain GROUP BY's groups, and DISTINCT over windowed rows, never do.
    keys.unbounded_state = !plan.window || plan.distinct;
    keys.partition_key_inputs = plain_columns(plan.group_keys);
    keys.key_output_columns = key_outputs(plan);
  } else if (plan.distinct) {
    keys.unbounded_state = true;
    keys.partition_key_inputs = plain_columns(plan.projections);
  }
  if (plan.join || plan.interval_join) {
    // A stream–table join holds its table for good; joins key their state by their own keys,
    // not by input columns.
    keys.unbounded_state = keys.unbounded_state || plan.join.has_value();
    keys.partition_key_inputs = std::nullopt;
  }
  keys.needs_watermark = plan.interval_join.has_value();
  return keys;
}

}  // namespace sluice::plan
