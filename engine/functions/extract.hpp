#pragma once
// Fields of a TIMESTAMP (epoch milliseconds, UTC) for the binder's EXTRACT(field FROM ts).
// Fields (case-insensitive): YEAR, QUARTER, MONTH, WEEK (ISO 8601 week of the week-based year,
// 1..53), DAY (alias DAYOFMONTH), DOW (alias ISODOW; 1 = Monday .. 7 = Sunday), DOY (alias
// DAYOFYEAR), HOUR, MINUTE, SECOND (whole seconds 0..59), MILLISECOND (0..999, within the
// second), EPOCH (whole seconds since 1970-01-01, rounded down). Every field gives a BIGINT.
// Stateless and thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::functions {

enum class ExtractField : uint8_t {
  kYear,
  kQuarter,
  kMonth,
  kWeek,
  kDay,
  kDow,
  kDoy,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
  kEpoch,
};

std::optional<ExtractField> parse_extract_field(std::string_view field);

// The field of `ms` (fast path for a field resolved at bind time).
int64_t extract(ExtractField field, int64_t ms);

}  // namespace sluice::functions
