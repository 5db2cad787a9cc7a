// The mutating admin API (server/http/job_admin.*): authorization (401/403, loopback), refusing a
// non-loopback address without a token, http.token in the server config, POST /jobs validation
// and its atomic write, 404/409, DELETE through a running JobManager; KafkaJob::pause against the
// mock broker (nothing read while paused, everything delivered after resume, pipelines assigned
// while paused start paused); `sluice status`'s URL parsing and table.

#include "common/error.hpp"
#include "config/server_config.hpp"
#include "server/cli/status_command.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/http/http_server.hpp"
#include "server/http/job_admin.hpp"
#include "server/http/request_guard.hpp"
#include "server/jobs/job_manager.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/net/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "job_manager_rig.hpp"
#include "kafka_test_util.hpp"
#include "temp_dir.hpp"

using namespace sluice;
using namespace sluice::server;
namespace fs = std::filesystem;

namespace {

http::Request request(std::string method, std::string target, std::string body = {},
                      std::string authorization = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  if (!body.empty()) r.headers.emplace_back("Content-Type", "application/yaml");
  r.body = std::move(body);
  if (!authorization.empty()) r.headers.emplace_back("authorization", authorization);
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("sluice-admin") {}
};

const char* kValidJob =
    "name: good\n"
    "sql: SELECT id FROM t\n"
    "source: {type: kafka, topic: g-in, name: t, schema: {id: BIGINT}}\n"
    "sink: {type: kafka, topic: g-out}\n"
    "kafka: {client.rack: hunter2}\n";

// Waits until `done()` holds, `limit` at the most; returns whether it held.
template <typename Pred>
bool eventually(Pred done, std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return done();
}

}  // namespace

TEST_CASE("admin auth: loopback without a token is open; a token is always required", "[admin]") {
  auto post = [](std::string auth) { return request("POST", "/jobs", "", std::move(auth)); };
  CHECK_FALSE(http::authorize(post(""), {"", true}));

  auto r = http::authorize(post(""), {"", false});
  REQUIRE(r);
  CHECK(r->status == 401);

  http::AdminAuth with_token{"s3cret", true};
  r = http::authorize(post(""), with_token);
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(contains(r->body, "Authorization: Bearer <token>"));
  REQUIRE(r->headers.size() == 1);
  CHECK(r->headers[0] == std::pair<std::string, std::string>{"WWW-Authenticate", "Bearer"});
  r = http::authorize(post("Basic czNjcmV0"), with_token);
  REQUIRE(r);
  CHECK(r->status == 401);
  for (const char* wrong : {"Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "Bearer x"}) {
    r = http::authorize(post(wrong), with_token);
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK_FALSE(contains(r->body, "s3cret"));
  }
  CHECK_FALSE(http::authorize(post("Bearer s3cret"), with_token));
  CHECK_FALSE(http::authorize(post("bearer s3cret"), with_token));
  CHECK_FALSE(http::authorize(post("Bearer s3cret"), {"s3cret", false}));
}

TEST_CASE("admin: a non-loopback address needs a token; http.token in the server config",
          "[admin]") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"})
    CHECK(http::is_loopback_host(host));
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "example.com"})
    CHECK_FALSE(http::is_loopback_host(host));
  CHECK_NOTHROW(http::check_listen_security("127.0.0.1", ""));
  CHECK_NOTHROW(http::check_listen_security("0.0.0.0", "t"));
  try {
    http::check_listen_security("0.0.0.0", "");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kConfig);
    CHECK(contains(e.what(), "listening on 0.0.0.0 (not a loopback address) needs a bearer token"));
    CHECK(contains(e.what(), "http.token"));
  }

  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SLUICE_TOKEN") return "from-env";
    return std::nullopt;
  };
  auto cfg = config::load_server_text("http:\n  listen: 0.0.0.0:9464\n  token: ${SLUICE_TOKEN}\n",
                                      "s.yaml", env);
  CHECK(cfg.http_token == "from-env");
  CHECK(cfg.http.host == "0.0.0.0");
  CHECK(config::load_server_text("http: {token: '${UNSET:-}'}\n", "s.yaml", env).http_token == "");
  CHECK(config::load_server_text("{}\n", "s.yaml", env).http_token.empty());
}

