// sluice_state_bench: the cost of durable state for one partition pipeline (perf/README.md,
// "Durable state"). For S2's query (GROUP BY symbol: COUNT, AVG, MIN, MAX, SUM) over K distinct
// keys, and for S3a's tumbling window over the same keys: state bytes per key (the engine's
// estimate and the process's resident memory growth), snapshot time and size, the snapshot file
// written and read back through the state store (fsync included), and the restore into a fresh
// state. With --bootstrap, S2's state also goes through a changelog topic on that Kafka cluster:
// every key written as a changelog record (as one checkpoint), then read back and applied into a
// fresh state as a restore on another daemon does. Prints one line per measurement.
//
//   sluice_state_bench [--keys N] [--dir DIR] [--bootstrap HOST:PORT]
//   (default 1,000,000 keys, a temporary directory, no changelog)

#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/checkpoint/changelog_restore.hpp"
#include "server/checkpoint/state_store.hpp"
#include "server/kafka/changelog_reader.hpp"
#include "server/kafka/topic_admin.hpp"
#include "server/pipeline/record.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
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

rd_kafka_t* client(rd_kafka_type_t type, const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const char* v) {
    if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
      fmt::print(stderr, "{}\n", err);
      std::exit(2);
    }
  };
  set("bootstrap.servers", bootstrap.c_str());
  if (type == RD_KAFKA_PRODUCER) {
    set("enable.idempotence", "true");
    set("linger.ms", "5");
    set("queue.buffering.max.messages", "1000000");
  } else {
    set("group.id", "sluice-state-bench");
    set("enable.auto.commit", "false");
    set("enable.partition.eof", "true");
    set("isolation.level", "read_committed");
    for (const auto& [k, v] : server::kafka::reader_defaults())
      set(k.c_str(), v.c_str());
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) {
    fmt::print(stderr, "{}\n", err);
    std::exit(2);
  }
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
  return rk;
}

// S2's state (`state`, tracking its changes) as one checkpoint's changelog records on a new
// topic of `bootstrap`, then read back and applied into a fresh state.
void changelog(const exec::Query& query, exec::QueryState& state, int64_t keys,
               const std::string& bootstrap) {
  std::string topic = fmt::format("sluice-state-bench-{}", getpid());
  rd_kafka_t* producer = client(RD_KAFKA_PRODUCER, bootstrap);
  bool created = false;
  std::string why = server::kafka::ensure_topic(
      producer, {topic, 1, {{"cleanup.policy", "compact"}}}, 30000, &created);
  if (!why.empty()) {
    fmt::print("S2 changelog: {}\n", why);
    return;
  }
  std::string at = std::to_string(keys);
  uint64_t records = 0, bytes = 0;
  auto t = std::chrono::steady_clock::now();
  query.save_changes(state, [&](std::string_view key, const std::string_view* value) {
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value->data()), value->size()),
          RD_KAFKA_V_HEADER(server::pipeline::kCheckpointHeader, at.data(),
                            static_cast<ssize_t>(at.size())),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      rd_kafka_poll(producer, 10);  // the queue is full: let deliveries drain
    }
    ++records;
    bytes += key.size() + value->size();
  });
  rd_kafka_flush(producer, 120000);
  double write = seconds_since(t);
  rd_kafka_destroy(producer);

  rd_kafka_t* reader = client(RD_KAFKA_CONSUMER, bootstrap);
  // Reading alone first (the same records, nothing applied), to tell the two costs apart.
  int64_t end = -1;
  uint64_t seen = 0;
  t = std::chrono::steady_clock::now();
  why = server::kafka::read_partition(
      reader, topic, 0, -1, 30000, [&](const rd_kafka_message_t&) { ++seen; }, &end);
  double read_only = seconds_since(t);
  auto fresh = query.make_state();
  query.track_changes(*fresh);
  t = std::chrono::steady_clock::now();
  server::checkpoint::ChangelogRestore rebuild(query, *fresh, -1, keys, {}, "bench changelog");
  why += server::kafka::read_partition(
      reader, topic, 0, -1, 30000,
      [&](const rd_kafka_message_t& m) {
        std::string_view key(static_cast<const char*>(m.key), m.key_len);
        std::string_view value(static_cast<const char*>(m.payload), m.len);
        rebuild.add(m.offset, key, &value, keys);
      },
      &end);
  rebuild.finish();
  double restore = seconds_since(t);
  rd_kafka_consumer_close(reader);
  rd_kafka_destroy(reader);
  if (!why.empty()) {
    fmt::print("S2 changelog: reading back: {}\n", why);
    return;
  }
  fmt::print(
      "S2 changelog: {} records ({:.1f} MB) written and acknowledged in {:.2f} s ({:.2f} M "
      "records/s); read alone in {:.2f} s ({} records); read back and restored in {:.2f} s: "
      "{:.2f} M keys/s ({} groups after)\n",
      records, static_cast<double>(bytes) / 1e6, write, static_cast<double>(records) / write / 1e6,
      read_only, seen, restore, static_cast<double>(rebuild.applied()) / restore / 1e6,
      query.state_size(*fresh).groups);
}

void run(const char* name, const std::string& sql, int64_t keys, const std::string& dir,
         const std::string& bootstrap = "") {
  auto query = plan::compile_query(sql, market());
  uint64_t rss0 = rss_bytes();
  auto state = query->make_state();
  if (!bootstrap.empty()) query->track_changes(*state);
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
  if (!bootstrap.empty()) changelog(*query, *state, keys, bootstrap);
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
  std::string dir, bootstrap;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--keys") == 0) keys = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--bootstrap") == 0) bootstrap = argv[i + 1];
  }
  bool own_dir = dir.empty();
  if (own_dir)
    dir = (std::filesystem::temp_directory_path() / fmt::format("sluice-state-bench-{}", getpid()))
              .string();
  run("S2",
      "SELECT symbol, COUNT(*), AVG(price), MIN(price), MAX(price), SUM(quantity) "
      "FROM market_data GROUP BY symbol",
      keys, dir, bootstrap);
  run("S3a",
      "SELECT symbol, COUNT(*), SUM(quantity) FROM market_data GROUP BY symbol "
      "WINDOW TUMBLING(trade_time, INTERVAL '1' HOUR) EMIT FINAL",
      keys, dir);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
