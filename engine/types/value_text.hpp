#pragma once
// Allocation-free text forms of non-string values, shared by append_text, CAST and the encoders.

#include "types/value.hpp"

#include <cstddef>

namespace sluice::types {

// Enough for any non-string value: DECIMAL needs 42, TIMESTAMP 30, DOUBLE 24.
inline constexpr size_t kMaxScalarText = 64;

// Writes the text of a non-NULL value other than STRING and BYTES (as append_text would) into `buf`
// (kMaxScalarText bytes); returns the length. NULL writes "NULL".
size_t format_scalar(const Value& v, char* buf);

// Shortest round-trip text; "NaN", "Infinity", "-Infinity" for non-finite values.
size_t format_double(double d, char* buf);

}  // namespace sluice::types