TEST_CASE("admin: Host names, media types; a listener beyond loopback with a token", "[admin]") {
  for (const char* h : {"localhost", "localhost:9464", "LocalHost:1", "127.0.0.1:9464",
                        "127.255.0.9", "[::1]:9464", "[::1]", "[0:0:0:0:0:0:0:1]:80"})
    CHECK(http::is_loopback_authority(h));
  for (const char* h : {"", "evil.example", "evil.example:9464", "localhost.", "localhost.evil",
                        "127.0.0.1.nip.io", "128.0.0.1", "0.0.0.0:9464", "10.1.2.3:9464", "[::]",
                        "[::1", "[::1]x", "::1", "localhost:", "localhost:-1", "localhost:123456",
                        "127.0.0.1:80:80", "[::ffff:127.0.0.1]:80"})
    CHECK_FALSE(http::is_loopback_authority(h));
  CHECK(http::media_type(" Application/YAML ; charset=utf-8") == "application/yaml");
  CHECK(http::media_type("text/plain") == "text/plain");
  CHECK(http::media_type("") == "");

  // Not listening (as on 0.0.0.0): Host is not checked, so kubelet probes with `Host: <pod
  // IP>:<port>` are answered; a mutating call from a web page is refused even with the token.
  TempDir dir;
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  boost::asio::io_context io;
  JobManager jobs(io, server, {});
  http::HttpServer s(io);
  s.handle("GET", "/healthz", [](const http::Request&) { return http::Response::json(200, "{}"); });
  http::add_job_admin_routes(s, jobs, {"tok", false});
  auto probe = request("GET", "/healthz");
  probe.headers.emplace_back("Host", "10.244.1.17:9464");
  probe.headers.emplace_back("User-Agent", "kube-probe/1.29");
  CHECK(s.dispatch(probe).status == 200);
  auto forged = request("POST", "/jobs", kValidJob, "Bearer tok");
  forged.headers.emplace_back("Host", "sluice.jobs.svc:9464");
  forged.headers.emplace_back("Origin", "https://evil.example");
  CHECK(s.dispatch(forged).status == 403);
  auto own = request("POST", "/jobs", kValidJob, "Bearer tok");
  own.headers.emplace_back("Host", "sluice.jobs.svc:9464");
  own.headers.emplace_back("Origin", "https://sluice.jobs.svc:9464");
  CHECK(s.dispatch(own).status == 201);
  CHECK(fs::exists(dir.path / "good.yaml"));
}

