// What a web page can make a browser send to the admin port, against a real HttpServer on
// 127.0.0.1 with the daemon's routes (no token: the open loopback mode): cross-origin form and
// fetch POSTs (Origin, Sec-Fetch-Site, CORS-simple content types), DELETE and pause from another
// origin, DNS rebinding (a foreign Host) on reads and writes; and what legitimate clients send
// (curl, `sluice status`, probes, tunnels to another local port) still answered. Nothing refused
// may reach the jobs directory. The client is a blocking Asio socket with a deadline.

#include "config/server_config.hpp"
#include "server/http/admin_api.hpp"
#include "server/http/http_server.hpp"
#include "server/http/job_admin.hpp"
#include "server/jobs/job_manager.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace sluice;
using namespace sluice::server;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

const char* kJob =
    "name: good\n"
    "sql: SELECT id FROM t\n"
    "source: {type: kafka, topic: g-in, name: t, schema: {id: BIGINT}}\n"
    "sink: {type: kafka, topic: g-out}\n";
const char* kJsonJob =
    "{\"name\": \"json\", \"sql\": \"SELECT id FROM t\", \"source\": {\"type\": \"kafka\", "
    "\"topic\": \"j-in\", \"name\": \"t\", \"schema\": {\"id\": \"BIGINT\"}}, \"sink\": {\"type\": "
    "\"kafka\", \"topic\": \"j-out\"}}";

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
};

// Sends one request (`Connection: close` added) and reads the answer to EOF, within 5 s.
Reply exchange(uint16_t port, const std::string& method, const std::string& target,
               const std::vector<std::string>& headers, const std::string& body = {}) {
  std::string request = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& h : headers)
    request += h + "\r\n";
  if (!body.empty() || method == "POST")
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "Connection: close\r\n\r\n" + body;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  asio::streambuf buf;
  Reply r;
  s.async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](auto ec) {
    if (ec) return;
    asio::async_write(s, asio::buffer(request), [&](auto ec2, size_t) {
      if (ec2) return;
      asio::async_read(s, buf, [&](auto, size_t) {});  // to EOF
    });
  });
  io.run_for(std::chrono::seconds(5));
  std::string all(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
  size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos || all.size() < 12) return r;
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  r.status = std::atoi(all.substr(9, 3).c_str());
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The daemon's read and write routes on 127.0.0.1 without a token. The job manager runs only
// when asked (then `dup.yaml`, a job file it knows but cannot run, is in its directory);
// otherwise a POSTed job is only written to the jobs directory.
struct AdminServer {
  fs::path dir;
  config::ServerConfig config;
  asio::io_context manager_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> manager_work;
  std::thread manager_thread;
  std::unique_ptr<JobManager> jobs;
  asio::io_context io;
  http::HttpServer server{io};
  std::vector<std::thread> threads;

