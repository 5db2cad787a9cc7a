// Statement binding: FROM, WHERE, GROUP BY, aggregates, HAVING, the select list and EMIT.

#include "functions/aggregate.hpp"
#include "plan/binder_impl.hpp"
#include "plan/query_keys.hpp"
#include "plan/state_fingerprint.hpp"
#include "sql/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool contains_aggregate_call(const Expr& e) {
  if (e.kind == ExprKind::kFunction && !e.over && functions::is_aggregate_function(e.name)) {
    return true;
  }
  return std::any_of(e.args.begin(), e.args.end(),
                     [](const sql::ExprPtr& a) { return a && contains_aggregate_call(*a); });
}

std::string canonical_text(const Expr& e) {
  std::string s;
  switch (e.kind) {
    case ExprKind::kLiteral:
      s = fmt::format("lit{}:{}", static_cast<int>(e.literal_kind), e.text);
      break;
    case ExprKind::kColumnRef:
      s = "col:" + lower(e.name);
      break;
    case ExprKind::kField:  // field names match case-insensitively, as column names do
      s = "field:" + lower(e.name);
      break;
    default:
      s = fmt::format("{}:{}:{}:{}:{}{}{}", static_cast<int>(e.kind), e.name, e.op, e.type_name,
                      e.text, e.distinct ? "D" : "", e.star ? "*" : "");
      s += e.negated ? "!" : "";
      s += e.has_operand ? "o" : "";
      s += e.has_else ? "e" : "";
  }
  if (e.kind != ExprKind::kColumnRef && e.kind != ExprKind::kLiteral) {
    s += '(';
    for (const auto& a : e.args)
      s += canonical_text(*a) + ",";
    s += ')';
  }
  return s;
}

std::string Binder::output_name(const sql::SelectItem& item) const {
  if (!item.alias.empty()) return item.alias;
  if (item.expr->kind == ExprKind::kColumnRef) return item.expr->name;
  std::string q = quote(*item.expr);
  return q.substr(1, q.size() - 2);
}

const Expr* Binder::resolve_group_alias(const Expr& e, const sql::SelectStatement& stmt) const {
  // GROUP BY 2 (ordinal) and GROUP BY alias name a select-list expression.
  if (e.kind == ExprKind::kLiteral && e.literal_kind == sql::LiteralKind::kInteger) {
    size_t n = std::strtoull(e.text.c_str(), nullptr, 10);
    if (n < 1 || n > stmt.items.size() || stmt.items[n - 1].star) {
      fail(ErrorCode::kSqlAggregate,
           fmt::format("GROUP BY position {} is not in the select list (1..{})", e.text,
                       stmt.items.size()),
           e.loc);
    }
    return stmt.items[n - 1].expr.get();
  }
  if (e.kind != ExprKind::kColumnRef || !e.qualifier.empty()) return &e;
  for (const BoundInput& in : inputs_) {
    for (const auto& c : in.schema->columns) {
      if (lower(c.name) == lower(e.name)) return &e;  // a real column wins over an alias
    }
  }
  for (const auto& item : stmt.items) {
    if (!item.star && !item.alias.empty() && lower(item.alias) == lower(e.name)) {
      return item.expr.get();
    }
  }
  return &e;
}

void Binder::bind_grouping(const sql::SelectStatement& stmt, LogicalPlan& plan) {
  Scope row{Scope::Kind::kRow, "GROUP BY"};
  for (const auto& g : stmt.group_by) {
    const Expr& target = *resolve_group_alias(*g, stmt);
    if (contains_aggregate_call(target)) {
      fail(ErrorCode::kSqlAggregate,
           fmt::format("aggregate functions are not allowed in GROUP BY: {}", quote(target)),
           target.loc);
    }
    plan.group_keys.push_back(bind_expr(target, row));
    group_texts_.push_back(canonical_text(target));
    group_types_.push_back(plan.group_keys.back()->type());
  }
}

void Binder::bind_select_list(const sql::SelectStatement& stmt, LogicalPlan& plan,
                              const Scope& scope) {
  std::set<std::string> names;
  auto add = [&](ExpressionPtr e, std::string name, Location loc) {
    if (!names.insert(lower(name)).second) {
      fail(ErrorCode::kSqlDuplicateName,
           fmt::format("output column '{}' appears twice; give one of them another name with AS",
                       name),
           loc);
    }
    plan.output.push_back({std::move(name), e->type()});
    plan.projections.push_back(std::move(e));
  };
  for (const auto& item : stmt.items) {
    if (!item.star) {
      add(bind_expr(*item.expr, scope), output_name(item), item.loc);
      continue;
    }
    size_t only = check_qualifier(item.qualifier, item.loc, text(item.span));
    if (scope.kind == Scope::Kind::kGrouped) {
      fail(ErrorCode::kSqlAggregate,
           "SELECT * cannot be used with GROUP BY or aggregates; list "
           "the grouped columns and aggregates",
           item.loc);
    }
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (only != inputs_.size() && only != i) continue;
      const auto& cols = inputs_[i].schema->columns;
      for (size_t c = 0; c < cols.size(); ++c)
        add(exec::make_column(inputs_[i].offset + c, cols[c].type), cols[c].name, item.loc);
    }
  }
}

