#include "server/app/daemon.hpp"

#include "server/app/status_printer.hpp"
#include "server/http/admin_api.hpp"
#include "server/http/http_server.hpp"
#include "server/http/job_admin.hpp"
#include "server/jobs/job_manager.hpp"
#include "server/kafka/schema_registry.hpp"
#include "server/plan/job_plan.hpp"
#include "server/status/latency_window.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

namespace sluice::server {
namespace {

namespace asio = boost::asio;

// Binds the admin API and metrics server; a port in use is an Error (the daemon exits 1) unless
// `fallback`, which takes a free port instead.
void start_http(http::HttpServer& server, const config::HttpListen& listen, bool fallback) {
  try {
    server.listen(listen.host, listen.port);
  } catch (const Error& e) {
    if (!fallback || listen.port == 0) throw;
    spdlog::warn("{}; listening on a free port instead", e.what());
    server.listen(listen.host, 0);
  }
  bool v6 = listen.host.find(':') != std::string::npos;
  spdlog::info("http: listening on {}{}{}:{}", v6 ? "[" : "", listen.host, v6 ? "]" : "",
               server.port());
}

// What makes this daemon's transactional.ids its own and stable over its restarts: the host
// and its state directory (two daemons never share one).
std::string instance_id(const std::string& state_dir) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::error_code ec;
  std::string dir = std::filesystem::absolute(state_dir, ec).lexically_normal().string();
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : dir)
    h = (h ^ c) * 16777619u;
  return fmt::format("{}:{:08x}", host[0] ? host : "sluice", h);
}

}  // namespace

