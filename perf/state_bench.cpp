// sluice_state_bench: the cost of durable state for one partition pipeline (perf/README.md,
// "Durable state"). For S2's query (GROUP BY symbol: COUNT, AVG, MIN, MAX, SUM) over K distinct
// keys, and for S3a's tumbling window over the same keys: state bytes per key (the engine's
// estimate and the process's resident memory growth), snapshot time and size, the snapshot file
// written and read back through the state store (fsync included), and the restore into a fresh
// state. Single-threaded; prints one line per measurement.
//
//   sluice_state_bench [--keys N] [--dir DIR]     (default 1,000,000 keys, a temporary directory)

#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/checkpoint/state_store.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace sluice;
using types::DataType;
using types::TypeId;
using types::Value;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Resident set size of this process, bytes (Linux /proc/self/statm).
uint64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t pages = 0;
  uint64_t resident = 0;
  f >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// market_data(symbol STRING, price DOUBLE, quantity BIGINT, trade_time TIMESTAMP); row i has key
// K<i % keys> and event time 1 ms per row.
plan::SourceSchema market() {
  return {"market_data",
          {{"symbol", DataType::string()},
           {"price", DataType::float64()},
           {"quantity", DataType::bigint()},
           {"trade_time", DataType::timestamp()}}};
}

void fill(exec::Batch& in, int64_t from, int64_t to, int64_t keys) {
  in.clear();
  for (int64_t i = from; i < to; ++i) {
    Value* r = in.append_row({0, i});
    std::string sym = fmt::format("K{:08}", i % keys);
    r[0] = Value::string(in.arena().copy(sym));
    r[1] = Value::float64(100.0 + static_cast<double>(i % 100));
    r[2] = Value::bigint(i % 1000);
    r[3] = Value::timestamp(1'700'000'000'000 + i);
    r[4] = Value::make_null(TypeId::kString);     // _key
    r[5] = Value::make_null(TypeId::kTimestamp);  // _timestamp
    r[6] = Value::bigint(0);                      // _partition
    r[7] = Value::bigint(i);                      // _offset
  }
}

void run(const char* name, const std::string& sql, int64_t keys, const std::string& dir) {
  auto query = plan::compile_query(sql, market());
  uint64_t rss0 = rss_bytes();
  auto state = query->make_state();
  exec::ExecContext ctx;
  exec::Batch in(query->input_width());
  auto t = std::chrono::steady_clock::now();
  constexpr int64_t kBatch = 1024;
  for (int64_t i = 0; i < keys; i += kBatch) {
    fill(in, i, std::min(keys, i + kBatch), keys);
    query->process(*state, in, ctx);
  }
  double load = seconds_since(t);
  uint64_t rss = rss_bytes() - rss0;
  exec::StateSize size = query->state_size(*state);
  fmt::print(
      "{}: {} keys loaded in {:.2f} s; state estimate {:.0f} bytes/key, resident growth "
      "{:.0f} bytes/key\n",
      name, keys, load, static_cast<double>(size.bytes) / static_cast<double>(keys),
      static_cast<double>(rss) / static_cast<double>(keys));

  server::pipeline::StateCheckpoint cp;
  cp.offset = keys;
  t = std::chrono::steady_clock::now();
  if (!query->snapshot(*state, cp.state)) {
    fmt::print("{}: the query's state cannot be snapshotted\n", name);
    return;
  }
  double snap = seconds_since(t);
  server::checkpoint::StateStore store(dir + "/" + name, "bench");
  t = std::chrono::steady_clock::now();
  std::string why = store.write(0, cp, -1);
  double write = seconds_since(t);
  if (!why.empty()) {
    fmt::print("{}: write failed: {}\n", name, why);
    return;
  }
  state.reset();
  t = std::chrono::steady_clock::now();
  std::vector<std::string> warnings;
  auto read = store.read(0, keys, warnings);
  double read_s = seconds_since(t);
  if (!read) {
    fmt::print("{}: read failed: {}\n", name, warnings.empty() ? "" : warnings[0]);
    return;
  }
  t = std::chrono::steady_clock::now();
  auto restored = query->make_state();
  query->restore(*restored, read->state, "bench snapshot");
  double restore = seconds_since(t);
  exec::StateSize after = query->state_size(*restored);
  fmt::print(
      "{}: snapshot {:.1f} MB ({:.0f} bytes/key) in {:.3f} s; written (fsync) in {:.3f} s; "
      "read and checked in {:.3f} s; restored in {:.3f} s: {:.2f} M keys/s from the "
      "file ({} groups after, {} before)\n",
      name, static_cast<double>(cp.state.size()) / 1e6,
      static_cast<double>(cp.state.size()) / static_cast<double>(keys), snap, write, read_s,
      restore, static_cast<double>(keys) / (read_s + restore) / 1e6, after.groups, size.groups);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t keys = 1'000'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--keys") == 0) keys = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  bool own_dir = dir.empty();
  if (own_dir)
    dir = (std::filesystem::temp_directory_path() / fmt::format("sluice-state-bench-{}", getpid()))
              .string();
  run("S2",
      "SELECT symbol, COUNT(*), AVG(price), MIN(price), MAX(price), SUM(quantity) "
      "FROM market_data GROUP BY symbol",
      keys, dir);
  run("S3a",
      "SELECT symbol, COUNT(*), SUM(quantity) FROM market_data GROUP BY symbol "
      "WINDOW TUMBLING(trade_time, INTERVAL '1' HOUR) EMIT FINAL",
      keys, dir);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
