#pragma once
// Bound, typed, physical expressions. Immutable after binding and shared by every partition's
// pipeline: `eval` must not modify the expression. `row` points at the input row's values.

#include "exec/eval_context.hpp"
#include "types/value.hpp"

#include <memory>
#include <vector>

namespace sluice::exec {

using types::DataType;
using types::Value;

class Expression {
 public:
  explicit Expression(DataType type) : type_(type) {}
  virtual ~Expression() = default;
  virtual Value eval(const Value* row, EvalContext& ctx) const = 0;
  DataType type() const { return type_; }
  // The value when this expression is a constant (after folding), else nullptr.
  virtual const Value* constant_value() const { return nullptr; }

 private:
  DataType type_;
};

using ExpressionPtr = std::shared_ptr<const Expression>;

}  // namespace sluice::exec