TEST_CASE("POST /jobs: validation errors, atomic write, 201 then 200, 404s", "[admin]") {
  TempDir dir;
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  boost::asio::io_context io;  // not run: rescans only queue up
  JobManager jobs(io, server, {});
  http::HttpServer s(io);
  http::add_job_admin_routes(s, jobs, {});

  // YAML error, with the location.
  auto req = request("POST", "/jobs", "name: bad\nsql: [unclosed\n");
  auto r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body, "\"error\": \"invalid job (1 issue)\""));
  CHECK(contains(r.body, "\"issues\": [\"request:"));

  // Several issues at once.
  req = request("POST", "/jobs", "name: bad\nsql: SELECT 1\nsurprise: 1\nsource: {type: kafka}\n");
  r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body, "request:3:1: unknown key 'surprise'"));
  CHECK(contains(r.body, "issues)\""));

  // SQL error: the position in the posted text and the caret excerpt.
  req = request("POST", "/jobs",
                "name: q\nsql: SELECT nope FROM t\nsource: {type: kafka, topic: a, name: t, "
                "schema: {id: BIGINT}}\nsink: {type: kafka, topic: b}\n");
  r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body, "\"issues\": [\"request:2:13: sql: "));
  CHECK(contains(r.body, "nope"));
  CHECK(contains(r.body, "\\n    SELECT nope FROM t\\n"));

  // The daemon's endpoint rules.
  req = request("POST", "/jobs",
                "name: f\nsql: SELECT id FROM t\nsource: {type: file, path: x, name: t, schema: "
                "{id: BIGINT}}\nsink: {type: stdout}\n");
  r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body, "source.type: sluice serve runs jobs that read a kafka topic"));
  CHECK(contains(r.body, "sink.type: sluice serve writes to kafka topics"));

  // A name the jobs directory's scan would skip (a dot file), and one the loader refuses.
  std::string hidden = kValidJob;
  hidden.replace(hidden.find("good"), 4, ".hidden");
  req = request("POST", "/jobs", hidden);
  r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body,
                 "request:1:7: name: '.hidden' is not a valid job name (use 1 to 200 "
                 "letters, digits, '.', '_' and '-', not starting with '.' or '-')"));
  std::string slash = kValidJob;
  slash.replace(slash.find("good"), 4, "'../x'");
  req = request("POST", "/jobs", slash);
  r = s.dispatch(req);
  CHECK(r.status == 400);
  CHECK(contains(r.body, "request:1:7: name: '../x' is not a valid job name"));
  CHECK(fs::is_empty(dir.path));

  // Valid: written as good.yaml (201), then replaced (200); the JSON shows no kafka property.
  req = request("POST", "/jobs", kValidJob);
  r = s.dispatch(req);
  CHECK(r.status == 201);
  CHECK(contains(r.body, "\"name\": \"good\""));
  CHECK(contains(r.body, "\"state\": \"starting\""));
  CHECK_FALSE(contains(r.body, "hunter2"));
  CHECK(read_file(dir.path / "good.yaml") == kValidJob);
  std::string changed = std::string(kValidJob) + "# v2\n";
  req = request("POST", "/jobs", changed);
  r = s.dispatch(req);
  CHECK(r.status == 200);
  CHECK(read_file(dir.path / "good.yaml") == changed);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    CHECK(e.path().filename() == "good.yaml");  // no temporary file left
    ++files;
  }
  CHECK(files == 1);

  // Unknown jobs (the manager has not scanned: it knows none).
  for (auto [method, target] :
       {std::pair{"DELETE", "/jobs/nope"}, std::pair{"POST", "/jobs/nope/pause"},
        std::pair{"POST", "/jobs/nope/resume"}}) {
    req = request(method, target);
    r = s.dispatch(req);
    CHECK(r.status == 404);
    CHECK(r.body == "{\"error\": \"no job named 'nope'\"}\n");
  }
}