int run_daemon(config::ServerConfig server, const DaemonOptions& options, std::ostream& out) {
  const config::HttpListen http_listen = options.http_listen ? *options.http_listen : server.http;
  http::check_listen_security(http_listen.host, server.http_token);  // before anything starts
  std::vector<std::string> secrets = {server.http_token, server.schema_registry.password};
  for (const auto& [name, value] : server.kafka) {
    bool secret = name.find("password") != std::string::npos ||
                  name.find("secret") != std::string::npos || name == "ssl.key.pem";
    if (secret) secrets.push_back(value);
  }
  http::check_job_env_prefix(server.http_job_env_prefix, secrets);
  JobManagerOptions jm;
  jm.job.state_dir = server.state_dir;
  jm.job.snapshot_interval_ms = server.state_snapshot_interval_ms;
  jm.job.guarantee = server.guarantee;
  jm.job.instance = instance_id(server.state_dir);
  if (!server.schema_registry.url.empty()) {
    const auto& r = server.schema_registry;
    jm.job.registry = std::make_shared<kafka::SchemaRegistry>(
        kafka::RegistryOptions{r.url, r.username, r.password, r.timeout_ms});
    spdlog::info("schema registry: {}", r.url);
  }
  EmbeddedKafka* broker = options.embedded_kafka.get();
  if (broker != nullptr) {
    std::string bootstrap = broker->start();
    out << "bootstrap: " << bootstrap << std::endl;
    spdlog::info("embedded kafka broker on {}", bootstrap);
    std::erase_if(server.kafka, [](const auto& p) { return p.first == "bootstrap.servers"; });
    server.kafka.emplace(server.kafka.begin(), "bootstrap.servers", bootstrap);
    // The test broker answers a fetch only after fetch.wait.max.ms (default 500 ms), even when it
    // has data: wait less, or every record waits for it.
    if (std::none_of(server.kafka.begin(), server.kafka.end(),
                     [](const auto& p) { return p.first == "fetch.wait.max.ms"; }))
      server.kafka.emplace_back("fetch.wait.max.ms", "10");
    int partitions = options.embedded_partitions;
    jm.prepare_topics = [broker, partitions](const config::JobConfig& job) {
      for (const auto& topic : job_topics(job))
        broker->create_topic(topic, partitions);
    };
  }
  unsigned threads = options.threads ? *options.threads : server.effective_threads();
  if (threads == 0) threads = 1;

  asio::io_context io(static_cast<int>(threads));
  auto work = asio::make_work_guard(io);
  JobManager jobs(io, server, jm);
  http::HttpServer http_server(io);
  // p50/p90/p99 in /metrics and /jobs cover the last minute: snapshots every 5 s.
  LatencyWindows latency_windows;
  LatencySampler latency_sampler(io, latency_windows, [&jobs] { return jobs.status(); });
  http::add_admin_routes(
      http_server,
      [&jobs, &latency_windows] {
        auto status = jobs.status();
        latency_windows.apply(LatencyWindows::Clock::now(), status);
        return status;
      },
      [&jobs] { return jobs.scanned(); });
  http::add_job_admin_routes(http_server, jobs,
                             {server.http_token, http::is_loopback_host(http_listen.host)});
  start_http(http_server, options.http_listen ? *options.http_listen : server.http,
             options.http_fallback_to_free_port);
  StatusPrinter status(
      io, [&jobs] { return jobs.status(); }, options.status_interval_s, out);
  asio::steady_timer deadline(io);
  int exit_code = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point first_signal;

  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  asio::steady_timer run_for(io);
  std::function<void(const boost::system::error_code&, int)> on_signal;
  std::mutex signals_mu;  // signals_done and re-arming: handlers run on any io thread
  bool signals_done = false;
  auto rearm = [&] {
    std::lock_guard lock(signals_mu);
    if (!signals_done) signals.async_wait(on_signal);
  };
  on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      jobs.rescan();
      rearm();
      return;
    }
    run_for.cancel();
    auto now = std::chrono::steady_clock::now();
    if (stopping) {
      // A second SIGTERM/SIGINT stops waiting for the drain; one within a second of the first
      // is the same request delivered twice (e.g. to the process and to its group).
      if (now - first_signal < std::chrono::seconds(1)) {
        rearm();
        return;
      }
      spdlog::warn("second signal: exiting without waiting for the jobs to drain");
      exit_code = 1;
      io.stop();
      return;
    }
    stopping = true;
    first_signal = now;
    spdlog::info("{}: stopping every job (drain, commit)", sig == SIGINT    ? "SIGINT"
                                                           : sig == SIGTERM ? "SIGTERM"
                                                                            : "time is up");
    if (options.stopping) options.stopping();
    status.stop();
    latency_sampler.stop();
    deadline.expires_after(std::chrono::milliseconds(options.shutdown_timeout_ms));
    deadline.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      spdlog::error("jobs did not stop within {} ms", options.shutdown_timeout_ms);
      exit_code = 1;
      io.stop();
    });
    rearm();  // before the shutdown: it may finish (no jobs) before this handler returns
    jobs.shutdown([&] {
      deadline.cancel();
      {
        // No signal wait may outlive this: it would keep the io_context running forever.
        std::lock_guard lock(signals_mu);
        signals_done = true;
        signals.cancel();
      }
      http_server.stop();  // served through the drain; its handlers must leave the io_context
      work.reset();
      spdlog::info("all jobs stopped");
    });
  };
  signals.async_wait(on_signal);

  spdlog::info("sluice serve: {} threads, config {}", threads, server.file);
  if (broker != nullptr && options.broker_ready) options.broker_ready(broker->bootstrap());
  jobs.start();
  latency_sampler.start();
  if (options.status_interval_s > 0) status.start();
  if (options.run_for_s > 0) {
    run_for.expires_after(
        std::chrono::milliseconds(static_cast<int64_t>(options.run_for_s * 1000)));
    run_for.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) on_signal(ec, 0);  // as SIGTERM
    });
  }

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i)
    pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool)
    t.join();
  if (options.stopped) options.stopped();
  if (exit_code != 0) std::_Exit(exit_code);  // jobs still running: do not wait for them
  return 0;
}

}  // namespace sluice::server
