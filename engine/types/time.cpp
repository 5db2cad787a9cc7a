#include "types/time.hpp"

#include <algorithm>
#include <limits>

namespace sluice::types::time {

namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
static_assert(kMsPerDay == 24 * kMsPerHour);

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, 400-year eras), valid
// for negative years and epochs.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Ymd {
  int64_t year;
  int month, day;
};

Ymd civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

bool is_leap(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at text[pos]; advances pos.
bool digits(std::string_view text, size_t& pos, int n, int* out) {
  if (pos + static_cast<size_t>(n) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + static_cast<size_t>(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += static_cast<size_t>(n);
  *out = v;
  return true;
}

// "YYYY", or more digits for years past 9999 (no leading zero then), optionally signed: what
// format_timestamp writes ("10000", "-0001") and ISO 8601's expanded years ("+10000"). At most
// nine digits: the years of int64 milliseconds.
bool year_digits(std::string_view text, size_t& pos, int64_t* year) {
  bool negative = pos < text.size() && text[pos] == '-';
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) ++pos;
  size_t start = pos;
  int64_t v = 0;
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 10; ++pos)
    v = v * 10 + (text[pos] - '0');
  size_t n = pos - start;
  if (n < 4 || n > 9 || (n > 4 && text[start] == '0')) return false;
  *year = negative ? -v : v;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

struct Clock {
  int hour = 0, minute = 0, second = 0, millis = 0;
};

// "HH:MM[:SS[.fffffffff]]"; fractions beyond milliseconds are truncated.
bool parse_clock(std::string_view text, size_t& pos, Clock* c) {
  if (!digits(text, pos, 2, &c->hour) || !expect(text, pos, ':') ||
      !digits(text, pos, 2, &c->minute))
    return false;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!digits(text, pos, 2, &c->second)) return false;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      int n = 0;
      for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++n) {
        if (n < 3) c->millis = c->millis * 10 + (text[pos] - '0');
      }
      if (n == 0 || n > 9) return false;
      for (int i = n; i < 3; ++i)
        c->millis *= 10;
    }
  }
  return c->hour <= 23 && c->minute <= 59 && c->second <= 59;
}

// "Z", "+hh", "+hh:mm", "+hhmm" (or '-'); nothing means UTC.
bool parse_offset(std::string_view text, size_t& pos, int64_t* offset_ms) {
  *offset_ms = 0;
  if (pos == text.size()) return true;
  char c = text[pos];
  if (c == 'Z' || c == 'z') {
    ++pos;
    return true;
  }
  if (c != '+' && c != '-') return false;
  ++pos;
  int hh = 0, mm = 0;
  if (!digits(text, pos, 2, &hh)) return false;
  if (pos < text.size()) {
    if (text[pos] == ':') ++pos;
    if (!digits(text, pos, 2, &mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  *offset_ms = (hh * kMsPerHour + mm * kMsPerMinute) * (c == '-' ? -1 : 1);
  return true;
}

char* put_digits(char* p, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10)
    p[i] = static_cast<char>('0' + v % 10);
  return p + width;
}

// "YYYY-MM-DD" at text[pos], checked against the calendar.
bool parse_day(std::string_view text, size_t& pos, int64_t* days) {
  int64_t year = 0;
  int month = 0, day = 0;
  if (!year_digits(text, pos, &year) || !expect(text, pos, '-') || !digits(text, pos, 2, &month) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, &day))
    return false;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
  *days = days_from_civil(year, month, day);
  return true;
}

char* put_day(char* p, int64_t days) {
  Ymd ymd = civil_from_days(days);
  int64_t year = ymd.year;
  if (year < 0) {
    *p++ = '-';
    year = -year;
  }
  int width = 4;
  for (int64_t y = year; y >= 10000; y /= 10)
    ++width;
  p = put_digits(p, year, width);
  *p++ = '-';
  p = put_digits(p, ymd.month, 2);
  *p++ = '-';
  return put_digits(p, ymd.day, 2);
}

char* put_clock(char* p, int64_t ms_of_day) {
  p = put_digits(p, ms_of_day / kMsPerHour, 2);
  *p++ = ':';
  p = put_digits(p, ms_of_day / kMsPerMinute % 60, 2);
  *p++ = ':';
  p = put_digits(p, ms_of_day / kMsPerSecond % 60, 2);
  *p++ = '.';
  return put_digits(p, ms_of_day % kMsPerSecond, 3);
}

}  // namespace

