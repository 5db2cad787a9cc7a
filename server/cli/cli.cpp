#include "server/cli/cli.hpp"

#include "common/version.hpp"
#include "config/job_config.hpp"
#include "server/cli/broker_command.hpp"
#include "server/cli/demo_command.hpp"
#include "server/cli/gen_command.hpp"
#include "server/cli/serve_command.hpp"
#include "server/cli/status_command.hpp"
#include "server/jobs/job_conflicts.hpp"
#include "server/jobs/job_error.hpp"
#include "server/kafka/property_check.hpp"
#include "server/kafka/registry_schema.hpp"
#include "server/plan/job_plan.hpp"
#include "server/run/file_run.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server {
namespace {

constexpr std::string_view kUsage = R"(usage: sluice <command> [arguments]

Commands:
  run JOB.yaml          run a job over its bounded (file) source to the end, then exit;
                        prints a summary (records in/out/filtered/rejected, rate) to stderr
  validate [--registry URL] FILE...
                        check job files (YAML, SQL, types) without running them, and that no
                        two of them share a job name, a consumer group or a repartition topic;
                        --registry: the Schema Registry that sources without a schema read
                        their columns from (each says which version)
  demo [--scenarios S0,S2] [--rate R] [--duration S]
                        the live demo: embedded broker, generated trades, the scenario jobs
                        and a status line per job every second, until Ctrl-C
  serve --config FILE [--embedded-kafka] [--status-interval S]
                        run the jobs of the config's jobs_dir against Kafka until SIGTERM
                        (sluice serve --help)
  status [--url http://127.0.0.1:9464] [--watch [SECONDS]]
                        the jobs of a running daemon as a table (sluice status --help)
  broker [--brokers N] [--topic NAME:PARTITIONS ...]
                        run a Kafka-protocol test broker on 127.0.0.1 until SIGTERM/Ctrl-C;
                        first stdout line: bootstrap: HOST:PORT[,...] (sluice broker --help)
  gen --scenario ID --records N (--out FILE | --bootstrap HOST:PORT[,...] [--topic NAME])
                        write a benchmark scenario's records (S0..S3b) as JSON Lines or produce
                        them to Kafka; --print-job prints its Kafka job file (sluice gen --help)
Options:
  -h, --help            show this help
  -V, --version         show the version

Exit codes: 0 success, 1 failure (invalid job, I/O error, on_error: fail), 2 usage error.
)";

int usage_error(std::ostream& err, const std::string& message) {
  err << "sluice: " << message << "\n\n" << kUsage;
  return 2;
}

// Prints an error from a job file as file:line:col: key: message.
void report(const config::JobConfig* job, const std::string& file, const Error& e,
            std::ostream& err) {
  err << describe_job_error(job, file, e);
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

// Each file on its own, then against the files before it (as the daemon keeps the job that runs
// first): one name, consumer group or repartition topic claimed twice fails the later file.
int cmd_validate(std::vector<std::string> args, std::ostream& out, std::ostream& err) {
  std::string registry_url;
  if (!args.empty() && args[0] == "--registry") {
    if (args.size() < 2) return usage_error(err, "--registry needs a URL");
    registry_url = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) return usage_error(err, "validate needs at least one job file");
  std::shared_ptr<kafka::SchemaRegistry> registry;
  try {
    if (!registry_url.empty()) {
      kafka::RegistryOptions options;
      options.url = registry_url;
      registry = std::make_shared<kafka::SchemaRegistry>(options);
    }
  } catch (const Error& e) {
    err << "sluice: validate: --registry: " << e.what() << "\n";
    return 2;
  }
  int failed = 0;
  std::vector<JobClaims> earlier;
  for (const auto& file : args) {
    std::optional<config::JobConfig> job;
    try {
      job = config::load_job_file(file);
      kafka::check_job_properties(*job);
      std::string used;
      if (registry) used = kafka::read_registry_schema(*job, *registry);
      if (!used.empty()) out << file << ": source.schema: the latest schema of " << used << "\n";
      JobClaims claims = job_claims(*job, *compile_job(*job));
      std::vector<config::ConfigIssue> conflicts;
      for (const JobClaims& other : earlier) {
        auto found = find_conflicts(claims, other);
        conflicts.insert(conflicts.end(), found.begin(), found.end());
      }
      earlier.push_back(std::move(claims));
      if (!conflicts.empty()) throw config::ConfigError(std::move(conflicts));
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
  if (cmd == "gen") return run_gen_command(rest, out, err);
  if (cmd == "serve") return run_serve_command(rest, out, err);
  if (cmd == "status") return run_status_command(rest, out, err);
  if (cmd == "demo") return run_demo_command(rest, out, err);
  for (const auto& a : rest) {
    if (a == "-h" || a == "--help") {
      out << kUsage;
      return 0;
    }
    if (cmd == "validate" && a == "--registry") continue;
    if (a.size() > 1 && a[0] == '-') return usage_error(err, "unknown option '" + a + "'");
  }
  if (cmd == "run") return cmd_run(rest, out, err);
  if (cmd == "validate") return cmd_validate(rest, out, err);
  return usage_error(err, "unknown command '" + cmd + "'");
}

}  // namespace sluice::server
