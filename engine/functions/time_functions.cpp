// DATE_FORMAT, FROM_UNIXTIME, UNIX_TIMESTAMP, TO_TIMESTAMP, NOW/CURRENT_TIMESTAMP.
// Constant format patterns are compiled at bind (invalid -> kSqlType); a pattern from a column is
// compiled on the row with a one-entry per-thread cache.

#include "functions/registry_impl.hpp"
#include "functions/time_impl.hpp"
#include "types/decimal.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <memory>

namespace sluice::functions::detail {

namespace {

using timeutil::DatePattern;
using P = Param;
constexpr TypeId kTs = TypeId::kTimestamp;
constexpr TypeId kStr = TypeId::kString;

int64_t now_ms() {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string bad_pattern(std::string_view fn, std::string_view pattern, std::string_view why) {
  return fmt::format("{}: invalid date format pattern '{}': {}", fn, pattern, why);
}

const DatePattern* pattern_of(const Value& arg, const void* state, exec::EvalContext& ctx,
                              std::string_view fn) {
  if (state != nullptr) return static_cast<const DatePattern*>(state);
  thread_local std::unique_ptr<DatePattern> cached;
  std::string_view text = arg.str();
  if (cached && cached->source == text) return cached.get();
  auto p = std::make_unique<DatePattern>();
  std::string error;
  if (!timeutil::compile_date_pattern(text, p.get(), &error)) {
    ctx.fail(ErrorCode::kInvalidArgument, bad_pattern(fn, text, error));
    return nullptr;
  }
  cached = std::move(p);
  return cached.get();
}

Value format_ms(int64_t ms, const DatePattern& p, exec::EvalContext& ctx) {
  thread_local std::string out;
  out.clear();
  timeutil::format_date(p, ms, out);
  return arena_string(ctx, out);
}

Value date_format_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const DatePattern* p = pattern_of(a[1], state, ctx, "DATE_FORMAT");
  return p ? format_ms(a[0].i, *p, ctx) : Value::make_null(kStr);
}

// Compiles a constant pattern argument `i` into the bound state.
void compile_constant_pattern(const CallSite& c, size_t i, BoundScalar& b) {
  const Value* v = c.size() > i ? c.constant(i) : nullptr;
  if (v == nullptr) return;
  auto p = std::make_shared<DatePattern>();
  std::string error;
  if (!timeutil::compile_date_pattern(v->str(), p.get(), &error)) {
    throw Error(ErrorCode::kSqlType, bad_pattern(c.name, v->str(), error));
  }
  b.state = std::move(p);
}

std::optional<BoundScalar> bind_date_format(const CallSite& c) {
  auto b = bind_simple<date_format_fn, kStr, 2, P::kTime, P::kText>(c);
  if (b) compile_constant_pattern(c, 1, *b);
  return b;
}

// ---- FROM_UNIXTIME ----

Value overflow(exec::EvalContext& ctx, std::string_view fn, std::string what) {
  ctx.fail(ErrorCode::kOverflow, fmt::format("{}: {} is out of the TIMESTAMP range", fn, what));
  return Value::make_null(kTs);
}

// Seconds (any number type) to epoch millis; fractions are rounded to the nearest millisecond.
bool seconds_to_ms(const Value& v, int64_t* ms, exec::EvalContext& ctx) {
  constexpr std::string_view kFn = "FROM_UNIXTIME";
  switch (v.type) {
    case TypeId::kBigInt:
      if (__builtin_mul_overflow(v.i, timeutil::kMsPerSecond, ms)) {
        overflow(ctx, kFn, std::to_string(v.i));
        return false;
      }
      return true;
    case TypeId::kDecimal: {
      types::int128 r = 0;
      if (!types::decimal::rescale(v.dec, v.scale, 3, &r) || r > INT64_MAX || r < INT64_MIN) {
        overflow(ctx, kFn, types::decimal::to_string(v.dec, v.scale));
        return false;
      }
      *ms = static_cast<int64_t>(r);
      return true;
    }
    default: {
      double x = std::round(v.d * 1000.0);
      if (!(x > -9.2e18 && x < 9.2e18)) {  // also rejects NaN
        overflow(ctx, kFn, fmt::format("{}", v.d));
        return false;
      }
      *ms = static_cast<int64_t>(x);
      return true;
    }
  }
}

Value from_unixtime_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void* state) {
  int64_t ms = 0;
  if (!seconds_to_ms(a[0], &ms, ctx)) return Value::make_null(n > 1 ? kStr : kTs);
  if (n == 1) return Value::timestamp(ms);
  const DatePattern* p = pattern_of(a[1], state, ctx, "FROM_UNIXTIME");
  return p ? format_ms(ms, *p, ctx) : Value::make_null(kStr);
}

std::optional<BoundScalar> bind_from_unixtime(const CallSite& c) {
  if (c.size() < 1 || c.size() > 2 || !is_number(c.id(0))) return std::nullopt;
  if (c.size() == 2 && !is_text(c.id(1))) return std::nullopt;
  std::vector<DataType> at{concrete(c.args[0], DataType::bigint())};
  if (c.size() == 2) at.push_back(DataType::string());
  DataType result = c.size() == 2 ? DataType::string() : DataType::timestamp();
  BoundScalar b = make_bound(result, std::move(at), from_unixtime_fn);
  compile_constant_pattern(c, 1, b);
  return b;
}

// ---- UNIX_TIMESTAMP / TO_TIMESTAMP / NOW ----

bool parse_text(const Value& v, int64_t* ms, exec::EvalContext& ctx, std::string_view fn) {
  if (types::time::parse_timestamp(v.str(), ms)) return true;
  ctx.fail(ErrorCode::kInvalidArgument,
           fmt::format("{}: '{}' is not a timestamp (expected ISO-8601 such as "
                       "'2024-01-15 10:00:00' or '2024-01-15T10:00:00.123Z')",
                       fn, v.str()));
  return false;
}

Value unix_timestamp_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  int64_t ms = 0;
  if (n == 0) {
    ms = now_ms();
  } else if (a[0].type != kStr) {
    ms = a[0].i;
  } else if (!parse_text(a[0], &ms, ctx, "UNIX_TIMESTAMP")) {
    return Value::make_null(TypeId::kBigInt);
  }
  return Value::bigint(timeutil::floor_div(ms, timeutil::kMsPerSecond));
}

