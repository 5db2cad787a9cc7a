#pragma once
// Private to engine/functions: calendar helpers and compiled DATE_FORMAT patterns.
// All UTC. Immutable values; thread-safe.

#include "types/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::functions::timeutil {

inline constexpr int64_t kMsPerSecond = 1000;
inline constexpr int64_t kMsPerDay = 86400000;

inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline int64_t floor_mod(int64_t a, int64_t b) {
  return a - floor_div(a, b) * b;
}

// ISO 8601 week number (1..53) of a civil date.
int iso_week(const types::time::CivilTime& c);
int days_in_month(int64_t year, int month);

// A DATE_FORMAT pattern in Java DateTimeFormatter/SimpleDateFormat letters: y yy yyyy (year),
// M MM (month) MMM (Jan) MMMM (January), d dd (day), D (day of year), H HH (0-23), h hh (1-12),
// k (1-24), K (0-11), m mm, s ss, S.. (fraction of second: S tenths, SS hundredths, SSS millis),
// a (AM/PM), E EE EEE (Mon) EEEE (Monday), u (day of week, 1 = Monday), Z (+0000), X (Z),
// z (UTC). Text in single quotes is literal, '' is a quote; other non-letters are literal.
struct DatePattern {
  struct Token {
    char letter = 0;  // 0: literal text
    uint32_t count = 0;
    std::string text;
  };
  std::vector<Token> tokens;
  std::string source;
};

// False with `error` (e.g. "unknown pattern letter 'q'") when the pattern is invalid.
bool compile_date_pattern(std::string_view pattern, DatePattern* out, std::string* error);
void format_date(const DatePattern& pattern, int64_t ms, std::string& out);

}  // namespace sluice::functions::timeutil