TEST_CASE("POST /jobs: no environment, no refused property, no value in the 400",
          "[admin][security]") {
  TempDir dir;
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  boost::asio::io_context io;
  JobManager jobs(io, server, {});
  http::HttpServer s(io);
  http::add_job_admin_routes(s, jobs, {});
  const std::string secret = "tok-9Xw2-secret";
  ::setenv("SLUICE_ADMIN_TEST_TOKEN", secret.c_str(), 1);
  ::setenv("SLUICE_ADMIN_TEST_JOB_TOPIC", "orders", 1);
  auto post = [&](const std::string& kafka) {
    auto req = request("POST", "/jobs",
                       "name: p\nsql: SELECT id FROM t\nsource: {type: kafka, topic: p-in, name: "
                       "t, schema: {id: BIGINT}}\nsink: {type: kafka, topic: p-out}\nkafka:\n" +
                           kafka);
    return s.dispatch(req);
  };
  // The daemon's environment is not read, with or without a default.
  auto r = post("  client.rack: ${SLUICE_ADMIN_TEST_TOKEN}\n");
  CHECK(r.status == 400);
  CHECK(contains(r.body,
                 "request:6:16: kafka.client.rack: '${SLUICE_ADMIN_TEST_TOKEN}': the "
                 "admin API does not substitute environment variables in posted jobs"));
  CHECK(post("  client.rack: ${SLUICE_ADMIN_TEST_TOKEN:-x}\n").status == 400);
  CHECK(post("  client.rack: ${SLUICE_ADMIN_TEST_JOB_TOPIC}\n").status == 400);
  // A property that runs a command, and one whose value librdkafka refuses: 400, no value.
  r = post("  sasl.kerberos.kinit.cmd: touch /tmp/x-" + secret + "\n");
  CHECK(r.status == 400);
  CHECK(contains(r.body, "request:6:3: kafka.sasl.kerberos.kinit.cmd: not allowed in a job file"));
  r = post("  compression.type: " + secret + "\n");
  CHECK(r.status == 400);
  CHECK(contains(r.body, "request:6:21: kafka.compression.type: librdkafka refused the value"));
  CHECK_FALSE(contains(r.body, secret));
  CHECK(fs::is_empty(dir.path));
  // $$ is a literal: accepted, and written as posted.
  r = post("  client.rack: $${SLUICE_ADMIN_TEST_TOKEN}\n");
  CHECK(r.status == 201);
  CHECK(contains(read_file(dir.path / "p.yaml"), "client.rack: $${SLUICE_ADMIN_TEST_TOKEN}\n"));
  // The scan loads the written file with the process environment: it expands nothing more.
  auto loaded = config::load_job_file((dir.path / "p.yaml").string());
  CHECK(loaded.kafka == config::KafkaProperties{{"client.rack", "${SLUICE_ADMIN_TEST_TOKEN}"}});

  // With http.job_env_prefix, the variables named with it (only those).
  server.http_job_env_prefix = "SLUICE_ADMIN_TEST_JOB_";
  CHECK(post("  client.rack: ${SLUICE_ADMIN_TEST_JOB_TOPIC}\n").status == 200);
  loaded = config::load_job_file((dir.path / "p.yaml").string());
  CHECK(loaded.kafka == config::KafkaProperties{{"client.rack", "orders"}});
  r = post("  client.rack: ${SLUICE_ADMIN_TEST_TOKEN}\n");
  CHECK(r.status == 400);
  CHECK(contains(r.body,
                 "posted jobs may read only the environment variables whose names start "
                 "with 'SLUICE_ADMIN_TEST_JOB_'"));
  // A prefix that reaches a secret of the server config is refused at startup.
  CHECK_NOTHROW(http::check_job_env_prefix("SLUICE_ADMIN_TEST_JOB_", {secret}));
  CHECK_NOTHROW(http::check_job_env_prefix("", {"orders"}));
  CHECK_THROWS_WITH(http::check_job_env_prefix("SLUICE_ADMIN_TEST_", {secret}),
                    Catch::Contains("environment variable SLUICE_ADMIN_TEST_TOKEN starts with "
                                    "'SLUICE_ADMIN_TEST_' and holds a secret") &&
                        !Catch::Contains(secret));
  ::unsetenv("SLUICE_ADMIN_TEST_TOKEN");
  ::unsetenv("SLUICE_ADMIN_TEST_JOB_TOPIC");
}

TEST_CASE("admin routes require the token when one is configured", "[admin]") {
  TempDir dir;
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  boost::asio::io_context io;
  JobManager jobs(io, server, {});
  http::HttpServer s(io);
  http::add_job_admin_routes(s, jobs, {"tok", true});
  for (auto [method, target] :
       {std::pair{"POST", "/jobs"}, std::pair{"DELETE", "/jobs/x"},
        std::pair{"POST", "/jobs/x/pause"}, std::pair{"POST", "/jobs/x/resume"}}) {
    auto req = request(method, target, kValidJob);
    CHECK(s.dispatch(req).status == 401);
    req = request(method, target, kValidJob, "Bearer nope");
    CHECK(s.dispatch(req).status == 403);
  }
  CHECK(fs::is_empty(dir.path));
  auto req = request("POST", "/jobs", kValidJob, "Bearer tok");
  CHECK(s.dispatch(req).status == 201);
  req = request("POST", "/jobs/x/pause", "", "Bearer tok");
  CHECK(s.dispatch(req).status == 404);
}

