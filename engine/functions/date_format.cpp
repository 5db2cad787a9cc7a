// DATE_FORMAT patterns: compiled once into tokens, then formatted per row without allocation
// beyond the output string.

#include "functions/time_impl.hpp"

#include <string_view>

namespace sluice::functions::timeutil {

namespace {

constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr std::string_view kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};
constexpr std::string_view kLetters = "yMdDHhkKmsSaEuZXz";

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Appends |v| zero-padded to `width` digits, with a '-' first when negative.
void append_number(std::string& out, int64_t v, uint32_t width) {
  char buf[24];
  size_t n = 0;
  auto mag = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + mag % 10);
    mag /= 10;
  } while (mag > 0);
  if (v < 0) out += '-';
  if (width > n) out.append(width - n, '0');
  while (n > 0)
    out += buf[--n];
}

void append_text(std::string& out, std::string_view full, uint32_t count) {
  out.append(count >= 4 ? full : full.substr(0, 3));
}

void append_fraction(std::string& out, int millis, uint32_t count) {
  static constexpr int kDiv[] = {100, 10, 1};
  if (count <= 3) {
    append_number(out, millis / kDiv[count - 1], count);
    return;
  }
  append_number(out, millis, 3);
  out.append(count - 3, '0');
}

void format_token(std::string& out, const DatePattern::Token& t, const types::time::CivilTime& c) {
  uint32_t n = t.count;
  switch (t.letter) {
    case 'y':
      n == 2 ? append_number(out, floor_mod(c.year, 100), 2) : append_number(out, c.year, n);
      break;
    case 'M':
      n >= 3 ? append_text(out, kMonths[c.month - 1], n) : append_number(out, c.month, n);
      break;
    case 'd':
      append_number(out, c.day, n);
      break;
    case 'D':
      append_number(out, c.day_of_year, n);
      break;
    case 'H':
      append_number(out, c.hour, n);
      break;
    case 'h':
      append_number(out, c.hour % 12 == 0 ? 12 : c.hour % 12, n);
      break;
    case 'k':
      append_number(out, c.hour == 0 ? 24 : c.hour, n);
      break;
    case 'K':
      append_number(out, c.hour % 12, n);
      break;
    case 'm':
      append_number(out, c.minute, n);
      break;
    case 's':
      append_number(out, c.second, n);
      break;
    case 'S':
      append_fraction(out, c.millisecond, n);
      break;
    case 'a':
      out += c.hour < 12 ? "AM" : "PM";
      break;
    case 'E':
      append_text(out, kDays[c.day_of_week - 1], n);
      break;
    case 'u':
      append_number(out, c.day_of_week, n);
      break;
    case 'Z':
      out += "+0000";
      break;
    case 'X':
      out += 'Z';
      break;
    case 'z':
      out += "UTC";
      break;
    default:
      out += t.text;
      break;
  }
}

void add_literal(DatePattern* out, std::string_view text) {
  if (out->tokens.empty() || out->tokens.back().letter != 0) out->tokens.emplace_back();
  out->tokens.back().text.append(text);
}

}  // namespace

int days_in_month(int64_t year, int month) {
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = floor_mod(year, 4) == 0 && (floor_mod(year, 100) != 0 || floor_mod(year, 400) == 0);
  return month == 2 && leap ? 29 : kDaysIn[month - 1];
}

int iso_week(const types::time::CivilTime& c) {
  auto p = [](int64_t y) {
    return floor_mod(y + floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400), 7);
  };
  auto weeks = [&](int64_t y) { return p(y) == 4 || p(y - 1) == 3 ? 53 : 52; };
  int w = (c.day_of_year - c.day_of_week + 10) / 7;
  if (w < 1) return weeks(c.year - 1);
  if (w > weeks(c.year)) return 1;
  return w;
}

bool compile_date_pattern(std::string_view p, DatePattern* out, std::string* error) {
  out->source = std::string(p);
  for (size_t i = 0; i < p.size();) {
    char c = p[i];
    if (c == '\'') {
      if (i + 1 < p.size() && p[i + 1] == '\'') {
        add_literal(out, "'");
        i += 2;
        continue;
      }
      std::string text;  // quoted text; '' inside is a quote
      for (++i;; ++i) {
        if (i >= p.size()) {
          *error = "unterminated quote";
          return false;
        }
        if (p[i] != '\'') {
          text += p[i];
        } else if (i + 1 < p.size() && p[i + 1] == '\'') {
          text += p[++i];
        } else {
          break;
        }
      }
      add_literal(out, text);
      ++i;
    } else if (is_letter(c)) {
      if (kLetters.find(c) == std::string_view::npos) {
        *error = std::string("unknown pattern letter '") + c + "'";
        return false;
      }
      size_t j = i;
      while (j < p.size() && p[j] == c)
        ++j;
      out->tokens.push_back({c, static_cast<uint32_t>(j - i), {}});
      i = j;
    } else {
      add_literal(out, p.substr(i, 1));
      ++i;
    }
  }
  return true;
}

void format_date(const DatePattern& pattern, int64_t ms, std::string& out) {
  types::time::CivilTime c = types::time::to_civil(ms);
  for (const DatePattern::Token& t : pattern.tokens)
    format_token(out, t, c);
}

}  // namespace sluice::functions::timeutil
