// Binding of function calls, aggregates, CASE, CAST, BETWEEN, IN, LIKE and EXTRACT.

#include "functions/aggregate.hpp"
#include "functions/extract.hpp"
#include "plan/binder_impl.hpp"
#include "types/nested.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::DataType;
using types::TypeId;
using types::Value;

namespace {

class Extract final : public exec::Expression {
 public:
  Extract(functions::ExtractField field, ExpressionPtr in)
      : Expression(DataType::bigint()), field_(field), in_(std::move(in)) {}
  Value eval(const Value* row, exec::EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    if (v.null) return Value::make_null(TypeId::kBigInt);
    return Value::bigint(functions::extract(field_, v.i));
  }

 private:
  functions::ExtractField field_;
  ExpressionPtr in_;
};

}  // namespace

ExpressionPtr Binder::bind_grouped_ref(const Expr& e, const Scope& scope) {
  std::string canon = canonical_text(e);
  for (size_t i = 0; i < group_texts_.size(); ++i) {
    if (group_texts_[i] == canon) return exec::make_column(i, group_types_[i]);
  }
  if (e.kind == ExprKind::kFunction && functions::is_aggregate_function(e.name)) {
    return bind_aggregate(e, scope);
  }
  if (e.kind == ExprKind::kColumnRef) {
    bind_column(e);  // unknown columns are reported as such first
    fail(ErrorCode::kSqlAggregate,
         fmt::format("column '{}' must appear in GROUP BY or be used in an aggregate function",
                     e.name),
         e.loc);
  }
  return nullptr;
}

ExpressionPtr Binder::bind_aggregate(const Expr& e, const Scope&) {
  std::string canon = canonical_text(e);
  size_t slot = 0;
  while (slot < aggregate_texts_.size() && aggregate_texts_[slot] != canon)
    ++slot;
  if (slot == aggregate_texts_.size()) {
    Scope arg_scope{Scope::Kind::kRow, "aggregate argument"};
    std::vector<ExpressionPtr> args;
    std::vector<DataType> types;
    for (const auto& a : e.args) {
      args.push_back(bind_expr(*a, arg_scope));
      types.push_back(args.back()->type());
    }
    functions::BoundAggregate fn;
    try {
      fn = functions::bind_aggregate(e.name, types, e.distinct, e.star);
    } catch (const Error& err) {
      fail(err.code(), fmt::format("{} in {}", err.detail(), quote(e)), e.loc);
    }
    ExpressionPtr arg;
    if (!args.empty()) arg = coerce(e, args[0], fn.arg_type);
    aggregates_->push_back({std::move(fn), std::move(arg)});
    aggregate_texts_.push_back(canon);
  }
  return exec::make_column(group_texts_.size() + slot, (*aggregates_)[slot].fn.result);
}

ExpressionPtr Binder::bind_function(const Expr& e, const Scope& scope) {
  if (e.pairs && e.name != "STRUCT" && e.name != "MAP") {
    fail(ErrorCode::kSqlType,
         fmt::format("only STRUCT and MAP take `a := b` arguments, not {} in {}", e.name, quote(e)),
         e.loc);
  }
  if (e.over) return bind_over_call(e, scope);
  if (functions::is_aggregate_function(e.name)) {
    if (scope.kind == Scope::Kind::kGrouped) return bind_aggregate(e, scope);
    std::string where =
        std::string_view(scope.clause) == "aggregate argument"
            ? "aggregate functions cannot be nested"
            : fmt::format("aggregate functions are not allowed in {}", scope.clause);
    fail(ErrorCode::kSqlAggregate, fmt::format("{}: {}", where, quote(e)), e.loc);
  }
  if (e.name == "ARRAY" || e.name == "STRUCT" || e.name == "MAP") return bind_constructor(e, scope);
  if (e.name == "EXPLODE" || e.name == "UNNEST") return bind_unnest(e, scope);
  if (e.name == "HEADER") return bind_header(e, scope);
  if (e.star || e.distinct) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} is not an aggregate function: {} is not allowed in {}", e.name,
                     e.star ? "'*'" : "DISTINCT", quote(e)),
         e.loc);
  }
  std::vector<ExpressionPtr> args;
  std::vector<DataType> types;
  std::vector<std::optional<Value>> constants;
  for (const auto& a : e.args) {
    args.push_back(bind_expr(*a, scope));
    types.push_back(args.back()->type());
    const Value* c = args.back()->constant_value();
    constants.push_back(c ? std::optional<Value>(*c) : std::nullopt);
  }
  functions::BoundScalar fn;
  try {
    fn = functions::bind_scalar(e.name, types, constants);
  } catch (const Error& err) {
    fail(err.code(), fmt::format("{} in {}", err.detail(), quote(e)), e.loc);
  }
  for (size_t i = 0; i < args.size() && i < fn.arg_types.size(); ++i) {
    args[i] = coerce(*e.args[i], args[i], fn.arg_types[i]);
  }
  if (fn.conditional != functions::Conditional::kNone) {
    return bind_conditional(fn, std::move(args));
  }
  auto call = exec::make_function(std::move(fn), args);
  // Functions without arguments (NOW(), UNIX_TIMESTAMP()) are evaluated per row, never folded.
  return args.empty() ? call : fold_constant(call, args);
}

