#pragma once
// Operations on Values used by every operator: comparison, hashing, casting, text form.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <string>

namespace sluice::types {

// Total order of two non-NULL values of the same TypeId (DECIMALs of any scales compare by value;
// DOUBLE NaN sorts after all numbers). Returns <0, 0, >0.
int compare(const Value& a, const Value& b);
// NULL equals NULL here (grouping semantics, not SQL `=`).
bool group_equal(const Value& a, const Value& b);
// Consistent with group_equal. DECIMAL hashes by unscaled value (group keys share one scale).
uint64_t hash(const Value& v, uint64_t seed = 0);

// Converts `v` to `target` (SQL CAST semantics). NULL stays NULL (typed). Strings produced go into
// `arena`. On failure returns false and fills `err` (kCast / kOverflow) naming the value and type.
// STRING -> BOOLEAN accepts true/false/t/f/1/0/yes/no; STRING -> TIMESTAMP parses ISO-8601;
// BIGINT -> TIMESTAMP is epoch millis; DOUBLE -> BIGINT truncates toward zero (range checked);
// DECIMAL -> BIGINT rounds half away from zero.
bool cast(const Value& v, DataType target, Arena& arena, Value* out, RecordError* err);
// True when CAST(from AS to) is defined (it may still fail for some values); false means it fails
// for every non-NULL value, so the binder can reject it up front.
bool can_cast(DataType from, DataType to);

// Text form: CAST(x AS STRING), CONCAT, messages. NULL -> "NULL". TIMESTAMP -> ISO-8601 with ms.
// DOUBLE -> shortest round-trip. DECIMAL -> exact with its scale. INTERVAL -> milliseconds.
void append_text(const Value& v, std::string& out);
std::string to_text(const Value& v);

}  // namespace sluice::types
