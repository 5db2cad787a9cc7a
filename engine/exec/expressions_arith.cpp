// Arithmetic nodes: exact DECIMAL, checked BIGINT, DOUBLE, and temporal arithmetic.

#include "exec/expressions.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <cmath>
#include <string>

namespace sluice::exec {
namespace {

using types::int128;
using types::TypeId;
namespace decimal = types::decimal;

const char* op_symbol(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd:
      return "+";
    case ArithOp::kSub:
      return "-";
    case ArithOp::kMul:
      return "*";
    case ArithOp::kDiv:
      return "/";
    case ArithOp::kMod:
      return "%";
  }
  return "?";
}

Value overflow(EvalContext& ctx, ArithOp op, const Value& a, const Value& b, DataType t) {
  ctx.fail(ErrorCode::kOverflow, types::to_text(a) + " " + op_symbol(op) + " " + types::to_text(b) +
                                     " overflows " + t.to_string());
  return Value::make_null(t.id);
}

Value div_zero(EvalContext& ctx, const Value& a, ArithOp op, DataType t) {
  ctx.fail(ErrorCode::kDivisionByZero, std::string(op == ArithOp::kMod ? "modulo" : "division") +
                                           " by zero (" + types::to_text(a) + " " + op_symbol(op) +
                                           " 0)");
  return Value::make_null(t.id);
}

Value bigint_op(ArithOp op, const Value& a, const Value& b, EvalContext& ctx, DataType t) {
  int64_t r = 0;
  bool ovf = false;
  switch (op) {
    case ArithOp::kAdd:
      ovf = __builtin_add_overflow(a.i, b.i, &r);
      break;
    case ArithOp::kSub:
      ovf = __builtin_sub_overflow(a.i, b.i, &r);
      break;
    case ArithOp::kMul:
      ovf = __builtin_mul_overflow(a.i, b.i, &r);
      break;
    case ArithOp::kDiv:
    case ArithOp::kMod:
      if (b.i == 0) return div_zero(ctx, a, op, t);
      if (b.i == -1) {  // INT64_MIN / -1 overflows; x % -1 is 0
        if (op == ArithOp::kMod) return Value::bigint(0);
        ovf = __builtin_sub_overflow(int64_t{0}, a.i, &r);
        break;
      }
      r = op == ArithOp::kDiv ? a.i / b.i : a.i % b.i;
      break;
  }
  if (ovf) return overflow(ctx, op, a, b, t);
  return Value::bigint(r);
}

Value double_op(ArithOp op, const Value& a, const Value& b, EvalContext& ctx, DataType t) {
  switch (op) {
    case ArithOp::kAdd:
      return Value::float64(a.d + b.d);
    case ArithOp::kSub:
      return Value::float64(a.d - b.d);
    case ArithOp::kMul:
      return Value::float64(a.d * b.d);
    case ArithOp::kDiv:
      if (b.d == 0) return div_zero(ctx, a, op, t);
      return Value::float64(a.d / b.d);
    case ArithOp::kMod:
      if (b.d == 0) return div_zero(ctx, a, op, t);
      return Value::float64(std::fmod(a.d, b.d));
  }
  return Value::make_null(t.id);
}

// `limit` is 10^t.precision: results must stay strictly inside (-limit, limit).
Value decimal_op(ArithOp op, const Value& a, const Value& b, EvalContext& ctx, DataType t,
                 int128 limit) {
  int128 r = 0;
  bool ok = true;
  if (op == ArithOp::kMul) {
    // Most products (price * quantity) have 64-bit factors: multiply those without the 128-bit
    // routine; anything larger or overflowing takes decimal::mul.
    int64_t x = static_cast<int64_t>(a.dec), y = static_cast<int64_t>(b.dec), p = 0;
    if (x == a.dec && y == b.dec && !__builtin_mul_overflow(x, y, &p)) {
      r = p;
    } else {
      ok = decimal::mul(a.dec, b.dec, &r);
    }
    if (ok && a.scale + b.scale != t.scale)
      ok = decimal::rescale(r, a.scale + b.scale, t.scale, &r);
  } else if (op == ArithOp::kDiv) {
    if (b.dec == 0) return div_zero(ctx, a, op, t);
    ok = decimal::div(a.dec, a.scale, b.dec, b.scale, t.scale, &r);
  } else {
    int128 x = 0, y = 0;
    ok = decimal::rescale(a.dec, a.scale, t.scale, &x) &&
         decimal::rescale(b.dec, b.scale, t.scale, &y);
    if (ok && op == ArithOp::kAdd) ok = decimal::add(x, y, &r);
    if (ok && op == ArithOp::kSub) ok = decimal::sub(x, y, &r);
    if (ok && op == ArithOp::kMod) {
      if (y == 0) return div_zero(ctx, a, op, t);
      r = x % y;
    }
  }
  if (!ok || r >= limit || r <= -limit) return overflow(ctx, op, a, b, t);
  return Value::decimal(r, t.scale);
}

class Arithmetic final : public Expression {
 public:
  Arithmetic(ArithOp op, ExpressionPtr l, ExpressionPtr r, DataType t)
      : Expression(t),
        op_(op),
        left_(std::move(l)),
        right_(std::move(r)),
        left_column_(column_index_of(*left_)),
        right_column_(column_index_of(*right_)),
        limit_(t.id == TypeId::kDecimal ? decimal::pow10(t.precision) : 0) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    // Column operands (price * quantity) are read from the row without a virtual call.
    Value a = left_column_ >= 0 ? row[left_column_] : left_->eval(row, ctx);
    Value b = right_column_ >= 0 ? row[right_column_] : right_->eval(row, ctx);
    if (a.null || b.null) return Value::make_null(type().id);
    switch (type().id) {
      case TypeId::kBigInt:
        return bigint_op(op_, a, b, ctx, type());
      case TypeId::kDouble:
        return double_op(op_, a, b, ctx, type());
      case TypeId::kDecimal:
        return decimal_op(op_, a, b, ctx, type(), limit_);
      default: {
        // TIMESTAMP and INTERVAL are int64 milliseconds; the binder allowed only legal pairs.
        Value v = bigint_op(op_, a, b, ctx, type());
        v.type = type().id;
        return v;
      }
    }
  }

 private:
  ArithOp op_;
  ExpressionPtr left_, right_;
  int64_t left_column_, right_column_;  // column_index_of each operand
  int128 limit_;                        // 10^precision of a DECIMAL result
};

class Negate final : public Expression {
 public:
  explicit Negate(ExpressionPtr in) : Expression(in->type()), in_(std::move(in)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    if (v.null) return v;
    switch (v.type) {
      case TypeId::kDouble:
        v.d = -v.d;
        return v;
      case TypeId::kDecimal:
        v.dec = -v.dec;
        return v;
      default:
        if (v.i == INT64_MIN) {
          ctx.fail(ErrorCode::kOverflow, "-(" + types::to_text(v) + ") overflows BIGINT");
          return Value::make_null(v.type);
        }
        v.i = -v.i;
        return v;
    }
  }

 private:
  ExpressionPtr in_;
};

}  // namespace

ExpressionPtr make_arithmetic(ArithOp op, ExpressionPtr left, ExpressionPtr right,
                              DataType result) {
  return std::make_shared<Arithmetic>(op, std::move(left), std::move(right), result);
}

ExpressionPtr make_negate(ExpressionPtr input) {
  return std::make_shared<Negate>(std::move(input));
}

}  // namespace sluice::exec
