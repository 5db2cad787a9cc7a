// The daemon benchmark's two measurements. librdkafka is used directly here only for the raw
// ceiling and, through daemon_bench_kafka.hpp, for reading topic offsets and counting output; the
// daemon side goes through server::kafka::KafkaJob.

#include "perf/daemon_bench_run.hpp"

#include "common/error.hpp"
#include "config/job_config.hpp"
#include "format/avro.hpp"
#include "server/cli/gen_command.hpp"
#include "server/devtools/generator.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/kafka/schema_registry.hpp"
#include "server/kafka/topic_admin.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <dirent.h>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "perf/cpu_usage.hpp"
#include "perf/daemon_bench_kafka.hpp"

namespace sluice::perf {
namespace {

using Clock = std::chrono::steady_clock;
namespace kafka = server::kafka;
namespace devtools = server::devtools;

constexpr auto kPoll = std::chrono::milliseconds(5);
constexpr auto kJoinTimeout = std::chrono::seconds(60);
constexpr auto kRunTimeout = std::chrono::seconds(300);
constexpr size_t kBatch = 1024;  // as KafkaJobOptions::batch_records

// The window geometry of S3a/S3b's generator (server/devtools/scenarios.cpp): record i has
// trade_time = kBaseTime + i * 1000 and windows are 1 minute, aligned to the epoch.
constexpr int64_t kBaseTime = 1700000000000;
constexpr int64_t kWindowMs = 60000;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void set_timing(DaemonBenchResult& r, const CpuMark& start, const CpuMark& end) {
  r.seconds = seconds_between(start.at, end.at);
  r.cpu_seconds = end.process - start.process;
  r.cpu_by_thread = cpu_by_name(start.threads, end.threads);
  if (start.broker >= 0 && end.broker >= 0) r.broker_cpu_seconds = end.broker - start.broker;
}

// The input and output topics (P partitions each) with the scenario's N records preloaded (lz4)
// into the input, on a fresh in-process mock broker or, with `bootstrap`, on that cluster under
// names of their own; checks that the broker kept every record.
struct Preloaded {
  devtools::MockBroker broker;
  std::string bootstrap;
  std::string input;
  std::string output;
  std::string suffix;  // "" on the mock; "-<random>" on an external cluster
};

std::string run_suffix() {
  std::random_device rd;
  return fmt::format("-{:08x}", rd());
}

void create_topics(const Preloaded& pre, int partitions) {
  Handle admin = make_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", pre.bootstrap}});
  for (const auto& name : {pre.input, pre.output}) {
    bool created = false;
    std::string why = kafka::ensure_topic(admin.get(), {name, partitions, {}}, 30000, &created);
    if (!why.empty()) throw Error(ErrorCode::kIo, fmt::format("topic {}: {}", name, why));
  }
}

std::shared_ptr<kafka::SchemaRegistry> registry(const DaemonBenchSetup& s) {
  return std::make_shared<kafka::SchemaRegistry>(
      kafka::RegistryOptions{s.registry_url, "", "", 10000});
}

// The scenario's records in the Schema Registry wire format: its columns as an Avro record
// registered under `<topic>-value`, each value framed with that schema's id.
devtools::TopicGenerator::ValueWriter avro_values(const DaemonBenchSetup& s,
                                                  const std::string& topic) {
  const auto& cols = s.scenario->columns;
  auto encoder = std::make_shared<format::AvroEncoder>(cols, "In");
  uint32_t id = registry(s)->register_schema(topic + "-value", encoder->schema());
  auto row = std::make_shared<std::vector<types::Value>>(cols.size());
  auto arena = std::make_shared<Arena>();
  const devtools::Scenario* scenario = s.scenario;
  return [=](int64_t i, std::string& out) {
    arena->reset();
    scenario->fill_row(i, row->data(), *arena);
    format::append_frame(id, out);
    RecordError err;
    if (!encoder->encode(row->data(), out, &err)) throw Error(ErrorCode::kInternal, err.message);
  };
}

void preload(Preloaded& pre, const DaemonBenchSetup& s, const std::string& output,
             DaemonBenchResult& r) {
  const std::string id = lower(s.scenario->id);
  pre.suffix = s.bootstrap.empty() ? "" : run_suffix();
  pre.input = id + "-in" + pre.suffix;
  pre.output = output + pre.suffix;
  if (s.bootstrap.empty()) {
    pre.bootstrap = pre.broker.start(1, {{pre.input, s.partitions}, {pre.output, s.partitions}});
  } else {
    pre.bootstrap = s.bootstrap;
    create_topics(pre, s.partitions);
  }
  devtools::ProducerProperties props = {{"compression.type", "lz4"}};
  props.insert(props.end(), s.preload_properties.begin(), s.preload_properties.end());
  devtools::TopicGenerator gen(*s.scenario, pre.bootstrap, pre.input, props);
  gen.check_reachable(std::chrono::seconds(10));
  auto avro = s.registry_url.empty() ? nullptr : avro_values(s, pre.input);
  if (avro) gen.set_values(avro);
  std::atomic<bool> stop{false};
  devtools::GenerateStats g = gen.produce(0, s.n, 0, stop);
  if (!g.ok())
    throw Error(ErrorCode::kIo, fmt::format("preload: {} of {} delivered: {}", g.delivered,
                                            g.produced, g.first_error));
  int64_t total = 0;
  for (auto [lo, hi] : topic_offsets(pre.bootstrap, pre.input, s.partitions)) {
    if (lo != 0)
      throw Error(ErrorCode::kIo, fmt::format("preload: the broker dropped the first {} records "
                                              "of a partition (over its ~5 MiB): lower --n",
                                              lo));
    r.input_per_partition.push_back(hi);
    total += hi;
  }
  if (total != s.n)
    throw Error(ErrorCode::kIo,
                fmt::format("preload: {} records in the topic, not {}", total, s.n));
  std::string line;
  for (int64_t i = 0; i < std::min<int64_t>(s.n, 1000); ++i) {
    line.clear();
    if (avro) {
      avro(i, line);
    } else {
      s.scenario->append_json(i, line);
    }
    r.input_topic_bytes += line.size();
  }
  r.input_topic_bytes = r.input_topic_bytes * static_cast<uint64_t>(s.n) /
                        static_cast<uint64_t>(std::min<int64_t>(s.n, 1000));
}

// Checks the output topic afterwards: nothing dropped by the broker, as many records as
// acknowledged, as many as expected.
void check_output(const Preloaded& pre, int partitions, bool exactly_once, DaemonBenchResult& r) {
  uint64_t total = 0;
  bool trimmed = false;
  for (auto [lo, hi] : topic_offsets(pre.bootstrap, pre.output, partitions)) {
    trimmed = trimmed || lo != 0;
    total += static_cast<uint64_t>(hi);
  }
  if (exactly_once) total = count_committed(pre.bootstrap, pre.output, partitions);
  r.output_in_topic = total;
  std::string why;
  if (r.records_out != r.expected_out)
    why = fmt::format("{} output records acknowledged, {} expected", r.records_out, r.expected_out);
  else if (total != r.expected_out)
    why = fmt::format("{} records in the output topic, {} expected", total, r.expected_out);
  else if (trimmed)
    why = "the broker dropped output records (partition over ~5 MiB): lower --n";
  if (!why.empty()) {
    r.wrong = true;
    r.error = why;
  }
}

struct RawReports {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> failed{0};
  Clock::time_point last_ack;
};

void on_raw_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* r = static_cast<RawReports*>(opaque);
  if (m->err)
    ++r->failed;
  else
    ++r->acked;
  r->last_ack = Clock::now();
}

const std::vector<std::pair<std::string, std::string>> kProducerProps = {
    {"enable.idempotence", "true"},
    {"linger.ms", "5"},
    {"compression.type", "lz4"},
    {"queue.buffering.max.messages", "1000000"}};

void copy_records(const Preloaded& pre, const DaemonBenchSetup& s, DaemonBenchResult& r) {
  RawReports reports;
  auto pprops = kProducerProps;
  pprops.emplace_back("bootstrap.servers", pre.bootstrap);
  Handle producer = make_client(RD_KAFKA_PRODUCER, pprops, on_raw_delivery, &reports);
  std::vector<std::pair<std::string, std::string>> cprops = {{"bootstrap.servers", pre.bootstrap},
                                                             {"group.id", "sluice-bench-raw"},
                                                             {"enable.auto.commit", "false"},
                                                             {"auto.offset.reset", "earliest"}};
  if (!s.queued_min_messages.empty())
    cprops.emplace_back("queued.min.messages", s.queued_min_messages);
  Handle consumer = make_client(RD_KAFKA_CONSUMER, cprops);
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(s.partitions);
  for (int p = 0; p < s.partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, pre.input.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer.get());
  rd_kafka_topic_t* out = rd_kafka_topic_new(producer.get(), pre.output.c_str(), nullptr);

  const auto n = static_cast<uint64_t>(s.n);
  std::vector<rd_kafka_message_t*> batch(kBatch);
  CpuMark start;  // valid when `started`
  bool started = false;
  auto deadline = Clock::now() + kRunTimeout;
  while (r.records_in < n && Clock::now() < deadline) {
    // It waits until the batch is full (or the timeout): ask for no more than what is left.
    size_t want = std::min<uint64_t>(batch.size(), n - r.records_in);
    ssize_t got = rd_kafka_consume_batch_queue(queue, 100, batch.data(), want);
    if (got > 0 && !started) {
      start = CpuMark::now(s.broker_pids);
      started = true;
    }
    for (ssize_t i = 0; i < got; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (!m->err) {
        ++r.records_in;
        while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len,
                                m->key, m->key_len, nullptr) != 0) {
          if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            throw Error(ErrorCode::kIo,
                        fmt::format("raw produce: {}", rd_kafka_err2str(rd_kafka_last_error())));
          rd_kafka_poll(producer.get(), 5);
        }
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(producer.get(), 0);
  }
  while (reports.acked + reports.failed < r.records_in && Clock::now() < deadline)
    rd_kafka_poll(producer.get(), 5);
  CpuMark end = CpuMark::now(s.broker_pids);
  end.at = reports.last_ack;
  rd_kafka_topic_destroy(out);
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer.get());
  r.records_out = reports.acked;
  if (!started || r.records_in < n || reports.acked + reports.failed < r.records_in) {
    r.error = fmt::format("raw copy timed out: {} read, {} acknowledged", r.records_in,
                          reports.acked.load());
    return;
  }
  set_timing(r, start, end);
  r.ok = true;
}

