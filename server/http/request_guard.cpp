#include "server/http/request_guard.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace sluice::server::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

size_t count_headers(const Request& request, std::string_view name) {
  size_t n = 0;
  for (const auto& [k, v] : request.headers)
    n += lower(k) == name ? 1 : 0;
  return n;
}

// The types a page may send to any site without a CORS preflight (Fetch standard, "CORS-safelisted
// request-header": Content-Type).
bool is_cors_simple(std::string_view media) {
  return media == "text/plain" || media == "application/x-www-form-urlencoded" ||
         media == "multipart/form-data";
}

bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

}  // namespace

std::string media_type(std::string_view content_type) {
  std::string_view m = content_type.substr(0, content_type.find(';'));
  while (!m.empty() && (m.front() == ' ' || m.front() == '\t'))
    m.remove_prefix(1);
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t'))
    m.remove_suffix(1);
  return lower(m);
}

bool is_loopback_authority(std::string_view host) {
  std::string_view name = host, port;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    name = host.substr(1, close - 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || !is_port(rest.substr(1)))) return false;
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address_v6(std::string(name), ec);
    return !ec && a.is_loopback();
  }
  if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (!is_port(port)) return false;
  }
  if (lower(name) == "localhost") return true;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address_v4(std::string(name), ec);
  return !ec && a.is_loopback();
}

std::optional<Response> check_loopback_host(const Request& request) {
  if (count_headers(request, "host") > 1)
    return Response::error(400, "bad request: more than one Host header");
  const std::string* host = request.header("Host");
  // No Host: not a browser (browsers always send one), so not a rebinding attack.
  if (host == nullptr || is_loopback_authority(*host)) return std::nullopt;
  return Response::error(
      421, fmt::format("this server listens on a loopback address and answers only requests for "
                       "localhost, 127.0.0.1 or [::1], not for '{}' (a web page can make a "
                       "browser send requests for a name it controls to 127.0.0.1: DNS rebinding)",
                       *host));
}

std::optional<Response> check_cross_site(const Request& request) {
  if (is_safe_method(request.method)) return std::nullopt;
  if (const std::string* site = request.header("Sec-Fetch-Site")) {
    std::string s = lower(*site);
    if (s != "same-origin" && s != "none")
      return Response::error(
          403, fmt::format("refused a {} sent by a browser from another site (Sec-Fetch-Site: "
                           "{}): a web page may not change this server's jobs",
                           request.method, s));
  }
  if (const std::string* origin = request.header("Origin")) {
    const std::string* host = request.header("Host");
    std::string o = lower(*origin);
    bool same = false;
    if (host != nullptr) {
      std::string h = lower(*host);
      same = o == "http://" + h || o == "https://" + h;
    }
    if (!same)
      return Response::error(
          403, fmt::format("refused a {} from the web page of another origin (Origin: {}): a web "
                           "page may not change this server's jobs",
                           request.method, *origin));
  }
  const std::string* type = request.header("Content-Type");
  std::string media = type != nullptr ? media_type(*type) : "";
  if (is_cors_simple(media))
    return Response::error(
        415, fmt::format("refused a {} with Content-Type {}, which any web page can send to any "
                         "server: send the body's own type (a job file: Content-Type: "
                         "application/yaml; curl --data-binary sends "
                         "application/x-www-form-urlencoded unless given -H), or no Content-Type "
                         "and no body",
                         request.method, media));
  if (!request.body.empty() && media.empty())
    return Response::error(
        415, fmt::format("refused a {} with a body but no Content-Type: say what the body is (a "
                         "job file: Content-Type: application/yaml)",
                         request.method));
  return std::nullopt;
}

std::optional<Response> require_media_type(const Request& request,
                                           std::initializer_list<std::string_view> accepted,
                                           std::string_view hint) {
  const std::string* type = request.header("Content-Type");
  std::string media = type != nullptr ? media_type(*type) : "";
  std::string list;
  for (auto a : accepted) {
    if (media == a) return std::nullopt;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  Response r = Response::error(
      415, fmt::format("{} {} needs a Content-Type of {}; {}; {}", request.method, request.path,
                       list, media.empty() ? "it has none" : "it has " + media, hint));
  r.headers.emplace_back("Accept-Post", list);
  return r;
}

}  // namespace sluice::server::http
