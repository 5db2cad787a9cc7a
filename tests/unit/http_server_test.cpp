// The admin HTTP server (server/http/): routing and its errors, request limits, timeouts, many
// clients at once, stop(); the metrics exposition and the jobs JSON from a made-up status. The
// client is a plain blocking Asio socket on 127.0.0.1.

#include "server/http/http_server.hpp"

#include "common/error.hpp"
#include "server/cli/listen_option.hpp"
#include "server/http/admin_api.hpp"
#include "server/http/http_message.hpp"
#include "server/http/metrics.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "perf/http_flood.hpp"
#include "test_http_server.hpp"

using namespace sluice;
using namespace sluice::server;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using sluice::test::TestServer;

namespace {

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
  bool closed = false;  // the server closed the connection after it
};

tcp::socket connect(uint16_t port, asio::io_context& io) {
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return s;
}

// Reads one response (Content-Length framed) from a blocking socket.
Reply read_reply(tcp::socket& s, std::string& pending) {
  Reply r;
  char buf[4096];
  boost::system::error_code ec;
  size_t end = std::string::npos;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) {
      r.closed = true;
      return r;
    }
    pending.append(buf, n);
  }
  r.head = pending.substr(0, end);
  pending.erase(0, end + 4);
  r.status = std::atoi(r.head.substr(9, 3).c_str());
  size_t length = 0;
  auto cl = r.head.find("Content-Length: ");
  if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
  while (pending.size() < length) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    pending.append(buf, n);
  }
  r.body = pending.substr(0, length);
  pending.erase(0, length);
  return r;
}

