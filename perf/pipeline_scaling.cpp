// sluice_pipeline_scaling: does the partition pipeline scale with partitions, without a broker?
// The daemon's own PartitionPipeline code (read -> decode -> query -> encode -> send -> ack),
// each partition on its strand, driven by in-memory sources (the scenario's records, JSON, keyed)
// and sinks that acknowledge every record at once (on the pipeline's strand, as a producer's
// delivery reports are posted). P partitions on an io_context of P threads, P = 1 then 2 (then
// more with --max-partitions): records/s over the wall time, records per CPU-second, and the
// ratio of P partitions to 1. Pipelines share nothing per record, so on P free cores the ratio
// should approach P; a shared lock or a shared cache line written per record would flatten it.
//
//   sluice_pipeline_scaling [--scenarios S0,S2] [--records N] [--repeat R] [--max-partitions P]
//
// N records per partition (default 2,000,000); each configuration runs R times (default 3) and
// the best run counts. Prints one table row per scenario and partition count, and the machine.

#include "config/job_config.hpp"
#include "server/cli/gen_command.hpp"
#include "server/devtools/scenarios.hpp"
#include "server/pipeline/partition_pipeline.hpp"
#include "server/plan/job_plan.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace sluice;
namespace pl = sluice::server::pipeline;

namespace {

// The scenario's records 0..n-1 as the pipeline reads them, in one buffer; read on the strand.
class MemorySource final : public pl::PartitionSource {
 public:
  MemorySource(const server::devtools::Scenario& sc, int32_t partition, int64_t n)
      : partition_(partition) {
    std::vector<std::pair<size_t, size_t>> spans;
    for (int64_t i = 0; i < n; ++i) {
      size_t start = bytes_.size();
      sc.append_json(i, bytes_);
      spans.emplace_back(start, bytes_.size() - start);
    }
    records_.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      records_[i].offset = i;
      records_[i].value = std::string_view(bytes_).substr(spans[i].first, spans[i].second);
      if (sc.keyed()) records_[i].key = sc.key(i);
      records_[i].timestamp_ms = 1700000000000 + i;
    }
  }
  std::span<const pl::InputRecord> read_batch(size_t max) override {
    size_t n = std::min(max, records_.size() - next_);
    std::span<const pl::InputRecord> out(records_.data() + next_, n);
    next_ += n;
    return out;
  }
  void pause(bool paused) override { paused_ = paused; }
  bool paused() const override { return paused_; }
  void set_wakeup(std::function<void()>) override {}
  void close() override {}
  int32_t partition() const override { return partition_; }
  const std::string& topic() const override { return topic_; }

 private:
  int32_t partition_;
  std::string topic_ = "in";
  std::string bytes_;
  std::vector<pl::InputRecord> records_;
  size_t next_ = 0;
  bool paused_ = false;
};

// Takes every record and acknowledges the ones taken so far in one task posted to the strand.
class AckSink final : public pl::RecordSink {
 public:
  explicit AckSink(pl::PartitionPipeline::Strand strand) : strand_(std::move(strand)) {}
  pl::SendResult send(const pl::OutputRecord& r, pl::DeliveryTicket* ticket,
                      std::string&) override {
    bytes_ += r.size();
    if (pending_.empty()) asio::post(strand_, [this] { deliver(); });
    pending_.push_back(ticket);
    return pl::SendResult::kQueued;
  }
  void notify_when_room(std::function<void()> room) override { asio::post(strand_, room); }
  size_t max_record_bytes() const override { return 1'000'000; }
  const std::string& name() const override { return name_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void deliver() {
    std::vector<pl::DeliveryTicket*> tickets;
    tickets.swap(pending_);
    for (auto* t : tickets)
      pl::report_delivery(t, pl::DeliveryStatus::kOk, "", {});
  }
  pl::PartitionPipeline::Strand strand_;
  std::vector<pl::DeliveryTicket*> pending_;
  uint64_t bytes_ = 0;
  std::string name_ = "out";
};

class Host final : public pl::PipelineHost {
 public:
  void fail(const std::string& why) override {
    if (!failed_.exchange(true)) std::fprintf(stderr, "pipeline failed: %s\n", why.c_str());
  }
  bool failed() const override { return failed_.load(); }
  void pipeline_drained() override {}
  void records_read() override {}

