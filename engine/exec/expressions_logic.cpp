// Comparison, boolean logic (three-valued), IS NULL, IN, LIKE and CASE nodes.

#include "exec/expressions.hpp"
#include "types/value_ops.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

using types::TypeId;

Value null_bool() {
  return Value::make_null(TypeId::kBoolean);
}

class Compare final : public Expression {
 public:
  Compare(CompareOp op, ExpressionPtr l, ExpressionPtr r)
      : Expression(DataType::boolean()), op_(op), left_(std::move(l)), right_(std::move(r)) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    Value a = left_->eval(row, ctx);
    Value b = right_->eval(row, ctx);
    if (a.null || b.null) return null_bool();
    int c = types::compare(a, b);
    switch (op_) {
      case CompareOp::kEq:
        return Value::boolean(c == 0);
      case CompareOp::kNe:
        return Value::boolean(c != 0);
      case CompareOp::kLt:
        return Value::boolean(c < 0);
      case CompareOp::kLe:
        return Value::boolean(c <= 0);
      case CompareOp::kGt:
        return Value::boolean(c > 0);
      case CompareOp::kGe:
        return Value::boolean(c >= 0);
    }
    return null_bool();
  }

 private:
  CompareOp op_;
  ExpressionPtr left_, right_;
};

bool holds(CompareOp op, int c) {
  switch (op) {
    case CompareOp::kEq:
      return c == 0;
    case CompareOp::kNe:
      return c != 0;
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
  }
  return false;
}

CompareOp mirrored(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

// `x op constant` (the common WHERE shape): the constant is held unboxed, a column operand is read
// from the row without a virtual call, and BIGINT-like values or DECIMALs of the constant's scale
// compare as plain integers. Other values take types::compare, so results are the same.
class CompareConstant final : public Expression {
 public:
  CompareConstant(CompareOp op, ExpressionPtr input, const Value& constant, ExpressionPtr owner)
      : Expression(DataType::boolean()),
        op_(op),
        input_(std::move(input)),
        column_(column_index_of(*input_)),
        k_(constant),
        constant_(std::move(owner)) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    Value a = column_ >= 0 ? row[column_] : input_->eval(row, ctx);
    if (a.null) return null_bool();
    return Value::boolean(holds(op_, compare_to_constant(a)));
  }

 private:
  int compare_to_constant(const Value& a) const {
    if (a.type == k_.type) {
      switch (a.type) {
        case TypeId::kBigInt:
        case TypeId::kTimestamp:
        case TypeId::kInterval:
        case TypeId::kDate:
        case TypeId::kTime:
          return three_way(a.i, k_.i);
        case TypeId::kDecimal:
          if (a.scale == k_.scale) return three_way(a.dec, k_.dec);
          break;
        default:
          break;
      }
    }
    return types::compare(a, k_);
  }

  CompareOp op_;
  ExpressionPtr input_;
  int64_t column_;
  Value k_;  // not NULL; string bytes stay owned by the constant node
  ExpressionPtr constant_;
};

// AND: FALSE wins over NULL; OR: TRUE wins over NULL. The right side is skipped when the left
// decides, which also keeps its errors from rejecting a row whose result is already known.
class Logic final : public Expression {
 public:
  Logic(bool is_and, ExpressionPtr l, ExpressionPtr r)
      : Expression(DataType::boolean()), and_(is_and), left_(std::move(l)), right_(std::move(r)) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    Value a = left_->eval(row, ctx);
    if (!a.null && a.b != and_) return a;
    Value b = right_->eval(row, ctx);
    if (!b.null && b.b != and_) return b;
    if (a.null || b.null) return null_bool();
    return Value::boolean(and_);
  }

 private:
  bool and_;
  ExpressionPtr left_, right_;
};

class Not final : public Expression {
 public:
  explicit Not(ExpressionPtr in) : Expression(DataType::boolean()), in_(std::move(in)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    if (!v.null) v.b = !v.b;
    return v;
  }

 private:
  ExpressionPtr in_;
};

class IsNull final : public Expression {
 public:
  IsNull(ExpressionPtr in, bool negated)
      : Expression(DataType::boolean()), in_(std::move(in)), negated_(negated) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    return Value::boolean(in_->eval(row, ctx).null != negated_);
  }

 private:
  ExpressionPtr in_;
  bool negated_;
};

