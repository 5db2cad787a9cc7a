// ARRAY and MAP functions: CARDINALITY, ARRAY_LENGTH, ARRAY_CONTAINS, ELEMENT_AT, ARRAY_JOIN,
// ARRAY_DISTINCT, ARRAY_MIN, ARRAY_MAX, SLICE, MAP_KEYS, MAP_VALUES. Each bound call keeps its
// argument's type in `state`, so the row function knows how to read the elements.

#include "exec/expressions.hpp"
#include "functions/registry_impl.hpp"
#include "types/nested.hpp"
#include "types/value_ops.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace sluice::functions::detail {
namespace {

namespace nested = types::nested;

const DataType& type_of(const void* state) {
  return *static_cast<const DataType*>(state);
}

bool open(const Value& v, nested::View* view) {
  return !v.null && nested::View::open(v.str(), view);
}

// A bound call whose state is the type of argument 0 (the ARRAY or MAP).
BoundScalar with_type(BoundScalar b, DataType collection) {
  b.state = std::make_shared<const DataType>(collection);
  return b;
}

Value make_array(std::span<const Value> items, exec::EvalContext& ctx) {
  return Value::nested(TypeId::kArray, nested::build(items, *ctx.arena));
}

// ---- row functions

Value cardinality_fn(const Value* a, size_t, exec::EvalContext&, const void* state) {
  nested::View view;
  if (!open(a[0], &view)) return Value::make_null(TypeId::kBigInt);
  uint32_t n = view.size();
  return Value::bigint(type_of(state).id == TypeId::kMap ? n / 2 : n);
}

Value contains_fn(const Value* a, size_t, exec::EvalContext&, const void* state) {
  nested::View view;
  if (!open(a[0], &view)) return Value::make_null(TypeId::kBoolean);
  DataType element = type_of(state).element();
  for (uint32_t i = 0; i < view.size(); ++i) {
    Value v = view.get(i, element);
    if (v.null ? a[1].null : !a[1].null && types::group_equal(v, a[1])) return Value::boolean(true);
  }
  return Value::boolean(false);
}

Value element_at_fn(const Value* a, size_t, exec::EvalContext&, const void* state) {
  const DataType& t = type_of(state);
  if (a[0].null || a[1].null) return Value::null_of(t.element());
  return t.id == TypeId::kMap ? exec::map_value(a[0], a[1].str(), t.element())
                              : exec::array_element(a[0], a[1].i, t.element());
}

Value array_join_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void* state) {
  nested::View view;
  if (!open(a[0], &view)) return Value::make_null(TypeId::kString);
  std::string_view delimiter = n > 1 ? a[1].str() : ",";
  if (n > 1 && a[1].null) return Value::make_null(TypeId::kString);
  bool replace = n > 2 && !a[2].null;
  DataType element = type_of(state).element();
  thread_local std::string text;
  text.clear();
  bool first = true;
  for (uint32_t i = 0; i < view.size(); ++i) {
    Value v = view.get(i, element);
    if (v.null && !replace) continue;  // NULLs are skipped unless a replacement is given
    if (!first) text.append(delimiter);
    first = false;
    if (v.null) {
      text.append(a[2].str());
    } else {
      types::append_text(v, text);
    }
    if (!check_result_size(ctx, "ARRAY_JOIN", text.size()))
      return Value::make_null(TypeId::kString);
  }
  return arena_string(ctx, text);
}

struct ValueHash {
  size_t operator()(const Value& v) const { return types::hash(v); }
};
struct ValueEq {
  bool operator()(const Value& a, const Value& b) const { return types::group_equal(a, b); }
};

Value array_distinct_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  nested::View view;
  const DataType& t = type_of(state);
  if (!open(a[0], &view)) return Value::null_of(t);
  thread_local std::vector<Value> kept;
  kept.clear();
  std::unordered_set<Value, ValueHash, ValueEq> seen;
  for (uint32_t i = 0; i < view.size(); ++i) {
    Value v = view.get(i, t.element());
    if (seen.insert(v).second) kept.push_back(v);  // NULL is kept once, as any value
  }
  return make_array(kept, ctx);
}

template <bool kMax>
Value array_extreme_fn(const Value* a, size_t, exec::EvalContext&, const void* state) {
  nested::View view;
  DataType element = type_of(state).element();
  Value best = Value::null_of(element);
  if (!open(a[0], &view)) return best;
  for (uint32_t i = 0; i < view.size(); ++i) {
    Value v = view.get(i, element);
    if (v.null) continue;
    if (best.null || (kMax ? types::compare(v, best) > 0 : types::compare(v, best) < 0)) best = v;
  }
  return best;
}

// SLICE(array, from, to): elements from..to, 1-based and inclusive; bounds are clamped.
Value slice_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  nested::View view;
  const DataType& t = type_of(state);
  if (!open(a[0], &view)) return Value::null_of(t);
  int64_t n = view.size();
  int64_t from = std::max<int64_t>(a[1].i, 1);
  int64_t to = std::min<int64_t>(a[2].i, n);
  thread_local std::vector<Value> kept;
  kept.clear();
  for (int64_t i = from; i <= to; ++i)
    kept.push_back(view.get(static_cast<uint32_t>(i - 1), t.element()));
  return make_array(kept, ctx);
}

