// ABS, SIGN, ROUND, CEIL/CEILING, FLOOR, SQRT, EXP, LN, LOG10, POWER/POW, MOD.
// DECIMAL stays exact everywhere (no double on its path); DOUBLE-only functions get DOUBLE args.

#include "functions/registry_impl.hpp"
#include "types/decimal.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace sluice::functions::detail {

namespace {

using types::int128;
namespace decimal = types::decimal;

Value fail(exec::EvalContext& ctx, ErrorCode code, std::string msg, TypeId t) {
  ctx.fail(code, std::move(msg));
  return Value::make_null(t);
}

std::string dec_text(int128 v, uint8_t scale) {
  return decimal::to_string(v, scale);
}

// ---- ABS / SIGN ----

Value abs_bigint(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (a[0].i == std::numeric_limits<int64_t>::min()) {
    return fail(ctx, ErrorCode::kOverflow, fmt::format("ABS: {} overflows BIGINT", a[0].i),
                TypeId::kBigInt);
  }
  return Value::bigint(a[0].i < 0 ? -a[0].i : a[0].i);
}
Value abs_double(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::float64(std::fabs(a[0].d));
}
Value abs_decimal(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::decimal(a[0].dec < 0 ? -a[0].dec : a[0].dec, a[0].scale);
}

template <class T>
int64_t sign_of(T v) {
  return v > 0 ? 1 : (v < 0 ? -1 : 0);
}
Value sign_bigint(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::bigint(sign_of(a[0].i));
}
Value sign_decimal(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::bigint(sign_of(a[0].dec));
}
Value sign_double(const Value* a, size_t, exec::EvalContext&, const void*) {
  if (std::isnan(a[0].d)) return Value::float64(a[0].d);
  return Value::float64(static_cast<double>(sign_of(a[0].d)));
}

std::optional<BoundScalar> bind_abs(const CallSite& c) {
  if (c.size() != 1 || !is_number(c.id(0))) return std::nullopt;
  DataType t = concrete(c.args[0], DataType::bigint());
  ScalarFn fn = t.id == TypeId::kBigInt   ? abs_bigint
                : t.id == TypeId::kDouble ? abs_double
                                          : abs_decimal;
  return make_bound(t, {t}, fn);
}

std::optional<BoundScalar> bind_sign(const CallSite& c) {
  if (c.size() != 1 || !is_number(c.id(0))) return std::nullopt;
  DataType t = concrete(c.args[0], DataType::bigint());
  if (t.id == TypeId::kDouble) return make_bound(t, {t}, sign_double);
  return make_bound(DataType::bigint(), {t}, t.id == TypeId::kBigInt ? sign_bigint : sign_decimal);
}

// ---- ROUND / CEIL / FLOOR ----

// Rounds v to a multiple of 10^k, half away from zero. False on overflow.
bool round_to_pow10(int128 v, int64_t k, int128* out) {
  if (k <= 0) {
    *out = v;
    return true;
  }
  if (k > 38) {  // |v| < 2^127 < 0.5 * 10^39
    *out = 0;
    return true;
  }
  int128 p = decimal::pow10(static_cast<int>(k));
  int128 q = v / p;
  int128 r = v % p;
  int128 ar = r < 0 ? -r : r;
  if (ar >= p - ar) q += v < 0 ? -1 : 1;
  return !__builtin_mul_overflow(q, p, out);
}

int64_t digits_arg(const Value* a, size_t n) {
  return n > 1 ? a[1].i : 0;
}

Value round_bigint(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  int64_t d = digits_arg(a, n);
  if (d >= 0) return a[0];
  int128 r = 0;
  bool ok = round_to_pow10(a[0].i, d < -40 ? 40 : -d, &r);
  if (!ok || r > std::numeric_limits<int64_t>::max() || r < std::numeric_limits<int64_t>::min()) {
    return fail(ctx, ErrorCode::kOverflow,
                fmt::format("ROUND: {} rounded to {} digits overflows BIGINT", a[0].i, d),
                TypeId::kBigInt);
  }
  return Value::bigint(static_cast<int64_t>(r));
}

Value round_double(const Value* a, size_t n, exec::EvalContext&, const void*) {
  int64_t d = digits_arg(a, n);
  double x = a[0].d;
  if (!std::isfinite(x)) return a[0];
  if (d > 400) return a[0];
  if (d < -400) return Value::float64(0.0);
  double f = std::pow(10.0, static_cast<double>(d));
  double scaled = x * f;
  if (!std::isfinite(scaled) || f == 0.0) return d > 0 ? a[0] : Value::float64(0.0);
  // Beyond 2^52 a double has no fractional part left to round.
  if (std::fabs(scaled) >= 4503599627370496.0) return a[0];
  return Value::float64(std::round(scaled) / f);
}

// state: the result type. Rounds at the input scale, then drops the now-zero digits down to the
// result scale (exact division).
Value round_decimal(const Value* a, size_t n, exec::EvalContext& ctx, const void* state) {
  const auto& result = *static_cast<const DataType*>(state);
  int64_t d = digits_arg(a, n);
  int s = a[0].scale;
  int128 r = 0;
  int64_t drop = d >= s ? 0 : (d < -80 ? 200 : s - d);
  bool ok = round_to_pow10(a[0].dec, drop, &r);
  if (ok && result.scale < s) r /= decimal::pow10(s - result.scale);
  if (!ok || !decimal::fits(r, result.precision)) {
    return fail(ctx, ErrorCode::kOverflow,
                fmt::format("ROUND: {} rounded to {} digits overflows {}",
                            dec_text(a[0].dec, a[0].scale), d, result.to_string()),
                TypeId::kDecimal);
  }
  return Value::decimal(r, result.scale);
}

// Result type of ROUND(DECIMAL(p,s), d): with a constant d < s the scale becomes max(d, 0) and one
// digit is added for the carry (9.96 -> 10.0); otherwise the input scale is kept.
DataType round_decimal_type(DataType x, const CallSite& c) {
  auto widen = [](int p) { return static_cast<uint8_t>(std::min<int>(p, 38)); };
  std::optional<int64_t> d;
  if (c.size() == 1) d = 0;
  if (const Value* v = c.size() == 2 ? c.constant(1) : nullptr) d = v->i;
  if (!d) return DataType::decimal(widen(x.precision + 1), x.scale);
  if (*d >= x.scale) return x;
  auto rs = static_cast<uint8_t>(std::max<int64_t>(*d, 0));
  return DataType::decimal(widen(x.precision - x.scale + rs + 1), rs);
}

std::optional<BoundScalar> bind_round(const CallSite& c) {
  if (c.size() < 1 || c.size() > 2 || !is_number(c.id(0))) return std::nullopt;
  if (c.size() == 2 && !is_integer(c.id(1))) return std::nullopt;
  DataType x = concrete(c.args[0], DataType::bigint());
  std::vector<DataType> at{x};
  if (c.size() == 2) at.push_back(DataType::bigint());
  if (x.id == TypeId::kBigInt) return make_bound(x, at, round_bigint);
  if (x.id == TypeId::kDouble) return make_bound(x, at, round_double);
  DataType result = round_decimal_type(x, c);
  BoundScalar b = make_bound(result, at, round_decimal);
  b.state = std::make_shared<const DataType>(result);
  return b;
}

template <bool kCeil>
Value ceil_floor_decimal(const Value* a, size_t, exec::EvalContext&, const void*) {
  int128 p = decimal::pow10(a[0].scale);
  int128 q = a[0].dec / p;
  int128 r = a[0].dec % p;
  if (kCeil && r > 0) ++q;
  if (!kCeil && r < 0) --q;
  return Value::decimal(q, 0);
}
template <bool kCeil>
Value ceil_floor_double(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::float64(kCeil ? std::ceil(a[0].d) : std::floor(a[0].d));
}
Value identity(const Value* a, size_t, exec::EvalContext&, const void*) {
  return a[0];
}

template <bool kCeil>
std::optional<BoundScalar> bind_ceil_floor(const CallSite& c) {
  if (c.size() != 1 || !is_number(c.id(0))) return std::nullopt;
  DataType x = concrete(c.args[0], DataType::bigint());
  if (x.id == TypeId::kBigInt) return make_bound(x, {x}, identity);
  if (x.id == TypeId::kDouble) return make_bound(x, {x}, ceil_floor_double<kCeil>);
  return make_bound(DataType::decimal(x.precision, 0), {x}, ceil_floor_decimal<kCeil>);
}

// ---- DOUBLE functions ----

Value sqrt_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (a[0].d < 0) {
    return fail(ctx, ErrorCode::kInvalidArgument,
                fmt::format("SQRT: argument must not be negative, got {}", a[0].d),
                TypeId::kDouble);
  }
  return Value::float64(std::sqrt(a[0].d));
}

