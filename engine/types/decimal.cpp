#include "types/decimal.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace sluice::types::decimal {

namespace {

using uint128 = unsigned __int128;

constexpr int128 kInt128Max = static_cast<int128>(~uint128{0} >> 1);

constexpr std::array<int128, 39> kPow10 = [] {
  std::array<int128, 39> t{};
  t[0] = 1;
  for (size_t i = 1; i < t.size(); ++i)
    t[i] = t[i - 1] * 10;
  return t;
}();

// Powers of ten exactly representable as doubles (fast path of to_double).
constexpr std::array<double, 23> kPow10Double = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

uint128 magnitude(int128 v) {
  return v < 0 ? uint128{0} - static_cast<uint128>(v) : v;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Syntax of the text, located but not yet converted.
struct DecimalText {
  bool negative = false;
  std::string_view int_digits;
  std::string_view frac_digits;
  int64_t exponent = 0;  // clamped to +-1e6: anything beyond is zero or overflow anyway
};

bool split(std::string_view text, DecimalText* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  if (p < end && (*p == '+' || *p == '-')) out->negative = *p++ == '-';
  const char* start = p;
  while (p < end && is_digit(*p))
    ++p;
  out->int_digits = {start, static_cast<size_t>(p - start)};
  if (p < end && *p == '.') {
    start = ++p;
    while (p < end && is_digit(*p))
      ++p;
    out->frac_digits = {start, static_cast<size_t>(p - start)};
  }
  if (out->int_digits.empty() && out->frac_digits.empty()) return false;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool negative_exp = false;
    if (p < end && (*p == '+' || *p == '-')) negative_exp = *p++ == '-';
    if (p == end || !is_digit(*p)) return false;
    for (; p < end && is_digit(*p); ++p)
      out->exponent = std::min<int64_t>(out->exponent * 10 + (*p - '0'), 1000000);
    if (negative_exp) out->exponent = -out->exponent;
  }
  return p == end;
}

// Accumulates digits into the unscaled value: digits before `keep` are kept, the digit at `keep`
// decides rounding (half away from zero only needs that one digit), later ones only exactness.
struct Accumulator {
  Accumulator(int128 limit_in, int64_t keep_in)
      : limit(limit_in), limit_div10(limit_in / 10), keep(keep_in) {}

  int128 value = 0;
  int128 limit;
  int128 limit_div10;
  int64_t keep;
  int64_t index = 0;
  int round_digit = 0;
  bool dropped_nonzero = false;

  bool feed(std::string_view digits) {
    for (char c : digits) {
      int d = c - '0';
      if (index < keep) {
        // value * 10 + d < limit  <=>  value < limit / 10 (limit is a power of ten); checking
        // before multiplying keeps 10^38-sized values from overflowing 128 bits.
        if (value >= limit_div10 && (value != 0 || d != 0)) return false;
        value = value * 10 + d;
      } else if (index == keep) {
        round_digit = d;
        dropped_nonzero |= d != 0;
      } else {
        dropped_nonzero |= d != 0;
      }
      ++index;
    }
    return true;
  }
};

}  // namespace

int128 pow10(int n) {
  SLUICE_ASSERT(n >= 0 && n <= 38);
  return kPow10[static_cast<size_t>(n)];
}

bool fits(int128 v, uint8_t precision) {
  int128 limit = kPow10[std::min<uint8_t>(precision, kMaxDecimalPrecision)];
  return v < limit && v > -limit;
}

