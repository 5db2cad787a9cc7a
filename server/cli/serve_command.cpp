#include "server/cli/serve_command.hpp"

#include "config/server_config.hpp"
#include "server/app/daemon.hpp"
#include "server/cli/listen_option.hpp"
#include "server/devtools/embedded_kafka.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <ostream>

namespace sluice::server {
namespace {

constexpr const char* kServeUsage =
    R"(usage: sluice serve --config FILE [--embedded-kafka] [--status-interval SECONDS]
                    [--threads N] [--http-listen HOST:PORT]
                    [--log-level trace|debug|info|warn|error] [--log-format text|json]

Runs every job file in the config's jobs_dir against Kafka until SIGTERM/SIGINT (then drains,
commits and exits 0). SIGHUP rescans the jobs directory; it is also rescanned every second.
  --config FILE            the server config (kafka defaults, jobs_dir, threads, ...)
  --embedded-kafka         start a Kafka-protocol test broker inside the daemon and use it for
                           every job; prints `bootstrap: HOST:PORT` as the first stdout line
  --status-interval S      print a status line per job every S seconds on stdout
  --threads N              overrides the config's `threads`
  --http-listen HOST:PORT  the admin API and /metrics (overrides the config's http.listen,
                           default 127.0.0.1:9464); port 0 takes a free port, which the log line
                           `http: listening on HOST:PORT` names
  --log-level LEVEL        default info; logs go to stderr
  --log-format text|json   text (default) or one JSON object per line: time, level, message,
                           and job / partition on the lines about one
)";

}  // namespace

bool setup_logging(const std::string& level, LogFormat format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_logger_mt("sluice");
  spdlog::set_default_logger(logger);
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(make_json_log_formatter());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  spdlog::set_level(lvl);
  spdlog::flush_on(spdlog::level::trace);
  return true;
}

int run_serve_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string config_file;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  DaemonOptions options;
  auto usage = [&](const std::string& msg) {
    err << "sluice serve: " << msg << "\n\n" << kServeUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out << kServeUsage;
      return 0;
    }
    if (a == "--embedded-kafka") {
      options.embedded_kafka = std::make_shared<devtools::MockEmbeddedKafka>();
      continue;
    }
    if (a != "--config" && a != "--status-interval" && a != "--threads" && a != "--log-level" &&
        a != "--http-listen" && a != "--log-format")
      return usage(fmt::format("unknown option '{}'", a));
    if (i + 1 >= args.size()) return usage(fmt::format("{} needs a value", a));
    const std::string& v = args[++i];
    if (a == "--config") {
      config_file = v;
    } else if (a == "--log-level") {
      log_level = v;
    } else if (a == "--log-format") {
      auto f = parse_log_format(v);
      if (!f) return usage(fmt::format("--log-format '{}': expected text or json", v));
      log_format = *f;
    } else if (a == "--http-listen") {
      std::string error;
      options.http_listen = parse_listen_option(v, &error);
      if (!options.http_listen) return usage("--http-listen " + error);
    } else if (a == "--status-interval") {
      double s = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
      if (ec != std::errc() || p != v.data() + v.size() || s <= 0)
        return usage(
            fmt::format("--status-interval '{}': expected a positive number of seconds", v));
      options.status_interval_s = s;
    } else {
      unsigned n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n == 0 || n > 1024)
        return usage(fmt::format("--threads '{}': expected 1..1024", v));
      options.threads = n;
    }
  }
  if (config_file.empty()) return usage("--config is required");
  if (!setup_logging(log_level, log_format))
    return usage(fmt::format("unknown log level '{}'", log_level));
  config::ServerConfig server;
  try {
    server = config::load_server_file(config_file);
  } catch (const Error& e) {
    err << e.what() << "\n";
    return 1;
  }
  try {
    return run_daemon(std::move(server), options, out);
  } catch (const Error& e) {
    err << "sluice serve: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace sluice::server
