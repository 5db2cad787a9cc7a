// sluice_bench: runs the seed scenarios (S0..S3b) engine-only and full path, each measured run in a
// fresh child process (fork) so that its peak RSS (ru_maxrss from wait4) is its own. Prints a table
// and one JSON line per scenario, mode and N. Usage: sluice_bench --help.

#include "common/error.hpp"
#include "server/devtools/scenarios.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "perf/bench_run.hpp"

namespace sluice::perf {
namespace {

using server::devtools::all_scenarios;

constexpr const char* kUsage =
    "usage: sluice_bench [--scenarios S0,S1,S2,S3a,S3b] [--n 5000,1000000] [--modes "
    "engine,full,avro]\n"
    "                    [--repeat 5] [--no-fork]\n"
    "Each (scenario, mode, N) runs --repeat times, each run in a fresh forked child; the table\n"
    "shows the median rate over the runs and the largest peak RSS. --no-fork runs in-process\n"
    "(for profilers; the RSS column is then the whole process's).\n";

struct Options {
  std::vector<std::string> scenarios;
  std::vector<int64_t> sizes{5000, 1000000};
  std::vector<Mode> modes{Mode::kEngine, Mode::kFull};
  int repeat = 5;
  bool fork = true;
};

// What a child sends back through its pipe.
struct RunResult {
  Measurement m;
  long peak_rss_kb = 0;
  bool ok = false;
  bool crashed = false;  // the child died: a bug, not an unsupported query
  char error[512] = {};
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

Options parse_args(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) throw Error(ErrorCode::kUsage, arg + " needs a value");
      return argv[++a];
    };
    if (arg == "--scenarios") {
      o.scenarios = split(value());
    } else if (arg == "--n") {
      o.sizes.clear();
      for (const auto& v : split(value()))
        o.sizes.push_back(std::stoll(v));
    } else if (arg == "--modes") {
      o.modes.clear();
      for (const auto& v : split(value())) {
        if (v != "engine" && v != "full" && v != "avro")
          throw Error(ErrorCode::kUsage, "unknown mode " + v);
        o.modes.push_back(v == "engine" ? Mode::kEngine : v == "full" ? Mode::kFull : Mode::kAvro);
      }
    } else if (arg == "--repeat") {
      o.repeat = std::max(1, std::stoi(value()));
    } else if (arg == "--no-fork") {
      o.fork = false;
    } else {
      throw Error(ErrorCode::kUsage, "unknown argument " + arg);
    }
  }
  return o;
}

