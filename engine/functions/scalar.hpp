#pragma once
// Registry of scalar SQL functions. The binder resolves a call by name and argument types once;
// evaluation then calls a plain function pointer per row.
// Registry and bound functions are immutable and shared by all pipelines.

#include "exec/eval_context.hpp"
#include "types/value.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::functions {

using types::DataType;
using types::Value;

// Evaluates the function for one row. `args` are already cast to BoundScalar::arg_types.
// `state` is BoundScalar::state.get(). Never throws: report errors with ctx.fail and return NULL.
using ScalarFn = Value (*)(const Value* args, size_t n, exec::EvalContext& ctx, const void* state);

// Functions whose later arguments must only be evaluated when needed (SQL:2016 defines them as
// CASE): the binder builds a lazy CASE from the bound types instead of calling `fn` (null).
enum class Conditional : uint8_t {
  kNone,
  kCoalesce,  // COALESCE(a, b, ...), IFNULL(a, b): the first non-NULL argument
  kIf,        // IF(condition, then, else); a NULL condition takes `else`
};

struct BoundScalar {
  DataType result;
  std::vector<DataType> arg_types;  // the binder casts argument i to arg_types[i] first
  ScalarFn fn = nullptr;
  std::shared_ptr<const void> state;  // per call site, e.g. a compiled regex or date pattern
  bool null_if_any_null = true;       // when true, NULL in any argument gives NULL without fn
  Conditional conditional = Conditional::kNone;
};

// Binds NAME (any case) to argument types. `constants[i]` holds argument i's value when it is a
// constant (literal), else nullopt; functions may precompute from it (regex, format pattern) and
// may reject a bad constant at bind time. Throws sluice::Error with kSqlUnknownFunction (unknown
// name) or kSqlType (wrong number or types of arguments; message names the function and says
// what it takes), without location: the binder adds it.
BoundScalar bind_scalar(std::string_view name, std::span<const DataType> args,
                        std::span<const std::optional<Value>> constants);

bool is_scalar_function(std::string_view name);
// Upper-case names, sorted: for documentation checks and error hints.
std::vector<std::string> scalar_function_names();

}  // namespace sluice::functions
