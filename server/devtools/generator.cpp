// The producer loop: copy-produce each record, serve delivery reports every few hundred records,
// back off on a full local queue by polling (which sleeps), pace by sleeping in slices of at most
// 10 ms, then a bounded flush and a purge of whatever is left so nothing goes unreported.

#include "server/devtools/generator.hpp"

#include "common/error.hpp"
#include "server/kafka/rdkafka_conf.hpp"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace sluice::server::devtools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollEvery = 512;  // records between delivery-report polls
constexpr int kSliceMs = 10;     // longest single sleep while pacing or waiting for queue space

// Counters the delivery-report callback updates (it runs inside rd_kafka_poll/flush, on the
// thread calling `produce`).
struct Reports {
  uint64_t delivered = 0;
  uint64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* r = static_cast<Reports*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++r->delivered;
    return;
  }
  if (r->failed++ == 0) r->first_error = rd_kafka_err2str(m->err);
}

double elapsed_seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

struct TopicGenerator::Handles {
  Reports reports;
  rd_kafka_t* rk = nullptr;
  ~Handles() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

TopicGenerator::TopicGenerator(const devtools::Scenario& scenario, const std::string& bootstrap,
                               std::string topic, const ProducerProperties& properties)
    : scenario_(scenario),
      topic_(std::move(topic)),
      bootstrap_(bootstrap),
      handles_(std::make_unique<Handles>()) {
  kafka::KafkaConf conf({}, "producer", ErrorCode::kUsage);
  conf.set("bootstrap.servers", bootstrap);
  conf.set("enable.idempotence", "true");
  conf.set("linger.ms", "5");
  conf.set("compression.type", "none");
  for (const auto& [name, value] : properties)
    conf.set(name, value);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), &handles_->reports);
  handles_->rk = conf.create(RD_KAFKA_PRODUCER);
}

TopicGenerator::~TopicGenerator() = default;

void TopicGenerator::check_reachable(std::chrono::milliseconds timeout) {
  // Asking for the topic itself (not just the brokers) also lets the cluster auto-create it now,
  // as the first produce would: librdkafka then knows its partitions before the first record,
  // instead of holding records for about a second while it retries the metadata.
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(handles_->rk, topic_.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handles_->rk, 0, rkt, &md, static_cast<int>(timeout.count()));
  if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw Error(ErrorCode::kIo, fmt::format("no Kafka broker at {} answered within {} ms: {}",
                                            bootstrap_, timeout.count(), rd_kafka_err2str(err)));
  rd_kafka_metadata_destroy(md);
}

GenerateStats TopicGenerator::produce(int64_t first, int64_t count, double rate_per_second,
                                      const std::atomic<bool>& stop,
                                      std::chrono::milliseconds flush_timeout) {
  rd_kafka_t* rk = handles_->rk;
  Reports& reports = handles_->reports;
  reports = {};
  GenerateStats stats;
  uint64_t refused = 0;  // records producev refused outright (never handed over)
  std::string refused_error;
  std::string value;
  const auto start = Clock::now();
  for (int64_t k = 0; k < count; ++k) {
    if (stop.load(std::memory_order_relaxed)) {
      stats.stopped = true;
      break;
    }
    if (rate_per_second > 0) {
      // Record k is due k / rate seconds after the start; sleep (serving reports) until then.
      auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             static_cast<double>(k) / rate_per_second));
      for (auto now = Clock::now(); now < due && !stop.load(std::memory_order_relaxed);
           now = Clock::now()) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
        if (wait == 0) break;  // under a millisecond early: send now rather than spin
        rd_kafka_poll(rk, static_cast<int>(std::min<int64_t>(wait, kSliceMs)));
      }
    }
    int64_t i = first + k;
    value.clear();
    if (write_) {
      write_(i, value);
    } else {
      scenario_.append_json(i, value);
    }
    std::string_view key = scenario_.key(i);
    // A null key for an unkeyed scenario (nullptr, 0), else the key column's bytes.
    void* key_ptr = scenario_.keyed() ? const_cast<char*>(key.data()) : nullptr;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(key_ptr, key.size()),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++stats.produced;
        break;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Not deliverable at all (e.g. too large, a fatal idempotence error): an error, never a
        // silent gap.
        if (refused++ == 0) refused_error = rd_kafka_err2str(err);
        break;
      }
      if (stop.load(std::memory_order_relaxed)) break;  // the run ends before record k
      rd_kafka_poll(rk, kSliceMs);                      // room frees up as deliveries complete
    }
    if (k % kPollEvery == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, static_cast<int>(flush_timeout.count()));
  if (rd_kafka_outq_len(rk) > 0) {
    // Still unacknowledged after the bound: purge them; their reports arrive as errors.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk, 1000);
  }
  stats.delivered = reports.delivered;
  // Anything neither acknowledged nor reported failed (the purge could not reach it) is an error.
  uint64_t reported = reports.delivered + reports.failed;
  uint64_t unreported = stats.produced > reported ? stats.produced - reported : 0;
  stats.delivery_errors = refused + reports.failed + unreported;
  stats.first_error = !refused_error.empty() ? refused_error : reports.first_error;
  if (stats.delivery_errors > 0 && stats.first_error.empty())
    stats.first_error = "not acknowledged within the flush timeout";
  stats.seconds = elapsed_seconds(start);
  return stats;
}

uint64_t write_file(const devtools::Scenario& scenario, const std::string& path, int64_t first,
                    int64_t count) {
  bool to_stdout = path == "-";
  std::FILE* f = to_stdout ? stdout : std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    throw Error(ErrorCode::kIo, fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  constexpr size_t kChunk = 1 << 20;
  std::string buf;
  buf.reserve(kChunk + 4096);
  uint64_t bytes = 0;
  bool ok = true;
  auto drain = [&] {
    ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    bytes += buf.size();
    buf.clear();
  };
  for (int64_t k = 0; k < count && ok; ++k) {
    scenario.append_json(first + k, buf);
    buf.push_back('\n');
    if (buf.size() >= kChunk) drain();
  }
  drain();
  ok = std::fflush(f) == 0 && ok;
  if (!to_stdout) ok = std::fclose(f) == 0 && ok;
  if (!ok) throw Error(ErrorCode::kIo, fmt::format("cannot write '{}'", path));
  return bytes;
}

}  // namespace sluice::server::devtools
