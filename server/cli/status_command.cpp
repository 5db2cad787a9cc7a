#include "server/cli/status_command.hpp"

#include "common/error.hpp"
#include "server/net/http_client.hpp"
#include "server/status/status_text.hpp"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <map>
#include <ostream>
#include <thread>

namespace sluice::server {
namespace {

constexpr const char* kStatusUsage =
    R"(usage: sluice status [--url http://127.0.0.1:9464] [--watch [SECONDS]]

Prints the jobs of a running `sluice serve` (its GET /jobs) as a table: state, records in and out,
p50/p99 end-to-end latency, lag, partitions, rejected records and the last error.
  --url URL          the daemon's admin API (default http://127.0.0.1:9464, its http.listen)
  --watch [SECONDS]  redraw every SECONDS (default 1) with in/out rates until Ctrl-C; without
                     it the IN and OUT columns are totals
)";

struct Row {
  std::string name;
  std::string state;
  uint64_t in = 0;
  uint64_t out = 0;
  uint64_t rejected = 0;
  double p50 = -1;
  double p99 = -1;
  int64_t lag = 0;
  size_t partitions = 0;
  std::string error;
};

uint64_t get_uint(simdjson::dom::element e, const char* key) {
  uint64_t v = 0;
  if (e[key].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

double get_seconds(simdjson::dom::element e, const char* key) {
  double v = -1;
  if (e[key].get(v) != simdjson::SUCCESS) return -1;  // null: no record yet
  return v;
}

std::string get_string(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return {};
  return std::string(v);
}

std::vector<Row> parse_rows(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array jobs;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS ||
      doc["jobs"].get(jobs) != simdjson::SUCCESS)
    throw Error(ErrorCode::kIo, "the daemon's GET /jobs answer is not the expected JSON");
  std::vector<Row> rows;
  for (simdjson::dom::element j : jobs) {
    Row r;
    r.name = get_string(j, "name");
    r.state = get_string(j, "state");
    bool paused = false;
    if (j["paused"].get(paused) == simdjson::SUCCESS && paused && r.state == "running")
      r.state = "paused";
    simdjson::dom::array restoring;
    if (r.state == "running" && j["restoring"].get(restoring) == simdjson::SUCCESS &&
        restoring.size() > 0)
      r.state = "restoring";  // durable state of some partitions is being restored
    simdjson::dom::element counts;
    if (j["counts"].get(counts) == simdjson::SUCCESS) {
      r.in = get_uint(counts, "records_in");
      r.out = get_uint(counts, "records_out");
      r.rejected = get_uint(counts, "rejected");
    }
    simdjson::dom::element latency;
    if (j["latency_seconds"].get(latency) == simdjson::SUCCESS) {
      r.p50 = get_seconds(latency, "p50");
      r.p99 = get_seconds(latency, "p99");
    }
    simdjson::dom::array parts;
    if (j["partitions"].get(parts) == simdjson::SUCCESS) {
      for (simdjson::dom::element p : parts) {
        ++r.partitions;
        int64_t lag = 0;
        if (p["lag"].get(lag) == simdjson::SUCCESS && lag > 0) r.lag += lag;
      }
    }
    r.error = get_string(j, "error");
    if (auto nl = r.error.find('\n'); nl != std::string::npos) r.error.resize(nl);
    if (r.error.size() > 70) r.error = r.error.substr(0, 67) + "...";
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string count_text(double v) {
  if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}K", v / 1e3);
  return fmt::format("{:.0f}", v);
}

}  // namespace

std::string status_table(const std::string& body, const std::string& previous, double seconds) {
  std::vector<Row> rows = parse_rows(body);
  std::map<std::string, Row> before;
  bool rates = !previous.empty() && seconds > 0;
  if (rates) {
    for (auto& r : parse_rows(previous))
      before[r.name] = r;
  }
  std::string out = fmt::format("{:<20} {:<9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>5} {:>9}  {}\n",
                                "JOB", "STATE", rates ? "IN/S" : "IN", rates ? "OUT/S" : "OUT",
                                "P50", "P99", "LAG", "PARTS", "REJECTED", "ERROR");
  for (const Row& r : rows) {
    std::string in = count_text(static_cast<double>(r.in));
    std::string o = count_text(static_cast<double>(r.out));
    if (rates) {
      auto it = before.find(r.name);
      // A restarted job's counters start again: no rate until the next read.
      if (it == before.end() || it->second.in > r.in || it->second.out > r.out) {
        in = o = std::string("-");
      } else {
        in = count_text(static_cast<double>(r.in - it->second.in) / seconds);
        o = count_text(static_cast<double>(r.out - it->second.out) / seconds);
      }
    }
    out += fmt::format("{:<20} {:<9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>5} {:>9}  {}\n", r.name,
                       r.state, in, o, seconds_text(r.p50), seconds_text(r.p99), r.lag,
                       r.partitions, r.rejected, r.error.empty() ? "-" : r.error);
  }
  if (rows.empty()) out += "(no jobs)\n";
  return out;
}

int run_status_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string url_text = "http://127.0.0.1:9464";
  double watch = 0;
  auto usage = [&](const std::string& msg) {
    err << "sluice status: " << msg << "\n\n" << kStatusUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out << kStatusUsage;
      return 0;
    }
    if (a == "--watch") {
      watch = 1;
      if (i + 1 < args.size() && !args[i + 1].starts_with("-")) {
        const std::string& v = args[++i];
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), watch);
        if (ec != std::errc() || p != v.data() + v.size() || watch < 0.1 || watch > 3600)
          return usage(fmt::format("--watch '{}': expected seconds from 0.1 to 3600", v));
      }
      continue;
    }
    if (a != "--url") return usage(fmt::format("unknown option '{}'", a));
    if (i + 1 >= args.size()) return usage("--url needs a value");
    url_text = args[++i];
  }
  std::string error;
  auto url = net::parse_http_url(url_text, &error);
  if (!url) return usage(fmt::format("--url '{}': {}", url_text, error));

  auto fetch = [&]() {
    net::HttpReply reply = net::http_get(*url, "/jobs");
    if (reply.status != 200)
      throw Error(ErrorCode::kIo, fmt::format("GET {}/jobs answered {}: {}", url->text,
                                              reply.status, reply.body.substr(0, 200)));
    return reply.body;
  };
  try {
    if (watch <= 0) {
      out << status_table(fetch(), {}, 0);
      out.flush();
      return 0;
    }
    bool tty = isatty(STDOUT_FILENO) == 1;
    std::string previous = fetch();
    auto last = std::chrono::steady_clock::now();
    auto wait = std::chrono::duration<double>(std::min(watch, 1.0));  // the first rates: soon
    for (;;) {
      std::this_thread::sleep_for(wait);
      std::string body = fetch();
      auto now = std::chrono::steady_clock::now();
      double seconds = std::chrono::duration<double>(now - last).count();
      if (tty) out << "\x1b[H\x1b[2J";
      out << fmt::format("{}  (every {}s, Ctrl-C to stop)\n", url->text, watch)
          << status_table(body, previous, seconds) << "\n";
      out.flush();
      previous = std::move(body);
      last = now;
      wait = std::chrono::duration<double>(watch);
    }
  } catch (const Error& e) {
    err << "sluice status: " << e.what() << " (is `sluice serve` running there?)\n";
    return 1;
  }
}

}  // namespace sluice::server
