#pragma once
// A minimal blocking HTTP/1.1 client (Boost.Beast) for `sluice status` and the Schema Registry
// client: one request per call, on its own io_context, with a deadline over resolve, connect,
// write and read. Plain http only. Stateless; any thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::server::net {

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

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT
  std::string path;            // appended to url.path
  std::string body;
  std::string content_type;   // with a body
  std::string authorization;  // the Authorization header's value, if any
  std::string user_agent = "sluice";
};

// Sends `request` to url.path + request.path. Throws Error(kIo) "cannot reach URL: REASON" when the
// server cannot be reached or does not answer within `timeout`.
HttpReply http_request(const HttpUrl& url, const HttpRequest& request,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// A GET of url.path + `path`, as http_request.
HttpReply http_get(const HttpUrl& url, const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace sluice::server::net
