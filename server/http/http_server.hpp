#pragma once
// HttpServer: a small HTTP/1.1 server for the daemon's metrics and admin API, on the daemon's
// io_context (Boost.Beast over Asio). Handlers are registered by method and path pattern
// ("/jobs/{name}": a `{...}` segment matches one path segment and is passed in `params`). A path
// no pattern matches answers 404, a matched path with another method 405 (with `Allow`), a
// request Beast cannot parse 400, headers over `max_header_bytes` 431, a body over
// `max_body_bytes` 413 — each as JSON `{"error": "..."}`, and the connection is closed after an
// error. Keep-alive is supported. Each request has a deadline (`io_timeout`) for all its bytes,
// and so has each response: a client that sends too slowly, or keeps an idle connection, is
// disconnected.
//
// Before any route, `dispatch` refuses what a web page could make a browser send
// (request_guard.hpp): on a loopback listener a Host that is not a loopback name (421), and for
// every method but GET/HEAD/OPTIONS a cross-site request (403) or a CORS-simple body (415).
//
// At most `max_connections` connections are open at once. When a new one arrives at the limit,
// the server serves it and closes another: from the client address with the most connections,
// one that never completed a request if there is one, the one that has waited longest for its
// client (sending nothing, a request not yet complete, or not reading its response); never one
// whose handler runs. So a flood of idle or dripping connections cannot keep a health probe out,
// whatever address it comes from, and clients that use their keep-alive connections keep them.
//
// Lifecycle: construct, `handle(...)` every route, `listen(host, port)` (throws Error on a bad
// address or a port in use), and `stop()` before the io_context stops: it closes the listener and
// every open connection, after which no handler of this server is left in the io_context. The
// object must outlive the io_context's run() or stop() must have been called and the io_context
// run until idle.
//
// Threading: the routes are fixed before `listen` and read-only afterwards. The accept loop runs
// on its own strand; each connection on its own strand, where its handlers run, so handlers may
// run concurrently on different threads and must be thread-safe. `stop()`, `port()` may be called
// from any thread.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::server::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded, without the query
  std::string query;   // the raw text after '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::map<std::string, std::string> params;  // the pattern's `{name}` segments
  // The first header called `name` (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static Response json(int status, std::string body);
  // {"error": message}
  static Response error(int status, std::string_view message);
};

using Handler = std::function<Response(const Request&)>;

struct HttpServerOptions {
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds io_timeout{10000};  // per request (all of it) and per response
  size_t max_connections = 256;
};

class HttpServer {
 public:
  explicit HttpServer(boost::asio::io_context& io, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler; call before listen(). `pattern` starts with '/'.
  void handle(std::string method, std::string pattern, Handler handler);
  // Binds host:port (port 0: any free port) and starts accepting. Throws Error(kIo) with the
  // address and the reason (e.g. "Address already in use").
  void listen(const std::string& host, uint16_t port);
  // The bound port (after listen).
  uint16_t port() const;
  void stop();

  // Checks and routes a request without a connection (tests, and the connection code through
  // `serve` in http_message.hpp): fills `path`, `query` and `params`.
  Response dispatch(Request& request) const;

  struct Impl;  // shared with the connections, which may outlive this object until stop() ends

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice::server::http