TEST_CASE("admin: 409 for a name another file defines; DELETE removes the file and the job",
          "[admin]") {
  TempDir dir;
  // A job file the daemon cannot run (SQL error), whose name is `dup`: known, not running.
  std::ofstream(dir.path / "other.yml")
      << "name: dup\nsql: SELECT nope FROM t\nsource: {type: kafka, topic: a, name: t, schema: "
         "{id: BIGINT}}\nsink: {type: kafka, topic: b}\n";
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  JobManagerOptions options;
  options.scan_interval_ms = 100;
  test::JobManagerRig rig(server, options);
  JobManager& jobs = rig.jobs;
  boost::asio::io_context& io = rig.io;
  auto known = [&](const std::string& name) {
    for (const auto& st : jobs.status())
      if (st.name == name) return true;
    return false;
  };
  REQUIRE(eventually([&] { return known("dup"); }));

  http::HttpServer s(io);
  http::add_job_admin_routes(s, jobs, {});
  std::string same_name = kValidJob;
  same_name.replace(same_name.find("good"), 4, "dup");
  auto req = request("POST", "/jobs", same_name);
  auto r = s.dispatch(req);
  CHECK(r.status == 409);
  CHECK(contains(r.body, "other.yml"));
  CHECK_FALSE(fs::exists(dir.path / "dup.yaml"));

  req = request("POST", "/jobs/dup/pause");
  r = s.dispatch(req);
  CHECK(r.status == 409);
  CHECK(contains(r.body, "is not running"));

  req = request("DELETE", "/jobs/dup");
  r = s.dispatch(req);
  CHECK(r.status == 202);
  CHECK(r.body == "{\"status\": \"stopping\"}\n");
  CHECK_FALSE(fs::exists(dir.path / "other.yml"));
  CHECK(eventually([&] { return !known("dup"); }));
  req = request("DELETE", "/jobs/dup");
  CHECK(s.dispatch(req).status == 404);

  CHECK(rig.shutdown());
}

TEST_CASE("POST /jobs: 409 for a consumer group a running job uses; 400 for a bad name",
          "[admin][kafka]") {
  devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"tb", 1}});
  TempDir dir;
  const std::string b_job =
      "name: b\nsql: SELECT id FROM t\nsource: {type: kafka, topic: tb, name: t, schema: {id: "
      "BIGINT}}\nsink: {type: kafka, topic: tb-out}\n";
  std::ofstream(dir.path / "b.yaml") << b_job;
  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  server.kafka = {{"bootstrap.servers", bootstrap}};
  JobManagerOptions options;
  options.scan_interval_ms = 100;
  test::JobManagerRig rig(server, options);
  JobManager& jobs = rig.jobs;
  boost::asio::io_context& io = rig.io;
  auto running = [&](const std::string& name) {
    for (const auto& st : jobs.status())
      if (st.name == name && st.state != JobState::kInvalid) return true;
    return false;
  };
  REQUIRE(eventually([&] { return running("b"); }));

  http::HttpServer s(io);
  http::add_job_admin_routes(s, jobs, {});
  // Job a in b's group (b's default group is its name): refused, naming b and its file.
  std::string a_job = kValidJob;
  a_job.replace(a_job.find("good"), 4, "a");
  a_job += "group_id: b\n";
  auto req = request("POST", "/jobs", a_job);
  auto r = s.dispatch(req);
  INFO(r.body);
  CHECK(r.status == 409);
  CHECK(contains(r.body, "request:6:11: group_id: consumer group 'b' is also used by job 'b' (" +
                             (dir.path / "b.yaml").string() + ")"));
  CHECK_FALSE(fs::exists(dir.path / "a.yaml"));
  // Replacing b itself is no conflict; another group is fine.
  req = request("POST", "/jobs", b_job + "# v2\n");
  CHECK(s.dispatch(req).status == 200);
  a_job.replace(a_job.find("group_id: b"), 11, "group_id: a-group");
  req = request("POST", "/jobs", a_job);
  CHECK(s.dispatch(req).status == 201);
  CHECK(fs::exists(dir.path / "a.yaml"));

  // Names the loader refuses, with the same message as `sluice validate` and the daemon.
  for (const char* bad : {".", "..", "-x"}) {
    std::string job = kValidJob;
    job.replace(job.find("good"), 4, std::string("'") + bad + "'");
    req = request("POST", "/jobs", job);
    r = s.dispatch(req);
    CHECK(r.status == 400);
    CHECK(contains(r.body, std::string("request:1:7: name: '") + bad +
                               "' is not a valid job name (use 1 to 200 letters, digits, '.', '_' "
                               "and '-', not starting with '.' or '-')"));
  }

  CHECK(rig.shutdown());
}

