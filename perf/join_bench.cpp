// sluice_join_bench: the stream–table join (perf/README.md, "Joins"). A table of K customers
// (K distinct record keys) and N orders, each naming a customer picked at random (one in ten an
// unknown one), joined with
//   SELECT o.id, o.amount, c.name, c.tier FROM orders o JOIN customers c ON o.cust = c._key
// - engine: decoded rows straight into the compiled query, batches of 1,024 (the table loaded
//   first, then the orders); records per CPU second of the orders, and of the table load;
// - file: `sluice run` over two JSON Lines files (decode, join, encode, write), records (orders
//   and customers) per CPU second;
// - interval: N impressions and N/2 clicks (each an ad out of K) through an interval join
//   `WITHIN 10 SECONDS`, batch by batch with the watermark advanced after each; records per CPU
//   second.
// The output row count is checked against the generator's (WRONG OUTPUT otherwise). Median of
// --repeat runs. Prints the machine and one line per mode.
//
//   sluice_join_bench [--orders N] [--keys K] [--repeat R]   (default 1,000,000, 100,000, 5)

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/run/file_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace sluice;
using types::DataType;
using types::Value;

namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string machine() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string key_of(uint64_t i) {
  return fmt::format("c{:06}", i);
}

struct Data {
  std::vector<uint64_t> customer;  // per order: the customer index (>= keys: unknown)
  uint64_t matched = 0;
};

Data generate(uint64_t orders, uint64_t keys) {
  std::mt19937_64 rnd(20240115);
  Data d;
  d.customer.resize(orders);
  for (auto& c : d.customer) {
    c = rnd() % (keys + keys / 9);  // about one in ten past the last key
    d.matched += c < keys ? 1 : 0;
  }
  return d;
}

const char* kSql =
    "SELECT o.id, o.amount, c.name, c.tier FROM orders o JOIN customers c ON o.cust = c._key";

struct Result {
  double table_rate = 0;  // table records per CPU second (engine)
  double rate = 0;        // records per CPU second
  uint64_t out = 0;
  uint64_t want = 0;  // the output rows the generator implies (interval)
};

Result run_engine(const Data& d, uint64_t keys) {
  plan::SourceSchema orders(
      "orders",
      {{"id", DataType::bigint()}, {"cust", DataType::string()}, {"amount", DataType::bigint()}});
  plan::SourceSchema customers("customers",
                               {{"name", DataType::string()}, {"tier", DataType::string()}});
  customers.table = true;
  auto q = plan::compile_query(kSql, std::vector<plan::SourceSchema>{orders, customers});
  auto st = q->make_state();
  constexpr size_t kBatch = 1024;
  // The table's batches and the orders' are built before the clock starts.
  std::vector<exec::Batch> table, stream;
  for (uint64_t i = 0; i < keys; ++i) {
    if (i % kBatch == 0) table.emplace_back(q->input_width(1));
    exec::Batch& b = table.back();
    Value* r = b.append_row({0, static_cast<int64_t>(i)});
    r[0] = Value::string(b.arena().copy(fmt::format("name {}", i)));
    r[1] = Value::string(b.arena().copy(i % 3 == 0 ? "gold" : "silver"));
    r[2] = Value::string(b.arena().copy(key_of(i)));
    r[6] = Value::boolean(false);
  }
  for (uint64_t i = 0; i < d.customer.size(); ++i) {
    if (i % kBatch == 0) stream.emplace_back(q->input_width(0));
    exec::Batch& b = stream.back();
    Value* r = b.append_row({0, static_cast<int64_t>(i)});
    r[0] = Value::bigint(static_cast<int64_t>(i));
    r[1] = Value::string(b.arena().copy(key_of(d.customer[i])));
    r[2] = Value::bigint(static_cast<int64_t>(i % 1000));
  }
  Result res;
  exec::ExecContext ctx;
  ctx.input = 1;
  double t0 = cpu_now();
  for (auto& b : table)
    q->process(*st, b, ctx);
  double t1 = cpu_now();
  ctx.input = 0;
  for (auto& b : stream)
    res.out += q->process(*st, b, ctx).size();
  double t2 = cpu_now();
  res.table_rate = static_cast<double>(keys) / (t1 - t0);
  res.rate = static_cast<double>(d.customer.size()) / (t2 - t1);
  return res;
}

Result run_file(const Data& d, uint64_t keys, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  {
    std::ofstream c(dir / "customers.jsonl");
    for (uint64_t i = 0; i < keys; ++i)
      c << key_of(i) << "|{\"name\":\"name " << i << "\",\"tier\":\""
        << (i % 3 == 0 ? "gold" : "silver") << "\"}\n";
    std::ofstream o(dir / "orders.jsonl");
    for (uint64_t i = 0; i < d.customer.size(); ++i)
      o << "{\"id\":" << i << ",\"cust\":\"" << key_of(d.customer[i])
        << "\",\"amount\":" << i % 1000 << "}\n";
  }
  std::string yaml = fmt::format(R"(name: join-bench
sql: "{}"
sources:
  - name: customers
    kind: table
    type: file
    path: {}
    key_separator: "|"
    schema: {{name: STRING, tier: STRING}}
  - name: orders
    type: file
    path: {}
    schema: {{id: BIGINT, cust: STRING, amount: BIGINT}}
sink: {{type: file, path: {}}}
)",
                                 kSql, (dir / "customers.jsonl").string(),
                                 (dir / "orders.jsonl").string(), (dir / "out.jsonl").string());
  config::JobConfig job = config::load_job_text(yaml, (dir / "job.yaml").string());
  std::ostringstream unused;
  server::RunStats s = server::run_job(job, unused);
  Result res;
  res.rate = static_cast<double>(s.records_in) / s.cpu_seconds;
  res.out = s.records_out;
  return res;
}

