#pragma once
// TIMESTAMP (epoch milliseconds, UTC) parsing and formatting; no time zone database: all UTC.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::types::time {

// ISO-8601 / SQL text: "2024-01-15T10:00:00Z", "2024-01-15T10:00:00.123+02:00",
// "2024-01-15 10:00:00", "2024-01-15 10:00:00.5", "2024-01-15". Without an offset it is UTC.
// Years have four digits, or more past 9999, and may be signed ("-0001", "+10000"): every text
// format_timestamp writes reads back; false when the time is outside the int64 range.
bool parse_timestamp(std::string_view text, int64_t* ms);

// "2024-01-15T10:00:00.123Z" (always milliseconds, always Z). `buf` must hold 32 bytes.
size_t format_timestamp(int64_t ms, char* buf);
std::string timestamp_to_string(int64_t ms);

struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second, millisecond;
  int day_of_week;  // 1 = Monday .. 7 = Sunday (ISO)
  int day_of_year;  // 1..366
};
CivilTime to_civil(int64_t ms);
int64_t from_civil(int64_t year, int month, int day, int hour, int minute, int second, int ms);

}  // namespace sluice::types::time
