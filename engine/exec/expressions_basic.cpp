// Column, constant, cast, function and string nodes.

#include "exec/expressions.hpp"
#include "types/value_ops.hpp"

#include <string>

namespace sluice::exec {
namespace {

using types::TypeId;

class Column final : public Expression {
 public:
  Column(size_t index, DataType t) : Expression(t), index_(index) {}
  Value eval(const Value* row, EvalContext&) const override { return row[index_]; }

 private:
  size_t index_;
};

class Constant final : public Expression {
 public:
  Constant(const Value& v, DataType t) : Expression(t), value_(v) {
    if (!v.null && v.type == TypeId::kString) {
      bytes_.assign(v.str());
      value_ = Value::string(bytes_);
    }
  }
  Value eval(const Value*, EvalContext&) const override { return value_; }
  const Value* constant_value() const override { return &value_; }

 private:
  std::string bytes_;
  Value value_;
};

class Cast final : public Expression {
 public:
  Cast(ExpressionPtr in, DataType t) : Expression(t), in_(std::move(in)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    Value out;
    RecordError err;
    if (!types::cast(v, type(), *ctx.arena, &out, &err)) {
      ctx.fail(err.code, std::move(err.message));
      return Value::make_null(type().id);
    }
    return out;
  }

 private:
  ExpressionPtr in_;
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
ExpressionPtr make_constant(const Value& value, DataType type) {
  return std::make_shared<Constant>(value, type);
}
ExpressionPtr make_cast(ExpressionPtr input, DataType target) {
  if (input->type() == target) return input;
  return std::make_shared<Cast>(std::move(input), target);
}
ExpressionPtr make_function(functions::BoundScalar fn, std::vector<ExpressionPtr> args) {
  return std::make_shared<Function>(std::move(fn), std::move(args));
}
ExpressionPtr make_concat(ExpressionPtr left, ExpressionPtr right) {
  return std::make_shared<Concat>(std::move(left), std::move(right));
}

}  // namespace sluice::exec