template <bool kKeys>
Value map_part_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  nested::View view;
  const DataType& t = type_of(state);
  DataType element = kKeys ? DataType::string() : t.element();
  if (!open(a[0], &view)) return Value::make_null(TypeId::kArray);
  thread_local std::vector<Value> kept;
  kept.clear();
  for (uint32_t i = kKeys ? 0 : 1; i < view.size(); i += 2)
    kept.push_back(view.get(i, element));
  return make_array(kept, ctx);
}

// ---- binders

bool is_array(DataType t) {
  return t.id == TypeId::kArray;
}

std::optional<BoundScalar> bind_cardinality(const CallSite& c) {
  bool map_ok = c.name == "CARDINALITY";
  if (c.size() != 1 || !(is_array(c.args[0]) || (map_ok && c.id(0) == TypeId::kMap)))
    return std::nullopt;
  return with_type(make_bound(DataType::bigint(), {c.args[0]}, cardinality_fn), c.args[0]);
}

std::optional<BoundScalar> bind_contains(const CallSite& c) {
  if (c.size() != 2 || !is_array(c.args[0])) return std::nullopt;
  // The value is cast to the common type of it and the elements when that is of the elements'
  // kind (a BIGINT in an ARRAY<DOUBLE>, a BIGINT among DECIMAL(4,2)s: compared by value).
  DataType element = c.args[0].element();
  auto common = types::common_super_type(c.args[1], element);
  if (!common || common->id != element.id || (element.is_nested() && !(*common == element)))
    return std::nullopt;
  auto b = make_bound(DataType::boolean(), {c.args[0], *common}, contains_fn, false);
  return with_type(std::move(b), c.args[0]);
}

std::optional<BoundScalar> bind_element_at(const CallSite& c) {
  if (c.size() != 2) return std::nullopt;
  DataType t = c.args[0];
  if (is_array(t) && is_integer(c.id(1)))
    return with_type(make_bound(t.element(), {t, DataType::bigint()}, element_at_fn), t);
  if (t.id == TypeId::kMap && is_text(c.id(1)))
    return with_type(make_bound(t.element(), {t, DataType::string()}, element_at_fn), t);
  return std::nullopt;
}

std::optional<BoundScalar> bind_array_join(const CallSite& c) {
  if (c.size() < 1 || c.size() > 3 || !is_array(c.args[0]) || c.args[0].element().is_nested())
    return std::nullopt;
  std::vector<DataType> types{c.args[0]};
  for (size_t i = 1; i < c.size(); ++i) {
    if (!is_text(c.id(i))) return std::nullopt;
    types.push_back(DataType::string());
  }
  auto b = make_bound(DataType::string(), std::move(types), array_join_fn, false);
  b.null_if_any_null = false;
  return with_type(std::move(b), c.args[0]);
}

std::optional<BoundScalar> bind_array_distinct(const CallSite& c) {
  if (c.size() != 1 || !is_array(c.args[0])) return std::nullopt;
  return with_type(make_bound(c.args[0], {c.args[0]}, array_distinct_fn), c.args[0]);
}

template <bool kMax>
std::optional<BoundScalar> bind_array_extreme(const CallSite& c) {
  if (c.size() != 1 || !is_array(c.args[0]) || c.args[0].element().is_nested()) return std::nullopt;
  return with_type(make_bound(c.args[0].element(), {c.args[0]}, array_extreme_fn<kMax>), c.args[0]);
}

std::optional<BoundScalar> bind_slice(const CallSite& c) {
  if (c.size() != 3 || !is_array(c.args[0]) || !is_integer(c.id(1)) || !is_integer(c.id(2)))
    return std::nullopt;
  return with_type(
      make_bound(c.args[0], {c.args[0], DataType::bigint(), DataType::bigint()}, slice_fn),
      c.args[0]);
}

template <bool kKeys>
std::optional<BoundScalar> bind_map_part(const CallSite& c) {
  if (c.size() != 1 || c.id(0) != TypeId::kMap) return std::nullopt;
  DataType result = DataType::array(kKeys ? DataType::string() : c.args[0].element());
  return with_type(make_bound(result, {c.args[0]}, map_part_fn<kKeys>), c.args[0]);
}

const ScalarDef kDefs[] = {
    {"ARRAY_CONTAINS", "(array, value)", bind_contains},
    {"ARRAY_DISTINCT", "(array)", bind_array_distinct},
    {"ARRAY_JOIN", "(array[, delimiter[, null_text]])", bind_array_join},
    {"ARRAY_LENGTH", "(array)", bind_cardinality},
    {"ARRAY_MAX", "(array of scalars)", bind_array_extreme<true>},
    {"ARRAY_MIN", "(array of scalars)", bind_array_extreme<false>},
    {"CARDINALITY", "(array or map)", bind_cardinality},
    {"ELEMENT_AT", "(array, index) or (map, key)", bind_element_at},
    {"MAP_KEYS", "(map)", bind_map_part<true>},
    {"MAP_VALUES", "(map)", bind_map_part<false>},
    {"SLICE", "(array, from, to)", bind_slice},
};

}  // namespace

std::span<const ScalarDef> collection_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
