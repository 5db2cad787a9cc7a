#include "server/net/http_client.hpp"

#include "common/error.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <charconv>

namespace sluice::server::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    *error = "expected http://HOST:PORT";
    return std::nullopt;
  }
  HttpUrl out;
  out.text = std::string(url);
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  while (!out.path.empty() && out.path.back() == '/')
    out.path.pop_back();
  std::string_view port;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unclosed '[' in the host";
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      *error = "expected ':PORT' after the IPv6 address";
      return std::nullopt;
    }
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    *error = "the host is missing";
    return std::nullopt;
  }
  unsigned value = 80;
  if (!port.empty()) {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      *error = fmt::format("the port must be a number from 1 to 65535, found '{}'", port);
      return std::nullopt;
    }
  }
  out.port = std::to_string(value);
  return out;
}

HttpReply http_get(const HttpUrl& url, const std::string& path, std::chrono::milliseconds timeout) {
  HttpRequest request;
  request.path = path;
  request.user_agent = "sluice-status";
  return http_request(url, request, timeout);
}

HttpReply http_request(const HttpUrl& url, const HttpRequest& request,
                       std::chrono::milliseconds timeout) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method),
                                         url.path + request.path, 11};
  bool v6 = url.host.find(':') != std::string::npos;
  req.set(bhttp::field::host,
          fmt::format("{}{}{}:{}", v6 ? "[" : "", url.host, v6 ? "]" : "", url.port));
  req.set(bhttp::field::user_agent, request.user_agent);
  req.set(bhttp::field::connection, "close");
  if (!request.authorization.empty()) req.set(bhttp::field::authorization, request.authorization);
  if (!request.body.empty() || request.method != "GET") {
    if (!request.content_type.empty()) req.set(bhttp::field::content_type, request.content_type);
    req.body() = request.body;
    req.prepare_payload();
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  boost::system::error_code failure;

  auto fail = [&](const boost::system::error_code& ec) {
    failure = ec;
    stream.close();
  };
  stream.expires_after(timeout);
  resolver.async_resolve(url.host, url.port, [&](auto ec, tcp::resolver::results_type results) {
    if (ec) return fail(ec);
    stream.async_connect(results, [&](auto ec2, const tcp::endpoint&) {
      if (ec2) return fail(ec2);
      bhttp::async_write(stream, req, [&](auto ec3, size_t) {
        if (ec3) return fail(ec3);
        bhttp::async_read(stream, buffer, parser, [&](auto ec4, size_t) {
          if (ec4) fail(ec4);
        });
      });
    });
  });
  // The resolver has no deadline of its own: bound the whole exchange.
  io.run_for(timeout + std::chrono::milliseconds(500));
  if (!io.stopped()) {  // cancel and let the handlers finish before the objects go
    resolver.cancel();
    stream.close();
    io.run();
    failure = beast::error::timeout;
  }
  if (failure) {
    std::string reason = failure == beast::error::timeout
                             ? "no answer within " + std::to_string(timeout.count()) + " ms"
                             : failure.message();
    throw Error(ErrorCode::kIo, fmt::format("cannot reach {}: {}", url.text, reason));
  }
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  return reply;
}

}  // namespace sluice::server::net
