#pragma once
// Private to engine/functions: how each family of scalar functions registers itself, and the small
// helpers their binders and row functions share. Everything here is immutable after static
// initialisation and safe to use from any thread.

#include "common/error.hpp"
#include "functions/scalar.hpp"

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::functions::detail {

using types::TypeId;

// One call being bound: upper-case name (the alias as written, e.g. CEILING), argument types and
// the constant values known at bind time.
struct CallSite {
  std::string_view name;
  std::span<const DataType> args;
  std::span<const std::optional<Value>> constants;

  size_t size() const { return args.size(); }
  TypeId id(size_t i) const { return args[i].id; }
  // Argument i's value when it is a non-NULL constant, else nullptr.
  const Value* constant(size_t i) const;
};

// Returns nullopt when the argument types do not fit; the registry then throws kSqlType with
// "<NAME> takes <signature>, got (<types>)". May throw its own sluice::Error for other problems
// (e.g. an invalid constant regex).
using ScalarBinder = std::optional<BoundScalar> (*)(const CallSite& call);

struct ScalarDef {
  std::string_view name;       // upper case
  std::string_view signature;  // "(number[, integer])"
  ScalarBinder bind;
};

// Each family lists its functions (defined in the family's .cpp).
std::span<const ScalarDef> math_functions();
std::span<const ScalarDef> string_functions();
std::span<const ScalarDef> string_functions_more();
std::span<const ScalarDef> regex_functions();
std::span<const ScalarDef> time_functions();
std::span<const ScalarDef> calendar_functions();
std::span<const ScalarDef> conditional_functions();
std::span<const ScalarDef> date_bytes_functions();
std::span<const ScalarDef> collection_functions();

// --- binding helpers ---

BoundScalar make_bound(DataType result, std::vector<DataType> arg_types, ScalarFn fn,
                       bool null_if_any_null = true);

// Type classes used in signatures; kNull (an untyped NULL literal) fits every class.
inline bool is_null_type(TypeId t) {
  return t == TypeId::kNull;
}
inline bool is_number(TypeId t) {
  return t == TypeId::kBigInt || t == TypeId::kDouble || t == TypeId::kDecimal || is_null_type(t);
}
inline bool is_integer(TypeId t) {
  return t == TypeId::kBigInt || is_null_type(t);
}
inline bool is_text(TypeId t) {
  return t == TypeId::kString || is_null_type(t);
}
inline bool is_time(TypeId t) {
  return t == TypeId::kTimestamp || is_null_type(t);
}
inline bool is_bool(TypeId t) {
  return t == TypeId::kBoolean || is_null_type(t);
}
// Replaces the NULL type by `fallback`.
inline DataType concrete(DataType t, DataType fallback) {
  return is_null_type(t.id) ? fallback : t;
}

// Parameter classes of simple signatures; the binder casts an argument of class kText to STRING,
// kInt to BIGINT, kDouble to DOUBLE, kTime to TIMESTAMP, kBool to BOOLEAN.
enum class Param : uint8_t { kText, kInt, kDouble, kTime, kBool };

// True when the call has between `min_args` and params.size() arguments of the given classes
// (kDouble accepts any number, kTime accepts TIMESTAMP, DATE (its midnight) or STRING).
bool fits_params(const CallSite& c, std::span<const Param> params, size_t min_args);
std::vector<DataType> param_types(const CallSite& c, std::span<const Param> params);

// Binder of a function with a fixed-type result and simple parameters.
template <ScalarFn kFn, TypeId kResult, size_t kMinArgs, Param... kParams>
std::optional<BoundScalar> bind_simple(const CallSite& c) {
  static constexpr std::array<Param, sizeof...(kParams)> kList{kParams...};
  if (!fits_params(c, kList, kMinArgs)) return std::nullopt;
  return make_bound(DataType{kResult, 0, 0}, param_types(c, kList), kFn);
}

// Folds common_super_type over all arguments; nullopt when two cannot meet.
std::optional<DataType> common_type(std::span<const DataType> args);

// "(BIGINT, STRING)"
std::string type_list(std::span<const DataType> args);
std::string to_upper_ascii(std::string_view s);
// Closest known function name (scalar or aggregate) by edit distance, or empty.
std::string closest_function_name(std::string_view upper_name);
[[noreturn]] void throw_unknown_function(std::string_view name_as_written);

// --- row helpers ---

// Largest string a function may build; bigger results fail with kInvalidArgument instead of
// exhausting memory.
inline constexpr size_t kMaxResultBytes = 16u << 20;

// Copies `s` into the evaluation arena.
Value arena_string(exec::EvalContext& ctx, std::string_view s);
// Allocates `n` bytes in the evaluation arena.
char* arena_alloc(exec::EvalContext& ctx, size_t n);
// Fails with kInvalidArgument "<fn>: result too large" when n > kMaxResultBytes.
bool check_result_size(exec::EvalContext& ctx, std::string_view fn, size_t n);

}  // namespace sluice::functions::detail