// An interval join of two streams, impressions and clicks (one click per two impressions), each
// an ad out of K, times increasing 1 ms per impression: `WITHIN 10 SECONDS`. Batches of 1,024 of
// each stream in turn, the watermark advanced after each; matches counted. The rows are built
// before the clock starts.
Result run_interval(uint64_t n, uint64_t keys) {
  plan::SourceSchema imps(
      "imps",
      {{"id", DataType::bigint()}, {"ad", DataType::string()}, {"ts", DataType::timestamp()}});
  plan::SourceSchema clicks = imps;
  clicks.name = "clicks";
  imps.event_time = clicks.event_time = "ts";
  auto q = plan::compile_query(
      "SELECT i.id, c.id AS click, i.ad FROM imps i JOIN clicks c WITHIN 10 SECONDS ON i.ad = c.ad",
      std::vector<plan::SourceSchema>{imps, clicks});
  auto st = q->make_state();
  constexpr size_t kBatch = 1024;
  std::mt19937_64 rnd(7);
  std::vector<exec::Batch> batches[2];
  std::vector<std::vector<int64_t>> times(keys);  // per ad, its impressions' times (ascending)
  uint64_t want = 0;
  for (int side = 0; side < 2; ++side) {
    uint64_t count = side == 0 ? n : n / 2;
    for (uint64_t i = 0; i < count; ++i) {
      if (i % kBatch == 0) batches[side].emplace_back(q->input_width(side));
      exec::Batch& b = batches[side].back();
      uint64_t ad = rnd() % keys;
      auto t = static_cast<int64_t>(side == 0 ? i : 2 * i);
      Value* r = b.append_row({0, static_cast<int64_t>(i)});
      r[0] = Value::bigint(static_cast<int64_t>(i));
      r[1] = Value::string(b.arena().copy(fmt::format("ad{}", ad)));
      r[2] = Value::timestamp(t);
      if (side == 0) {
        times[ad].push_back(t);
      } else {  // the matches this click has: impressions of its ad within 10 s
        const auto& v = times[ad];
        want += static_cast<uint64_t>(std::upper_bound(v.begin(), v.end(), t + 10'000) -
                                      std::lower_bound(v.begin(), v.end(), t - 10'000));
      }
    }
  }
  Result res;
  res.want = want;
  exec::ExecContext ctx;
  double t0 = cpu_now();
  size_t next[2] = {0, 0};
  int64_t seen[2] = {0, 0};
  while (next[0] < batches[0].size() || next[1] < batches[1].size()) {
    // The side whose next batch starts earlier; then the watermark both sides have passed.
    int side = next[1] >= batches[1].size() ? 0
               : next[0] >= batches[0].size()
                   ? 1
                   : (batches[0][next[0]].row(0)[2].i <= batches[1][next[1]].row(0)[2].i ? 0 : 1);
    exec::Batch& b = batches[side][next[side]++];
    ctx.input = static_cast<size_t>(side);
    res.out += q->process(*st, b, ctx).size();
    seen[side] = b.row(b.size() - 1)[2].i;
    bool done0 = next[0] >= batches[0].size(), done1 = next[1] >= batches[1].size();
    int64_t wm = done0 ? seen[1] : done1 ? seen[0] : std::min(seen[0], seen[1]);
    res.out += q->on_watermark(*st, wm, ctx).size();
  }
  res.out += q->close(*st, ctx).size();
  double t1 = cpu_now();
  res.rate = static_cast<double>(n + n / 2) / (t1 - t0);
  return res;
}

template <typename F>
Result median(int repeat, F&& f) {
  std::vector<Result> runs;
  for (int i = 0; i < repeat; ++i)
    runs.push_back(f());
  std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.rate < b.rate; });
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t orders = 1'000'000, keys = 100'000;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--orders") == 0) orders = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--keys") == 0) keys = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
  }
  if (orders == 0 || keys == 0 || repeat <= 0) {
    fmt::print(stderr, "usage: sluice_join_bench [--orders N] [--keys K] [--repeat R]\n");
    return 2;
  }
  Data d = generate(orders, keys);
  fmt::print("machine: {}, {} orders against {} table keys ({} match), median of {}\n", machine(),
             orders, keys, d.matched, repeat);
  Result e = median(repeat, [&] { return run_engine(d, keys); });
  fmt::print("engine  {:>12.0f} orders/s per CPU second (table load {:.0f} records/s)  out {}{}\n",
             e.rate, e.table_rate, e.out, e.out == d.matched ? "" : "  WRONG OUTPUT");
  Result iv = median(repeat, [&] { return run_interval(orders, keys); });
  fmt::print(
      "interval {:>11.0f} records/s per CPU second (impressions and clicks, WITHIN 10 "
      "SECONDS, {} ads)  out {}{}\n",
      iv.rate, keys, iv.out, iv.out == iv.want ? "" : "  WRONG OUTPUT");
  auto dir = std::filesystem::temp_directory_path() / fmt::format("sluice-join-bench-{}", getpid());
  Result f = median(repeat, [&] { return run_file(d, keys, dir); });
  std::filesystem::remove_all(dir);
  fmt::print(
      "file    {:>12.0f} records/s per CPU second (orders and customers, JSON in and out)"
      "  out {}{}\n",
      f.rate, f.out, f.out == d.matched ? "" : "  WRONG OUTPUT");
  return e.out == d.matched && f.out == d.matched && iv.out == iv.want ? 0 : 1;
}
