#include "perf/cpu_usage.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace sluice::perf {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  return "unknown";
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

ThreadCpuSnapshot thread_cpu() {
  ThreadCpuSnapshot out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    std::ifstream f(fmt::format("/proc/self/task/{}/stat", e->d_name));
    std::string line;
    if (!std::getline(f, line)) continue;
    auto open = line.find('(');
    auto close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string name;
    for (char c : line.substr(open + 1, close - open - 1))
      if (!std::isdigit(static_cast<unsigned char>(c))) name += c;
    // After ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime(14) stime(15).
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    uint64_t utime = 0;
    uint64_t stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    out[std::stoi(e->d_name)] = {name, utime + stime};
  }
  closedir(dir);
  return out;
}

std::map<std::string, double> cpu_by_name(const ThreadCpuSnapshot& before,
                                          const ThreadCpuSnapshot& after) {
  static const double kTick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<std::string, double> out;
  for (const auto& [tid, t] : after) {
    auto b = before.find(tid);
    uint64_t base = b != before.end() ? b->second.ticks : 0;
    out[t.name] += static_cast<double>(t.ticks - base) / kTick;
  }
  for (auto it = out.begin(); it != out.end();)
    it = it->second == 0 ? out.erase(it) : std::next(it);
  return out;
}

double other_cpu_seconds(const std::vector<int>& pids) {
  if (pids.empty()) return -1;
  static const double kTick = static_cast<double>(sysconf(_SC_CLK_TCK));
  double sum = 0;
  for (int pid : pids) {
    std::ifstream f(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(f, line) || line.rfind(')') == std::string::npos) return -1;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i)
      if (i == 14 || i == 15) sum += static_cast<double>(std::stoull(field)) / kTick;
  }
  return sum;
}

}  // namespace sluice::perf
