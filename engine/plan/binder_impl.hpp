#pragma once
// Binder internals (private to plan/): resolves names against the source, types expressions,
// inserts casts, folds constants and collects aggregates.

#include "exec/expressions.hpp"
#include "plan/compile.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::plan {

// Where an expression is being bound.
struct Scope {
  enum class Kind { kRow, kGrouped };
  Kind kind = Kind::kRow;
  const char* clause = "SELECT";  // for messages: "WHERE", "GROUP BY", ...
};

// One input of the rows a query binds against: FROM's source, then each joined source.
struct BoundInput {
  const SourceSchema* schema = nullptr;
  std::string name;   // what qualifies its columns: its alias, else its name
  size_t offset = 0;  // where its columns start in the (joined) input row
  size_t source = 0;  // its index among the job's sources: ExecContext::input of its batches
};

// A column a name resolves to: the input and the index within its columns.
struct ResolvedColumn {
  size_t input = 0;
  size_t index = 0;  // schema columns, then system columns, then the headers column
  types::DataType type;
};

class Binder {
 public:
  // `sources`: the job's sources (the query must read each); the first is the FROM source of a
  // query without JOIN.
  Binder(std::string_view sql, const std::vector<SourceSchema>& sources,
         const exec::EventTimeSettings& time = {})
      : sql_(sql),
        sources_(sources),
        source_(sources.front()),
        time_(time),
        headers_(reads_headers(sql)) {}

  LogicalPlan bind(const sql::SelectStatement& stmt);

