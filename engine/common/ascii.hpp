#pragma once
// ASCII text comparison shared by the SQL binder, the time functions and the HTTP server (names
// and keywords are ASCII; other bytes compare exactly). Pure, no allocation.

#include <string_view>

namespace sluice {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Equal but for the case of ASCII letters.
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace sluice
