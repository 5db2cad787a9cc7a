// sluice_http_flood: health-probe latency of a running daemon's admin port while a flood of idle
// and dripping connections holds it (perf/README.md, "Admin port under a connection flood").
//
//   sluice_http_flood --port P [--host 127.0.0.1] [--idle 300] [--drip 300] [--probes 200]
//                     [--interval-ms 20] [--timeout-ms 2000] [--warmup-ms 1000] [--path /healthz]
//
// Starts the flood (perf/http_flood.hpp: every closed connection reopened, at most once per
// 100 ms per slot), waits `warmup`, then sends `probes` GETs of `path`, one fresh connection each,
// `interval` apart, each with a `timeout` deadline, then as many GETs on one keep-alive
// connection. Prints a summary and one JSON line. Loopback only; every wait is bounded.

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "perf/http_flood.hpp"

namespace {

struct Result {
  int ok = 0;
  int failed = 0;
  std::map<std::string, int> failures;  // reason -> count
  std::vector<double> ms;               // latencies of the answers with status 200
};

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void record(Result& r, const sluice::perf::TimedReply& reply) {
  if (reply.status == 200) {
    ++r.ok;
    r.ms.push_back(reply.seconds * 1000);
  } else {
    ++r.failed;
    ++r.failures[reply.status ? "status " + std::to_string(reply.status) : reply.error];
  }
}

std::string summary(const char* name, const Result& r) {
  std::string failures;
  for (const auto& [why, n] : r.failures)
    failures += fmt::format("{}{}: {}", failures.empty() ? "" : ", ", why, n);
  return fmt::format(
      "{}: {} answered 200, {} failed{}{}; p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms", name, r.ok,
      r.failed, failures.empty() ? "" : " (", failures.empty() ? "" : failures + ")",
      quantile(r.ms, 0.5), quantile(r.ms, 0.99), quantile(r.ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  sluice::perf::FloodOptions flood;
  int probes = 200, interval_ms = 20, timeout_ms = 2000, warmup_ms = 1000;
  std::string path = "/healthz";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::puts(
          "usage: sluice_http_flood --port P [--host 127.0.0.1] [--idle 300] [--drip 300] "
          "[--probes 200] [--interval-ms 20] [--timeout-ms 2000] [--warmup-ms 1000] "
          "[--path /healthz]");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "sluice_http_flood: %s needs a value (--help)\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    auto number = [&](auto& out) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      if (ec != std::errc() || p != v.data() + v.size()) {
        std::fprintf(stderr, "sluice_http_flood: %s '%s': expected a number\n", a.c_str(),
                     v.c_str());
        std::exit(2);
      }
    };
    if (a == "--port")
      number(flood.port);
    else if (a == "--host")
      flood.host = v;
    else if (a == "--idle")
      number(flood.idle);
    else if (a == "--drip")
      number(flood.dripping);
    else if (a == "--probes")
      number(probes);
    else if (a == "--interval-ms")
      number(interval_ms);
    else if (a == "--timeout-ms")
      number(timeout_ms);
    else if (a == "--warmup-ms")
      number(warmup_ms);
    else if (a == "--path")
      path = v;
    else {
      std::fprintf(stderr, "sluice_http_flood: unknown option '%s' (--help)\n", a.c_str());
      return 2;
    }
  }
  if (flood.port == 0) {
    std::fprintf(stderr, "sluice_http_flood: --port is required (--help)\n");
    return 2;
  }
  auto timeout = std::chrono::milliseconds(timeout_ms);
  Result fresh, kept;
  sluice::perf::FloodStats stats;
  {
    std::optional<sluice::perf::Flood> f;
    if (flood.idle + flood.dripping > 0) f.emplace(flood);
    std::this_thread::sleep_for(std::chrono::milliseconds(warmup_ms));
    for (int i = 0; i < probes; ++i) {
      record(fresh, sluice::perf::timed_get(flood.host, flood.port, path, timeout));
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    sluice::perf::KeepAliveClient client(flood.host, flood.port);
    for (int i = 0; i < probes; ++i) {
      record(kept, client.get(path, timeout));
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    if (f) stats = f->stats();
    std::printf(
        "flood: %d idle + %d dripping connections: %llu opened, %llu closed by the server\n",
        flood.idle, flood.dripping, static_cast<unsigned long long>(stats.connects),
        static_cast<unsigned long long>(stats.closed_by_server));
    std::printf("%s\n", summary("new connection per probe", fresh).c_str());
    std::printf("%s (%llu connects)\n", summary("one keep-alive connection", kept).c_str(),
                static_cast<unsigned long long>(client.connects()));
  }
  std::printf(
      "{\"bench\":\"http_flood\",\"idle\":%d,\"dripping\":%d,\"probes\":%d,\"ok\":%d,"
      "\"failed\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"keepalive_ok\":%d,"
      "\"keepalive_failed\":%d,\"keepalive_p50_ms\":%.3f,\"keepalive_p99_ms\":%.3f,"
      "\"flood_connects\":%llu,\"flood_closed\":%llu}\n",
      flood.idle, flood.dripping, probes, fresh.ok, fresh.failed, quantile(fresh.ms, 0.5),
      quantile(fresh.ms, 0.99), quantile(fresh.ms, 1.0), kept.ok, kept.failed,
      quantile(kept.ms, 0.5), quantile(kept.ms, 0.99),
      static_cast<unsigned long long>(stats.connects),
      static_cast<unsigned long long>(stats.closed_by_server));
  return fresh.failed == 0 && kept.failed == 0 ? 0 : 1;
}