 private:
  std::atomic<bool> failed_{false};
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Result {
  double seconds = 0, cpu = 0;
  uint64_t records = 0, out = 0;
};

// P pipelines of `job` over N records each, on P threads; returns when every record is in and
// every output acknowledged (or the host failed).
Result run_once(const server::devtools::Scenario& sc, const std::string& yaml, int partitions,
                int64_t n) {
  auto job = std::make_shared<config::JobConfig>(config::load_job_text(yaml, "scaling.yaml"));
  auto spec = std::make_shared<pl::PipelineSpec>();
  spec->query = server::compile_job(*job);
  spec->key_columns = server::key_columns(*job, *spec->query);
  spec->key_row = server::output_columns(*spec->query);
  spec->encoder = std::make_shared<pl::JsonValueEncoder>(server::output_columns(*spec->query),
                                                         job->sink.timestamp_format);
  spec->job = job;
  asio::io_context io(partitions);
  auto host = std::make_shared<Host>();
  pl::SystemClock clock;
  std::vector<std::unique_ptr<AckSink>> sinks;
  std::vector<std::shared_ptr<pl::PartitionPipeline>> pipelines;
  for (int p = 0; p < partitions; ++p) {
    auto strand = asio::make_strand(io);
    sinks.push_back(std::make_unique<AckSink>(strand));
    pl::PipelineIo pio{std::make_unique<MemorySource>(sc, p, n), sinks.back().get(), nullptr};
    pipelines.push_back(std::make_shared<pl::PartitionPipeline>(spec, strand, std::move(pio), host,
                                                                clock, pl::Progress{}));
  }
  auto work = asio::make_work_guard(io);
  double cpu0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  for (auto& p : pipelines)
    p->start(false);
  std::vector<std::thread> threads;
  for (int i = 0; i < partitions; ++i)
    threads.emplace_back([&io] { io.run(); });
  Result r;
  // Done when every pipeline read everything and nothing is in flight.
  while (!host->failed()) {
    bool done = true;
    for (auto& p : pipelines) {
      auto c = p->metrics().counts();
      done = done && c.records_in == static_cast<uint64_t>(n) && p->metrics().in_flight.get() == 0;
    }
    if (done) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& p : pipelines)
    p->request_stop();
  work.reset();
  for (auto& t : threads)
    t.join();
  r.cpu = cpu_seconds() - cpu0;
  for (auto& p : pipelines) {
    r.records += p->metrics().counts().records_in;
    r.out += p->metrics().counts().records_out;
  }
  return r;
}

std::string machine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return fmt::format("{}, {} hardware threads", model, std::thread::hardware_concurrency());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> ids = {"S0", "S2"};
  int64_t records = 2'000'000;
  int repeat = 3, max_partitions = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--scenarios") {
      ids.clear();
      std::stringstream list(value());
      for (std::string id; std::getline(list, id, ',');)
        ids.push_back(id);
    } else if (a == "--records") {
      records = std::stoll(value());
    } else if (a == "--repeat") {
      repeat = std::stoi(value());
    } else if (a == "--max-partitions") {
      max_partitions = std::stoi(value());
    } else {
      std::fprintf(stderr,
                   "usage: sluice_pipeline_scaling [--scenarios S0,S2] [--records N] "
                   "[--repeat R] [--max-partitions P]\n");
      return 2;
    }
  }
  std::printf("pipeline scaling on %s; %lld records per partition, best of %d\n", machine().c_str(),
              static_cast<long long>(records), repeat);
  std::printf(
      "| scenario | partitions (threads) | records/s (wall) | records per CPU-s | vs 1 |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (const auto& id : ids) {
    const auto* sc = server::devtools::find_scenario(id);
    if (sc == nullptr) {
      std::fprintf(stderr, "unknown scenario %s\n", id.c_str());
      return 2;
    }
    std::string yaml = server::scenario_job_yaml(id, "", "");
    double base = 0;
    for (int p = 1; p <= max_partitions; ++p) {
      Result best;
      for (int k = 0; k < repeat; ++k) {
        Result r = run_once(*sc, yaml, p, records);
        if (best.seconds == 0 || r.seconds < best.seconds) best = r;
      }
      double rate = static_cast<double>(best.records) / best.seconds;
      if (p == 1) base = rate;
      std::printf("| %s | %d | %.0f | %.0f | %.2fx |\n", id.c_str(), p, rate,
                  static_cast<double>(best.records) / best.cpu, rate / base);
      std::fflush(stdout);
    }
  }
  return 0;
}