namespace {

// Up to 18 digits fit a uint64: the common case needs no 128-bit work until the final scaling.
bool convert_small(const DecimalText& parts, int64_t shift, int128 limit, int128* out,
                   bool* dropped_nonzero) {
  uint64_t digits = 0;
  for (char c : parts.int_digits)
    digits = digits * 10 + static_cast<uint64_t>(c - '0');
  for (char c : parts.frac_digits)
    digits = digits * 10 + static_cast<uint64_t>(c - '0');
  *dropped_nonzero = false;
  int128 v = digits;
  if (shift > 0 && digits != 0) {
    if (shift > kMaxDecimalPrecision || __builtin_mul_overflow(v, kPow10[shift], &v)) return false;
  } else if (shift < 0) {
    auto p = static_cast<uint64_t>(kPow10[-shift]);
    uint64_t r = digits % p;
    v = digits / p + (r >= p - r ? 1 : 0);
    *dropped_nonzero = r != 0;
  }
  *out = v;
  return v < limit;
}

// Any number of digits: only those that land above the unit position are accumulated.
bool convert_large(const DecimalText& parts, int64_t shift, int128 limit, int128* out,
                   bool* dropped_nonzero) {
  int64_t n_digits = static_cast<int64_t>(parts.int_digits.size() + parts.frac_digits.size());
  Accumulator acc(limit, shift >= 0 ? n_digits : n_digits + shift);
  if (!acc.feed(parts.int_digits) || !acc.feed(parts.frac_digits)) return false;
  int128 v = acc.value;
  if (shift > 0 && v != 0) {
    if (shift > kMaxDecimalPrecision || __builtin_mul_overflow(v, kPow10[shift], &v) || v >= limit)
      return false;
  }
  if (acc.round_digit >= 5 && ++v >= limit) return false;
  *dropped_nonzero = acc.dropped_nonzero;
  *out = v;
  return true;
}

}  // namespace

ParseStatus parse_status(std::string_view text, uint8_t precision, uint8_t scale, int128* out,
                         bool* exact) {
  DecimalText parts;
  if (!split(text, &parts)) return ParseStatus::kSyntax;
  int128 limit = kPow10[std::min<uint8_t>(precision, kMaxDecimalPrecision)];
  // text = digits * 10^(exponent - #frac); unscaled = digits * 10^shift.
  int64_t shift = parts.exponent - static_cast<int64_t>(parts.frac_digits.size()) + scale;
  size_t n_digits = parts.int_digits.size() + parts.frac_digits.size();
  int128 v = 0;
  bool dropped_nonzero = false;
  bool ok = n_digits <= 18 && shift >= -18
                ? convert_small(parts, shift, limit, &v, &dropped_nonzero)
                : convert_large(parts, shift, limit, &v, &dropped_nonzero);
  if (!ok) return ParseStatus::kOverflow;
  if (exact) *exact = !dropped_nonzero;
  *out = parts.negative ? -v : v;
  return ParseStatus::kOk;
}

bool parse(std::string_view text, uint8_t precision, uint8_t scale, int128* out) {
  return parse_status(text, precision, scale, out) == ParseStatus::kOk;
}

size_t format(int128 v, uint8_t scale, char* buf) {
  // Digits are produced backwards; 128-bit division is slow, so peel 19-digit chunks first.
  char digits[48];
  size_t n = 0;
  uint128 u = magnitude(v);
  constexpr uint64_t kChunk = 10000000000000000000ULL;  // 10^19
  while (u > ~uint64_t{0}) {
    uint64_t low = static_cast<uint64_t>(u % kChunk);
    u /= kChunk;
    for (int i = 0; i < 19; ++i, low /= 10)
      digits[n++] = static_cast<char>('0' + low % 10);
  }
  uint64_t rest = static_cast<uint64_t>(u);
  do {
    digits[n++] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0);
  while (n < static_cast<size_t>(scale) + 1)
    digits[n++] = '0';
  char* p = buf;
  if (v < 0) *p++ = '-';
  for (size_t i = n; i > scale; --i)
    *p++ = digits[i - 1];
  if (scale > 0) {
    *p++ = '.';
    for (size_t i = scale; i > 0; --i)
      *p++ = digits[i - 1];
  }
  return static_cast<size_t>(p - buf);
}

std::string to_string(int128 v, uint8_t scale) {
  char buf[48];
  return std::string(buf, format(v, scale, buf));
}

bool rescale(int128 v, uint8_t from, uint8_t to, int128* out) {
  if (to >= from) {
    int k = to - from;
    if (v == 0 || k == 0) {
      *out = v;
      return true;
    }
    return k <= kMaxDecimalPrecision && !__builtin_mul_overflow(v, kPow10[k], out);
  }
  int k = from - to;
  if (k > kMaxDecimalPrecision) {  // |v| < 2^127 < 10^39 / 2: rounds to zero
    *out = 0;
    return true;
  }
  int128 p = kPow10[k];
  int128 q = v / p;
  int128 r = v % p;
  int128 abs_r = r < 0 ? -r : r;
  if (abs_r >= p - abs_r) q += v < 0 ? -1 : 1;
  *out = q;
  return true;
}

