#pragma once
// Strict parsing of numbers and booleans from text, shared by CAST and the input formats.
// Pure functions, no allocation, never throw.

#include <cstdint>
#include <string_view>

namespace sluice::types {

enum class NumberStatus : uint8_t { kOk, kSyntax, kNotInteger, kOverflow };

// ASCII whitespace trimmed from both ends.
std::string_view trim_spaces(std::string_view text);

// An integer ("42", "+42", "-7") or decimal text with an integral value ("1.0", "1e3").
// kNotInteger for "1.5", kOverflow outside int64.
NumberStatus parse_int64(std::string_view text, int64_t* out);

// Decimal or exponent text, optional leading '+', "NaN", "inf", "Infinity" (any case).
// kOverflow when the magnitude exceeds double; underflow gives +-0.
NumberStatus parse_double(std::string_view text, double* out);

// true/false/t/f/1/0/yes/no, case-insensitive.
bool parse_bool(std::string_view text, bool* out);

// True when `text` is exactly a JSON (RFC 8259) number.
bool is_json_number(std::string_view text);

}  // namespace sluice::types