int64_t day_of(int64_t ms) {
  int64_t days = ms / kMsPerDay;
  return ms % kMsPerDay < 0 ? days - 1 : days;
}

int64_t time_of_day(int64_t ms) {
  int64_t rem = ms % kMsPerDay;
  return rem < 0 ? rem + kMsPerDay : rem;
}

bool parse_date(std::string_view text, int64_t* days) {
  size_t pos = 0;
  return parse_day(text, pos, days) && pos == text.size() && valid_date(*days);
}

size_t format_date(int64_t days, char* buf) {
  return static_cast<size_t>(put_day(buf, days) - buf);
}

bool parse_time(std::string_view text, int64_t* ms_of_day) {
  size_t pos = 0;
  Clock c;
  if (!parse_clock(text, pos, &c) || pos != text.size()) return false;
  *ms_of_day = c.hour * kMsPerHour + c.minute * kMsPerMinute + c.second * kMsPerSecond + c.millis;
  return true;
}

size_t format_time(int64_t ms_of_day, char* buf) {
  return static_cast<size_t>(put_clock(buf, ms_of_day) - buf);
}

bool parse_timestamp(std::string_view text, int64_t* ms) {
  size_t pos = 0;
  int64_t days = 0;
  if (!parse_day(text, pos, &days)) return false;
  Clock clock;
  int64_t offset = 0;
  if (pos < text.size()) {
    char sep = text[pos++];
    if (sep != 'T' && sep != 't' && sep != ' ') return false;
    if (!parse_clock(text, pos, &clock) || !parse_offset(text, pos, &offset)) return false;
  }
  if (pos != text.size()) return false;
  // Nine-digit years reach past the int64 range: computed in 128 bits, then checked.
  __int128 t = static_cast<__int128>(days) * kMsPerDay + clock.hour * kMsPerHour +
               clock.minute * kMsPerMinute + clock.second * kMsPerSecond + clock.millis - offset;
  if (t < std::numeric_limits<int64_t>::min() || t > std::numeric_limits<int64_t>::max())
    return false;
  *ms = static_cast<int64_t>(t);
  return true;
}

size_t format_timestamp(int64_t ms, char* buf) {
  char* p = put_day(buf, day_of(ms));
  *p++ = 'T';
  p = put_clock(p, time_of_day(ms));
  *p++ = 'Z';
  return static_cast<size_t>(p - buf);
}

std::string timestamp_to_string(int64_t ms) {
  char buf[32];
  return std::string(buf, format_timestamp(ms, buf));
}

CivilTime to_civil(int64_t ms) {
  int64_t days = day_of(ms);
  int64_t rem = time_of_day(ms);
  Ymd ymd = civil_from_days(days);
  CivilTime t;
  t.year = ymd.year;
  t.month = ymd.month;
  t.day = ymd.day;
  t.hour = static_cast<int>(rem / kMsPerHour);
  t.minute = static_cast<int>(rem / kMsPerMinute % 60);
  t.second = static_cast<int>(rem / kMsPerSecond % 60);
  t.millisecond = static_cast<int>(rem % kMsPerSecond);
  t.day_of_week = static_cast<int>(((days % 7 + 7) % 7 + 3) % 7 + 1);  // 1970-01-01 was a Thursday
  t.day_of_year = static_cast<int>(days - days_from_civil(ymd.year, 1, 1) + 1);
  return t;
}

int64_t from_civil(int64_t year, int month, int day, int hour, int minute, int second, int ms) {
  // Out-of-range fields carry over (month 13 is January of the next year), as mktime does.
  // Years are clamped so the arithmetic cannot overflow; the result saturates to int64.
  year = std::clamp<int64_t>(year, -1'000'000'000'000, 1'000'000'000'000);
  int64_t month0 = static_cast<int64_t>(month) - 1;
  year += month0 >= 0 ? month0 / 12 : (month0 - 11) / 12;
  month0 = (month0 % 12 + 12) % 12;
  __int128 total =
      static_cast<__int128>(days_from_civil(year, static_cast<int>(month0) + 1, 1)) + day - 1;
  total = total * kMsPerDay + static_cast<__int128>(hour) * kMsPerHour +
          static_cast<__int128>(minute) * kMsPerMinute +
          static_cast<__int128>(second) * kMsPerSecond + ms;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::clamp<__int128>(total, kMin, kMax));
}

}  // namespace sluice::types::time