TEST_CASE("KafkaJob::pause: nothing is read while paused, everything arrives after resume",
          "[kafka][admin]") {
  devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}});
  kafka_testing::Producer producer(bootstrap);
  auto produce = [&](int first, int n) {
    for (int i = first; i < first + n; ++i)
      producer.produce("in", "k" + std::to_string(i % 7), "{\"id\":" + std::to_string(i) + "}");
    producer.flush(std::chrono::seconds(10));
  };
  produce(0, 200);

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&] { io.run(); });
  auto cfg = std::make_shared<config::JobConfig>(config::load_job_text(
      "name: p\nsql: SELECT id FROM t\nsource: {type: kafka, topic: in, name: t, schema: {id: "
      "BIGINT}}\nsink: {type: kafka, topic: out}\nkafka: {auto.offset.reset: earliest, "
      "session.timeout.ms: 6000, fetch.wait.max.ms: 10}\n",
      "p.yaml"));
  auto job = std::make_unique<kafka::KafkaJob>(
      io, cfg, config::KafkaProperties{{"bootstrap.servers", bootstrap}}, 1);
  auto wait_for = [&](auto done, std::chrono::seconds timeout) {
    JobStatus st;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      st = job->status();
      if (done(st)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return st;
  };

  // Paused before its partitions are assigned: they start paused.
  job->pause(true);
  job->start();
  JobStatus st = wait_for(
      [](const JobStatus& s) { return s.state == JobState::kRunning && s.partitions.size() == 2; },
      std::chrono::seconds(30));
  REQUIRE(st.partitions.size() == 2);
  CHECK(st.paused);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(job->status().counts.records_in == 0);

  job->pause(false);
  st = wait_for([](const JobStatus& s) { return s.counts.records_out == 200; },
                std::chrono::seconds(30));
  CHECK(st.counts.records_out == 200);
  CHECK_FALSE(st.paused);

  // Paused while running.
  job->pause(true);
  CHECK(job->status().paused);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the pipelines' strands
  produce(200, 300);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(job->status().counts.records_in == 200);
  job->pause(false);
  st = wait_for([](const JobStatus& s) { return s.counts.records_out == 500; },
                std::chrono::seconds(30));
  CHECK(st.counts.records_in == 500);
  CHECK(st.counts.records_out == 500);

  // A paused job stops normally.
  job->pause(true);
  std::atomic<bool> stopped{false};
  job->stop([&] { stopped = true; });
  CHECK(eventually([&] { return stopped.load(); }, std::chrono::seconds(30)));
  CHECK(job->status().state == JobState::kStopped);
  job.reset();
  work.reset();
  for (auto& t : threads)
    t.join();

  auto out = kafka_testing::consume(bootstrap, "out", 2, 500, std::chrono::seconds(15));
  std::set<std::string> values;
  for (const auto& m : out)
    values.insert(m.value);
  CHECK(values.size() == 500);
}

