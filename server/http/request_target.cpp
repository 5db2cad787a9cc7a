#include "server/http/request_target.hpp"

#include <algorithm>

namespace sluice::server::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 1;  // after the leading '/'
  while (i <= path.size()) {
    size_t slash = std::min(path.find('/', i), path.size());
    out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one path segment; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> decode_path(std::string_view path) {
  std::vector<std::string> out;
  for (auto segment : split_path(path)) {
    auto d = percent_decode(segment);
    if (!d) return std::nullopt;
    out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace sluice::server::http
