#include "server/http/http_server.hpp"

#include "common/ascii.hpp"
#include "common/error.hpp"
#include "format/json.hpp"
#include "server/http/http_message.hpp"
#include "server/http/request_guard.hpp"
#include "server/http/request_target.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>

namespace sluice::server::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // "{name}" segments capture
  Handler handler;
};

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// At most one log line per 10 s for one kind of event, which a client can cause at will; the
// lines left out are counted into the next. Any thread.
class LogLimiter {
 public:
  // The number of lines left out since the last one, when this one may be logged.
  std::optional<uint64_t> allow() {
    int64_t now = steady_now_ns();
    int64_t last = last_.load();
    if ((last != 0 && now - last < kIntervalNs) || !last_.compare_exchange_strong(last, now)) {
      ++skipped_;
      return std::nullopt;
    }
    return skipped_.exchange(0);
  }

 private:
  static constexpr int64_t kIntervalNs = 10'000'000'000;
  std::atomic<int64_t> last_{0};
  std::atomic<uint64_t> skipped_{0};
};

std::string suppressed(uint64_t n) {
  return n == 0 ? "" : fmt::format(" ({} more since the last such line)", n);
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(int status, std::string_view message) {
  std::string body = "{\"error\": ";
  format::append_json_string(message, body);
  body += "}\n";
  return json(status, std::move(body));
}

class Connection;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpServerOptions o)
      : io(io), options(o), strand(asio::make_strand(io)), acceptor(strand), retry(strand) {}

  void accept();
  void on_accept(const boost::system::error_code& ec, tcp::socket socket);
  // Under `mu`, at the limit: the connection to close for a new one (see the header), or null.
  std::shared_ptr<Connection> pick_victim() const;
  void remove(const std::shared_ptr<Connection>& conn);  // under `mu`
  Response dispatch(Request& request) const;
  std::optional<Response> refuse(const Request& request) const;

  asio::io_context& io;
  HttpServerOptions options;
  std::vector<Route> routes;
  asio::strand<asio::io_context::executor_type> strand;  // the accept loop's
  tcp::acceptor acceptor;
  asio::steady_timer retry;  // after an accept error (e.g. out of file descriptors)
  std::atomic<uint16_t> port{0};
  std::atomic<bool> loopback{false};  // listening on a loopback address: Host is checked
  std::atomic<bool> stopped{false};
  mutable LogLimiter refusal_log, eviction_log;

  std::mutex mu;  // guards connections and per_address
  std::set<std::shared_ptr<Connection>> connections;
  std::map<asio::ip::address, size_t> per_address;  // open connections per client address
};

