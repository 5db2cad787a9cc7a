#include "server/cli/cli.hpp"

#include "common/version.hpp"
#include "config/job_config.hpp"
#include "server/cli/broker_command.hpp"
#include "server/run/job_runner.hpp"

#include <fmt/format.h>

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server {
namespace {

constexpr std::string_view kUsage = R"(usage: sluice <command> [arguments]

Commands:
  run JOB.yaml          run a job over its bounded (file) source to the end, then exit;
                        prints a summary (records in/out/filtered/rejected, rate) to stderr
  validate FILE...      check job files (YAML, SQL, types) without running them
  broker [--brokers N] [--topic NAME:PARTITIONS ...]
                        run a Kafka-protocol test broker on 127.0.0.1 until SIGTERM/Ctrl-C;
                        first stdout line: bootstrap: HOST:PORT[,...] (sluice broker --help)
Options:
  -h, --help            show this help
  -V, --version         show the version

Exit codes: 0 success, 1 failure (invalid job, I/O error, on_error: fail), 2 usage error.
)";

int usage_error(std::ostream& err, const std::string& message) {
  err << "sluice: " << message << "\n\n" << kUsage;
  return 2;
}

// The SQL line an error points at, with a caret under the column.
std::string caret_excerpt(const std::string& sql, Location loc) {
  size_t line_start = 0;
  for (uint32_t l = 1; l < loc.line && line_start != std::string::npos; ++l) {
    line_start = sql.find('\n', line_start);
    if (line_start != std::string::npos) ++line_start;
  }
  if (line_start == std::string::npos) return {};
  std::string line = sql.substr(line_start, sql.find('\n', line_start) - line_start);
  std::string pad;
  for (uint32_t c = 1; c < loc.column && c - 1 < line.size(); ++c)
    pad += line[c - 1] == '\t' ? '\t' : ' ';
  return fmt::format("    {}\n    {}^\n", line, pad);
}

// Prints an error from a job file as file:line:col: key: message.
void report(const config::JobConfig* job, const std::string& file, const Error& e,
            std::ostream& err) {
  if (const auto* ce = dynamic_cast<const config::ConfigError*>(&e)) {
    for (const auto& issue : ce->issues())
      err << issue.to_string() << "\n";
    return;
  }
  bool sql_error = e.location().known() && job != nullptr;
  if (!sql_error) {
    err << file << ": " << e.what() << "\n";
    return;
  }
  config::Mark m = job->sql_to_file(e.location());
  err << fmt::format("{}:{}:{}: sql: {} [{}]\n", file, m.line, m.column, e.detail(),
                     error_code_name(e.code()));
  err << caret_excerpt(job->sql, e.location());
}

int cmd_run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() != 1) return usage_error(err, "run takes exactly one job file");
  const std::string& file = args[0];
  std::optional<config::JobConfig> job;
  try {
    job = config::load_job_file(file);
    RunStats s = run_job(*job, out);
    double rate = s.seconds > 0 ? static_cast<double>(s.records_in) / s.seconds : 0;
    double cpu_rate = s.cpu_seconds > 0 ? static_cast<double>(s.records_in) / s.cpu_seconds : 0;
    // Late records (windowed jobs) are shown when there are any; in = accepted + filtered +
    // rejected + late.
    std::string late = s.late > 0 ? fmt::format(", {} late", s.late) : std::string();
    err << fmt::format(
        "sluice: job '{}': {} in, {} out, {} filtered, {} rejected ({} dead-lettered){} in {:.3f} "
        "s ({:.0f} records/s wall, {:.0f} records/s per CPU second)\n",
        job->name, s.records_in, s.records_out, s.filtered, s.rejected, s.dead_lettered, late,
        s.seconds, rate, cpu_rate);
    return 0;
  } catch (const Error& e) {
    report(job ? &*job : nullptr, file, e, err);
    return 1;
  }
}

int cmd_validate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) return usage_error(err, "validate needs at least one job file");
  int failed = 0;
  for (const auto& file : args) {
    std::optional<config::JobConfig> job;
    try {
      job = config::load_job_file(file);
      check_job(*job);
      out << file << ": ok\n";
    } catch (const Error& e) {
      report(job ? &*job : nullptr, file, e, err);
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error(err, "missing command");
  const std::string& cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    out << kUsage;
    return 0;
  }
  if (cmd == "-V" || cmd == "--version") {
    out << "sluice " << kVersion << "\n";
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  // broker parses its own options (and its own --help).
  if (cmd == "broker") return run_broker_command(rest, out, err);
  for (const auto& a : rest) {
    if (a == "-h" || a == "--help") {
      out << kUsage;
      return 0;
    }
    if (a.size() > 1 && a[0] == '-') return usage_error(err, "unknown option '" + a + "'");
  }
  if (cmd == "run") return cmd_run(rest, out, err);
  if (cmd == "validate") return cmd_validate(rest, out, err);
  return usage_error(err, "unknown command '" + cmd + "'");
}

}  // namespace sluice::server