  // Expression binding (binder_expr.cpp).
  exec::ExpressionPtr bind_expr(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_boolean(const sql::Expr& e, const Scope& scope);

 private:
  exec::ExpressionPtr bind_grouped_ref(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_column(const sql::Expr& e);
  ResolvedColumn resolve_column(const sql::Expr& e) const;
  // The input `qualifier` (of `q.col` or `q.*`) names, or throws; inputs_.size() when empty.
  size_t check_qualifier(const std::string& qualifier, Location loc, std::string_view what) const;
  exec::ExpressionPtr bind_literal(const sql::Expr& e);
  exec::ExpressionPtr bind_interval(const sql::Expr& e);
  exec::ExpressionPtr bind_unary(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_binary(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_arithmetic(const sql::Expr& e, exec::ExpressionPtr l,
                                      exec::ExpressionPtr r);
  exec::ExpressionPtr bind_comparison(const sql::Expr& e, exec::CompareOp op, exec::ExpressionPtr l,
                                      exec::ExpressionPtr r);
  exec::ExpressionPtr bind_function(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_aggregate(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_case(const sql::Expr& e, const Scope& scope);
  // COALESCE, IFNULL and IF as CASE (SQL:2016 6.12): later arguments are evaluated only when
  // needed, so `COALESCE(x, 1 / x)` does not fail on a non-NULL x. `args` are already cast.
  exec::ExpressionPtr bind_conditional(const functions::BoundScalar& fn,
                                       std::vector<exec::ExpressionPtr> args);
  exec::ExpressionPtr bind_cast(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_between(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_in(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_like(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_extract(const sql::Expr& e, const Scope& scope);
  // STRUCT, ARRAY and MAP (binder_nested.cpp).
  exec::ExpressionPtr bind_field(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_subscript(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_constructor(const sql::Expr& e, const Scope& scope);
  bool has_column(const std::string& name) const;
  exec::ExpressionPtr bind_unnest(const sql::Expr& e, const Scope& scope);
  // HEADER('name'): the last header of that name's value (BYTES), or NULL.
  exec::ExpressionPtr bind_header(const sql::Expr& e, const Scope& scope);

  // Casts both sides to their common type, or throws naming `what` and the operands' types.
  std::pair<exec::ExpressionPtr, exec::ExpressionPtr> unify(const sql::Expr& at,
                                                            exec::ExpressionPtr l,
                                                            exec::ExpressionPtr r);
  types::DataType common_type(const sql::Expr& at, const std::vector<exec::ExpressionPtr>& items,
                              const char* what);
  exec::ExpressionPtr coerce(const sql::Expr& at, exec::ExpressionPtr e, types::DataType target);

  // Text of a node as written, and errors pointing at it.
  std::string_view text(const sql::Span& span) const;
  std::string quote(const sql::Expr& e) const;
  [[noreturn]] void fail(ErrorCode code, const std::string& message, Location loc) const;

  // Statement helpers (binder.cpp).
  void bind_grouping(const sql::SelectStatement& stmt, LogicalPlan& plan);
  const sql::Expr* resolve_group_alias(const sql::Expr& e, const sql::SelectStatement& stmt) const;
  void bind_select_list(const sql::SelectStatement& stmt, LogicalPlan& plan, const Scope& scope);
  std::string output_name(const sql::SelectItem& item) const;

  // Time windows (binder_window.cpp): the WINDOW clause into plan.window (before the select list
  // is bound), the window bounds as two pseudo group columns after the keys, and the references
  // to them (_window_start, TUMBLE_START(), ...); null when `e` is none of those.
  void bind_window(const sql::SelectStatement& stmt, LogicalPlan& plan);
  void add_window_columns(LogicalPlan& plan);
  exec::ExpressionPtr bind_window_ref(const sql::Expr& e, const Scope& scope);
  exec::ExpressionPtr bind_window_time(const sql::WindowClause& w);
  int64_t bind_window_duration(const sql::Expr& e, const char* what);

  // OVER analytics (binder_over.cpp): binds the whole statement when its select list has OVER
  // calls (false when it has none); each call becomes a column after the input row's.
  bool bind_analytics(const sql::SelectStatement& stmt, LogicalPlan& plan);
  exec::ExpressionPtr bind_over_call(const sql::Expr& e, const Scope& scope);
  const sql::OverClause& resolve_over(const sql::Expr& e) const;
  void bind_over_window(const sql::OverClause& w, const sql::Expr& call);
  exec::AnalyticCall bind_analytic_function(const sql::Expr& e, const sql::OverClause& w);
  void bind_lag_lead(const sql::Expr& e, exec::AnalyticCall& call);
  int over_input(const sql::Expr& arg, exec::ExpressionPtr bound);

  // Joins (binder_join.cpp): the FROM source and the joined ones into inputs_, and the join's
  // operator spec into plan.join; refuses what it cannot run, saying why.
  void bind_inputs(const sql::SelectStatement& stmt, LogicalPlan& plan);
  void bind_join(const sql::SelectStatement& stmt, LogicalPlan& plan);
  // ON's conditions besides keys and time bounds, AND-ed (null when none).
  exec::ExpressionPtr bind_on_conditions(const std::vector<const sql::Expr*>& parts);
  // True when `e` reads that column of that input and no other (and some column at all).
  bool reads_only_column(const sql::Expr& e, size_t input, size_t index) const;
  // The inputs whose columns `e` reads (bit i: inputs_[i]).
  uint32_t inputs_read(const sql::Expr& e) const;
  // A stream–stream join (its time bound from WITHIN or a BETWEEN in ON) into plan.interval_join.
  void bind_interval_join(const sql::JoinClause& join, LogicalPlan& plan);
  // `col`, `col + INTERVAL ..` or `col - INTERVAL ..` of a TIMESTAMP column: the column and the
  // offset; false when `e` is none of those.
  bool time_offset(const sql::Expr& e, ResolvedColumn& column, int64_t& offset_ms);
  int64_t bind_join_duration(const sql::Expr& e, const char* what);

  std::string_view sql_;
  const std::vector<SourceSchema>& sources_;
  const SourceSchema& source_;  // FROM's source in a query without JOIN
  exec::EventTimeSettings time_;
  std::vector<BoundInput> inputs_;  // set by bind_inputs
  bool headers_;                    // the input rows hold the headers column (reads_headers)

  // Grouped binding: canonical text of each GROUP BY expression, and the aggregates found so far.
  std::vector<std::string> group_texts_;
  std::vector<types::DataType> group_types_;
  std::vector<std::string> aggregate_texts_;
  std::vector<exec::AggregateCall>* aggregates_ = nullptr;
  bool windowed_ = false;     // the query has a time window
  size_t window_column_ = 0;  // grouped-row index of the window start (the end follows)
  std::shared_ptr<struct OverBinding> over_;  // while binding an OVER query
  // While binding the select list of a query without aggregates, windows or OVER: where EXPLODE
  // puts its ARRAYs; null elsewhere (EXPLODE is refused there).
  std::vector<exec::ExpressionPtr>* unnest_ = nullptr;
};

// True when `e` calls an aggregate function (not counting OVER calls).
bool contains_aggregate_call(const sql::Expr& e);

// Canonical text of an expression, for matching SELECT expressions against GROUP BY ones and for
// sharing identical aggregate calls: case and spacing normalised.
std::string canonical_text(const sql::Expr& e);

// Evaluates `e` once when it is constant (every input constant); returns it unchanged otherwise.
exec::ExpressionPtr fold_constant(exec::ExpressionPtr e,
                                  const std::vector<exec::ExpressionPtr>& inputs);

}  // namespace sluice::plan
