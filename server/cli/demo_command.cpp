#include "server/cli/demo_command.hpp"

#include "config/server_config.hpp"
#include "server/app/daemon.hpp"
#include "server/cli/gen_command.hpp"
#include "server/cli/listen_option.hpp"
#include "server/cli/serve_command.hpp"
#include "server/devtools/embedded_kafka.hpp"
#include "server/devtools/generator.hpp"
#include "server/devtools/scenarios.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <thread>

namespace sluice::server {
namespace {

constexpr const char* kDemoUsage =
    R"(usage: sluice demo [--scenarios S0,S1,S2,S3a,S3b] [--rate R] [--duration SECONDS]
                   [--threads N] [--http-listen HOST:PORT] [--log-level LEVEL]
                   [--log-format text|json]

The live demo: an embedded Kafka-protocol broker, a generator producing each scenario's trade
data at R records/s (default 20000), the scenario jobs running in the daemon, and a status line
per job every second, until Ctrl-C (or --duration seconds). The admin API and Prometheus metrics
are served on --http-listen (default 127.0.0.1:9464, or a free port when that one is taken: the
log line `http: listening on HOST:PORT` names it). Logs go to stderr as text, or one JSON
object per line with --log-format json.
)";

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <typename T>
bool parse_number(const std::string& v, T& out) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size();
}

// Produces one scenario's records at `rate` until `stop`, in one-second chunks.
void generate(const devtools::Scenario& s, std::string bootstrap, double rate,
              const std::atomic<bool>& stop) {
  try {
    devtools::TopicGenerator gen(s, bootstrap, lower(s.id) + "-in", {{"compression.type", "lz4"}});
    int64_t next = 0;
    auto chunk = static_cast<int64_t>(std::max(1.0, rate));
    while (!stop.load()) {
      auto r = gen.produce(next, chunk, rate, stop, std::chrono::seconds(2));
      next += static_cast<int64_t>(r.produced);
      if (!r.ok() && !stop.load())
        spdlog::warn("demo generator {}: {} delivery errors: {}", s.id, r.delivery_errors,
                     r.first_error);
    }
  } catch (const Error& e) {
    spdlog::error("demo generator {}: {}", s.id, e.what());
  }
}

}  // namespace

int run_demo_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> ids = {"S0", "S1", "S2", "S3a", "S3b"};
  double rate = 20000;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  DaemonOptions options;
  options.embedded_kafka = std::make_shared<devtools::MockEmbeddedKafka>();
  options.status_interval_s = 1;
  options.http_fallback_to_free_port = true;
  auto usage = [&](const std::string& msg) {
    err << "sluice demo: " << msg << "\n\n" << kDemoUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out << kDemoUsage;
      return 0;
    }
    if (a != "--scenarios" && a != "--rate" && a != "--duration" && a != "--threads" &&
        a != "--log-level" && a != "--http-listen" && a != "--log-format")
      return usage(fmt::format("unknown option '{}'", a));
    if (i + 1 >= args.size()) return usage(fmt::format("{} needs a value", a));
    const std::string& v = args[++i];
    if (a == "--scenarios") {
      ids.clear();
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = std::min(v.find(',', start), v.size());
        std::string id = v.substr(start, comma - start);
        if (devtools::find_scenario(id) == nullptr)
          return usage(fmt::format("unknown scenario '{}' (S0, S1, S2, S3a, S3b)", id));
        ids.push_back(devtools::find_scenario(id)->id);
        start = comma + 1;
      }
    } else if (a == "--rate") {
      if (!parse_number(v, rate) || rate <= 0 || rate > 1e7)
        return usage(fmt::format("--rate '{}': expected records per second, 1..10000000", v));
    } else if (a == "--duration") {
      if (!parse_number(v, options.run_for_s) || options.run_for_s <= 0)
        return usage(fmt::format("--duration '{}': expected a positive number of seconds", v));
    } else if (a == "--threads") {
      unsigned n = 0;
      if (!parse_number(v, n) || n == 0 || n > 1024)
        return usage(fmt::format("--threads '{}': expected 1..1024", v));
      options.threads = n;
    } else if (a == "--http-listen") {
      std::string error;
      options.http_listen = parse_listen_option(v, &error);
      if (!options.http_listen) return usage("--http-listen " + error);
      options.http_fallback_to_free_port = false;  // an address asked for is not replaced
    } else if (a == "--log-format") {
      auto f = parse_log_format(v);
      if (!f) return usage(fmt::format("--log-format '{}': expected text or json", v));
      log_format = *f;
    } else {
      log_level = v;
    }
  }
  if (!setup_logging(log_level, log_format))
    return usage(fmt::format("unknown log level '{}'", log_level));

  // The jobs directory: one job file per scenario, in a fresh temporary directory.
  namespace fs = std::filesystem;
  std::string dir_template = (fs::temp_directory_path() / "sluice-demo-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    err << "sluice demo: cannot create a temporary directory\n";
    return 1;
  }
  fs::path dir = dir_template;
  fs::create_directories(dir / "jobs");
  for (const auto& id : ids) {
    std::ofstream(dir / "jobs" / (lower(id) + ".yaml")) << scenario_job_yaml(id, "", "");
  }
  config::ServerConfig server;
  server.file = "(demo)";
  server.jobs_dir = (dir / "jobs").string();
  server.state_dir = (dir / "state").string();
  server.kafka = {{"session.timeout.ms", "6000"}, {"compression.type", "lz4"}};

  std::atomic<bool> stop{false};
  std::vector<std::thread> generators;
  options.broker_ready = [&](const std::string& bootstrap) {
    out << fmt::format("demo: jobs in {}; generating {} records/s per scenario; Ctrl-C stops\n",
                       server.jobs_dir, rate);
    for (const auto& id : ids) {
      generators.emplace_back(generate, std::cref(*devtools::find_scenario(id)), bootstrap, rate,
                              std::cref(stop));
    }
  };
  options.stopping = [&] { stop = true; };
  options.stopped = [&] {
    stop = true;
    for (auto& t : generators)
      t.join();
  };
  int code = 1;
  try {
    code = run_daemon(server, options, out);
  } catch (const Error& e) {
    err << "sluice demo: " << e.what() << "\n";
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return code;
}

}  // namespace sluice::server
