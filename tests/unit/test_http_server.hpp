#pragma once
// An HttpServer (server/http/) on its own io_context with two threads, for tests that need an HTTP
// peer on 127.0.0.1: the admin server's own tests, and a Schema Registry made up by a test.

#include "server/http/http_server.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <thread>
#include <vector>

namespace sluice::test {

// An HttpServer on its own io_context with two threads; stops and joins on destruction.
class TestServer {
 public:
  explicit TestServer(server::http::HttpServerOptions options = {}) : server_(io_, options) {}
  ~TestServer() { stop(); }

  server::http::HttpServer& server() { return server_; }
  void start() {
    server_.listen("127.0.0.1", 0);
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
  }
  // Stops the server; returns whether io_context::run returned by itself within 5 s (that is,
  // the server left nothing behind in the io_context).
  bool stop() {
    if (threads_.empty()) return true;
    server_.stop();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    bool clean = io_.stopped();
    io_.stop();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
    return clean;
  }
  uint16_t port() { return server_.port(); }

 private:
  boost::asio::io_context io_;
  server::http::HttpServer server_;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::test
