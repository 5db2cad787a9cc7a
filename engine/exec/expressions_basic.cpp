// Column, constant, cast, function and string nodes.

#include "exec/expressions.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <string>

namespace sluice::exec {
namespace {

using types::TypeId;

class Column final : public Expression {
 public:
  Column(size_t index, DataType t) : Expression(t), index_(index) {}
  Value eval(const Value* row, EvalContext&) const override { return row[index_]; }
  size_t index() const { return index_; }

 private:
  size_t index_;
};

class Constant final : public Expression {
 public:
  Constant(const Value& v, DataType t) : Expression(t), value_(v) {
    if (v.has_bytes()) {
      bytes_.assign(v.str());
      value_ = v.with_bytes(bytes_);
    }
  }
  Value eval(const Value*, EvalContext&) const override { return value_; }
  const Value* constant_value() const override { return &value_; }

 private:
  std::string bytes_;
  Value value_;
};

// The generic cast; a failure rejects the record and gives a NULL of the target type.
Value cast_or_fail(const Value& v, DataType target, EvalContext& ctx) {
  Value out;
  RecordError err;
  if (!types::cast(v, target, *ctx.arena, &out, &err)) {
    ctx.fail(err.code, std::move(err.message));
    return Value::make_null(target.id);
  }
  return out;
}

class Cast final : public Expression {
 public:
  Cast(ExpressionPtr in, DataType t) : Expression(t), in_(std::move(in)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    return cast_or_fail(v, type(), ctx);
  }

 private:
  ExpressionPtr in_;
};

// To DECIMAL from DECIMAL or BIGINT (the binder's widening to a common type, e.g. DECIMAL(12,2)
// compared with a BIGINT constant, or price * quantity): a DECIMAL of the target's scale is
// unchanged and a BIGINT is scaled by a power of ten, so when the result fits the target's
// precision the generic cast is skipped. Anything else takes the generic path (same results).
class ToDecimal final : public Expression {
 public:
  ToDecimal(ExpressionPtr in, DataType t)
      : Expression(t),
        in_(std::move(in)),
        in_column_(column_index_of(*in_)),
        limit_(types::decimal::pow10(t.precision)),
        int_scale_(t.scale <= kMaxIntScale ? types::decimal::pow10(t.scale) : 0) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_column_ >= 0 ? row[in_column_] : in_->eval(row, ctx);
    if (!v.null) {
      types::int128 r = 0;
      bool direct = false;
      if (v.type == TypeId::kDecimal && v.scale == type().scale) {
        r = v.dec;
        direct = true;
      } else if (v.type == TypeId::kBigInt && int_scale_ != 0) {
        r = types::int128{v.i} * int_scale_;  // |i| < 2^63, 10^18 < 2^60: no overflow
        direct = true;
      }
      if (direct && r < limit_ && r > -limit_) return Value::decimal(r, type().scale);
    }
    return cast_or_fail(v, type(), ctx);
  }

 private:
  static constexpr uint8_t kMaxIntScale = 18;
  ExpressionPtr in_;
  int64_t in_column_;  // column_index_of(in_)
  types::int128 limit_;
  types::int128 int_scale_;  // 10^scale for BIGINT input; 0: take the generic path
};

class Function final : public Expression {
 public:
  Function(functions::BoundScalar fn, std::vector<ExpressionPtr> args)
      : Expression(fn.result), fn_(std::move(fn)), args_(std::move(args)) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    constexpr size_t kInline = 8;
    Value inline_args[kInline];
    std::vector<Value> heap_args;  // only for calls with many arguments
    Value* vals = inline_args;
    if (args_.size() > kInline) {
      heap_args.resize(args_.size());
      vals = heap_args.data();
    }
    for (size_t i = 0; i < args_.size(); ++i) {
      vals[i] = args_[i]->eval(row, ctx);
      if (vals[i].null && fn_.null_if_any_null) return Value::make_null(type().id);
    }
    return fn_.fn(vals, args_.size(), ctx, fn_.state.get());
  }

 private:
  functions::BoundScalar fn_;
  std::vector<ExpressionPtr> args_;
};

class Concat final : public Expression {
 public:
  Concat(ExpressionPtr l, ExpressionPtr r)
      : Expression(DataType::string()), left_(std::move(l)), right_(std::move(r)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value a = left_->eval(row, ctx);
    Value b = right_->eval(row, ctx);
    if (a.null || b.null) return Value::make_null(TypeId::kString);
    if (a.s.size == 0) return b;
    if (b.s.size == 0) return a;
    char* p = ctx.arena->allocate(a.s.size + b.s.size);
    std::memcpy(p, a.s.data, a.s.size);
    std::memcpy(p + a.s.size, b.s.data, b.s.size);
    return Value::string({p, size_t{a.s.size} + b.s.size});
  }

 private:
  ExpressionPtr left_, right_;
};

}  // namespace

ExpressionPtr make_column(size_t index, DataType type) {
  return std::make_shared<Column>(index, type);
}
int64_t column_index_of(const Expression& e) {
  const auto* c = dynamic_cast<const Column*>(&e);
  return c == nullptr ? -1 : static_cast<int64_t>(c->index());
}
ExpressionPtr make_constant(const Value& value, DataType type) {
  return std::make_shared<Constant>(value, type);
}
ExpressionPtr make_cast(ExpressionPtr input, DataType target) {
  if (input->type() == target) return input;
  if (input->type().is_nested() && target.id == TypeId::kString) return make_json_text(input);
  TypeId from = input->type().id;
  if (target.id == TypeId::kDecimal && (from == TypeId::kDecimal || from == TypeId::kBigInt))
    return std::make_shared<ToDecimal>(std::move(input), target);
  return std::make_shared<Cast>(std::move(input), target);
}
ExpressionPtr make_function(functions::BoundScalar fn, std::vector<ExpressionPtr> args) {
  return std::make_shared<Function>(std::move(fn), std::move(args));
}
ExpressionPtr make_concat(ExpressionPtr left, ExpressionPtr right) {
  return std::make_shared<Concat>(std::move(left), std::move(right));
}

}  // namespace sluice::exec