// One client connection, on its own strand. Reads a request (bounded, with a deadline), answers
// it, and reads the next while the client keeps the connection alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {
    boost::system::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = remote.address();
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }
  // Any thread.
  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->finish(); });
  }
  // When the connection last started to wait for its client (a request, or the reading of a
  // response), steady clock in ns; kBusy while a handler runs. Any thread.
  static constexpr int64_t kBusy = INT64_MAX;
  int64_t waiting_since() const { return waiting_since_.load(std::memory_order_relaxed); }
  // Whether a request was completed on this connection. Any thread.
  bool served() const { return served_.load(std::memory_order_relaxed); }
  const asio::ip::address& peer() const { return peer_; }

 private:
  void wait_for_client(int64_t since = steady_now_ns()) {
    waiting_since_.store(since, std::memory_order_relaxed);
  }

  void read() {
    if (closed_) return;
    wait_for_client();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(server_->options.max_body_bytes));
    // One deadline for the whole request: a client dripping a byte at a time gains nothing.
    stream_.expires_after(server_->options.io_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (closed_) return;
    if (ec == bhttp::error::header_limit) {
      return respond_error(Response::error(431, fmt::format("request headers larger than {} bytes",
                                                            server_->options.max_header_bytes)));
    }
    if (ec == bhttp::error::body_limit) {
      return respond_error(Response::error(
          413, fmt::format("request body larger than {} bytes", server_->options.max_body_bytes)));
    }
    if (ec == beast::error::timeout) {
      spdlog::debug("http: closing a connection that sent no complete request within {} ms",
                    server_->options.io_timeout.count());
      return finish();
    }
    if (ec) {
      // A request Beast cannot parse gets a 400; a closed or reset connection, or one closed in
      // the middle of a request, just ends.
      bool parse_error =
          ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (parse_error)
        return respond_error(Response::error(400, fmt::format("bad request: {}", ec.message())));
      return finish();
    }
    // A complete request: never closed to make room while its handler runs (a job written, its
    // answer lost), and from now on a client that uses its connection.
    wait_for_client(kBusy);
    served_.store(true, std::memory_order_relaxed);
    // As `serve` (http_message.hpp) does, on the server's shared state.
    bool keep_alive = parser_->keep_alive();
    Request req = to_request(parser_->release());
    respond(to_beast_response(server_->dispatch(req), keep_alive));
  }

  void respond_error(Response r) { respond(to_beast_response(std::move(r), false)); }

  void respond(BeastResponse response) {
    auto res = std::make_shared<BeastResponse>(std::move(response));
    bool keep_alive = res->keep_alive();
    wait_for_client();  // to read the response
    stream_.expires_after(server_->options.io_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec) return self->finish();
                         if (!keep_alive) return self->linger();
                         self->read();
                       });
  }

  // Half-closes, then reads and discards what the client still sends (at most 1 MiB, for at most
  // a second) before closing: closing a socket with unread data resets the connection, and the
  // client could lose the response (an error answered before the whole request was read).
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    discard_.resize(16 * 1024);
    drain();
  }

  void drain() {
    if (closed_) return;
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 1024 * 1024) return self->finish();
                              self->drain();
                            });
  }

  void finish() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    std::lock_guard lock(server_->mu);
    server_->remove(shared_from_this());
  }

  std::shared_ptr<HttpServer::Impl> server_;
  beast::tcp_stream stream_;
  asio::ip::address peer_;
  std::atomic<int64_t> waiting_since_{steady_now_ns()};
  std::atomic<bool> served_{false};
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::vector<char> discard_;  // linger(): what the client still sends after the answer
  size_t drained_ = 0;
  bool closed_ = false;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(
      asio::make_strand(io),
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void HttpServer::Impl::on_accept(const boost::system::error_code& ec, tcp::socket socket) {
  if (stopped.load() || ec == asio::error::operation_aborted) return;
  if (ec) {
    spdlog::warn("http: accept failed: {}; retrying in 100 ms", ec.message());
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
      if (!e && !self->stopped.load()) self->accept();
    });
    return;
  }
  std::shared_ptr<Connection> conn, victim;
  {
    std::lock_guard lock(mu);
    if (stopped.load()) return;
    if (connections.size() >= options.max_connections) {
      victim = pick_victim();
      if (victim) remove(victim);
    }
    if (connections.size() < options.max_connections) {
      conn = std::make_shared<Connection>(shared_from_this(), std::move(socket));
      connections.insert(conn);
      ++per_address[conn->peer()];
    }
  }
  if (victim) {
    victim->close();
    if (auto skipped = eviction_log.allow())
      spdlog::warn(
          "http: {} connections open: closed one that was waiting for its client (from {}) to "
          "serve a new one{}",
          options.max_connections, victim->peer().to_string(), suppressed(*skipped));
  }
  if (conn) {
    conn->start();
  } else {
    if (auto skipped = eviction_log.allow())
      spdlog::warn("http: {} connections open; refusing one more{}", options.max_connections,
                   suppressed(*skipped));
    boost::system::error_code ignored;
    socket.close(ignored);
  }
  accept();
}

std::shared_ptr<Connection> HttpServer::Impl::pick_victim() const {
  // First the busiest client address, so that one client's flood closes its own connections;
  // then connections that never completed a request (idle since their accept, or dripping one),
  // which keeps clients that use their keep-alive connections; then the longest waiting.
  const asio::ip::address* busiest = nullptr;
  size_t most = 0;
  for (const auto& [address, n] : per_address) {
    if (n > most) {
      most = n;
      busiest = &address;
    }
  }
  std::shared_ptr<Connection> victim;
  std::tuple<bool, bool, int64_t> best;  // (another address, served, waiting since): least first
  for (const auto& c : connections) {
    int64_t since = c->waiting_since();
    if (since == Connection::kBusy) continue;
    auto rank = std::tuple(busiest != nullptr && c->peer() != *busiest, c->served(), since);
    if (!victim || rank < best) {
      victim = c;
      best = rank;
    }
  }
  return victim;
}

