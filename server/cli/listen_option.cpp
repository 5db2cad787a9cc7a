#include "server/cli/listen_option.hpp"

#include <charconv>

namespace sluice::server {

std::optional<config::HttpListen> parse_listen_option(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<config::HttpListen> {
    *error = std::string("'").append(text).append("': ").append(why);
    return std::nullopt;
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("expected HOST:PORT, such as 127.0.0.1:9464");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return fail("expected [IPV6]:PORT");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return fail("an IPv6 address needs brackets, as in [::1]:9464");
  }
  if (host.empty()) return fail("the host is missing (0.0.0.0 listens on every interface)");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '_';
    if (!ok) return fail("the host is not a host name or IP address");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return fail("the port must be a number from 0 (any free port) to 65535");
  config::HttpListen listen;
  listen.host = std::string(host);
  listen.port = static_cast<uint16_t>(value);
  return listen;
}

}  // namespace sluice::server
