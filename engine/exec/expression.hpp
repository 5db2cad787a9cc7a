#pragma once
// Bound, typed, physical expressions. Immutable after binding and shared by every partition's
// pipeline: `eval` must not modify the expression. `row` points at the input row's values.

#include <memory>
#include <vector>

#include "exec/eval_context.hpp"
#include "types/value.hpp"

namespace sluice::exec {

using types::DataType;
using types::Value;

class Expression {
 public:
  explicit Expression(DataType type) : type_(type) {}
  virtual ~Expression() = default;
  virtual Value eval(const Value* row, EvalContext& ctx) const = 0;
  DataType type() const { return type_; }

 private:
  DataType type_;
};

using ExpressionPtr = std::shared_ptr<const Expression>;

}  // namespace sluice::exec