  explicit AdminServer(bool run_manager = false) {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path() /
          ("sluice-cross-site-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir);
    config.jobs_dir = dir.string();
    JobManagerOptions options;
    options.scan_interval_ms = 100;
    jobs = std::make_unique<JobManager>(manager_io, config, options);
    if (run_manager) {
      std::ofstream(dir / "dup.yaml")
          << "name: dup\nsql: SELECT nope FROM t\nsource: {type: kafka, topic: a, name: t, "
             "schema: {id: BIGINT}}\nsink: {type: kafka, topic: b}\n";
      manager_work.emplace(manager_io.get_executor());
      manager_thread = std::thread([this] { manager_io.run(); });
      jobs->start();
    }
    http::add_admin_routes(server, [this] { return jobs->status(); });
    http::add_job_admin_routes(server, *jobs, {"", true});
    server.listen("127.0.0.1", 0);
    for (int i = 0; i < 2; ++i)
      threads.emplace_back([this] { io.run(); });
  }
  ~AdminServer() {
    server.stop();  // then the io_context runs out of work by itself
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!io.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io.stop();
    for (auto& t : threads)
      t.join();
    if (manager_thread.joinable()) {
      std::atomic<bool> stopped{false};
      jobs->shutdown([&] { stopped = true; });
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!stopped && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      manager_work.reset();
      manager_io.stop();
      manager_thread.join();
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  uint16_t port() const { return server.port(); }
  std::string host() const { return "Host: 127.0.0.1:" + std::to_string(port()); }
  bool has_file(const std::string& name) const { return fs::exists(dir / name); }
  bool knows(const std::string& name) const {
    for (const auto& st : jobs->status())
      if (st.name == name) return true;
    return false;
  }
};

}  // namespace

TEST_CASE("cross-site: a web page's POST /jobs is refused and writes nothing", "[admin][http]") {
  AdminServer a;
  std::string host = a.host();
  // <form enctype="text/plain" method="post" action="http://127.0.0.1:9464/jobs"> on another site.
  Reply form = exchange(a.port(), "POST", "/jobs",
                        {host, "Origin: http://evil.example", "Content-Type: text/plain",
                         "Sec-Fetch-Site: cross-site"},
                        kJob);
  CHECK(form.status == 403);
  CHECK(contains(form.body, "\"error\": \""));
  CHECK_FALSE(a.has_file("good.yaml"));

  // fetch(..., {method: "POST", mode: "no-cors", body}) from another origin: Origin only.
  for (const char* type : {"text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/yaml"}) {
    Reply r =
        exchange(a.port(), "POST", "/jobs",
                 {host, "Origin: http://evil.example", std::string("Content-Type: ") + type}, kJob);
    INFO(type << ": " << r.status << " " << r.body);
    CHECK(r.status == 403);
    CHECK(contains(r.body, "Origin: http://evil.example"));
  }
  // A page on another port of this machine is the same site, not the same origin.
  Reply same_site =
      exchange(a.port(), "POST", "/jobs",
               {host, "Sec-Fetch-Site: same-site", "Content-Type: application/yaml"}, kJob);
  CHECK(same_site.status == 403);
  Reply other_port =
      exchange(a.port(), "POST", "/jobs",
               {host, "Origin: http://127.0.0.1:3000", "Content-Type: application/yaml"}, kJob);
  CHECK(other_port.status == 403);
  Reply null_origin = exchange(a.port(), "POST", "/jobs",
                               {host, "Origin: null", "Content-Type: application/yaml"}, kJob);
  CHECK(null_origin.status == 403);

  // Without Origin (an old browser, or a privacy setting): the simple content types are refused.
  for (const char* type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    Reply r =
        exchange(a.port(), "POST", "/jobs", {host, std::string("Content-Type: ") + type}, kJob);
    INFO(type << ": " << r.status << " " << r.body);
    CHECK(r.status == 415);
  }
  Reply untyped = exchange(a.port(), "POST", "/jobs", {host}, kJob);
  CHECK(untyped.status == 415);
  // curl --data-binary without -H: told what to send.
  Reply curl = exchange(a.port(), "POST", "/jobs",
                        {host, "Content-Type: application/x-www-form-urlencoded"}, kJob);
  CHECK(contains(curl.body, "application/x-www-form-urlencoded"));
  // Not a job file's type.
  Reply xml = exchange(a.port(), "POST", "/jobs", {host, "Content-Type: application/xml"}, kJob);
  CHECK(xml.status == 415);
  CHECK(contains(xml.body,
                 "needs a Content-Type of application/yaml, application/x-yaml, "
                 "text/yaml, application/json"));
  CHECK(contains(xml.head, "Accept-Post: application/yaml"));
  CHECK_FALSE(a.has_file("good.yaml"));

  // DNS rebinding: the page's own name, resolved to 127.0.0.1.
  Reply rebound = exchange(
      a.port(), "POST", "/jobs",
      {"Host: evil.example:" + std::to_string(a.port()), "Content-Type: application/yaml"}, kJob);
  CHECK(rebound.status == 421);
  CHECK(contains(rebound.body, "DNS rebinding"));
  CHECK_FALSE(a.has_file("good.yaml"));
}

TEST_CASE("cross-site: DELETE, pause and resume from a web page are refused", "[admin][http]") {
  AdminServer a(true);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!a.knows("dup") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(a.knows("dup"));
  std::string host = a.host();
  for (const auto& [method, target] :
       {std::pair{"DELETE", "/jobs/dup"}, std::pair{"POST", "/jobs/dup/pause"},
        std::pair{"POST", "/jobs/dup/resume"}}) {
    Reply r = exchange(a.port(), method, target, {host, "Origin: https://evil.example"});
    INFO(method << " " << target << ": " << r.status << " " << r.body);
    CHECK(r.status == 403);
    r = exchange(a.port(), method, target, {host, "Sec-Fetch-Site: cross-site"});
    CHECK(r.status == 403);
    // navigator.sendBeacon(url, "") and a bodiless form: a simple content type, no body.
    r = exchange(a.port(), method, target, {host, "Content-Type: text/plain;charset=UTF-8"});
    CHECK(r.status == 415);
    r = exchange(a.port(), method, target, {"Host: attacker.example:" + std::to_string(a.port())});
    CHECK(r.status == 421);
    CHECK(a.has_file("dup.yaml"));
  }
  // A CORS preflight is never granted.
  Reply preflight =
      exchange(a.port(), "OPTIONS", "/jobs/dup",
               {host, "Origin: http://evil.example", "Access-Control-Request-Method: DELETE"});
  CHECK(preflight.status == 405);
  CHECK_FALSE(contains(preflight.head, "Access-Control-Allow"));
  // The same calls as curl sends them pass (pause: 409, the job's file is invalid).
  CHECK(exchange(a.port(), "POST", "/jobs/dup/pause", {host}).status == 409);
  CHECK(exchange(a.port(), "POST", "/jobs/dup/resume", {host, "Accept: */*"}).status == 409);
  CHECK(exchange(a.port(), "DELETE", "/jobs/dup", {host}).status == 202);
  CHECK_FALSE(a.has_file("dup.yaml"));
}

TEST_CASE("cross-site: a rebound name cannot read; loopback names and curl's requests can",
          "[admin][http]") {
  AdminServer a;
  std::string port = std::to_string(a.port());
  for (const char* path : {"/jobs", "/jobs/good", "/metrics", "/healthz", "/readyz", "/nope"}) {
    Reply r = exchange(a.port(), "GET", path, {"Host: evil.example:" + port});
    INFO(path << ": " << r.status << " " << r.body);
    CHECK(r.status == 421);
    CHECK(contains(r.head, "Content-Type: application/json"));
  }
  for (const std::string& h : std::vector<std::string>{
           "evil.example", "127.0.0.1.evil.example:" + port, "localhost.evil.example:" + port,
           "10.0.0.5:" + port, "[::2]:" + port, "localhost:x", "127.0.0.1:" + port + ":1"}) {
    Reply r = exchange(a.port(), "GET", "/jobs", {"Host: " + h});
    INFO("Host: " << h << ": " << r.status);
    CHECK(r.status == 421);
  }
  Reply twice = exchange(a.port(), "GET", "/jobs", {a.host(), "Host: evil.example"});
  CHECK(twice.status == 400);

  // What curl, `sluice status`, Prometheus, a local probe and a tunnel (ssh -L, kubectl
  // port-forward to another local port) send.
  for (const std::string& h : std::vector<std::string>{
           "127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port, "[::1]:" + port,
           "127.0.0.2:" + port, "localhost:18080", "localhost"}) {
    Reply r = exchange(a.port(), "GET", "/jobs", {"Host: " + h, "User-Agent: curl/7.88.1"});
    INFO("Host: " << h << ": " << r.status << " " << r.body);
    CHECK(r.status == 200);
    CHECK(contains(r.head, "X-Content-Type-Options: nosniff"));
  }
  CHECK(exchange(a.port(), "GET", "/healthz", {}).status == 200);  // HTTP/1.1 without Host

  // Writes as curl and a same-origin page send them: YAML or JSON bodies; a matching Origin.
  Reply yaml =
      exchange(a.port(), "POST", "/jobs",
               {a.host(), "Content-Type: application/yaml", "User-Agent: curl/7.88.1"}, kJob);
  CHECK(yaml.status == 201);
  for (const char* type : {"application/x-yaml", "text/yaml; charset=utf-8", "Application/YAML"}) {
    Reply r =
        exchange(a.port(), "POST", "/jobs", {a.host(), std::string("Content-Type: ") + type}, kJob);
    INFO(type << ": " << r.body);
    CHECK(r.status == 200);  // replaced
  }
  Reply json =
      exchange(a.port(), "POST", "/jobs", {a.host(), "Content-Type: application/json"}, kJsonJob);
  CHECK(json.status == 201);
  CHECK(a.has_file("json.yaml"));
  Reply same_origin = exchange(a.port(), "POST", "/jobs",
                               {a.host(), "Origin: http://127.0.0.1:" + port,
                                "Sec-Fetch-Site: same-origin", "Content-Type: application/yaml"},
                               kJob);
  CHECK(same_origin.status == 200);
}
