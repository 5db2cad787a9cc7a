#include "functions/aggregate.hpp"
#include "functions/registry_impl.hpp"
#include "types/data_type.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::functions {

namespace detail {

const Value* CallSite::constant(size_t i) const {
  if (i >= constants.size() || !constants[i] || constants[i]->null) return nullptr;
  return &*constants[i];
}

BoundScalar make_bound(DataType result, std::vector<DataType> arg_types, ScalarFn fn,
                       bool null_if_any_null) {
  BoundScalar b;
  b.result = result;
  b.arg_types = std::move(arg_types);
  b.fn = fn;
  b.null_if_any_null = null_if_any_null;
  return b;
}

namespace {

bool fits_param(TypeId t, Param p) {
  switch (p) {
    case Param::kText:
      return is_text(t);
    case Param::kInt:
      return is_integer(t);
    case Param::kDouble:
      return is_number(t);
    case Param::kTime:
      return is_time(t) || t == TypeId::kString || t == TypeId::kDate;
    case Param::kBool:
      return is_bool(t);
  }
  return false;
}

DataType param_type(Param p) {
  switch (p) {
    case Param::kText:
      return DataType::string();
    case Param::kInt:
      return DataType::bigint();
    case Param::kDouble:
      return DataType::float64();
    case Param::kTime:
      return DataType::timestamp();
    case Param::kBool:
      return DataType::boolean();
  }
  return DataType::null();
}

}  // namespace

bool fits_params(const CallSite& c, std::span<const Param> params, size_t min_args) {
  if (c.size() < min_args || c.size() > params.size()) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!fits_param(c.id(i), params[i])) return false;
  }
  return true;
}

std::vector<DataType> param_types(const CallSite& c, std::span<const Param> params) {
  std::vector<DataType> out;
  for (size_t i = 0; i < c.size(); ++i)
    out.push_back(param_type(params[i]));
  return out;
}

std::optional<DataType> common_type(std::span<const DataType> args) {
  DataType t = DataType::null();
  for (const DataType& a : args) {
    auto next = types::common_super_type(t, a);
    if (!next) return std::nullopt;
    t = *next;
  }
  return t;
}

std::string type_list(std::span<const DataType> args) {
  std::string out = "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ", ";
    out += args[i].to_string();
  }
  out += ")";
  return out;
}

std::string to_upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_function_name(std::string_view upper_name) {
  std::vector<std::string> names = scalar_function_names();
  std::vector<std::string> aggs = aggregate_function_names();
  names.insert(names.end(), aggs.begin(), aggs.end());
  std::sort(names.begin(), names.end());
  std::string best;
  size_t best_score = SIZE_MAX;
  for (const std::string& n : names) {
    size_t d = edit_distance(upper_name, n);
    if (d > 2 || d >= upper_name.size()) continue;
    // Ties go to a name with the same first letter: typos rarely hit the first one.
    size_t score = d * 2 + (!upper_name.empty() && n[0] == upper_name[0] ? 0 : 1);
    if (score < best_score) {
      best_score = score;
      best = n;
    }
  }
  return best;
}

void throw_unknown_function(std::string_view name_as_written) {
  std::string msg = "unknown function '" + std::string(name_as_written) + "'";
  std::string hint = closest_function_name(to_upper_ascii(name_as_written));
  if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
  throw Error(ErrorCode::kSqlUnknownFunction, std::move(msg));
}

char* arena_alloc(exec::EvalContext& ctx, size_t n) {
  SLUICE_ASSERT(ctx.arena != nullptr);
  return ctx.arena->allocate(n == 0 ? 1 : n);
}

Value arena_string(exec::EvalContext& ctx, std::string_view s) {
  if (s.empty()) return Value::string({});
  char* p = arena_alloc(ctx, s.size());
  std::memcpy(p, s.data(), s.size());
  return Value::string({p, s.size()});
}

bool check_result_size(exec::EvalContext& ctx, std::string_view fn, size_t n) {
  if (n <= kMaxResultBytes) return true;
  ctx.fail(ErrorCode::kInvalidArgument, std::string(fn) + ": result too large (" +
                                            std::to_string(n) + " bytes, limit " +
                                            std::to_string(kMaxResultBytes) + ")");
  return false;
}

namespace {

// Every scalar function, sorted by name; built once, then read-only.
const std::vector<const ScalarDef*>& registry() {
  static const std::vector<const ScalarDef*> defs = [] {
    std::vector<const ScalarDef*> all;
    for (auto family : {math_functions(), string_functions(), string_functions_more(),
                        regex_functions(), time_functions(), calendar_functions(),
                        conditional_functions(), date_bytes_functions(), collection_functions()}) {
      for (const ScalarDef& d : family)
        all.push_back(&d);
    }
    std::sort(all.begin(), all.end(),
              [](const ScalarDef* a, const ScalarDef* b) { return a->name < b->name; });
    for (size_t i = 1; i < all.size(); ++i)
      SLUICE_ASSERT(all[i - 1]->name != all[i]->name);
    return all;
  }();
  return defs;
}

const ScalarDef* find(std::string_view upper_name) {
  const auto& defs = registry();
  auto it = std::lower_bound(defs.begin(), defs.end(), upper_name,
                             [](const ScalarDef* d, std::string_view n) { return d->name < n; });
  return it != defs.end() && (*it)->name == upper_name ? *it : nullptr;
}

}  // namespace

}  // namespace detail

BoundScalar bind_scalar(std::string_view name, std::span<const DataType> args,
                        std::span<const std::optional<Value>> constants) {
  std::string upper = detail::to_upper_ascii(name);
  const detail::ScalarDef* def = detail::find(upper);
  if (def == nullptr) detail::throw_unknown_function(name);
  detail::CallSite call{def->name, args, constants};
  std::optional<BoundScalar> bound = def->bind(call);
  if (!bound) {
    throw Error(ErrorCode::kSqlType, std::string(def->name) + " takes " +
                                         std::string(def->signature) + ", got " +
                                         detail::type_list(args));
  }
  return std::move(*bound);
}

bool is_scalar_function(std::string_view name) {
  return detail::find(detail::to_upper_ascii(name)) != nullptr;
}

std::vector<std::string> scalar_function_names() {
  std::vector<std::string> out;
  for (const detail::ScalarDef* d : detail::registry())
    out.emplace_back(d->name);
  return out;
}

}  // namespace sluice::functions