Reply round_trip(uint16_t port, const std::string& request) {
  asio::io_context io;
  auto s = connect(port, io);
  asio::write(s, asio::buffer(request));
  std::string pending;
  Reply r = read_reply(s, pending);
  // Did the server close the connection?
  char c;
  boost::system::error_code ec;
  s.non_blocking(true);
  for (int i = 0; i < 100; ++i) {
    s.read_some(asio::buffer(&c, 1), ec);
    if (ec != asio::error::would_block) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.closed = r.closed || ec == asio::error::eof || ec == asio::error::connection_reset;
  return r;
}

Reply get(uint16_t port, const std::string& path) {
  return round_trip(port,
                    "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

void add_echo_routes(http::HttpServer& s) {
  s.handle("GET", "/hello",
           [](const http::Request&) { return http::Response::json(200, "{\"hello\": true}"); });
  s.handle("POST", "/hello", [](const http::Request& r) {
    return http::Response::json(200, "{\"length\": " + std::to_string(r.body.size()) + "}");
  });
  s.handle("GET", "/jobs/{name}", [](const http::Request& r) {
    std::string body =
        "{\"name\": \"" + r.params.at("name") + "\", \"query\": \"" + r.query + "\"}";
    return http::Response::json(200, body);
  });
  s.handle("GET", "/throws",
           [](const http::Request&) -> http::Response { throw std::runtime_error("boom"); });
}

JobStatus sample_job() {
  JobStatus j;
  j.name = "s2";
  j.file = "/jobs/s2.yaml";
  j.state = JobState::kRunning;
  j.generation = 3;
  j.commits = 7;
  j.rebalances = 1;
  j.counts.records_in = 100;
  j.counts.records_out = 40;
  j.counts.filtered = 50;
  j.counts.rejected = 10;
  j.counts.dead_lettered = 10;
  j.counts.bytes_in = 12345;
  j.counts.bytes_out = 4000;
  for (int p = 0; p < 2; ++p) {
    PartitionStatus ps;
    ps.topic = "s2-in";
    ps.partition = p;
    ps.position = 50;
    ps.committed = 40;
    ps.high_watermark = 60;
    ps.lag = 10;
    ps.watermark = p == 0 ? 1'700'000'000'000 : INT64_MIN;
    ps.paused = p == 1;
    ps.in_flight = 5;
    ps.counts.records_in = 50;
    ps.counts.records_out = 20;
    ps.counts.filtered = 25;
    ps.counts.rejected = 5;
    ps.counts.dead_lettered = 5;
    j.partitions.push_back(ps);
  }
  LatencyHistogram h;
  for (int i = 0; i < 90; ++i)
    h.add(2000);  // 2 ms
  for (int i = 0; i < 10; ++i)
    h.add(400000);  // 400 ms
  h.add_to(j.latency);
  return j;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("http: routes, params, and JSON errors for 404, 405, 400 and 500", "[http]") {
  TestServer t;
  add_echo_routes(t.server());
  t.start();

  Reply ok = get(t.port(), "/hello");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"hello\": true}");
  CHECK(contains(ok.head, "Content-Type: application/json"));

  Reply param = get(t.port(), "/jobs/my%20job?x=1");
  CHECK(param.status == 200);
  CHECK(param.body == "{\"name\": \"my job\", \"query\": \"x=1\"}");

  Reply missing = get(t.port(), "/nope");
  CHECK(missing.status == 404);
  CHECK(missing.body == "{\"error\": \"no such path '/nope'\"}\n");
  CHECK(get(t.port(), "/jobs").status == 404);
  CHECK(get(t.port(), "/jobs/a/b").status == 404);

  Reply wrong = round_trip(t.port(), "DELETE /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(wrong.status == 405);
  CHECK(contains(wrong.head, "Allow: GET, POST"));
  CHECK(contains(wrong.body, "\"error\": \"method DELETE is not allowed on '/hello'"));

  Reply garbage = round_trip(t.port(), "THIS IS NOT HTTP\r\n\r\n");
  CHECK(garbage.status == 400);
  CHECK(contains(garbage.body, "\"error\": \"bad request"));
  CHECK(garbage.closed);

  CHECK(get(t.port(), "/jobs/bad%zzescape").status == 400);
  CHECK(round_trip(t.port(), "GET http://x/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status ==
        400);

  Reply boom = get(t.port(), "/throws");
  CHECK(boom.status == 500);
  CHECK(boom.body == "{\"error\": \"internal error: boom\"}\n");

  Reply post =
      round_trip(t.port(),
                 "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: 5\r\n\r\nabcde");
  CHECK(post.status == 200);
  CHECK(post.body == "{\"length\": 5}");
  CHECK(t.stop());
}

TEST_CASE("http: oversized headers and bodies are rejected and the connection closed", "[http]") {
  http::HttpServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 4096;
  TestServer t(o);
  add_echo_routes(t.server());
  t.start();

  Reply big_header = round_trip(t.port(), "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                              std::string(100000, 'a') + "\r\n\r\n");
  CHECK(big_header.status == 431);
  CHECK(contains(big_header.body, "request headers larger than 1024 bytes"));
  CHECK(big_header.closed);

  // Rejected from the Content-Length alone: the body is never sent.
  Reply big_body = round_trip(
      t.port(), "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n");
  CHECK(big_body.status == 413);
  CHECK(contains(big_body.body, "request body larger than 4096 bytes"));
  CHECK(big_body.closed);

  std::string chunk = std::string(3000, 'b');
  Reply chunked =
      round_trip(t.port(),
                 "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "bb8\r\n" +
                     chunk + "\r\nbb8\r\n" + chunk + "\r\n0\r\n\r\n");
  CHECK(chunked.status == 413);

  Reply fits =
      round_trip(t.port(),
                 "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: 4096\r\n\r\n" +
                     std::string(4096, 'c'));
  CHECK(fits.status == 200);
  CHECK(fits.body == "{\"length\": 4096}");
  CHECK(t.stop());
}

TEST_CASE("http: a slow or idle client is disconnected after the timeout", "[http]") {
  http::HttpServerOptions o;
  o.io_timeout = std::chrono::milliseconds(300);
  TestServer t(o);
  add_echo_routes(t.server());
  t.start();

  asio::io_context io;
  auto slow = connect(t.port(), io);
  auto start = std::chrono::steady_clock::now();
  // Half a request, then a byte every 100 ms: the deadline covers the whole request.
  asio::write(slow, asio::buffer(std::string("GET /hello HTTP/1.1\r\n")));
  boost::system::error_code ec;
  for (int i = 0; i < 30 && !ec; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    asio::write(slow, asio::buffer(std::string("X")), ec);
  }
  char c;
  if (!ec) slow.read_some(asio::buffer(&c, 1), ec);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(ec);
  CHECK(elapsed < std::chrono::milliseconds(2500));

  // Keep-alive: a request is answered, then the idle connection is closed.
  auto idle = connect(t.port(), io);
  asio::write(idle, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  std::string pending;
  Reply first = read_reply(idle, pending);
  CHECK(first.status == 200);
  start = std::chrono::steady_clock::now();
  idle.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec == asio::error::eof);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2000));
  CHECK(t.stop());
}

TEST_CASE("http: many clients at once, each with keep-alive requests", "[http]") {
  TestServer t;
  add_echo_routes(t.server());
  t.start();
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      asio::io_context io;
      auto s = connect(t.port(), io);
      std::string pending;
      for (int i = 0; i < 25; ++i) {
        std::string name = fmt::format("c{}r{}", c, i);
        asio::write(s, asio::buffer("GET /jobs/" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        Reply r = read_reply(s, pending);
        if (r.status == 200 && contains(r.body, "\"" + name + "\"")) ++ok;
      }
    });
  }
  for (auto& c : clients)
    c.join();
  CHECK(ok.load() == 16 * 25);
  CHECK(t.stop());
}

TEST_CASE("http: stop() closes open connections and leaves the io_context idle", "[http]") {
  TestServer t;
  add_echo_routes(t.server());
  t.start();
  asio::io_context io;
  auto open1 = connect(t.port(), io);
  auto open2 = connect(t.port(), io);
  asio::write(open2, asio::buffer(std::string("GET /hel")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(t.stop());  // run() returned by itself: nothing of the server was left
  char c;
  boost::system::error_code ec;
  open1.read_some(asio::buffer(&c, 1), ec);
  CHECK(ec);
}

TEST_CASE("http: a port in use is a clear error; --http-listen parsing", "[http]") {
  TestServer first;
  first.start();
  asio::io_context io;
  http::HttpServer second(io);
  try {
    second.listen("127.0.0.1", first.port());
    FAIL("listen on a port in use succeeded");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "http: cannot listen on 127.0.0.1:" +
                                       std::to_string(first.port()) + ": Address already in use");
  }

  std::string error;
  auto l = parse_listen_option("127.0.0.1:0", &error);
  REQUIRE(l);
  CHECK(l->host == "127.0.0.1");
  CHECK(l->port == 0);
  l = parse_listen_option("[::1]:9464", &error);
  REQUIRE(l);
  CHECK(l->host == "::1");
  CHECK(l->port == 9464);
  CHECK_FALSE(parse_listen_option("127.0.0.1", &error));
  CHECK(error == "'127.0.0.1': expected HOST:PORT, such as 127.0.0.1:9464");
  CHECK_FALSE(parse_listen_option("localhost:70000", &error));
  CHECK_FALSE(parse_listen_option(":80", &error));
  CHECK_FALSE(parse_listen_option("::1:80", &error));
}

TEST_CASE("metrics: log-linear latency buckets map onto the Prometheus buckets", "[http]") {
  LatencyHistogram h;
  h.add(50);        // <= 100 µs
  h.add(99);        // bucket [96, 112): upper bound 112 µs > 100, so counted at 250 µs
  h.add(2000);      // [1792, 2048): <= 2.5 ms
  h.add(40000000);  // [33.5 s, 41.9 s): <= 60 s
  h.add(70000000);  // above 60 s: +Inf only
  LatencyHistogram::Snapshot s{};
  h.add_to(s);
  auto c = http::to_cumulative(s);
  REQUIRE(c.buckets.size() == http::latency_bucket_bounds().size());
  CHECK(c.buckets.front().first == Approx(0.0001));
  CHECK(c.buckets.back().first == Approx(60));
  CHECK(c.count == 5);
  auto at = [&](double bound) {
    for (auto [b, n] : c.buckets)
      if (std::abs(b - bound) < 1e-12) return n;
    return uint64_t{999};
  };
  CHECK(at(0.0001) == 1);
  CHECK(at(0.00025) == 2);
  CHECK(at(0.0025) == 3);
  CHECK(at(30) == 3);
  CHECK(at(60) == 4);
  CHECK(c.sum == Approx((50 + 99 + 2000 + 40e6 + 70e6) / 1e6).epsilon(0.1));
  // Cumulative counts never decrease.
  for (size_t i = 1; i < c.buckets.size(); ++i)
    CHECK(c.buckets[i].second >= c.buckets[i - 1].second);
}

TEST_CASE("metrics: the exposition from a job's status", "[http]") {
  JobStatus j = sample_job();
  JobStatus invalid;
  invalid.name = "broken";
  invalid.file = "/jobs/broken.yaml";
  invalid.state = JobState::kInvalid;
  invalid.error = "broken.yaml:1:1: sql: bad";
  JobStatus duplicate = invalid;  // another file claiming the running job's name
  duplicate.name = "s2";
  std::string text = http::render_metrics({duplicate, j, invalid}, 1'700'000'005'000);

  CHECK(contains(text, "# TYPE sluice_records_total counter"));
  CHECK(contains(text,
                 "sluice_records_total{job_name=\"s2\",topic=\"s2-in\",partition=\"0\",outcome="
                 "\"in\"} 50"));
  CHECK(contains(text,
                 "sluice_records_total{job_name=\"s2\",topic=\"s2-in\",partition=\"1\",outcome="
                 "\"dead_letter\"} 5"));
  CHECK(contains(text, "sluice_consumer_lag{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 10"));
  CHECK(contains(
      text, "sluice_watermark_lag_seconds{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 5"));
  CHECK_FALSE(contains(text,
                       "sluice_watermark_lag_seconds{job_name=\"s2\",topic=\"s2-in\","
                       "partition=\"1\"}"));
  CHECK(
      contains(text, "sluice_pipeline_paused{job_name=\"s2\",topic=\"s2-in\",partition=\"1\"} 1"));
  CHECK(contains(text,
                 "sluice_in_flight_records{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 5"));
  CHECK(
      contains(text, "sluice_end_to_end_latency_seconds_bucket{job_name=\"s2\",le=\"0.0025\"} 90"));
  CHECK(
      contains(text, "sluice_end_to_end_latency_seconds_bucket{job_name=\"s2\",le=\"+Inf\"} 100"));
  CHECK(contains(text, "sluice_end_to_end_latency_seconds_count{job_name=\"s2\"} 100"));
  CHECK(contains(text,
                 "sluice_end_to_end_latency_quantile_seconds{job_name=\"s2\",quantile=\"0.5\"}"));
  CHECK(contains(text, "sluice_commits_total{job_name=\"s2\"} 7"));
  CHECK(contains(text, "sluice_job_state{job_name=\"s2\",state=\"running\"} 1"));
  CHECK(contains(text, "sluice_job_state{job_name=\"s2\",state=\"failed\"} 0"));
  CHECK(contains(text, "sluice_job_state{job_name=\"broken\",state=\"invalid\"} 1"));
  CHECK(contains(text, "sluice_job_config_generation{job_name=\"s2\"} 3"));
  CHECK(contains(text, "sluice_process_cpu_seconds_total "));
  CHECK(contains(text, "sluice_process_resident_memory_bytes "));
  CHECK_FALSE(contains(text, "job=\""));
  CHECK_FALSE(contains(text, "sluice_job_state{job_name=\"s2\",state=\"invalid\"} 1"));

  // A repartitioned job: a record is counted in at the router, out at the query stage.
  JobStatus r;
  r.name = "rp";
  r.state = JobState::kRunning;
  PartitionStatus router;
  router.topic = "rp-in";
  router.counts.records_in = 10;
  router.counts.records_out = 10;  // routed
  PartitionStatus query;
  query.topic = "rp-repartition";
  query.counts.records_in = 10;
  query.counts.records_out = 3;
  r.partitions = {router, query};
  text = http::render_metrics({r}, 0);
  CHECK(contains(text, "{job_name=\"rp\",topic=\"rp-in\",partition=\"0\",outcome=\"in\"} 10"));
  CHECK_FALSE(contains(text, "{job_name=\"rp\",topic=\"rp-in\",partition=\"0\",outcome=\"out\"}"));
  CHECK(contains(text,
                 "{job_name=\"rp\",topic=\"rp-repartition\",partition=\"0\",outcome=\"out\"} 3"));
  CHECK_FALSE(
      contains(text, "{job_name=\"rp\",topic=\"rp-repartition\",partition=\"0\",outcome=\"in\"}"));
}

TEST_CASE("metrics: promtool check metrics accepts the exposition", "[http]") {
  if (access("/usr/bin/promtool", X_OK) != 0) {
    WARN("promtool not installed (Debian package prometheus): skipped");
    return;
  }
  JobStatus j = sample_job();
  j.name = "quote\"and\\backslash";
  std::string text = http::render_metrics({sample_job(), j}, 1'700'000'005'000);
  auto path = std::filesystem::temp_directory_path() /
              ("sluice-metrics-" + std::to_string(getpid()) + ".txt");
  std::ofstream(path) << text;
  std::string cmd = "/usr/bin/promtool check metrics < " + path.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr)
    output += buf;
  int status = pclose(p);
  std::filesystem::remove(path);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.empty());
}

TEST_CASE("admin API: healthz, readyz, jobs and a job as JSON", "[http]") {
  std::mutex mu;
  std::vector<JobStatus> jobs = {sample_job()};
  TestServer t;
  http::add_admin_routes(t.server(), [&] {
    std::lock_guard lock(mu);
    return jobs;
  });
  t.start();

  Reply health = get(t.port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "{\"status\": \"ok\"}\n");
  CHECK(get(t.port(), "/readyz").status == 200);

  Reply one = get(t.port(), "/jobs/s2");
  CHECK(one.status == 200);
  CHECK(contains(one.body,
                 "\"name\": \"s2\", \"file\": \"/jobs/s2.yaml\", \"state\": "
                 "\"running\", \"error\": null, \"generation\": 3, "));
  CHECK(contains(one.body, "\"counts\": {\"records_in\": 100, \"records_out\": 40, "));
  CHECK(contains(one.body,
                 "{\"topic\": \"s2-in\", \"partition\": 0, \"position\": 50, "
                 "\"committed\": 40, \"high_watermark\": 60, \"lag\": 10, "
                 "\"watermark\": 1700000000000, "));
  CHECK(contains(one.body,
                 "\"watermark\": null, \"watermark_lag_seconds\": null, \"paused\": "
                 "true, "));
  CHECK(contains(one.body, "\"latency_seconds\": {\"count\": 100, \"p50\": 0.00"));

  Reply unknown = get(t.port(), "/jobs/nope");
  CHECK(unknown.status == 404);
  CHECK(unknown.body == "{\"error\": \"no job named 'nope'\"}\n");

  Reply all = get(t.port(), "/jobs");
  CHECK(all.status == 200);
  CHECK(all.body.rfind("{\"jobs\": [{\"name\": \"s2\"", 0) == 0);

  Reply metrics = get(t.port(), "/metrics");
  CHECK(metrics.status == 200);
  CHECK(contains(metrics.head, "Content-Type: text/plain; version=0.0.4"));
  CHECK(contains(metrics.body, "sluice_records_total{"));
  CHECK(get(t.port(), "/metrics/x").status == 404);
  CHECK(round_trip(t.port(), "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            .status == 405);

  {
    std::lock_guard lock(mu);
    jobs[0].state = JobState::kFailed;
    jobs[0].error = "delivery failed: \"x\"";
    JobStatus bad;
    bad.name = "bad";
    bad.state = JobState::kInvalid;
    jobs.push_back(bad);
  }
  Reply not_ready = get(t.port(), "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body ==
        "{\"status\": \"not ready\", \"reason\": \"job s2 is failed: delivery failed: "
        "\\\"x\\\"\"}\n");
  Reply failed = get(t.port(), "/jobs/s2");
  CHECK(contains(failed.body, "\"error\": \"delivery failed: \\\"x\\\"\""));
  CHECK(t.stop());
}

TEST_CASE("metrics: batch latency, batch size, producer queue and state size", "[http]") {
  LatencyHistogram records;
  records.add(1);
  records.add(3);     // exact bucket [3, 4): <= 4
  records.add(1024);  // [1024, 1280): <= 2048
  records.add(5000);  // above 4096: +Inf only
  LatencyHistogram::Snapshot rs{};
  records.add_to(rs);
  auto r = http::batch_records_histogram(rs);
  REQUIRE(r.buckets.size() == 13);
  CHECK(r.buckets.front().first == 1);
  CHECK(r.buckets.back().first == 4096);
  CHECK(r.count == 4);
  CHECK(r.buckets[0].second == 1);   // le 1
  CHECK(r.buckets[1].second == 1);   // le 2
  CHECK(r.buckets[2].second == 2);   // le 4
  CHECK(r.buckets[10].second == 2);  // le 1024: 1024's bucket reaches 1279
  CHECK(r.buckets[11].second == 3);  // le 2048
  CHECK(r.buckets[12].second == 3);  // le 4096
  CHECK(r.sum == Approx(1 + 3 + 1024 + 5000).epsilon(0.1));

  LatencyHistogram batch;
  batch.add(8);       // [8, 10): <= 10 µs
  batch.add(300);     // [256, 320): <= 500 µs
  batch.add(900000);  // <= 1 s
  batch.add(3000000);
  LatencyHistogram::Snapshot bs{};
  batch.add_to(bs);
  auto b = http::batch_latency_histogram(bs);
  REQUIRE(b.buckets.size() == 16);
  CHECK(b.buckets.front().first == Approx(0.00001));
  CHECK(b.buckets.back().first == Approx(1));
  CHECK(b.buckets[0].second == 1);
  CHECK(b.buckets[4].second == 1);  // le 250 µs
  CHECK(b.buckets[5].second == 2);  // le 500 µs
  CHECK(b.buckets[15].second == 3);
  CHECK(b.count == 4);

  JobStatus j = sample_job();
  j.batch_records = rs;
  j.batch_latency = bs;
  j.producer_queue = 42;
  j.partitions[0].open_windows = 3;
  j.partitions[0].groups = 17;
  j.partitions[0].state_bytes = 4096;
  std::string text = http::render_metrics({j}, 1'700'000'005'000);
  CHECK(contains(text, "# TYPE sluice_batch_processing_seconds histogram"));
  CHECK(contains(text, "sluice_batch_processing_seconds_bucket{job_name=\"s2\",le=\"0.0005\"} 2"));
  CHECK(contains(text, "sluice_batch_processing_seconds_count{job_name=\"s2\"} 4"));
  CHECK(contains(text, "# TYPE sluice_batch_records histogram"));
  CHECK(contains(text, "sluice_batch_records_bucket{job_name=\"s2\",le=\"4\"} 2"));
  CHECK(contains(text, "sluice_batch_records_bucket{job_name=\"s2\",le=\"+Inf\"} 4"));
  CHECK(contains(text, "sluice_producer_queue_records{job_name=\"s2\"} 42"));
  CHECK(contains(text,
                 "sluice_state_open_windows{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 3"));
  CHECK(contains(text, "sluice_state_groups{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 17"));
  CHECK(contains(text, "sluice_state_bytes{job_name=\"s2\",topic=\"s2-in\",partition=\"0\"} 4096"));
  CHECK(contains(text, "sluice_state_groups{job_name=\"s2\",topic=\"s2-in\",partition=\"1\"} 0"));

  std::string json = http::job_json(j, 1'700'000'005'000);
  CHECK(contains(json, "\"kafka_reachable\": true, \"producer_queue\": 42, "));
  CHECK(contains(json, "\"open_windows\": 3, \"groups\": 17, \"state_bytes\": 4096, "));
}

TEST_CASE("admin API: readyz is 503 while starting, restoring state, or unable to reach Kafka",
          "[http]") {
  std::vector<JobStatus> jobs = {sample_job()};
  CHECK(http::readiness(jobs).ready);
  http::Readiness starting = http::readiness(jobs, false);
  CHECK_FALSE(starting.ready);
  CHECK(starting.reason == "starting");
  jobs[0].kafka_reachable = false;
  http::Readiness down = http::readiness(jobs);
  CHECK_FALSE(down.ready);
  CHECK(down.reason == "job s2 cannot reach Kafka (all brokers down)");
  CHECK(contains(http::job_json(jobs[0], 0), "\"kafka_reachable\": false, "));
  // Restoring durable state: not ready until every partition's state is back.
  jobs[0].kafka_reachable = true;
  jobs[0].restoring = {{"s2-in", 2, 131072, 0.5}, {"s2-in", 0, 0, 0.25}};
  http::Readiness restoring = http::readiness(jobs);
  CHECK_FALSE(restoring.ready);
  CHECK(restoring.reason == "job s2 is restoring the state of partitions [2,0]");
  CHECK(contains(http::job_json(jobs[0], 0),
                 "\"restoring\": [{\"topic\": \"s2-in\", \"partition\": 2, \"records\": "
                 "131072, \"seconds\": 0.5}, {\"topic\": \"s2-in\", \"partition\": 0, "
                 "\"records\": 0, \"seconds\": 0.25}], "));
  CHECK(contains(http::render_metrics(jobs, 0),
                 "sluice_state_restoring_partitions{job_name=\"s2\"} 2"));
  jobs[0].restoring.clear();
  CHECK(http::readiness(jobs).ready);
  CHECK(contains(http::job_json(jobs[0], 0), "\"restoring\": [], "));
  jobs[0].kafka_reachable = false;

  std::atomic<bool> scanned{false};
  jobs[0].kafka_reachable = true;
  TestServer t;
  http::add_admin_routes(
      t.server(), [&] { return jobs; }, [&] { return scanned.load(); });
  t.start();
  Reply r = get(t.port(), "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == "{\"status\": \"not ready\", \"reason\": \"starting\"}\n");
  scanned = true;
  CHECK(get(t.port(), "/readyz").status == 200);
  CHECK(t.stop());
}

TEST_CASE("http: /healthz answers within 2 s while 300 idle and 300 dripping connections flood",
          "[http]") {
  TestServer t;  // the daemon's limits: 256 connections, 10 s per request
  add_echo_routes(t.server());
  t.server().handle("GET", "/healthz",
                    [](const http::Request&) { return http::Response::json(200, "{}"); });
  t.start();
  // From 127.0.0.1, the address a local probe uses too; closed connections are reopened.
  perf::Flood flood({"127.0.0.1", t.port(), 300, 300, std::chrono::milliseconds(100)});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (flood.stats().connects < 600 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(flood.stats().connects >= 600);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the drips are under way

  for (int i = 0; i < 20; ++i) {
    auto r = perf::timed_get("127.0.0.1", t.port(), "/healthz", std::chrono::seconds(2));
    INFO("probe " << i << ": " << (r.status ? r.head.substr(0, 15) : r.error) << " after "
                  << r.seconds << " s");
    CHECK(r.status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // A keep-alive client that keeps asking is not starved: every request answered on its
  // connection.
  perf::KeepAliveClient client("127.0.0.1", t.port());
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    auto r = client.get("/hello", std::chrono::seconds(2));
    if (r.status == 200) ++answered;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO("flood: " << flood.stats().connects << " connects, " << flood.stats().closed_by_server
                 << " closed by the server; keep-alive client: " << client.connects()
                 << " connects");
  CHECK(answered == 50);
  CHECK(client.connects() == 1);
  CHECK(t.stop());
}

TEST_CASE("http: at the limit, the longest-waiting connection of the busiest address is closed",
          "[http]") {
  http::HttpServerOptions o;
  o.max_connections = 4;
  TestServer t(o);
  add_echo_routes(t.server());
  std::atomic<bool> in_handler{false};
  t.server().handle("GET", "/slow", [&](const http::Request&) {
    in_handler = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return http::Response::json(200, std::string(8 << 20, 'x'));  // more than socket buffers
  });
  t.start();
  asio::io_context io;
  auto is_open = [](tcp::socket& s) {  // nothing to read and not closed
    s.non_blocking(true);
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
    s.non_blocking(false);
    return ec == asio::error::would_block;
  };

  // A request whose handler runs is never closed to make room, however long it takes.
  auto slow = connect(t.port(), io);
  asio::write(slow, asio::buffer(std::string("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  while (!in_handler)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(connect(t.port(), io));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string pending;
  Reply r = read_reply(slow, pending);
  CHECK(r.status == 200);
  CHECK(r.body.size() == size_t{8} << 20);
  // The idle connections were closed oldest first: the last three are still open.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int open = 0;
  for (auto& s : idle)
    open += is_open(s) ? 1 : 0;
  CHECK(open == 3);
  CHECK(is_open(idle.back()));
  CHECK_FALSE(is_open(idle.front()));

  // Another client address keeps its idle connection while 127.0.0.1 floods.
  tcp::socket other(io);
  other.open(tcp::v4());
  boost::system::error_code ec;
  other.bind(tcp::endpoint(asio::ip::make_address("127.0.0.2"), 0), ec);
  if (ec) {
    WARN("cannot bind 127.0.0.2 (" << ec.message() << "): the per-address part is skipped");
    CHECK(t.stop());
    return;
  }
  other.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), t.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<tcp::socket> flood;
  for (int i = 0; i < 12; ++i)
    flood.push_back(connect(t.port(), io));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(is_open(other));
  asio::write(other, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")));
  pending.clear();
  CHECK(read_reply(other, pending).status == 200);
  CHECK(t.stop());
}

TEST_CASE("http: at the limit, a keep-alive connection in use outlives new idle ones", "[http]") {
  http::HttpServerOptions o;
  o.max_connections = 4;
  TestServer t(o);
  add_echo_routes(t.server());
  t.start();
  asio::io_context io;
  auto client = connect(t.port(), io);
  std::string pending;
  const std::string request = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  asio::write(client, asio::buffer(request));
  REQUIRE(read_reply(client, pending).status == 200);
  std::vector<tcp::socket> idle;  // from the same address, newer, never a request
  for (int i = 0; i < 10; ++i)
    idle.push_back(connect(t.port(), io));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  asio::write(client, asio::buffer(request));
  Reply again = read_reply(client, pending);
  CHECK(again.status == 200);
  CHECK_FALSE(again.closed);
  CHECK(t.stop());
}

TEST_CASE("http: serve() answers a parsed Beast request as a connection does", "[http]") {
  asio::io_context io;
  http::HttpServer s(io);
  add_echo_routes(s);
  auto parse = [](const std::string& bytes) {
    boost::beast::http::request_parser<boost::beast::http::string_body> p;
    p.eager(true);  // the header and the body in one put
    boost::beast::error_code ec;
    p.put(asio::buffer(bytes), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(p.is_done());
    return p.release();
  };
  auto res = http::serve(s, parse("GET /jobs/a%20b?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "{\"name\": \"a b\", \"query\": \"x=1\"}");
  CHECK(res.keep_alive());
  CHECK(res["X-Content-Type-Options"] == "nosniff");
  CHECK(res["Content-Length"] == std::to_string(res.body().size()));
  res = http::serve(s, parse("POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                             "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc"));
  CHECK(res.result_int() == 415);
  CHECK_FALSE(res.keep_alive());
}