// The scenario's job file, as `sluice gen --print-job` prints it, with the benchmark's extra
// kafka properties (the file ends inside its `kafka:` map). The brokers are the daemon's
// defaults (`run_daemon`), as the server config's kafka map sets them.
std::shared_ptr<const config::JobConfig> scenario_job(const DaemonBenchSetup& s,
                                                      const Preloaded& pre) {
  std::string yaml = server::scenario_job_yaml(s.scenario->id, pre.input, "");
  if (!pre.suffix.empty()) {  // its own consumer group and output topic on a shared cluster
    const std::string name = lower(s.scenario->id);
    auto swap = [&](const std::string& from, const std::string& to) {
      auto at = yaml.find(from);
      if (at == std::string::npos) throw Error(ErrorCode::kUsage, "job file without " + from);
      yaml.replace(at, from.size(), to);
    };
    swap("\nname: " + name + "\n", "\nname: " + name + pre.suffix + "\n");
    swap("topic: " + name + "-out\n", "topic: " + pre.output + "\n");
  }
  if (!s.registry_url.empty()) {  // both ends
    for (size_t at = yaml.find("format: json"); at != std::string::npos;
         at = yaml.find("format: json", at))
      yaml.replace(at, 12, "format: avro");
  }
  yaml += "  session.timeout.ms: 6000\n  compression.type: lz4\n";
  if (!s.queued_min_messages.empty())
    yaml += fmt::format("  queued.min.messages: {}\n", s.queued_min_messages);
  return std::make_shared<const config::JobConfig>(
      config::load_job_text(yaml, lower(s.scenario->id) + ".yaml"));
}