ExpressionPtr Binder::bind_conditional(const functions::BoundScalar& fn,
                                       std::vector<ExpressionPtr> args) {
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches;
  if (fn.conditional == functions::Conditional::kIf) {
    branches.emplace_back(args[0], args[1]);
  } else {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      branches.emplace_back(exec::make_is_null(args[i], true), args[i]);
    }
  }
  return exec::make_case(std::move(branches), args.back(), fn.result);
}

ExpressionPtr Binder::bind_case(const Expr& e, const Scope& scope) {
  size_t i = 0;
  ExpressionPtr operand;
  if (e.has_operand) operand = bind_expr(*e.args.at(i++), scope);
  size_t end = e.args.size() - (e.has_else ? 1 : 0);
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches;
  std::vector<ExpressionPtr> results;
  Scope when_scope = scope;
  when_scope.clause = "WHEN condition";
  for (; i + 1 < end; i += 2) {
    const Expr& when = *e.args.at(i);
    ExpressionPtr cond;
    if (operand) {
      cond = bind_comparison(when, exec::CompareOp::kEq, operand, bind_expr(when, scope));
    } else {
      cond = bind_boolean(when, when_scope);
    }
    branches.emplace_back(cond, bind_expr(*e.args.at(i + 1), scope));
    results.push_back(branches.back().second);
  }
  ExpressionPtr otherwise;
  if (e.has_else) results.push_back(otherwise = bind_expr(*e.args.back(), scope));
  DataType t = common_type(e, results, "CASE branches have incompatible types");
  for (auto& [cond, then] : branches)
    then = coerce(e, then, t);
  if (otherwise) otherwise = coerce(e, otherwise, t);
  return exec::make_case(std::move(branches), std::move(otherwise), t);
}

ExpressionPtr Binder::bind_cast(const Expr& e, const Scope& scope) {
  std::string reason;
  std::optional<DataType> target = types::parse_type_name(e.type_name, &reason);
  if (!target) {
    fail(ErrorCode::kSqlType,
         fmt::format("unknown type '{}' in {}: {}", e.type_name, quote(e), reason), e.loc);
  }
  const Expr& arg = *e.args.at(0);
  if (target->id == TypeId::kArray && arg.kind == ExprKind::kFunction && arg.name == "ARRAY" &&
      arg.args.empty()) {
    // CAST(ARRAY[] AS ARRAY<T>): the empty array of T (the constant copies the layout).
    std::string layout = types::nested::build_string({});
    return exec::make_constant(Value::nested(TypeId::kArray, layout), *target);
  }
  ExpressionPtr in = bind_expr(arg, scope);
  if (!types::can_cast(in->type(), *target)) {
    fail(ErrorCode::kSqlType,
         fmt::format("cannot cast {} to {} in {}", in->type().to_string(), target->to_string(),
                     quote(e)),
         e.loc);
  }
  if (in->constant_value() != nullptr) return coerce(e, in, *target);
  return exec::make_cast(in, *target);
}

