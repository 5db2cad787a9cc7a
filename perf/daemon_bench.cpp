// sluice_daemon_bench: the daemon end to end (Kafka in, Kafka out, on the in-process mock broker)
// for the seed scenarios, next to the raw consume -> produce ceiling measured in the same run
// (issue 4, perf/README.md). Prints the machine, a table, the targets, and one JSON line per row.
// Usage: sluice_daemon_bench --help.

#include "common/error.hpp"
#include "server/devtools/scenarios.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "perf/cpu_usage.hpp"
#include "perf/daemon_bench_run.hpp"

namespace sluice::perf {
namespace {

using server::devtools::Scenario;

constexpr const char* kUsage =
    "usage: sluice_daemon_bench [--scenarios S0,S1,S2,S3a,S3b] [--partitions 1,2,4]\n"
    "                           [--threads 1,2] [--n 140000] [--repeat 1] [--trace 0|1]\n"
    "                           [--queued-min-messages 10000000|default]\n"
    "                           [--preload-property NAME=VALUE ...]\n"
    "                           [--bootstrap HOST:PORT[,...] [--broker-pids PID,...]]\n"
    "For each scenario and partition count: the raw copy ceiling once, then the daemon with each\n"
    "thread count, each on a fresh in-process mock broker with N records preloaded (lz4).\n"
    "With --repeat R every measurement runs R times and the run with the median rate is shown.\n"
    "--queued-min-messages sets that consumer property on both sides (default 10000000):\n"
    "librdkafka < 2.2 stops fetching for up to 1 s once a partition has that many records\n"
    "queued (100000 by default), which a preloaded backlog hits (librdkafka issue #3662).\n"
    "--preload-property: a producer property for preloading the input (e.g. linger.ms=50).\n"
    "--bootstrap: use that Kafka cluster (e.g. scripts/kafka.sh start) instead of a mock broker\n"
    "per measurement; every measurement creates its own topics and consumer group there.\n"
    "--broker-pids: the cluster's processes; their CPU in each timed region is reported.\n"
    "--trace 1 prints the daemon's counts every 50 ms of the timed region to stderr.\n"
    "--state-dir DIR: every daemon measurement runs again with durable state (snapshots into\n"
    "DIR every --snapshot-interval-ms, default 5000), shown as <scenario>+st.\n"
    "--exactly-once 1: every daemon measurement runs again with processing.guarantee\n"
    "exactly_once (100 ms transactions; durable state too with --state-dir), shown as +eos.\n"
    "--schema-registry URL: every daemon measurement runs again with Avro values in and out\n"
    "(format: avro; the input preloaded in the wire format), shown as +avro.\n";

struct Options {
  std::vector<std::string> scenarios{"S0", "S1", "S2", "S3a", "S3b"};
  std::vector<int> partitions{1, 2, 4};
  std::vector<int> threads{1, 2};
  int64_t n = 140000;  // fits ~5 MiB per partition with lz4 at P = 1 (perf/README.md)
  int repeat = 1;
  bool trace = false;
  std::string queued_min_messages = "10000000";
  std::vector<std::pair<std::string, std::string>> preload_properties;
  std::string bootstrap;
  std::vector<int> broker_pids;
  std::string state_dir;
  int64_t snapshot_interval_ms = 5000;
  bool exactly_once = false;
  std::string registry_url;
};

struct Row {
  const Scenario* scenario = nullptr;
  int partitions = 0;
  int threads = 0;
  DaemonBenchResult raw;
  DaemonBenchResult daemon;
  bool durable = false;  // the daemon kept durable state (--state-dir)
  bool eos = false;      // exactly once (--exactly-once)
  bool avro = false;     // Avro values (--schema-registry)
  double ratio() const { return raw.rate() > 0 ? daemon.rate() / raw.rate() : 0; }
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int64_t number(const std::string& name, const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0)
    throw Error(ErrorCode::kUsage, fmt::format("{} '{}': expected a positive number", name, text));
  return v;
}

std::vector<int> numbers(const std::string& name, const std::string& text) {
  std::vector<int> out;
  for (const auto& s : split(text))
    out.push_back(static_cast<int>(number(name, s)));
  return out;
}

std::pair<std::string, std::string> property(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error(ErrorCode::kUsage, fmt::format("'{}': expected NAME=VALUE", text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 == argc) throw Error(ErrorCode::kUsage, a + ": needs a value");
    std::string v = argv[++i];
    if (a == "--scenarios")
      o.scenarios = split(v);
    else if (a == "--partitions")
      o.partitions = numbers(a, v);
    else if (a == "--threads")
      o.threads = numbers(a, v);
    else if (a == "--n")
      o.n = number(a, v);
    else if (a == "--queued-min-messages")
      o.queued_min_messages = v == "default" ? "" : std::to_string(number(a, v));
    else if (a == "--preload-property")
      o.preload_properties.push_back(property(v));
    else if (a == "--bootstrap")
      o.bootstrap = v;
    else if (a == "--broker-pids")
      o.broker_pids = numbers(a, v);
    else if (a == "--trace")
      o.trace = v == "1" || v == "true";
    else if (a == "--repeat")
      o.repeat = static_cast<int>(number(a, v));
    else if (a == "--state-dir")
      o.state_dir = v;
    else if (a == "--snapshot-interval-ms")
      o.snapshot_interval_ms = number(a, v);
    else if (a == "--exactly-once")
      o.exactly_once = v == "1" || v == "true";
    else if (a == "--schema-registry")
      o.registry_url = v;
    else
      throw Error(ErrorCode::kUsage, "unknown option " + a);
  }
  for (const auto& id : o.scenarios)
    if (server::devtools::find_scenario(id) == nullptr)
      throw Error(ErrorCode::kUsage, "unknown scenario " + id);
  return o;
}

// Runs `measure` `repeat` times and keeps the run with the median rate (a failed run wins).
template <typename F>
DaemonBenchResult median_of(int repeat, F&& measure) {
  std::vector<DaemonBenchResult> runs;
  for (int i = 0; i < repeat; ++i) {
    runs.push_back(measure());
    if (!runs.back().ok || runs.back().wrong) return runs.back();
  }
  std::sort(runs.begin(), runs.end(),
            [](const auto& a, const auto& b) { return a.rate() < b.rate(); });
  return runs[runs.size() / 2];
}

std::string status_of(const Row& r) {
  if (!r.raw.ok || !r.daemon.ok) return "error";
  if (r.raw.wrong || r.daemon.wrong) return "WRONG OUTPUT";
  double target = r.scenario->id == "S0" ? 0.8 : r.scenario->id == "S2" ? 0.7 : 0;
  if (target == 0) return "-";
  return r.ratio() >= target ? "pass" : "FAIL";
}

std::string ms(double seconds) {
  return seconds < 0 ? "-" : fmt::format("{:.0f}", seconds * 1000);
}

std::string json_row(const Row& r, int64_t n) {
  const auto& d = r.daemon;
  std::string threads_cpu;
  for (const auto& [name, s] : d.cpu_by_thread)
    threads_cpu += fmt::format("{}\"{}\":{:.3f}", threads_cpu.empty() ? "" : ",", name, s);
  std::string parts;
  for (int64_t c : d.input_per_partition)
    parts += fmt::format("{}{}", parts.empty() ? "" : ",", c);
  std::string error = r.raw.error.empty() ? d.error : "raw: " + r.raw.error;
  for (char& c : error)
    if (c == '"' || c == '\\') c = '\'';
  return fmt::format(
      "{{\"bench\":\"sluice-daemon\",\"scenario\":\"{}\",\"durable\":{},\"exactly_once\":{},"
      "\"avro\":{},"
      "\"partitions\":{},\"threads\":{},"
      "\"n\":{},\"status\":\"{}\",\"raw_records_per_second\":{:.0f},"
      "\"daemon_records_per_second\":{:.0f},\"daemon_over_raw\":{:.3f},\"raw_seconds\":{:.4f},"
      "\"raw_cpu_seconds\":{:.3f},\"daemon_seconds\":{:.4f},\"cpu_seconds\":{:.3f},"
      "\"records_per_cpu_second\":{:.0f},\"broker_cpu_seconds\":{:.3f},"
      "\"raw_broker_cpu_seconds\":{:.3f},\"p50_seconds\":{:.4f},\"p99_seconds\":{:.4f},"
      "\"records_in\":{},\"records_out\":{},\"expected_out\":{},\"output_in_topic\":{},"
      "\"input_per_partition\":[{}],\"cpu_by_thread\":{{{}}},\"transactions\":{},"
      "\"transaction_seconds\":{:.3f},\"error\":\"{}\"}}",
      r.scenario->id, r.durable, r.eos, r.avro, r.partitions, r.threads, n, status_of(r),
      r.raw.rate(), d.rate(), r.ratio(), r.raw.seconds, r.raw.cpu_seconds, d.seconds, d.cpu_seconds,
      d.rate_per_cpu(), d.broker_cpu_seconds, r.raw.broker_cpu_seconds, d.p50, d.p99, d.records_in,
      d.records_out, d.expected_out, d.output_in_topic, parts, threads_cpu, d.transactions,
      d.transaction_seconds, error);
}

void print_row(const Row& r) {
  const auto& d = r.daemon;
  double io = d.cpu_by_thread.count("sluice-io") ? d.cpu_by_thread.at("sluice-io") : 0;
  std::string broker = d.broker_cpu_seconds < 0 ? "-" : fmt::format("{:.3f}", d.broker_cpu_seconds);
  std::string label =
      r.scenario->id + (r.durable ? "+st" : "") + (r.eos ? "+eos" : "") + (r.avro ? "+avro" : "");
  std::printf("%-4s %2d %2d %10.0f %10.0f %6.1f%% %6.3f %6.3f %10.0f %8s %7s %7s  %s\n",
              label.c_str(), r.partitions, r.threads, r.raw.rate(), d.rate(), 100 * r.ratio(),
              d.cpu_seconds, io, d.rate_per_cpu(), broker.c_str(), ms(d.p50).c_str(),
              ms(d.p99).c_str(), status_of(r).c_str());
  if (d.transactions > 0)
    std::printf("     %llu transactions, %.1f ms each to commit (mean, barrier to answer)\n",
                static_cast<unsigned long long>(d.transactions),
                1000 * d.transaction_seconds / static_cast<double>(d.transactions));
  if (!r.raw.error.empty()) std::printf("     raw: %s\n", r.raw.error.c_str());
  if (!d.error.empty()) std::printf("     daemon: %s\n", d.error.c_str());
  std::fflush(stdout);
}

// 2 threads >= 1.7x 1 thread, for every scenario and partition count measured with both.
void print_scaling(const std::vector<Row>& rows) {
  std::printf("\nthread scaling (target: 2 threads >= 1.7x 1 thread)\n");
  for (const auto& a : rows) {
    if (a.threads != 1 || a.durable || a.eos || a.avro) continue;
    for (const auto& b : rows) {
      if (b.threads != 2 || b.durable || b.eos || b.avro || b.scenario != a.scenario ||
          b.partitions != a.partitions)
        continue;
      if (!a.daemon.ok || !b.daemon.ok || a.daemon.rate() == 0) continue;
      double x = b.daemon.rate() / a.daemon.rate();
      std::printf("%-4s P=%d: %.2fx  %s\n", a.scenario->id.c_str(), a.partitions, x,
                  x >= 1.7 ? "pass" : "FAIL");
    }
  }
}

// Exactly once against at least once in the same run (the same scenario, partitions, threads and
// state): the target is 90% of the throughput.
void print_eos_cost(const std::vector<Row>& rows) {
  bool header = false;
  for (const auto& e : rows) {
    if (!e.eos || e.avro || !e.daemon.ok) continue;
    for (const auto& a : rows) {
      if (a.eos || a.avro || a.scenario != e.scenario || a.partitions != e.partitions ||
          a.threads != e.threads || a.durable != e.durable || !a.daemon.ok || a.daemon.rate() == 0)
        continue;
      if (!header) std::printf("\nexactly once vs at least once (target: >= 90%%)\n");
      header = true;
      double x = e.daemon.rate() / a.daemon.rate();
      std::printf("%-4s P=%d T=%d: %.0f%%  %s\n",
                  (e.scenario->id + (e.durable ? "+st" : "")).c_str(), e.partitions, e.threads,
                  100 * x, x >= 0.9 ? "pass" : "FAIL");
    }
  }
}

// Avro against JSON in the same run (the same scenario, partitions and threads).
void print_avro_cost(const std::vector<Row>& rows) {
  bool header = false;
  for (const auto& v : rows) {
    if (!v.avro || !v.daemon.ok) continue;
    for (const auto& j : rows) {
      if (j.avro || j.eos || j.durable || j.scenario != v.scenario ||
          j.partitions != v.partitions || j.threads != v.threads || !j.daemon.ok ||
          j.daemon.rate() == 0)
        continue;
      if (!header) std::printf("\nAvro vs JSON (records/s, and records per CPU second)\n");
      header = true;
      std::printf("%-4s P=%d T=%d: %.0f%%  per CPU second %.0f%%\n", v.scenario->id.c_str(),
                  v.partitions, v.threads, 100 * v.daemon.rate() / j.daemon.rate(),
                  100 * v.daemon.rate_per_cpu() / j.daemon.rate_per_cpu());
    }
  }
}

int run(const Options& o) {
  std::printf("machine: %ld cores (nproc), %s\n", sysconf(_SC_NPROCESSORS_ONLN),
              cpu_model().c_str());
  std::printf("N = %lld records per measurement, %s, lz4 topics, queued.min.messages %s\n\n",
              static_cast<long long>(o.n),
              o.bootstrap.empty() ? "fresh in-process mock broker (1 broker) each"
                                  : ("Kafka cluster " + o.bootstrap).c_str(),
              o.queued_min_messages.empty() ? "default" : o.queued_min_messages.c_str());
  std::printf("%-4s %2s %2s %10s %10s %7s %6s %6s %10s %8s %7s %7s  %s\n", "scen", "P", "T",
              "raw r/s", "daemon r/s", "d/raw", "CPU-s", "io-s", "rec/CPU-s", "broker-s", "p50 ms",
              "p99 ms", "status");
  std::vector<Row> rows;
  for (const auto& id : o.scenarios) {
    const Scenario* s = server::devtools::find_scenario(id);
    for (int p : o.partitions) {
      DaemonBenchSetup setup;
      setup.scenario = s;
      setup.partitions = p;
      setup.n = o.n;
      setup.trace = o.trace;
      setup.queued_min_messages = o.queued_min_messages;
      setup.preload_properties = o.preload_properties;
      setup.bootstrap = o.bootstrap;
      setup.broker_pids = o.broker_pids;
      setup.snapshot_interval_ms = o.snapshot_interval_ms;
      DaemonBenchResult raw = median_of(o.repeat, [&] { return run_raw_copy(setup); });
      for (int t : o.threads) {
        Row row{s, p, t, raw, median_of(o.repeat, [&] { return run_daemon(setup, t); })};
        print_row(row);
        rows.push_back(std::move(row));
        if (!o.registry_url.empty()) {  // right after its JSON row, for the fairest ratio
          DaemonBenchSetup avro = setup;
          avro.registry_url = o.registry_url;
          Row ar{s, p, t, raw, median_of(o.repeat, [&] { return run_daemon(avro, t); })};
          ar.avro = true;
          print_row(ar);
          rows.push_back(std::move(ar));
        }
        DaemonBenchSetup durable = setup;
        if (!o.state_dir.empty()) {
          durable.state_dir = fmt::format("{}/{}-p{}-t{}", o.state_dir, id, p, t);
          Row st{s, p, t, raw, median_of(o.repeat, [&] { return run_daemon(durable, t); }), true};
          print_row(st);
          rows.push_back(std::move(st));
        }
        if (!o.exactly_once) continue;
        DaemonBenchSetup eos = durable;
        eos.exactly_once = true;
        if (!eos.state_dir.empty()) eos.state_dir += "-eos";
        Row er{s,
               p,
               t,
               raw,
               median_of(o.repeat, [&] { return run_daemon(eos, t); }),
               !eos.state_dir.empty(),
               true};
        print_row(er);
        rows.push_back(std::move(er));
      }
    }
  }
  print_scaling(rows);
  print_eos_cost(rows);
  print_avro_cost(rows);
  std::printf("\n");
  for (const auto& r : rows)
    std::printf("%s\n", json_row(r, o.n).c_str());
  bool wrong = std::any_of(rows.begin(), rows.end(),
                           [](const Row& r) { return status_of(r) == "WRONG OUTPUT"; });
  bool error =
      std::any_of(rows.begin(), rows.end(), [](const Row& r) { return status_of(r) == "error"; });
  return wrong || error ? 1 : 0;
}

}  // namespace
}  // namespace sluice::perf

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  try {
    return sluice::perf::run(sluice::perf::parse(argc, argv));
  } catch (const sluice::Error& e) {
    std::fprintf(stderr, "sluice_daemon_bench: %s\n\n%s", e.what(), sluice::perf::kUsage);
    return 2;
  }
}
