// Binding of OVER analytics. A query whose select list has OVER calls has no GROUP BY, HAVING,
// plain aggregates or time window; it becomes [filter WHERE] -> analytic -> project, where each
// distinct OVER call is a column after the input row's columns. All calls share one PARTITION BY,
// ORDER BY and EXPIRE AFTER (one partitioned state); their frames may differ.

#include "functions/aggregate.hpp"
#include "plan/binder_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace sluice::plan {

using exec::AnalyticCall;
using exec::AnalyticKind;
using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::DataType;
using types::TypeId;

// What the binder collects while binding one OVER query.
struct OverBinding {
  const sql::SelectStatement* stmt = nullptr;
  size_t input_width = 0;
  exec::AnalyticSpec spec;
  bool window_set = false;
  std::vector<std::string> partition_texts;
  std::string order_text;
  std::vector<std::string> input_keys;  // canonical text and type of each spec.inputs entry
  std::vector<std::string> call_keys;   // canonical text and frame of each spec.calls entry
};

namespace {

constexpr int64_t kMaxOffset = 100'000'000;
constexpr const char* kAnalyticList =
    "SUM, AVG, MIN, MAX, COUNT, FIRST_VALUE, LAST_VALUE, LAG, LEAD, ROW_NUMBER, RANK and "
    "DENSE_RANK";

const Expr* find_over(const Expr& e) {
  if (e.kind == ExprKind::kFunction && e.over) return &e;
  for (const auto& a : e.args) {
    if (const Expr* f = a ? find_over(*a) : nullptr) return f;
  }
  return nullptr;
}

// The first aggregate call without OVER in `e`.
const Expr* find_plain_aggregate(const Expr& e) {
  if (e.kind == ExprKind::kFunction && !e.over && functions::is_aggregate_function(e.name)) {
    return &e;
  }
  for (const auto& a : e.args) {
    if (const Expr* f = a ? find_plain_aggregate(*a) : nullptr) return f;
  }
  return nullptr;
}

std::optional<AnalyticKind> analytic_kind(std::string_view name) {
  static const std::pair<std::string_view, AnalyticKind> kKinds[] = {
      {"COUNT", AnalyticKind::kCount},
      {"SUM", AnalyticKind::kSum},
      {"AVG", AnalyticKind::kAvg},
      {"MIN", AnalyticKind::kMin},
      {"MAX", AnalyticKind::kMax},
      {"FIRST_VALUE", AnalyticKind::kFirstValue},
      {"LAST_VALUE", AnalyticKind::kLastValue},
      {"LAG", AnalyticKind::kLag},
      {"LEAD", AnalyticKind::kLead},
      {"ROW_NUMBER", AnalyticKind::kRowNumber},
      {"RANK", AnalyticKind::kRank},
      {"DENSE_RANK", AnalyticKind::kDenseRank},
  };
  for (const auto& [n, k] : kKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) ==
           std::toupper(static_cast<unsigned char>(y));
  });
}

}  // namespace

bool Binder::bind_analytics(const sql::SelectStatement& stmt, LogicalPlan& plan) {
  const Expr* first = nullptr;
  for (const auto& item : stmt.items) {
    if (!item.star && first == nullptr) first = find_over(*item.expr);
  }
  if (first == nullptr) return false;
  if (inputs_.size() > 1) {
    fail(ErrorCode::kSqlUnsupported, "a join query cannot have OVER calls yet", first->loc);
  }
  if (!stmt.group_by.empty()) {
    fail(ErrorCode::kSqlAggregate,
         "OVER cannot be combined with GROUP BY: a query with OVER emits one row per input row",
         stmt.group_by[0]->loc);
  }
  if (stmt.having) {
    fail(ErrorCode::kSqlAggregate,
         "HAVING needs GROUP BY, which a query with OVER cannot have; filter rows with WHERE",
         stmt.having->loc);
  }
  if (stmt.window) {
    fail(ErrorCode::kSqlUnsupported,
         "OVER cannot be combined with a time window (WINDOW TUMBLING, HOPPING or SESSION)",
         stmt.window->loc);
  }
  for (const auto& item : stmt.items) {
    const Expr* a = item.star ? nullptr : find_plain_aggregate(*item.expr);
    if (a != nullptr) {
      fail(ErrorCode::kSqlAggregate,
           fmt::format("{} needs OVER (...): a query with OVER has no GROUP BY, so every "
                       "aggregate in it must be an OVER call",
                       quote(*a)),
           a->loc);
    }
  }
  if (stmt.emit == sql::EmitMode::kFinal) {
    fail(ErrorCode::kSqlUnsupported,
         "EMIT FINAL needs GROUP BY: a query with OVER emits one row per input row", stmt.emit_loc);
  }
  over_ = std::make_shared<OverBinding>();
  over_->stmt = &stmt;
  over_->input_width = plan.input_width;
  for (const auto& c : source_.columns)
    over_->spec.input_types.push_back(c.type);
  for (size_t i = 0; i < kSystemColumns.size(); ++i)
    over_->spec.input_types.push_back(system_column_type(source_, i));
  if (headers_) over_->spec.input_types.push_back(headers_type());
  bind_select_list(stmt, plan, {Scope::Kind::kRow, "SELECT"});
  if (!time_.column.empty()) {
    // source.event_time: its watermarks expire partition keys (see exec/analytic.hpp).
    Expr column;
    column.kind = ExprKind::kColumnRef;
    column.name = time_.column;
    ExpressionPtr time = bind_column(column);
    if (time->type().id == TypeId::kTimestamp) over_->spec.watermark_time = std::move(time);
  }
  plan.analytic = std::make_shared<exec::AnalyticSpec>(std::move(over_->spec));
  over_.reset();
  return true;
}