ExpressionPtr Binder::bind_between(const Expr& e, const Scope& scope) {
  std::vector<ExpressionPtr> xs;
  for (const auto& a : e.args)
    xs.push_back(bind_expr(*a, scope));
  DataType t = common_type(e, xs, "BETWEEN cannot compare");
  if (t.is_nested()) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} values have no order for BETWEEN in {}", t.to_string(), quote(e)), e.loc);
  }
  for (auto& x : xs)
    x = coerce(e, x, t);
  auto ge = fold_constant(exec::make_compare(exec::CompareOp::kGe, xs[0], xs[1]), {xs[0], xs[1]});
  auto le = fold_constant(exec::make_compare(exec::CompareOp::kLe, xs[0], xs[2]), {xs[0], xs[2]});
  ExpressionPtr both = fold_constant(exec::make_and(ge, le), {ge, le});
  return e.negated ? fold_constant(exec::make_not(both), {both}) : both;
}

ExpressionPtr Binder::bind_in(const Expr& e, const Scope& scope) {
  std::vector<ExpressionPtr> xs;
  for (const auto& a : e.args)
    xs.push_back(bind_expr(*a, scope));
  DataType t = common_type(e, xs, "IN cannot compare");
  for (size_t i = 0; i < xs.size(); ++i)
    xs[i] = coerce(*e.args[i], xs[i], t);
  ExpressionPtr x = xs[0];
  std::vector<ExpressionPtr> items(xs.begin() + 1, xs.end());
  return fold_constant(exec::make_in_list(x, std::move(items), e.negated), xs);
}

ExpressionPtr Binder::bind_like(const Expr& e, const Scope& scope) {
  std::vector<ExpressionPtr> xs;
  for (const auto& a : e.args) {
    xs.push_back(bind_expr(*a, scope));
    TypeId t = xs.back()->type().id;
    if (t == TypeId::kNull) xs.back() = coerce(e, xs.back(), DataType::string());
    if (t != TypeId::kString && t != TypeId::kNull) {
      fail(ErrorCode::kSqlType,
           fmt::format("LIKE needs STRING operands, found {} in {}", xs.back()->type().to_string(),
                       quote(*a)),
           a->loc);
    }
  }
  char escape = 0;
  if (xs.size() > 2) {
    const Value* c = xs[2]->constant_value();
    if (c == nullptr || c->null || c->s.size != 1) {
      fail(ErrorCode::kSqlType,
           fmt::format("ESCAPE must be one character, found {}", quote(*e.args[2])),
           e.args[2]->loc);
    }
    escape = c->s.data[0];
  }
  return fold_constant(exec::make_like(xs[0], xs[1], escape, e.negated), {xs[0], xs[1]});
}

ExpressionPtr Binder::bind_extract(const Expr& e, const Scope& scope) {
  ExpressionPtr in = bind_expr(*e.args.at(0), scope);
  if (in->type().id == TypeId::kString && in->constant_value() != nullptr) {
    in = coerce(e, in, DataType::timestamp());
  }
  TypeId t = in->type().id;
  if (t != TypeId::kTimestamp && t != TypeId::kDate && t != TypeId::kTime && t != TypeId::kNull) {
    fail(ErrorCode::kSqlType,
         fmt::format("EXTRACT needs a TIMESTAMP, DATE or TIME, found {} in {}",
                     in->type().to_string(), quote(e)),
         e.loc);
  }
  std::optional<functions::ExtractField> field = functions::parse_extract_field(e.name);
  if (!field) {
    fail(ErrorCode::kSqlType, fmt::format("unknown EXTRACT field {} in {}", e.name, quote(e)),
         e.loc);
  }
  // A TIME is its milliseconds since midnight, which read as a TIMESTAMP on 1970-01-01: only its
  // clock fields mean anything. A DATE is its midnight: only its calendar fields do.
  bool clock_field =
      *field >= functions::ExtractField::kHour && *field != functions::ExtractField::kEpoch;
  if ((t == TypeId::kTime && !clock_field) || (t == TypeId::kDate && clock_field)) {
    fail(ErrorCode::kSqlType,
         fmt::format("EXTRACT({} FROM ...) does not apply to {} in {}", e.name,
                     in->type().to_string(), quote(e)),
         e.loc);
  }
  if (t != TypeId::kTime) in = coerce(e, in, DataType::timestamp());
  auto node = std::make_shared<Extract>(*field, in);
  return fold_constant(node, {in});
}

}  // namespace sluice::plan