std::optional<BoundScalar> bind_unix_timestamp(const CallSite& c) {
  if (c.size() > 1) return std::nullopt;
  if (c.size() == 0) return make_bound(DataType::bigint(), {}, unix_timestamp_fn);
  TypeId t = c.id(0);
  if (t != kStr && !is_time(t)) return std::nullopt;
  DataType at = t == kStr ? DataType::string() : DataType::timestamp();
  return make_bound(DataType::bigint(), {at}, unix_timestamp_fn);
}

Value to_timestamp_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  int64_t ms = 0;
  if (a[0].type != kStr) {
    ms = a[0].i;
  } else if (!parse_text(a[0], &ms, ctx, "TO_TIMESTAMP")) {
    return Value::make_null(kTs);
  }
  return Value::timestamp(ms);
}

std::optional<BoundScalar> bind_to_timestamp(const CallSite& c) {
  if (c.size() != 1) return std::nullopt;
  TypeId t = c.id(0);
  if (t != kStr && t != TypeId::kTimestamp && !is_integer(t)) return std::nullopt;
  DataType at = t == kStr  ? DataType::string()
                : t == kTs ? DataType::timestamp()
                           : DataType::bigint();
  return make_bound(DataType::timestamp(), {at}, to_timestamp_fn);
}

Value now_fn(const Value*, size_t, exec::EvalContext&, const void*) {
  return Value::timestamp(now_ms());
}

const ScalarDef kDefs[] = {
    {"CURRENT_TIMESTAMP", "()", bind_simple<now_fn, kTs, 0>},
    {"DATE_FORMAT", "(timestamp, pattern)", bind_date_format},
    {"FROM_UNIXTIME", "(number[, pattern])", bind_from_unixtime},
    {"NOW", "()", bind_simple<now_fn, kTs, 0>},
    {"TO_TIMESTAMP", "(string or integer millis)", bind_to_timestamp},
    {"UNIX_TIMESTAMP", "([timestamp or string])", bind_unix_timestamp},
};

}  // namespace

std::span<const ScalarDef> time_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
