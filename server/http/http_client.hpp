#pragma once
// A minimal blocking HTTP/1.1 client (Boost.Beast) for `sluice status`: one GET per call, on its
// own io_context, with a deadline over resolve, connect, write and read. Plain http only.
// Stateless; any thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::server::http {

struct HttpUrl {
  std::string host;  // without the brackets of an IPv6 address
  std::string port;  // "80" when the URL gives none
  std::string path;  // without a trailing '/': "" for http://host:port/
  std::string text;  // as given, for messages
};

// http://HOST[:PORT][/PATH]; nullopt with `error` saying what is wrong.
std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error);

struct HttpReply {
  int status = 0;
  std::string body;
};

// GETs url.path + `path`. Throws Error(kIo) "cannot reach URL: REASON" when the server cannot be
// reached or does not answer within `timeout`.
HttpReply http_get(const HttpUrl& url, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace sluice::server::http