RunResult run_here(const Scenario& s, Mode mode, int64_t n) {
  RunResult r;
  try {
    r.m = run_scenario(s, mode, n);
    r.ok = true;
  } catch (const std::exception& e) {
    std::snprintf(r.error, sizeof(r.error), "%s", e.what());
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_kb = ru.ru_maxrss;
  return r;
}

RunResult run_forked(const Scenario& s, Mode mode, int64_t n) {
  int fds[2];
  if (pipe(fds) != 0) throw Error(ErrorCode::kIo, "pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw Error(ErrorCode::kIo, "fork failed");
  if (pid == 0) {
    close(fds[0]);
    RunResult r = run_here(s, mode, n);
    ssize_t w = write(fds[1], &r, sizeof(r));
    _exit(w == static_cast<ssize_t>(sizeof(r)) ? 0 : 1);
  }
  close(fds[1]);
  RunResult r;
  size_t got = 0;
  while (got < sizeof(r)) {
    ssize_t k = read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof(r) - got);
    if (k <= 0) break;
    got += static_cast<size_t>(k);
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  if (got != sizeof(r)) {
    r = RunResult{};
    r.crashed = true;
    if (WIFSIGNALED(status)) {
      std::snprintf(r.error, sizeof(r.error), "killed by signal %d (%s)", WTERMSIG(status),
                    strsignal(WTERMSIG(status)));
    } else {
      std::snprintf(r.error, sizeof(r.error), "child exited with status %d", WEXITSTATUS(status));
    }
    return r;
  }
  r.peak_rss_kb = ru.ru_maxrss;  // the child's own high-water mark
  return r;
}

struct Summary {
  const Scenario* s = nullptr;
  Mode mode = Mode::kEngine;
  int64_t n = 0;
  int runs = 0;
  std::string error;
  bool crashed = false;
  Measurement m;  // of the median run (by CPU rate)
  double cpu_rate = 0, wall_rate = 0;
  long peak_rss_kb = 0, rss_before_kb = 0;
  double target = 0;
};

double rate(uint64_t rows, double seconds) {
  return seconds > 0 ? static_cast<double>(rows) / seconds : 0;
}

Summary measure(const Scenario& s, Mode mode, int64_t n, const Options& o) {
  Summary sum;
  sum.s = &s;
  sum.mode = mode;
  sum.n = n;
  sum.target = mode == Mode::kEngine ? s.engine_target : mode == Mode::kFull ? s.full_target : 0;
  std::vector<RunResult> runs;
  for (int k = 0; k < o.repeat; ++k) {
    RunResult r = o.fork ? run_forked(s, mode, n) : run_here(s, mode, n);
    if (!r.ok) {
      sum.error = r.error;
      sum.crashed = r.crashed;
      return sum;
    }
    runs.push_back(r);
  }
  std::sort(runs.begin(), runs.end(), [](const RunResult& a, const RunResult& b) {
    return a.m.cpu_seconds < b.m.cpu_seconds;
  });
  const RunResult& med = runs[runs.size() / 2];
  sum.runs = static_cast<int>(runs.size());
  sum.m = med.m;
  sum.cpu_rate = rate(med.m.rows_in, med.m.cpu_seconds);
  std::vector<double> walls;
  for (const auto& r : runs) {
    walls.push_back(r.m.wall_seconds);
    sum.peak_rss_kb = std::max(sum.peak_rss_kb, r.peak_rss_kb);
    sum.rss_before_kb = std::max(sum.rss_before_kb, r.m.rss_before_kb);
  }
  std::sort(walls.begin(), walls.end());
  sum.wall_rate = rate(med.m.rows_in, walls[walls.size() / 2]);
  return sum;
}

std::string mode_name(Mode m) {
  return m == Mode::kEngine ? "engine" : m == Mode::kFull ? "full" : "avro";
}

std::string mrate(double r) {
  return fmt::format("{:.2f}M", r / 1e6);
}

std::string verdict(const Summary& x, uint64_t expected) {
  if (!x.error.empty()) return x.crashed ? "CRASHED" : "unsupported";
  if (x.m.rows_out != expected || x.m.rejected != 0) return "WRONG OUTPUT";
  if (x.target <= 0) return "-";
  return x.cpu_rate >= x.target ? "pass" : "FAIL";
}

void print_row(const Summary& x) {
  uint64_t expected = x.s->expected_rows(x.n);
  std::string mode = mode_name(x.mode);
  if (!x.error.empty()) {
    std::string msg = x.error.substr(0, x.error.find('\n'));
    fmt::print("{:<4} {:<7} {:>9}  {}: {}\n", x.s->id, mode, x.n,
               x.crashed ? "CRASHED" : "unsupported", msg);
    return;
  }
  std::string target = x.target > 0 ? ">= " + mrate(x.target) : "-";
  fmt::print("{:<4} {:<7} {:>9} {:>9} {:>10} {:>10} {:>9.1f} {:>9.1f} {:>9}  {}\n", x.s->id, mode,
             x.n, x.m.rows_out, mrate(x.cpu_rate), mrate(x.wall_rate), x.peak_rss_kb / 1024.0,
             (x.peak_rss_kb - x.rss_before_kb) / 1024.0, target, verdict(x, expected));
}

std::string json_line(const Summary& x) {
  uint64_t expected = x.s->expected_rows(x.n);
  std::string mode = mode_name(x.mode);
  std::string head =
      fmt::format(R"({{"bench":"sluice","scenario":"{}","title":"{}","mode":"{}","n":{},)", x.s->id,
                  x.s->title, mode, x.n);
  if (!x.error.empty()) {
    std::string msg;
    for (char c : x.error.substr(0, x.error.find('\n'))) {
      if (c == '"' || c == '\\') msg.push_back('\\');
      if (static_cast<unsigned char>(c) >= 0x20) msg.push_back(c);
    }
    return head + fmt::format(R"("status":"{}","error":"{}"}})",
                              x.crashed ? "crashed" : "unsupported", msg);
  }
  return head + fmt::format(
                    R"("status":"{}","runs":{},"rows_in":{},"rows_out":{},"expected_rows_out":{},)"
                    R"("rejected":{},"bytes_in":{},"bytes_out":{},"cpu_seconds":{:.6f},)"
                    R"("wall_seconds":{:.6f},"records_per_cpu_second":{:.0f},)"
                    R"("records_per_wall_second":{:.0f},"peak_rss_kb":{},"rss_before_kb":{},)"
                    R"("minor_faults":{},"target_per_core":{:.0f}}})",
                    verdict(x, expected), x.runs, x.m.rows_in, x.m.rows_out, expected, x.m.rejected,
                    x.m.bytes_in, x.m.bytes_out, x.m.cpu_seconds, x.m.wall_seconds, x.cpu_rate,
                    x.wall_rate, x.peak_rss_kb, x.m.rss_before_kb, x.m.minor_faults, x.target);
}

int run(const Options& o) {
  std::vector<const Scenario*> chosen;
  for (const auto& s : all_scenarios()) {
    if (o.scenarios.empty() ||
        std::find(o.scenarios.begin(), o.scenarios.end(), s.id) != o.scenarios.end())
      chosen.push_back(&s);
  }
  fmt::print("sluice_bench: median of {} run(s) by CPU time, each in a {}\n", o.repeat,
             o.fork ? "fresh child process" : "the same process");
  fmt::print("{:<4} {:<7} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9}  {}\n", "id", "mode", "N",
             "rows out", "rec/s CPU", "rec/s wall", "peak MiB", "grow MiB", "target", "result");
  std::vector<Summary> all;
  for (const Scenario* s : chosen) {
    for (Mode mode : o.modes) {
      for (int64_t n : o.sizes) {
        all.push_back(measure(*s, mode, n, o));
        print_row(all.back());
        std::fflush(stdout);
      }
    }
  }
  fmt::print("\n");
  for (const auto& x : all)
    fmt::print("{}\n", json_line(x));
  return 0;
}

}  // namespace
}  // namespace sluice::perf

int main(int argc, char** argv) {
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--help") == 0 || std::strcmp(argv[a], "-h") == 0) {
      std::fputs(sluice::perf::kUsage, stdout);
      return 0;
    }
  }
  try {
    return sluice::perf::run(sluice::perf::parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice_bench: %s\n%s", e.what(), sluice::perf::kUsage);
    return 2;
  }
}