ExpressionPtr Binder::bind_over_call(const Expr& e, const Scope& scope) {
  if (!over_ || std::string_view(scope.clause) != "SELECT") {
    fail(ErrorCode::kSqlAggregate,
         fmt::format("OVER is not allowed in {}: {}", scope.clause, quote(e)), e.loc);
  }
  const sql::OverClause& w = resolve_over(e);
  bind_over_window(w, e);
  AnalyticCall call = bind_analytic_function(e, w);
  std::string key = fmt::format("{}|{}|{}", canonical_text(e), call.unbounded, call.preceding);
  auto& keys = over_->call_keys;
  size_t slot = std::find(keys.begin(), keys.end(), key) - keys.begin();
  if (slot == keys.size()) {
    keys.push_back(std::move(key));
    over_->spec.calls.push_back(std::move(call));
  }
  return exec::make_column(over_->input_width + slot, over_->spec.calls[slot].result);
}

const sql::OverClause& Binder::resolve_over(const Expr& e) const {
  const sql::OverClause& o = *e.over;
  if (o.window_name.empty()) return o;
  for (const sql::NamedWindow& w : over_->stmt->named_windows) {
    if (same_name(w.name, o.window_name)) return w.spec;
  }
  fail(ErrorCode::kSqlSyntax,
       fmt::format("window '{}' is not defined; add WINDOW {} AS (PARTITION BY ... ORDER BY ...)",
                   o.window_name, o.window_name),
       o.loc);
}

void Binder::bind_over_window(const sql::OverClause& w, const Expr& call) {
  std::vector<std::string> partition_texts;
  for (const auto& p : w.partition_by)
    partition_texts.push_back(canonical_text(*p));
  std::string order_text = w.order_by ? canonical_text(*w.order_by) : std::string();
  int64_t expire = exec::kDefaultOverExpiryMs;
  if (w.expire_after) {
    ExpressionPtr x = bind_expr(*w.expire_after, {Scope::Kind::kRow, "EXPIRE AFTER"});
    const types::Value* v = x->constant_value();
    if (v == nullptr || v->null || x->type().id != TypeId::kInterval || v->i <= 0) {
      fail(ErrorCode::kSqlType,
           fmt::format("EXPIRE AFTER takes a constant positive INTERVAL, e.g. INTERVAL '1' HOUR, "
                       "got {}",
                       quote(*w.expire_after)),
           w.expire_after->loc);
    }
    expire = v->i;
  }
  if (over_->window_set) {
    if (partition_texts != over_->partition_texts || order_text != over_->order_text ||
        expire != over_->spec.expire_after_ms) {
      fail(ErrorCode::kSqlUnsupported,
           fmt::format("every OVER in a query must have the same PARTITION BY, ORDER BY and "
                       "EXPIRE AFTER (frames may differ); {} differs from the first",
                       quote(call)),
           call.loc);
    }
    return;
  }
  over_->window_set = true;
  over_->partition_texts = std::move(partition_texts);
  over_->order_text = std::move(order_text);
  over_->spec.expire_after_ms = expire;
  for (const auto& p : w.partition_by)
    over_->spec.partition_by.push_back(bind_expr(*p, {Scope::Kind::kRow, "PARTITION BY"}));
  if (!w.order_by) return;
  ExpressionPtr order = bind_expr(*w.order_by, {Scope::Kind::kRow, "ORDER BY"});
  if (order->type().id != TypeId::kTimestamp && !order->type().is_numeric()) {
    fail(ErrorCode::kSqlType,
         fmt::format("ORDER BY in OVER takes a TIMESTAMP or a number (the event order), got {} "
                     "{}",
                     order->type().to_string(), quote(*w.order_by)),
         w.order_by->loc);
  }
  over_->spec.order_by = std::move(order);
}