TEST_CASE("sluice status: URLs and the table", "[admin]") {
  std::string error;
  auto u = net::parse_http_url("http://127.0.0.1:9464", &error);
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == "9464");
  CHECK(u->path.empty());
  u = net::parse_http_url("http://[::1]:80/admin/", &error);
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->path == "/admin");
  CHECK(net::parse_http_url("http://localhost", &error)->port == "80");
  CHECK_FALSE(net::parse_http_url("https://x:1", &error));
  CHECK_FALSE(net::parse_http_url("http://x:0", &error));
  CHECK_FALSE(net::parse_http_url("http://:80", &error));

  // Nothing listens on port 1: a clear error.
  try {
    net::http_get(*net::parse_http_url("http://127.0.0.1:1", &error), "/jobs");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "cannot reach http://127.0.0.1:1: "));
  }

  // The command: usage errors exit 2, an unreachable daemon 1 with a clear message.
  std::ostringstream out, err;
  CHECK(run_status_command({"--url", "ftp://x"}, out, err) == 2);
  CHECK(contains(err.str(), "--url 'ftp://x': expected http://HOST:PORT"));
  CHECK(run_status_command({"--watch", "0"}, out, err) == 2);
  CHECK(run_status_command({"--bogus"}, out, err) == 2);
  err.str("");
  CHECK(run_status_command({"--url", "http://127.0.0.1:1"}, out, err) == 1);
  CHECK(contains(err.str(), "sluice status: cannot reach http://127.0.0.1:1: "));
  CHECK(run_status_command({"--help"}, out, err) == 0);
  CHECK(contains(out.str(), "usage: sluice status"));

  auto job = [](const char* name, const char* state, bool paused, int in, int out,
                const char* error) {
    return fmt::format(
        "{{\"name\": \"{}\", \"state\": \"{}\", \"paused\": {}, \"error\": {}, \"counts\": "
        "{{\"records_in\": {}, \"records_out\": {}, \"rejected\": 3}}, \"latency_seconds\": "
        "{{\"count\": 5, \"p50\": 0.0021, \"p90\": 0.01, \"p99\": 0.25}}, \"partitions\": "
        "[{{\"lag\": 5}}, {{\"lag\": null}}, {{\"lag\": 7}}]}}",
        name, state, paused ? "true" : "false", error, in, out);
  };
  std::string before = "{\"jobs\": [" + job("a", "running", false, 1000, 900, "null") + "]}";
  std::string now = "{\"jobs\": [" + job("a", "running", true, 3000, 2900, "null") + ", " +
                    job("b", "failed", false, 10, 0, "\"boom\\nsecond line\"") + "]}";
  std::string table = status_table(now, {}, 0);
  CHECK(contains(table, "IN "));
  CHECK(contains(table, "PARTS"));
  CHECK(contains(table, "a                    paused         3000      2900    2.1ms  250.0ms"));
  CHECK(contains(table, "        12     3         3  -\n"));
  CHECK(contains(table, "b                    failed"));
  CHECK(contains(table, "  boom\n"));
  CHECK_FALSE(contains(table, "second line"));
  table = status_table(now, before, 2.0);
  CHECK(contains(table, "IN/S"));
  CHECK(contains(table, "a                    paused         1000      1000"));
  CHECK(contains(table, "b                    failed            -         -"));
  CHECK(status_table("{\"jobs\": []}", {}, 0).find("(no jobs)") != std::string::npos);
  // A running job restoring the state of some partition shows as restoring.
  std::string restoring = job("c", "running", false, 0, 0, "null");
  restoring.insert(restoring.size() - 1, ", \"restoring\": [{\"partition\": 1}]");
  CHECK(contains(status_table("{\"jobs\": [" + restoring + "]}", {}, 0),
                 "c                    restoring"));
  CHECK_THROWS_AS(status_table("<html>", {}, 0), Error);
}
