// STRUCT, ARRAY and MAP nodes: field access, subscripts and constructors.

#include "exec/expressions.hpp"
#include "format/json.hpp"
#include "types/nested.hpp"
#include "types/value_ops.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace sluice::exec {
namespace {

using types::TypeId;
namespace nested = types::nested;

class Field final : public Expression {
 public:
  Field(ExpressionPtr in, uint32_t index, DataType t)
      : Expression(t), in_(std::move(in)), index_(index) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value s = in_->eval(row, ctx);
    nested::View view;
    if (s.null || !nested::View::open(s.str(), &view)) return Value::null_of(type());
    return view.get(index_, type());
  }

 private:
  ExpressionPtr in_;
  uint32_t index_;
};

class Subscript final : public Expression {
 public:
  Subscript(ExpressionPtr in, ExpressionPtr key, DataType t)
      : Expression(t), in_(std::move(in)), key_(std::move(key)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value c = in_->eval(row, ctx);
    Value k = key_->eval(row, ctx);
    if (c.null || k.null) return Value::null_of(type());
    return c.type == TypeId::kMap ? map_value(c, k.str(), type()) : array_element(c, k.i, type());
  }

 private:
  ExpressionPtr in_;
  ExpressionPtr key_;
};

// HEADER('name') over the headers column (ARRAY<STRUCT<key STRING, value BYTES>>): the value of
// the last header named `name` (Kafka's lastHeader), NULL when there is none or its value is null.
class HeaderValue final : public Expression {
 public:
  HeaderValue(ExpressionPtr headers, std::string name)
      : Expression(DataType::bytes()), headers_(std::move(headers)), name_(std::move(name)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value all = headers_->eval(row, ctx);
    nested::View list;
    if (all.null || !nested::View::open(all.str(), &list)) return Value::make_null(TypeId::kBytes);
    for (uint32_t i = list.size(); i-- > 0;) {
      nested::View header;
      if (list.is_null(i) || !nested::View::open(list.raw(i), &header) || header.size() != 2)
        continue;
      if (!header.is_null(0) && header.raw(0) == name_) return header.get(1, DataType::bytes());
    }
    return Value::make_null(TypeId::kBytes);
  }

 private:
  ExpressionPtr headers_;
  std::string name_;
};

class Construct final : public Expression {
 public:
  Construct(std::vector<ExpressionPtr> items, DataType t)
      : Expression(t), items_(std::move(items)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    thread_local std::vector<Value> values;
    size_t start = values.size();  // items may construct nested values themselves
    for (const ExpressionPtr& item : items_)
      values.push_back(item->eval(row, ctx));
    std::span<Value> mine(values.data() + start, items_.size());
    Value out = Value::null_of(type());
    if (type().id == TypeId::kMap && !dedupe_keys(mine, ctx)) {
      values.resize(start);
      return out;
    }
    if (nested::layout_size(mine) > nested::kMaxBytes) {
      ctx.fail(ErrorCode::kInvalidArgument, std::string(type().id == TypeId::kArray ? "ARRAY"
                                                        : type().id == TypeId::kMap ? "MAP"
                                                                                    : "STRUCT") +
                                                " value over 16 MiB");
    } else {
      out = Value::nested(type().id, nested::build(mine, *ctx.arena));
    }
    values.resize(start);
    return out;
  }

 private:
  // MAP(k := v, ...): a NULL key fails the record; a repeated key keeps its last value; the
  // entries are sorted by key (see nested::MapBuilder).
  static bool dedupe_keys(std::span<Value>& pairs, EvalContext& ctx) {
    thread_local nested::MapBuilder map;
    map.clear();
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      if (pairs[i].null) {
        ctx.fail(ErrorCode::kInvalidArgument, "MAP keys cannot be NULL");
        return false;
      }
      map.put(pairs[i], pairs[i + 1]);
    }
    std::span<const Value> sorted = map.sorted();
    std::copy(sorted.begin(), sorted.end(), pairs.begin());
    pairs = pairs.first(sorted.size());
    return true;
  }

  std::vector<ExpressionPtr> items_;
};

// As functions::detail::kMaxResultBytes: the largest string an expression builds.
constexpr size_t kMaxTextBytes = size_t{16} << 20;

class JsonText final : public Expression {
 public:
  explicit JsonText(ExpressionPtr in) : Expression(DataType::string()), in_(std::move(in)) {}
  Value eval(const Value* row, EvalContext& ctx) const override {
    Value v = in_->eval(row, ctx);
    if (v.null) return Value::make_null(TypeId::kString);
    thread_local std::string text;
    text.clear();
    if (!format::append_json_value(v, in_->type(), format::TimestampOutput::kIso8601, text,
                                   kMaxTextBytes)) {
      ctx.fail(ErrorCode::kInvalidArgument, "CAST: result too large");
      return Value::make_null(TypeId::kString);
    }
    return Value::string(ctx.arena->copy(text));
  }

 private:
  ExpressionPtr in_;
};

class Unnest final : public Expression {
 public:
  Unnest(size_t k, DataType t) : Expression(t), k_(k) {}
  Value eval(const Value*, EvalContext& ctx) const override {
    if (!ctx.unnest) return Value::null_of(type());
    return array_element(ctx.unnest[k_], ctx.unnest_index + 1, type());
  }

 private:
  size_t k_;
};

}  // namespace

Value array_element(const Value& array, int64_t index, DataType element) {
  nested::View view;
  if (array.null || !nested::View::open(array.str(), &view)) return Value::null_of(element);
  int64_t n = view.size();
  int64_t i = index > 0 ? index - 1 : n + index;  // 1-based; negative counts from the end
  if (index == 0 || i < 0 || i >= n) return Value::null_of(element);
  return view.get(static_cast<uint32_t>(i), element);
}

Value map_value(const Value& map, std::string_view key, DataType value) {
  nested::View view;
  if (map.null || !nested::View::open(map.str(), &view)) return Value::null_of(value);
  int64_t i = nested::find_key(view, key);
  return i < 0 ? Value::null_of(value) : view.get(static_cast<uint32_t>(i), value);
}

ExpressionPtr make_field(ExpressionPtr input, uint32_t index, DataType type) {
  return std::make_shared<Field>(std::move(input), index, type);
}

ExpressionPtr make_subscript(ExpressionPtr input, ExpressionPtr key, DataType type) {
  return std::make_shared<Subscript>(std::move(input), std::move(key), type);
}

ExpressionPtr make_header_value(ExpressionPtr headers, std::string name) {
  return std::make_shared<HeaderValue>(std::move(headers), std::move(name));
}

ExpressionPtr make_json_text(ExpressionPtr input) {
  return std::make_shared<JsonText>(std::move(input));
}

ExpressionPtr make_unnest(size_t k, DataType element) {
  return std::make_shared<Unnest>(k, element);
}

ExpressionPtr make_construct(std::vector<ExpressionPtr> items, DataType type) {
  return std::make_shared<Construct>(std::move(items), type);
}

}  // namespace sluice::exec
