#pragma once
// Exact decimal arithmetic on scaled 128-bit integers. No binary floating point on any path here
// except the explicit conversions to/from double. Every operation that can overflow returns false.

#include "types/value.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::types::decimal {

// 10^n for 0 <= n <= 38.
int128 pow10(int n);

// 10^n for 0 <= n <= 19, for the 64-bit fast paths.
inline constexpr uint64_t kPow10U64[20] = {1ULL,
                                           10ULL,
                                           100ULL,
                                           1000ULL,
                                           10000ULL,
                                           100000ULL,
                                           1000000ULL,
                                           10000000ULL,
                                           100000000ULL,
                                           1000000000ULL,
                                           10000000000ULL,
                                           100000000000ULL,
                                           1000000000000ULL,
                                           10000000000000ULL,
                                           100000000000000ULL,
                                           1000000000000000ULL,
                                           10000000000000000ULL,
                                           100000000000000000ULL,
                                           1000000000000000000ULL,
                                           10000000000000000000ULL};

// True when |v| < 10^precision.
bool fits(int128 v, uint8_t precision);

// Parses decimal text ("123.4500", "-0.5", "+7", "1.5e3", "12.") into an unscaled value with
// `scale` digits after the point, rounding half away from zero when the text has more digits.
// False on bad syntax or when the result does not fit `precision`.
bool parse(std::string_view text, uint8_t precision, uint8_t scale, int128* out);

// Like parse, but says why it failed. `exact` (optional) is set to false when nonzero digits were
// rounded away (e.g. "1.5" at scale 0), true otherwise.
enum class ParseStatus : uint8_t { kOk, kSyntax, kOverflow };
ParseStatus parse_status(std::string_view text, uint8_t precision, uint8_t scale, int128* out,
                         bool* exact = nullptr);

// Writes v / 10^scale as plain text with exactly `scale` fractional digits ("123.4500", "-0.05",
// "7"). `buf` must hold 48 bytes. Returns the length.
size_t format(int128 v, uint8_t scale, char* buf);
std::string to_string(int128 v, uint8_t scale);

// Changes scale; decreasing it rounds half away from zero. False on overflow.
bool rescale(int128 v, uint8_t from, uint8_t to, int128* out);

bool add(int128 a, int128 b, int128* out);
bool sub(int128 a, int128 b, int128* out);
bool mul(int128 a, int128 b, int128* out);
// (a / 10^sa) / (b / 10^sb) as an unscaled value of scale `out_scale`, rounded half away from zero.
// False on overflow; b must not be 0.
bool div(int128 a, uint8_t sa, int128 b, uint8_t sb, uint8_t out_scale, int128* out);

double to_double(int128 v, uint8_t scale);
// False when not finite or out of range for `precision`.
bool from_double(double d, uint8_t precision, uint8_t scale, int128* out);

}  // namespace sluice::types::decimal
