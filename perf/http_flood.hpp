#pragma once
// Connection floods against an HTTP port, for the admin server's unit test and
// `sluice_http_flood`: `Flood` holds `idle` connections that send nothing and `dripping`
// connections that send a never-ending request header one byte per `period`. A connection the
// server closes is reopened, at most once per `period` per slot, as an attacker would. `timed_get`
// is one GET on a fresh connection with a deadline, the way a liveness probe asks.
//
// Header-only, Boost.Asio only. Loopback use; every loop is bounded by the deadline or the
// object's lifetime. Flood runs on its own thread and io_context from construction until
// destruction; `stats()` may be called from any thread.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sluice::perf {

struct FloodOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int idle = 300;
  int dripping = 300;
  std::chrono::milliseconds period{100};  // a drip's byte interval; a slot's least reconnect time
};

struct FloodStats {
  uint64_t connects = 0;          // connections opened
  uint64_t closed_by_server = 0;  // ... that the server closed (or reset)
  uint64_t drip_bytes = 0;
};

class Flood {
 public:
  explicit Flood(FloodOptions options) : options_(std::move(options)) {
    endpoint_ = {boost::asio::ip::make_address(options_.host), options_.port};
    for (int i = 0; i < options_.idle + options_.dripping; ++i)
      slots_.push_back(std::make_shared<Slot>(*this, i >= options_.idle));
    for (auto& s : slots_)
      s->connect();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Flood() {
    stopped_ = true;
    boost::asio::post(io_, [this] {
      for (auto& s : slots_)
        s->close();
    });
    thread_.join();  // every handler sees `stopped_` and re-arms nothing
  }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  FloodStats stats() const { return {connects_.load(), closed_.load(), drip_bytes_.load()}; }

 private:
  using tcp = boost::asio::ip::tcp;
  using Clock = std::chrono::steady_clock;

  // One connection slot; lives on the flood's single thread.
  struct Slot : std::enable_shared_from_this<Slot> {
    Slot(Flood& f, bool drip)
        : flood(f), dripping(drip), socket(f.io_), retry(f.io_), tick(f.io_) {}

    void connect() {
      last_connect = Clock::now();
      ++generation;
      sent = 0;
      socket = tcp::socket(flood.io_);
      socket.async_connect(flood.endpoint_, [self = shared_from_this()](auto ec) {
        if (self->flood.stopped_) return;
        if (ec) return self->reconnect();
        ++self->flood.connects_;
        self->read();
        if (self->dripping) self->drip(self->generation);
      });
    }
    // Waits for the server to close the connection (or to answer: the drip never ends a request).
    void read() {
      socket.async_read_some(boost::asio::buffer(byte),
                             [self = shared_from_this()](auto ec, size_t) {
                               if (self->flood.stopped_) return;
                               if (!ec) return self->read();
                               ++self->flood.closed_;
                               self->reconnect();
                             });
    }
    void drip(uint64_t gen) {
      tick.expires_after(flood.options_.period);
      tick.async_wait([self = shared_from_this(), gen](auto ec) {
        if (ec || self->flood.stopped_ || gen != self->generation) return;
        static const std::string kHead = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ";
        char c = self->sent < kHead.size() ? kHead[self->sent] : 'a';
        ++self->sent;
        boost::system::error_code ignored;
        if (boost::asio::write(self->socket, boost::asio::buffer(&c, 1), ignored) == 1)
          ++self->flood.drip_bytes_;
        self->drip(gen);
      });
    }
    void reconnect() {
      boost::system::error_code ignored;
      socket.close(ignored);
      ++generation;  // stops the drip of the closed connection
      retry.expires_at(last_connect + flood.options_.period);
      retry.async_wait([self = shared_from_this()](auto ec) {
        if (!ec && !self->flood.stopped_) self->connect();
      });
    }
    void close() {
      boost::system::error_code ignored;
      socket.close(ignored);
      retry.cancel();
      tick.cancel();
    }

    Flood& flood;
    bool dripping;
    tcp::socket socket;
    boost::asio::steady_timer retry, tick;
    Clock::time_point last_connect;
    uint64_t generation = 0;
    size_t sent = 0;
    char byte[64];
  };

  FloodOptions options_;
  tcp::endpoint endpoint_;
  boost::asio::io_context io_;
  std::vector<std::shared_ptr<Slot>> slots_;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> connects_{0}, closed_{0}, drip_bytes_{0};
  std::thread thread_;
};

struct TimedReply {
  int status = 0;      // 0: no answer (refused, closed, or the deadline passed)
  std::string error;   // why there is no status
  double seconds = 0;  // from connect to the end of the response head, or to the failure
  std::string head;    // the status line and headers
};

// GET `path` on a new connection to host:port with `Connection: close`, within `timeout`.
inline TimedReply timed_get(const std::string& host, uint16_t port, const std::string& path,
                            std::chrono::milliseconds timeout,
                            const std::string& host_header = "127.0.0.1") {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  TimedReply r;
  asio::io_context io;
  tcp::socket socket(io);
  asio::streambuf buf;
  std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + host_header + "\r\nConnection: close\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  auto fail = [&](const boost::system::error_code& ec) {
    if (r.error.empty()) r.error = ec.message();
  };
  socket.async_connect({asio::ip::make_address(host), port}, [&](auto ec) {
    if (ec) return fail(ec);
    asio::async_write(socket, asio::buffer(request), [&](auto ec2, size_t) {
      if (ec2) return fail(ec2);
      asio::async_read_until(socket, buf, "\r\n\r\n", [&](auto ec3, size_t n) {
        if (ec3) return fail(ec3);
        r.head.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
        if (r.head.size() >= 12) r.status = std::atoi(r.head.substr(9, 3).c_str());
      });
    });
  });
  io.run_for(timeout);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!io.stopped()) {
    r.error = "no answer within " + std::to_string(timeout.count()) + " ms";
    r.status = 0;
  }
  return r;
}