Value exp_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  double r = std::exp(a[0].d);
  if (std::isinf(r) && std::isfinite(a[0].d)) {
    return fail(ctx, ErrorCode::kOverflow, fmt::format("EXP: {} overflows DOUBLE", a[0].d),
                TypeId::kDouble);
  }
  return Value::float64(r);
}

template <bool kLog10>
Value log_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (a[0].d <= 0) {
    return fail(
        ctx, ErrorCode::kInvalidArgument,
        fmt::format("{}: argument must be positive, got {}", kLog10 ? "LOG10" : "LN", a[0].d),
        TypeId::kDouble);
  }
  return Value::float64(kLog10 ? std::log10(a[0].d) : std::log(a[0].d));
}

Value power_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  double x = a[0].d, y = a[1].d;
  double r = std::pow(x, y);
  if (!std::isfinite(x) || !std::isfinite(y) || std::isfinite(r)) return Value::float64(r);
  std::string why;
  ErrorCode code = ErrorCode::kInvalidArgument;
  if (std::isnan(r)) {
    why = "negative base with a fractional exponent";
  } else if (x == 0) {
    why = "zero raised to a negative power";
  } else {
    why = "result overflows DOUBLE";
    code = ErrorCode::kOverflow;
  }
  return fail(ctx, code, fmt::format("POWER({}, {}): {}", x, y, why), TypeId::kDouble);
}