LogicalPlan Binder::bind(const sql::SelectStatement& stmt) {
  windowed_ = stmt.window != nullptr;
  LogicalPlan plan;
  bind_inputs(stmt, plan);
  plan.distinct = stmt.distinct;
  if (stmt.where) {
    if (contains_aggregate_call(*stmt.where)) {
      Scope where{Scope::Kind::kRow, "WHERE"};
      bind_expr(*stmt.where, where);  // reports the aggregate at its position
    }
    plan.where = bind_boolean(*stmt.where, {Scope::Kind::kRow, "WHERE condition"});
  }
  if (bind_analytics(stmt, plan)) return plan;
  bool has_aggregates = std::any_of(stmt.items.begin(), stmt.items.end(), [](const auto& i) {
    return !i.star && contains_aggregate_call(*i.expr);
  });
  plan.aggregate = !stmt.group_by.empty() || has_aggregates || stmt.having;
  if (stmt.window) bind_window(stmt, plan);
  if (!plan.aggregate) {
    if (stmt.emit == sql::EmitMode::kFinal) {
      fail(ErrorCode::kSqlUnsupported,
           "EMIT FINAL needs GROUP BY or aggregates: a query without them emits each row as it "
           "arrives",
           stmt.emit_loc);
    }
    unnest_ = &plan.unnest;  // EXPLODE is allowed here only
    bind_select_list(stmt, plan, {Scope::Kind::kRow, "SELECT"});
    unnest_ = nullptr;
    return plan;
  }
  plan.emit_changes = stmt.emit != sql::EmitMode::kFinal;
  bind_grouping(stmt, plan);
  if (plan.window) add_window_columns(plan);
  aggregates_ = &plan.aggregates;
  Scope grouped{Scope::Kind::kGrouped, "SELECT"};
  bind_select_list(stmt, plan, grouped);
  if (stmt.having) plan.having = bind_boolean(*stmt.having, {Scope::Kind::kGrouped, "HAVING"});
  return plan;
}

LogicalPlan bind(const sql::SelectStatement& stmt, std::string_view sql,
                 const std::vector<SourceSchema>& sources, const exec::EventTimeSettings& time) {
  Binder binder(sql, sources, time);
  LogicalPlan plan = binder.bind(stmt);
  plan.state_fingerprint = state_fingerprint(sql, sources);
  return plan;
}

LogicalPlan bind(const sql::SelectStatement& stmt, std::string_view sql, const SourceSchema& source,
                 const exec::EventTimeSettings& time) {
  return plan::bind(stmt, sql, std::vector<SourceSchema>{source}, time);
}

std::shared_ptr<const exec::Query> build_query(LogicalPlan plan) {
  std::vector<exec::OperatorPtr> ops;
  size_t width = plan.input_width;
  if (plan.join) ops.push_back(exec::make_stream_table_join(std::move(*plan.join)));
  if (plan.interval_join) ops.push_back(exec::make_interval_join(std::move(*plan.interval_join)));
  if (plan.where) ops.push_back(exec::make_filter(plan.where, width, false));
  if (plan.analytic) ops.push_back(exec::make_analytic(*plan.analytic, width));
  if (plan.window) {
    width = plan.group_keys.size() + 2 + plan.aggregates.size();
    ops.push_back(exec::make_window_aggregate(*plan.window, plan.group_keys, plan.aggregates));
    if (plan.having) ops.push_back(exec::make_filter(plan.having, width, true));
  } else if (plan.aggregate) {
    width = plan.group_keys.size() + plan.aggregates.size();
    ops.push_back(exec::make_aggregate(plan.group_keys, plan.aggregates, plan.emit_changes));
    if (plan.having) ops.push_back(exec::make_filter(plan.having, width, true));
  }
  ops.push_back(exec::make_project(plan.projections, plan.unnest));
  if (plan.distinct) ops.push_back(exec::make_distinct(plan.projections.size()));
  exec::ExpressionPtr event_time;
  if (plan.window) event_time = plan.window->time;
  if (plan.analytic && plan.analytic->watermark_time) event_time = plan.analytic->watermark_time;
  exec::QueryKeys keys = query_keys(plan);
  return std::make_shared<exec::Query>(plan.input_width, std::move(ops), std::move(plan.output),
                                       std::move(event_time), std::move(keys),
                                       plan.state_fingerprint, std::move(plan.input_widths));
}

std::shared_ptr<const exec::Query> compile_query(std::string_view sql,
                                                 const std::vector<SourceSchema>& sources,
                                                 const exec::EventTimeSettings& time) {
  sql::SelectStatement stmt = sql::parse_select(sql);
  return build_query(plan::bind(stmt, sql, sources, time));
}

std::shared_ptr<const exec::Query> compile_query(std::string_view sql, const SourceSchema& source,
                                                 const exec::EventTimeSettings& time) {
  return compile_query(sql, std::vector<SourceSchema>{source}, time);
}

}  // namespace sluice::plan