uint64_t in_flight(const server::JobStatus& st) {
  uint64_t sum = 0;
  for (const auto& p : st.partitions)
    sum += p.in_flight;
  return sum;
}

void trace(Clock::duration since_start, const server::JobStatus& st) {
  uint64_t paused = 0;
  for (const auto& p : st.partitions)
    paused += p.paused ? 1 : 0;
  std::fprintf(stderr, "  %7.3f s: in %llu out %llu in-flight %llu paused %llu\n",
               std::chrono::duration<double>(since_start).count(),
               static_cast<unsigned long long>(st.counts.records_in),
               static_cast<unsigned long long>(st.counts.records_out),
               static_cast<unsigned long long>(in_flight(st)),
               static_cast<unsigned long long>(paused));
}

// Polls the job every 5 ms; returns false (with r.error) on failure or timeout.
bool time_job(const kafka::KafkaJob& job, const DaemonBenchSetup& s, DaemonBenchResult& r) {
  const auto n = static_cast<uint64_t>(s.n);
  auto failed = [&](const server::JobStatus& st) {
    if (st.state != server::JobState::kFailed) return false;
    r.error = "job failed: " + st.error;
    return true;
  };
  CpuMark before = CpuMark::now(s.broker_pids);
  auto join_deadline = Clock::now() + kJoinTimeout;
  for (;;) {
    server::JobStatus st = job.status();
    if (failed(st)) return false;
    if (st.counts.records_in > 0) break;
    if (Clock::now() > join_deadline) {
      r.error = "no record read within 60 s (group join?)";
      return false;
    }
    before = CpuMark::now(s.broker_pids);
    std::this_thread::sleep_for(kPoll);
  }
  auto deadline = Clock::now() + kRunTimeout;
  CpuMark done_at;  // valid when `done_seen`
  bool done_seen = false;
  uint64_t polls = 0;
  uint64_t done_out = 0;
  server::JobStatus st;
  for (;;) {
    CpuMark now = CpuMark::now(s.broker_pids);
    st = job.status();
    if (failed(st)) return false;
    bool done = st.counts.records_in == n && in_flight(st) == 0;
    if (s.trace && ++polls % 10 == 0) trace(now.at - before.at, st);
    if (done && done_seen && st.counts.records_out == done_out) break;
    done_seen = done;
    if (done) {
      done_at = std::move(now);
      done_out = st.counts.records_out;
    }
    if (Clock::now() > deadline) {
      r.error = fmt::format("not done after {} s: {} read, {} acknowledged, {} in flight",
                            std::chrono::duration_cast<std::chrono::seconds>(kRunTimeout).count(),
                            st.counts.records_in, st.counts.records_out, in_flight(st));
      r.records_in = st.counts.records_in;
      r.records_out = st.counts.records_out;
      return false;
    }
    std::this_thread::sleep_for(kPoll);
  }
  set_timing(r, before, done_at);
  r.records_in = st.counts.records_in;
  r.records_out = st.counts.records_out;
  r.p50 = server::LatencyHistogram::quantile(st.latency, 0.5);
  r.p99 = server::LatencyHistogram::quantile(st.latency, 0.99);
  if (st.guarantee == "exactly_once") {
    r.transactions = st.commits;
    r.transaction_seconds = st.transaction_seconds;
  }
  return true;
}

