#pragma once
// Registry of aggregate functions. Each group keeps one fixed-size, suitably aligned state block
// per aggregate; functions work on raw state pointers so a group's states sit in one allocation.
// Bound aggregates are immutable and shared by all pipelines; states belong to one pipeline.

#include "common/arena.hpp"
#include "exec/eval_context.hpp"
#include "types/value.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::exec {
class StateWriter;
class StateReader;
}  // namespace sluice::exec

namespace sluice::functions {

using types::DataType;
using types::Value;

struct BoundAggregate {
  DataType result;
  DataType arg_type;  // the binder casts the argument to this type (unused for COUNT(*))
  size_t state_size = 0;
  size_t state_align = alignof(std::max_align_t);
  // Called once when the group is created.
  void (*init)(void* state) = nullptr;
  // Called per accepted row. `arg` is nullptr for COUNT(*). NULL argument values are not passed
  // (SQL aggregates skip NULLs) unless `takes_nulls`. Must not fail: accumulate wide enough that
  // overflow can only show at finalize.
  void (*update)(void* state, const Value* arg) = nullptr;
  // Current result. Strings go into `arena`. Errors (e.g. SUM overflowing BIGINT) via ctx.fail.
  Value (*finalize)(const void* state, Arena& arena, exec::EvalContext& ctx) = nullptr;
  // Releases what the state owns (may be null when nothing).
  void (*destroy)(void* state) = nullptr;
  // Writes the state (snapshots); `load` reads it back into a state fresh from `init`, which
  // then finalizes and updates as the saved one would. Truncated or corrupt bytes throw
  // sluice::Error (kState).
  void (*save)(const void* state, exec::StateWriter& w) = nullptr;
  void (*load)(void* state, exec::StateReader& r) = nullptr;
  bool takes_nulls = false;  // true: update also gets NULL arguments (arg->null set)
};

// Binds NAME (any case) with `args` argument types (empty for COUNT(*)); `distinct` for
// F(DISTINCT x). Throws sluice::Error kSqlUnknownFunction / kSqlType without location.
BoundAggregate bind_aggregate(std::string_view name, std::span<const DataType> args, bool distinct,
                              bool star);

bool is_aggregate_function(std::string_view name);
std::vector<std::string> aggregate_function_names();

}  // namespace sluice::functions