bool add(int128 a, int128 b, int128* out) {
  return !__builtin_add_overflow(a, b, out);
}
bool sub(int128 a, int128 b, int128* out) {
  return !__builtin_sub_overflow(a, b, out);
}
bool mul(int128 a, int128 b, int128* out) {
  return !__builtin_mul_overflow(a, b, out);
}

namespace {

// Next decimal digit of the fraction r/b (r < b), updating r. 10*r may not fit 128 bits when b is
// huge, so that case adds r ten times modulo b.
int next_digit(uint128& r, uint128 b) {
  if (r < (uint128{1} << 124)) {
    uint128 t = r * 10;
    r = t % b;
    return static_cast<int>(t / b);
  }
  uint128 acc = 0;
  int digit = 0;
  for (int i = 0; i < 10; ++i) {
    if (acc >= b - r) {  // acc + r >= b without overflow
      acc = acc - (b - r);
      ++digit;
    } else {
      acc += r;
    }
  }
  r = acc;
  return digit;
}

// round(a * 10^e / b) for e >= 0, magnitudes only.
bool div_scale_up(uint128 a, uint128 b, int e, uint128* out) {
  uint128 n;
  if (e <= kMaxDecimalPrecision &&
      !__builtin_mul_overflow(a, static_cast<uint128>(kPow10[e]), &n)) {
    uint128 q = n / b, r = n % b;
    *out = q + (r >= b - r ? 1 : 0);
    return true;
  }
  uint128 q = a / b, r = a % b;
  for (int i = 0; i < e; ++i) {
    int d = next_digit(r, b);
    if (q > (static_cast<uint128>(kInt128Max) - d) / 10) return false;
    q = q * 10 + d;
  }
  *out = q + (next_digit(r, b) >= 5 ? 1 : 0);
  return true;
}

// round(a / (b * 10^m)) for m > 0. Truncating a/b first is exact for the rounding decision because
// 10^m / 2 is an integer.
uint128 div_scale_down(uint128 a, uint128 b, int m) {
  uint128 q = a / b;
  if (m > kMaxDecimalPrecision) return 0;
  uint128 p = static_cast<uint128>(kPow10[m]);
  uint128 r = q % p;
  return q / p + (r >= p / 2 ? 1 : 0);
}

}  // namespace

bool div(int128 a, uint8_t sa, int128 b, uint8_t sb, uint8_t out_scale, int128* out) {
  if (b == 0) return false;
  bool negative = (a < 0) != (b < 0);
  int e = static_cast<int>(out_scale) + sb - sa;
  uint128 q;
  if (e >= 0) {
    if (!div_scale_up(magnitude(a), magnitude(b), e, &q)) return false;
  } else {
    q = div_scale_down(magnitude(a), magnitude(b), -e);
  }
  if (q > static_cast<uint128>(kInt128Max)) return false;
  *out = negative ? -static_cast<int128>(q) : static_cast<int128>(q);
  return true;
}

double to_double(int128 v, uint8_t scale) {
  constexpr int128 kExactLimit = int128{1} << 53;
  if (v < kExactLimit && v > -kExactLimit && scale < kPow10Double.size()) {
    return static_cast<double>(static_cast<int64_t>(v)) / kPow10Double[scale];  // one rounding
  }
  char buf[48];
  size_t n = format(v, scale, buf);
  double d = 0;
  std::from_chars(buf, buf + n, d);  // correctly rounded; cannot fail on this text
  return d;
}

bool from_double(double d, uint8_t precision, uint8_t scale, int128* out) {
  if (!std::isfinite(d)) return false;
  // The shortest round-trip text is what users see for this double (0.1, not
  // 0.1000000000000000055), so rounding from it matches their expectation.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  return parse(std::string_view(buf, static_cast<size_t>(res.ptr - buf)), precision, scale, out);
}

}  // namespace sluice::types::decimal