// An io_context run by `n` threads named "sluice-io" until destroyed (then stopped and joined).
struct IoThreads {
  explicit IoThreads(int n) {
    for (int i = 0; i < n; ++i)
      pool.emplace_back([this] {
        pthread_setname_np(pthread_self(), "sluice-io");
        context.run();
      });
  }
  ~IoThreads() {
    work.reset();
    context.stop();
    for (auto& t : pool)
      t.join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  boost::asio::io_context context;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
      context.get_executor()};
  std::vector<std::thread> pool;
};

// Runs `body` with the errors of setup and teardown reported in the result.
template <typename F>
DaemonBenchResult guarded(F&& body) {
  DaemonBenchResult r;
  try {
    body(r);
  } catch (const std::exception& e) {
    r.ok = false;
    r.error = e.what();
  }
  return r;
}

}  // namespace

uint64_t daemon_expected_rows(const server::devtools::Scenario& s, int64_t n) {
  if (s.id != "S3a" || n == 0) return s.expected_rows(n);
  // Rows of every window before the one holding record n-1: that one stays open.
  int64_t t_last = kBaseTime + (n - 1) * 1000;
  int64_t window_start = t_last - t_last % kWindowMs;
  int64_t first_in_window = (window_start - kBaseTime + 999) / 1000;
  return s.expected_rows(std::max<int64_t>(first_in_window, 0));
}

DaemonBenchResult run_raw_copy(const DaemonBenchSetup& s) {
  return guarded([&](DaemonBenchResult& r) {
    Preloaded pre;
    preload(pre, s, lower(s.scenario->id) + "-raw", r);
    r.expected_out = static_cast<uint64_t>(s.n);
    copy_records(pre, s, r);
    if (r.ok) check_output(pre, s.partitions, false, r);
  });
}

DaemonBenchResult run_daemon(const DaemonBenchSetup& s, int threads) {
  return guarded([&](DaemonBenchResult& r) {
    Preloaded pre;
    preload(pre, s, lower(s.scenario->id) + "-out", r);
    r.expected_out = daemon_expected_rows(*s.scenario, s.n);
    auto job_config = scenario_job(s, pre);
    if (job_config->sink.topic != pre.output)
      throw Error(ErrorCode::kUsage, "the job writes to " + job_config->sink.topic);
    IoThreads io(threads);
    {
      kafka::KafkaJobOptions options;
      options.state_dir = s.state_dir;
      options.snapshot_interval_ms = s.snapshot_interval_ms;
      if (!s.registry_url.empty()) options.registry = registry(s);
      if (s.exactly_once) {
        options.guarantee = config::Guarantee::kExactlyOnce;
        options.instance = fmt::format("bench-{}", pre.output);  // a transactional.id of its own
      }
      kafka::KafkaJob job(io.context, job_config, {{"bootstrap.servers", pre.bootstrap}}, 1,
                          options);
      job.start();
      r.ok = time_job(job, s, r);
      auto stopped = std::make_shared<std::atomic<bool>>(false);
      job.stop([stopped] { *stopped = true; });
      auto deadline = Clock::now() + std::chrono::seconds(60);
      while (!*stopped && Clock::now() < deadline)
        std::this_thread::sleep_for(kPoll);
    }
    if (r.ok) check_output(pre, s.partitions, s.exactly_once, r);
  });
}

}  // namespace sluice::perf