AnalyticCall Binder::bind_analytic_function(const Expr& e, const sql::OverClause& w) {
  std::optional<AnalyticKind> kind = analytic_kind(e.name);
  if (!kind) {
    ErrorCode code = functions::is_aggregate_function(e.name) ? ErrorCode::kSqlUnsupported
                                                              : ErrorCode::kSqlUnknownFunction;
    fail(code, fmt::format("{} is not an analytic function; OVER takes {}", e.name, kAnalyticList),
         e.loc);
  }
  if (e.distinct) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("DISTINCT is not supported in an OVER call: {}", quote(e)), e.loc);
  }
  AnalyticCall call;
  call.kind = *kind;
  call.unbounded = !w.has_frame || w.unbounded;
  call.preceding = w.preceding;
  Scope arg_scope{Scope::Kind::kRow, "an OVER argument"};
  switch (call.kind) {
    case AnalyticKind::kRowNumber:
    case AnalyticKind::kRank:
    case AnalyticKind::kDenseRank:
      if (!e.args.empty() || e.star) {
        fail(ErrorCode::kSqlType, fmt::format("{} takes no arguments: {}", e.name, quote(e)),
             e.loc);
      }
      call.result = DataType::bigint();
      return call;
    case AnalyticKind::kLag:
    case AnalyticKind::kLead:
      bind_lag_lead(e, call);
      return call;
    default:
      break;
  }
  std::vector<ExpressionPtr> args;
  std::vector<DataType> types;
  for (const auto& a : e.args) {
    args.push_back(bind_expr(*a, arg_scope));
    types.push_back(args.back()->type());
  }
  if (call.kind == AnalyticKind::kFirstValue || call.kind == AnalyticKind::kLastValue) {
    if (e.star || args.size() != 1) {
      fail(ErrorCode::kSqlType, fmt::format("{} takes one value: {}", e.name, quote(e)), e.loc);
    }
    call.result = types[0].id == TypeId::kNull ? DataType::bigint() : types[0];
    call.input = over_input(*e.args[0], coerce(e, args[0], call.result));
    return call;
  }
  functions::BoundAggregate fn;
  try {
    fn = functions::bind_aggregate(e.name, types, false, e.star);
  } catch (const Error& err) {
    fail(err.code(), fmt::format("{} in {}", err.detail(), quote(e)), e.loc);
  }
  call.result = fn.result;
  if (!args.empty()) call.input = over_input(*e.args[0], coerce(e, args[0], fn.arg_type));
  return call;
}

// LAG / LEAD (value[, offset[, default]]): the result has the common type of value and default.
void Binder::bind_lag_lead(const Expr& e, AnalyticCall& call) {
  if (e.star || e.args.empty() || e.args.size() > 3) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} takes (value[, offset[, default]]): {}", e.name, quote(e)), e.loc);
  }
  Scope scope{Scope::Kind::kRow, "an OVER argument"};
  ExpressionPtr value = bind_expr(*e.args[0], scope);
  if (e.args.size() >= 2) {
    ExpressionPtr offset = bind_expr(*e.args[1], scope);
    const types::Value* c = offset->constant_value();
    if (c == nullptr || c->null || offset->type().id != TypeId::kBigInt || c->i < 0 ||
        c->i > kMaxOffset) {
      fail(ErrorCode::kSqlType,
           fmt::format("the offset of {} must be a constant integer from 0 to {}, got {}", e.name,
                       kMaxOffset, quote(*e.args[1])),
           e.args[1]->loc);
    }
    call.offset = c->i;
  }
  DataType t = value->type();
  ExpressionPtr fallback;
  if (e.args.size() == 3) {
    fallback = bind_expr(*e.args[2], scope);
    t = common_type(e, {value, fallback}, "the value and default cannot mix");
  }
  if (t.id == TypeId::kNull) t = DataType::bigint();
  call.result = t;
  call.input = over_input(*e.args[0], coerce(*e.args[0], value, t));
  if (fallback) call.fallback = coerce(*e.args[2], fallback, t);
}

int Binder::over_input(const Expr& arg, ExpressionPtr bound) {
  std::string key = canonical_text(arg) + "|" + bound->type().to_string();
  auto& keys = over_->input_keys;
  size_t slot = std::find(keys.begin(), keys.end(), key) - keys.begin();
  if (slot == keys.size()) {
    keys.push_back(std::move(key));
    over_->spec.inputs.push_back(std::move(bound));
  }
  return static_cast<int>(slot);
}

}  // namespace sluice::plan