// One keep-alive connection, as Prometheus or `curl` with several URLs keeps it: `get` sends a
// request and reads its response (Content-Length framed) within `timeout`. After a failure (the
// server closed the connection, or the deadline) the next `get` connects again.
class KeepAliveClient {
 public:
  KeepAliveClient(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}

  TimedReply get(const std::string& path, std::chrono::milliseconds timeout) {
    namespace asio = boost::asio;
    TimedReply r;
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    auto start = std::chrono::steady_clock::now();
    auto fail = [&](const boost::system::error_code& ec) {
      if (r.error.empty()) r.error = ec.message();
      r.status = 0;
      socket_.reset();
    };
    auto exchange = [&] {
      asio::async_write(*socket_, asio::buffer(request), [&](auto ec, size_t) {
        if (ec) return fail(ec);
        asio::async_read_until(*socket_, buf_, "\r\n\r\n", [&](auto ec2, size_t n) {
          if (ec2) return fail(ec2);
          r.head.assign(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n);
          buf_.consume(n);
          size_t length = 0;
          if (auto at = r.head.find("Content-Length: "); at != std::string::npos)
            length = std::stoul(r.head.substr(at + 16));
          size_t have = std::min(length, buf_.size());
          asio::async_read(*socket_, buf_, asio::transfer_exactly(length - have),
                           [&, length](auto ec3, size_t) {
                             if (ec3) return fail(ec3);
                             buf_.consume(length);
                             r.status = std::atoi(r.head.substr(9, 3).c_str());
                           });
        });
      });
    };
    io_.restart();
    if (!socket_) {
      socket_.emplace(io_);
      buf_.consume(buf_.size());
      ++connects_;
      socket_->async_connect({asio::ip::make_address(host_), port_}, [&](auto ec) {
        if (ec) return fail(ec);
        exchange();
      });
    } else {
      exchange();
    }
    io_.run_for(timeout);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!io_.stopped()) {  // the deadline: drop the connection and its pending handlers
      socket_.reset();
      io_.restart();
      io_.run();
      r.error = "no answer within " + std::to_string(timeout.count()) + " ms";
      r.status = 0;
    }
    return r;
  }
  uint64_t connects() const { return connects_; }

 private:
  std::string host_;
  uint16_t port_;
  boost::asio::io_context io_;
  std::optional<boost::asio::ip::tcp::socket> socket_;
  boost::asio::streambuf buf_;
  uint64_t connects_ = 0;
};

}  // namespace sluice::perf
