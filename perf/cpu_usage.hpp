#pragma once
// CPU accounting of the benchmarks: this process's CPU, per-thread CPU by thread name, and other
// processes' CPU (an external broker), read from getrusage and /proc. Plain functions; call from
// any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sluice::perf {

// The CPU's model name (/proc/cpuinfo), or "unknown".
std::string cpu_model();

// utime + stime of this process, in seconds.
double process_cpu_seconds();

// CPU ticks of every thread of this process, by thread id, with the thread's name (digits
// dropped, so "rdk:broker1" and "rdk:broker2" add up as "rdk:broker").
struct ThreadCpu {
  std::string name;
  uint64_t ticks = 0;
};
using ThreadCpuSnapshot = std::map<int, ThreadCpu>;

ThreadCpuSnapshot thread_cpu();

// CPU seconds per thread name between two snapshots (threads that used none left out).
std::map<std::string, double> cpu_by_name(const ThreadCpuSnapshot& before,
                                          const ThreadCpuSnapshot& after);

// utime + stime of other processes (an external broker), in seconds; -1 when none is given or
// one of them is gone.
double other_cpu_seconds(const std::vector<int>& pids);

// CPU counters at one instant.
struct CpuMark {
  std::chrono::steady_clock::time_point at;
  double process = 0;
  ThreadCpuSnapshot threads;
  double broker = -1;  // the external broker's CPU seconds, -1 without one
  static CpuMark now(const std::vector<int>& broker_pids) {
    return {std::chrono::steady_clock::now(), process_cpu_seconds(), thread_cpu(),
            other_cpu_seconds(broker_pids)};
  }
};

}  // namespace sluice::perf
