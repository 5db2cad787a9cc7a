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

inline constexpr int64_t kMsPerDay = 86'400'000;

// DATE values are the days a TIMESTAMP can hold: |days| <= kMaxDateDays, so DATE -> TIMESTAMP
// never overflows.
inline constexpr int64_t kMaxDateDays = INT64_MAX / kMsPerDay;
inline bool valid_date(int64_t days) {
  return days >= -kMaxDateDays && days <= kMaxDateDays;
}
inline bool valid_time(int64_t ms_of_day) {
  return ms_of_day >= 0 && ms_of_day < kMsPerDay;
}

// DATE text "2024-01-15" (years as parse_timestamp reads them) <-> days since 1970-01-01; false
// outside the calendar or kMaxDateDays.
bool parse_date(std::string_view text, int64_t* days);
// `buf` must hold 16 bytes.
size_t format_date(int64_t days, char* buf);
// TIME text "10:00", "10:00:05", "10:00:05.123" (finer digits truncated) <-> milliseconds since
// midnight, 0 .. kMsPerDay - 1.
bool parse_time(std::string_view text, int64_t* ms_of_day);
// "10:00:05.123" (always milliseconds). `buf` must hold 16 bytes.
size_t format_time(int64_t ms_of_day, char* buf);
// The day (days since the epoch) and the time of day (ms) of a TIMESTAMP, flooring before 1970.
int64_t day_of(int64_t ms);
int64_t time_of_day(int64_t ms);

struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second, millisecond;
  int day_of_week;  // 1 = Monday .. 7 = Sunday (ISO)
  int day_of_year;  // 1..366
};
CivilTime to_civil(int64_t ms);
int64_t from_civil(int64_t year, int month, int day, int hour, int minute, int second, int ms);

}  // namespace sluice::types::time