class InList final : public Expression {
 public:
  InList(ExpressionPtr in, std::vector<ExpressionPtr> items, bool negated)
      : Expression(DataType::boolean()),
        in_(std::move(in)),
        items_(std::move(items)),
        negated_(negated) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    if (v.null) return null_bool();
    bool saw_null = false;
    for (const auto& item : items_) {
      Value x = item->eval(row, ctx);
      if (x.null) {
        saw_null = true;
      } else if (types::compare(v, x) == 0) {
        return Value::boolean(!negated_);
      }
    }
    return saw_null ? null_bool() : Value::boolean(negated_);
  }

 private:
  ExpressionPtr in_;
  std::vector<ExpressionPtr> items_;
  bool negated_;
};

class Like final : public Expression {
 public:
  Like(ExpressionPtr in, ExpressionPtr pattern, char escape, bool negated)
      : Expression(DataType::boolean()),
        in_(std::move(in)),
        pattern_(std::move(pattern)),
        escape_(escape),
        negated_(negated) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    Value p = pattern_->eval(row, ctx);
    if (v.null || p.null) return null_bool();
    return Value::boolean(like_match(v.str(), p.str(), escape_) != negated_);
  }

 private:
  ExpressionPtr in_, pattern_;
  char escape_;
  bool negated_;
};

class Case final : public Expression {
 public:
  Case(std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches, ExpressionPtr otherwise,
       DataType t)
      : Expression(t), branches_(std::move(branches)), otherwise_(std::move(otherwise)) {}

  Value eval(const Value* row, EvalContext& ctx) const override {
    for (const auto& [when, then] : branches_) {
      Value c = when->eval(row, ctx);
      if (!c.null && c.b) return then->eval(row, ctx);
    }
    return otherwise_ ? otherwise_->eval(row, ctx) : Value::make_null(type().id);
  }

 private:
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches_;
  ExpressionPtr otherwise_;
};

// Offset of the UTF-8 character after the one at `i` (invalid bytes count as one character).
size_t next_char(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::min(s.size(), i + n);
}

}  // namespace

// Iterative wildcard matching with single-star backtracking: O(n*m) worst case, no recursion,
// no allocation.
bool like_match(std::string_view text, std::string_view pat, char escape) {
  size_t t = 0, p = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pat.size()) {
      char c = pat[p];
      if (c == '%') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      if (c == '_') {
        t = next_char(text, t);
        ++p;
        continue;
      }
      size_t lit = p;
      if (escape != 0 && c == escape && p + 1 < pat.size()) lit = p + 1;
      if (pat[lit] == text[t]) {
        p = lit + 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    star_t = next_char(text, star_t);
    t = star_t;
    p = star_p;
  }
  while (p < pat.size() && pat[p] == '%')
    ++p;
  return p == pat.size();
}

ExpressionPtr make_compare(CompareOp op, ExpressionPtr left, ExpressionPtr right) {
  // A NULL constant keeps the generic node (its result is always NULL).
  const Value* k = right->constant_value();
  if (k != nullptr && !k->null && left->constant_value() == nullptr)
    return std::make_shared<CompareConstant>(op, std::move(left), *k, std::move(right));
  k = left->constant_value();
  if (k != nullptr && !k->null && right->constant_value() == nullptr)
    return std::make_shared<CompareConstant>(mirrored(op), std::move(right), *k, std::move(left));
  return std::make_shared<Compare>(op, std::move(left), std::move(right));
}
ExpressionPtr make_and(ExpressionPtr left, ExpressionPtr right) {
  return std::make_shared<Logic>(true, std::move(left), std::move(right));
}
ExpressionPtr make_or(ExpressionPtr left, ExpressionPtr right) {
  return std::make_shared<Logic>(false, std::move(left), std::move(right));
}
ExpressionPtr make_not(ExpressionPtr input) {
  return std::make_shared<Not>(std::move(input));
}
ExpressionPtr make_is_null(ExpressionPtr input, bool negated) {
  return std::make_shared<IsNull>(std::move(input), negated);
}
ExpressionPtr make_in_list(ExpressionPtr input, std::vector<ExpressionPtr> items, bool negated) {
  return std::make_shared<InList>(std::move(input), std::move(items), negated);
}
ExpressionPtr make_like(ExpressionPtr input, ExpressionPtr pattern, char escape, bool negated) {
  return std::make_shared<Like>(std::move(input), std::move(pattern), escape, negated);
}
ExpressionPtr make_case(std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches,
                        ExpressionPtr otherwise, DataType result) {
  return std::make_shared<Case>(std::move(branches), std::move(otherwise), result);
}

}  // namespace sluice::exec
