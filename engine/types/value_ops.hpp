#pragma once
// Operations on Values used by every operator: comparison, hashing, casting, text form.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::types {

// Total order of two non-NULL values of the same TypeId (DECIMALs of any scales compare by value;
// DOUBLE NaN sorts after all numbers). Returns <0, 0, >0.
int compare(const Value& a, const Value& b);
// NULL equals NULL here (grouping semantics, not SQL `=`). Inline: group lookups call it per key.
inline bool group_equal(const Value& a, const Value& b) {
  if (a.null || b.null) return a.null == b.null;
  if (a.type == b.type) {
    switch (a.type) {
      case TypeId::kBoolean:
        return a.b == b.b;
      case TypeId::kBigInt:
      case TypeId::kTimestamp:
      case TypeId::kInterval:
      case TypeId::kDate:
      case TypeId::kTime:
        return a.i == b.i;
      case TypeId::kString:
      case TypeId::kBytes:
        return a.s.size == b.s.size &&
               (a.s.size == 0 || std::memcmp(a.s.data, b.s.data, a.s.size) == 0);
      default:
        break;
    }
  }
  return compare(a, b) == 0;
}
// Consistent with group_equal. DECIMAL hashes by unscaled value (group keys share one scale).
uint64_t hash(const Value& v, uint64_t seed = 0);

// Converts `v` to `target` (SQL CAST semantics). NULL stays NULL (typed). Strings produced go into
// `arena`. On failure returns false and fills `err` (kCast / kOverflow) naming the value and type.
// STRING -> BOOLEAN accepts true/false/t/f/1/0/yes/no; STRING -> TIMESTAMP parses ISO-8601;
// BIGINT -> TIMESTAMP is epoch millis; DOUBLE -> BIGINT truncates toward zero (range checked);
// DECIMAL -> BIGINT rounds half away from zero. TIMESTAMP -> DATE / TIME take its day / time of
// day (UTC); DATE -> TIMESTAMP is its midnight; STRING <-> DATE / TIME use ISO-8601 text.
// STRING -> BYTES is the string's UTF-8 bytes; BYTES -> STRING reads them as UTF-8 (invalid
// UTF-8 fails).
bool cast(const Value& v, DataType target, Arena& arena, Value* out, RecordError* err);
// True when CAST(from AS to) is defined (it may still fail for some values); false means it fails
// for every non-NULL value, so the binder can reject it up front.
bool can_cast(DataType from, DataType to);

// Text form: CAST(x AS STRING), CONCAT, messages. NULL -> "NULL". TIMESTAMP -> ISO-8601 with ms.
// DOUBLE -> shortest round-trip. DECIMAL -> exact with its scale. INTERVAL -> milliseconds.
// DATE -> "2024-01-15"; TIME -> "10:00:05.123"; BYTES -> base64.
void append_text(const Value& v, std::string& out);
std::string to_text(const Value& v);

}  // namespace sluice::types