// ---- MOD ----

Value mod_by_zero(exec::EvalContext& ctx, TypeId t) {
  return fail(ctx, ErrorCode::kDivisionByZero, "MOD: division by zero", t);
}

Value mod_bigint(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (a[1].i == 0) return mod_by_zero(ctx, TypeId::kBigInt);
  if (a[1].i == -1) return Value::bigint(0);  // INT64_MIN % -1 is undefined in C++
  return Value::bigint(a[0].i % a[1].i);
}

Value mod_double(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (a[1].d == 0) return mod_by_zero(ctx, TypeId::kDouble);
  return Value::float64(std::fmod(a[0].d, a[1].d));
}

Value mod_decimal(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  int128 x = a[0].dec, y = a[1].dec;
  uint8_t s = std::max(a[0].scale, a[1].scale);
  if (a[0].scale != a[1].scale &&
      (!decimal::rescale(x, a[0].scale, s, &x) || !decimal::rescale(y, a[1].scale, s, &y))) {
    return fail(ctx, ErrorCode::kOverflow, "MOD: operand overflows DECIMAL", TypeId::kDecimal);
  }
  if (y == 0) return mod_by_zero(ctx, TypeId::kDecimal);
  return Value::decimal(x % y, s);
}

std::optional<BoundScalar> bind_mod(const CallSite& c) {
  if (c.size() != 2 || !is_number(c.id(0)) || !is_number(c.id(1))) return std::nullopt;
  auto t = common_type(c.args);
  if (!t) return std::nullopt;
  DataType x = concrete(*t, DataType::bigint());
  ScalarFn fn = x.id == TypeId::kBigInt   ? mod_bigint
                : x.id == TypeId::kDouble ? mod_double
                                          : mod_decimal;
  return make_bound(x, {x, x}, fn);
}

constexpr std::string_view kNumber = "(number)";
constexpr TypeId kDbl = TypeId::kDouble;
constexpr Param kNum = Param::kDouble;  // any number, cast to DOUBLE

const ScalarDef kDefs[] = {
    {"ABS", kNumber, bind_abs},
    {"CEIL", kNumber, bind_ceil_floor<true>},
    {"CEILING", kNumber, bind_ceil_floor<true>},
    {"EXP", kNumber, bind_simple<exp_fn, kDbl, 1, kNum>},
    {"FLOOR", kNumber, bind_ceil_floor<false>},
    {"LN", kNumber, bind_simple<log_fn<false>, kDbl, 1, kNum>},
    {"LOG10", kNumber, bind_simple<log_fn<true>, kDbl, 1, kNum>},
    {"MOD", "(number, number)", bind_mod},
    {"POW", "(number, number)", bind_simple<power_fn, kDbl, 2, kNum, kNum>},
    {"POWER", "(number, number)", bind_simple<power_fn, kDbl, 2, kNum, kNum>},
    {"ROUND", "(number[, integer])", bind_round},
    {"SIGN", kNumber, bind_sign},
    {"SQRT", kNumber, bind_simple<sqrt_fn, kDbl, 1, kNum>},
};

}  // namespace

std::span<const ScalarDef> math_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
