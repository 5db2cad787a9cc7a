#pragma once
// Test helpers for engine/functions: bind and evaluate a scalar call the way the binder and the
// Function expression do (cast arguments to arg_types, honour null_if_any_null), and run an
// aggregate over a few rows.

#include "common/arena.hpp"
#include "exec/eval_context.hpp"
#include "functions/aggregate.hpp"
#include "functions/scalar.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace sluice::functions::testing {

using types::DataType;
using types::TypeId;
using types::Value;

// An argument: a value and its static type.
struct Arg {
  Value value;
  DataType type;
  Arg(Value v) : value(v), type(type_of(v)) {}  // NOLINT: implicit on purpose
  Arg(Value v, DataType t) : value(v), type(t) {}

  static DataType type_of(const Value& v) {
    if (v.type != TypeId::kDecimal) return DataType{v.type, 0, 0};
    return DataType::decimal(38, v.scale);
  }
};

inline Arg str(std::string_view s) {
  return Arg(Value::string(s));
}
inline Arg i64(int64_t v) {
  return Arg(Value::bigint(v));
}
inline Arg f64(double v) {
  return Arg(Value::float64(v));
}
inline Arg boolean(bool v) {
  return Arg(Value::boolean(v));
}
inline Arg ts(int64_t ms) {
  return Arg(Value::timestamp(ms));
}
inline Arg null_of(DataType t) {
  return Arg(Value::make_null(t.id), t);
}
inline Arg null_lit() {
  return Arg(Value::make_null(), DataType::null());
}
// "12.50" -> DECIMAL(p,2) with p = number of digits (at least scale + 1).
inline Arg dec(std::string_view text) {
  size_t point = text.find('.');
  auto scale = static_cast<uint8_t>(point == std::string_view::npos ? 0 : text.size() - point - 1);
  uint8_t digits = 0;
  for (char c : text)
    digits += (c >= '0' && c <= '9') ? 1 : 0;
  auto p = static_cast<uint8_t>(std::max<int>(digits, scale + 1));
  types::int128 v = 0;
  REQUIRE(types::decimal::parse(text, 38, scale, &v));
  return Arg(Value::decimal(v, scale), DataType::decimal(p, scale));
}

struct Result {
  Value value;
  DataType type;  // the bound result type
  bool failed = false;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  bool is_null() const { return !failed && value.null; }
  std::string text() const { return value.null ? "NULL" : types::to_text(value); }
};

class Evaluator {
 public:
  Evaluator() { ctx_.arena = &arena_; }

  BoundScalar bind(std::string_view name, const std::vector<Arg>& args, bool constant) {
    std::vector<DataType> types;
    std::vector<std::optional<Value>> constants;
    for (const Arg& a : args) {
      types.push_back(a.type);
      constants.push_back(constant ? std::optional<Value>(a.value) : std::nullopt);
    }
    return bind_scalar(name, types, constants);
  }

  // Binds with every argument constant (constant = true) or none, then evaluates once.
  Result call(std::string_view name, const std::vector<Arg>& args, bool constant = true) {
    BoundScalar fn = bind(name, args, constant);
    REQUIRE(fn.arg_types.size() == args.size());
    ctx_.clear();
    Result r;
    r.type = fn.result;
    std::vector<Value> vals;
    for (size_t i = 0; i < args.size(); ++i) {
      Value v;
      RecordError err;
      if (!types::cast(args[i].value, fn.arg_types[i], arena_, &v, &err)) {
        r.failed = true;  // the binder's CAST rejects the record, as in a query
        r.code = err.code;
        r.message = err.message;
        return r;
      }
      vals.push_back(v);
    }
    bool skip = false;
    for (const Value& v : vals)
      skip = skip || (v.null && fn.null_if_any_null);
    r.value = skip ? Value::make_null(fn.result.id)
                   : fn.fn(vals.data(), vals.size(), ctx_, fn.state.get());
    r.failed = ctx_.failed;
    r.code = ctx_.error.code;
    r.message = ctx_.error.message;
    if (r.failed) CHECK(r.value.null);
    if (!r.value.null) CHECK(r.value.type == fn.result.id);
    return r;
  }

  // Text of the result; "NULL" for NULL, "ERROR: <message>" on failure.
  std::string text(std::string_view name, const std::vector<Arg>& args, bool constant = true) {
    Result r = call(name, args, constant);
    if (r.failed) return "ERROR: " + r.message;
    return r.text();
  }

  Arena& arena() { return arena_; }

 private:
  Arena arena_;
  exec::EvalContext ctx_;
};

// The error a bind throws: "CODE: message"; "" when it binds.
inline std::string bind_error(std::string_view name, std::vector<DataType> types,
                              std::vector<std::optional<Value>> constants = {}) {
  constants.resize(types.size());
  try {
    bind_scalar(name, types, constants);
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + ": " + e.what();
  }
  return "";
}

inline std::string agg_bind_error(std::string_view name, std::vector<DataType> types,
                                  bool distinct = false, bool star = false) {
  try {
    bind_aggregate(name, types, distinct, star);
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + ": " + e.what();
  }
  return "";
}

// Runs an aggregate over `rows` (NULL rows are skipped as the operator does) and finalizes.
inline Result run_aggregate(std::string_view name, DataType arg, const std::vector<Value>& rows,
                            bool distinct = false, bool star = false) {
  std::vector<DataType> args;
  if (!star) args.push_back(arg);
  BoundAggregate agg = bind_aggregate(name, args, distinct, star);
  void* state = ::operator new(agg.state_size, std::align_val_t(agg.state_align));
  agg.init(state);
  Arena arena;
  for (const Value& row : rows) {
    if (star) {
      agg.update(state, nullptr);
      continue;
    }
    Value v;
    RecordError err;
    REQUIRE(types::cast(row, agg.arg_type, arena, &v, &err));
    if (v.null && !agg.takes_nulls) continue;
    agg.update(state, &v);
  }
  exec::EvalContext ctx;
  ctx.arena = &arena;
  Result r;
  r.type = agg.result;
  static Arena out_arena;  // results outlive the state
  r.value = agg.finalize(state, out_arena, ctx);
  r.failed = ctx.failed;
  r.code = ctx.error.code;
  r.message = ctx.error.message;
  if (agg.destroy) agg.destroy(state);
  ::operator delete(state, std::align_val_t(agg.state_align));
  return r;
}

}  // namespace sluice::functions::testing