void HttpServer::Impl::remove(const std::shared_ptr<Connection>& conn) {
  if (connections.erase(conn) == 0) return;
  auto it = per_address.find(conn->peer());
  if (it != per_address.end() && --it->second == 0) per_address.erase(it);
}

std::optional<Response> HttpServer::Impl::refuse(const Request& req) const {
  std::optional<Response> refused;
  const char* why = "";
  if (loopback.load() && (refused = check_loopback_host(req))) {
    why = "its Host is not a loopback name";
  } else if ((refused = check_cross_site(req))) {
    why = refused->status == 403 ? "sent by a web page of another site"
                                 : "a content type any web page can send";
  }
  if (refused) {
    if (auto skipped = refusal_log.allow())
      spdlog::warn("http: refused {} {} with {}: {}{}", req.method, req.target.substr(0, 100),
                   refused->status, why, suppressed(*skipped));
  }
  return refused;
}

Response HttpServer::Impl::dispatch(Request& req) const {
  if (auto refused = refuse(req)) return std::move(*refused);
  auto q = req.target.find('?');
  std::string_view raw = std::string_view(req.target).substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  if (raw.empty() || raw[0] != '/')
    return Response::error(400, "bad request target: expected an absolute path");
  auto decoded = decode_path(raw);
  if (!decoded) return Response::error(400, "bad request target: malformed percent-encoding");
  std::vector<std::string> segments = std::move(*decoded);
  req.path.clear();
  for (const auto& segment : segments) {
    req.path += '/';
    req.path += segment;
  }
  std::vector<std::string> allowed;
  for (const auto& route : routes) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const auto& p = route.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[i].empty()) match = false;
        params[p.substr(1, p.size() - 2)] = segments[i];
      } else {
        match = p == segments[i];
      }
    }
    if (!match) continue;
    if (route.method != req.method) {
      allowed.push_back(route.method);
      continue;
    }
    req.params = std::move(params);
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      spdlog::error("http: {} {}: {}", req.method, req.path, e.what());
      return Response::error(500, fmt::format("internal error: {}", e.what()));
    }
  }
  if (allowed.empty()) return Response::error(404, fmt::format("no such path '{}'", req.path));
  std::string allow;
  for (const auto& m : allowed)
    allow += (allow.empty() ? "" : ", ") + m;
  auto r = Response::error(405, fmt::format("method {} is not allowed on '{}' (allowed: {})",
                                            req.method, req.path, allow));
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(io, options)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::handle(std::string method, std::string pattern, Handler handler) {
  SLUICE_ASSERT(!pattern.empty() && pattern[0] == '/');
  auto segments = decode_path(pattern);
  SLUICE_ASSERT(segments);
  Route r{std::move(method), std::move(pattern), std::move(*segments), std::move(handler)};
  impl_->routes.push_back(std::move(r));
}

void HttpServer::listen(const std::string& host, uint16_t port) {
  auto fail = [&](const std::string& why) {
    return Error(
        ErrorCode::kIo,
        fmt::format("http: cannot listen on {}:{}: {}",
                    host.find(':') != std::string::npos ? "[" + host + "]" : host, port, why));
  };
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(impl_->io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) throw fail(ec ? ec.message() : "no address");
    endpoint = results.begin()->endpoint();
  }
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (ec) throw fail(ec.message());
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) {
    acceptor.close();
    throw fail(ec.message());
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close();
    throw fail(ec.message());
  }
  impl_->port = acceptor.local_endpoint().port();
  impl_->loopback = endpoint.address().is_loopback();
  asio::dispatch(impl_->strand, [impl = impl_] { impl->accept(); });
}

uint16_t HttpServer::port() const {
  return impl_->port.load();
}

void HttpServer::stop() {
  // Under the mutex, so that no connection is accepted after the copy below.
  std::set<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped.exchange(true)) return;
    open = impl_->connections;
  }
  asio::post(impl_->strand, [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->retry.cancel();
  });
  for (const auto& c : open)
    c->close();
}

Response HttpServer::dispatch(Request& request) const {
  return impl_->dispatch(request);
}

}  // namespace sluice::server::http
