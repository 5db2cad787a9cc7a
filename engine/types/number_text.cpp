#include "types/number_text.hpp"

#include "types/decimal.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace sluice::types {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_lower(std::string_view text, std::string_view lowercase) {
  if (text.size() != lowercase.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (lower(text[i]) != lowercase[i]) return false;
  }
  return true;
}

// from_chars reports both overflow and underflow as out of range; the decimal exponent of the
// first significant digit tells them apart.
bool is_underflow(std::string_view text) {
  size_t i = 0;
  int64_t int_count = 0, frac_count = 0, first_int = -1, first_frac = -1;
  for (; i < text.size() && is_digit(text[i]); ++i, ++int_count) {
    if (first_int < 0 && text[i] != '0') first_int = int_count;
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && is_digit(text[i]); ++i, ++frac_count) {
      if (first_int < 0 && first_frac < 0 && text[i] != '0') first_frac = frac_count;
    }
  }
  int64_t power = first_int >= 0 ? int_count - first_int - 1 : -(first_frac + 1);
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      exponent = std::min<int64_t>(exponent * 10 + (text[i] - '0'), 1000000);
    }
    if (negative) exponent = -exponent;
  }
  return power + exponent < 0;
}

}  // namespace

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

NumberStatus parse_int64(std::string_view text, int64_t* out) {
  std::string_view digits = text;
  bool plus = !digits.empty() && digits.front() == '+';
  if (plus) digits.remove_prefix(1);
  if (!digits.empty() && digits.front() != '+' && !(plus && digits.front() == '-')) {
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
    if (res.ec == std::errc() && res.ptr == digits.data() + digits.size()) return NumberStatus::kOk;
    if (res.ec == std::errc::result_out_of_range) {
      bool all_digits =
          std::all_of(digits.begin() + (digits.front() == '-'), digits.end(), is_digit);
      if (all_digits) return NumberStatus::kOverflow;
    }
  }
  // Slow path for "1.0", "1e3": exact decimal conversion, then range check.
  int128 v = 0;
  bool exact = true;
  switch (decimal::parse_status(text, kMaxDecimalPrecision, 0, &v, &exact)) {
    case decimal::ParseStatus::kSyntax:
      return NumberStatus::kSyntax;
    case decimal::ParseStatus::kOverflow:
      return NumberStatus::kOverflow;
    case decimal::ParseStatus::kOk:
      break;
  }
  if (!exact) return NumberStatus::kNotInteger;
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
    return NumberStatus::kOverflow;
  *out = static_cast<int64_t>(v);
  return NumberStatus::kOk;
}

NumberStatus parse_double(std::string_view text, double* out) {
  if (text.size() >= 2 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  if (text.empty()) return NumberStatus::kSyntax;
  const char* end = text.data() + text.size();
  auto res = std::from_chars(text.data(), end, *out, std::chars_format::general);
  if (res.ptr != end) return NumberStatus::kSyntax;
  if (res.ec == std::errc::result_out_of_range) {
    std::string_view unsigned_text = text.front() == '-' ? text.substr(1) : text;
    if (!is_underflow(unsigned_text)) return NumberStatus::kOverflow;
    *out = text.front() == '-' ? -0.0 : 0.0;
    return NumberStatus::kOk;
  }
  return res.ec == std::errc() ? NumberStatus::kOk : NumberStatus::kSyntax;
}

bool parse_bool(std::string_view text, bool* out) {
  if (equals_lower(text, "true") || equals_lower(text, "t") || equals_lower(text, "yes") ||
      text == "1") {
    *out = true;
    return true;
  }
  if (equals_lower(text, "false") || equals_lower(text, "f") || equals_lower(text, "no") ||
      text == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool is_json_number(std::string_view text) {
  size_t i = 0, n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n || !is_digit(text[i])) return false;
  if (text[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(text[i]))
      ++i;
  }
  if (i < n && text[i] == '.') {
    size_t start = ++i;
    while (i < n && is_digit(text[i]))
      ++i;
    if (i == start) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    size_t start = i;
    while (i < n && is_digit(text[i]))
      ++i;
    if (i == start) return false;
  }
  return i == n;
}

}  // namespace sluice::types
