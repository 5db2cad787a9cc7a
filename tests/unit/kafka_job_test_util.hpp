#pragma once
// A KafkaJob running in-process against the mock broker, readers for what it wrote (records with
// headers, committed offsets with their metadata) and checks of its counts, shared by the daemon
// and fault tests.
//
// Lifecycle: RunningJob runs the job on its own io_context with two threads and stops and joins on
// destruction. Threading: one test thread drives each helper.

#include "config/job_config.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kafka_test_util.hpp"

namespace sluice::kafka_testing {

struct Consumed {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Reads every record of `topic` (partitions 0..n-1 from the beginning) until `expected` arrived
// or `timeout` passed, with headers.
inline std::vector<Consumed> read_topic(const std::string& bootstrap, const std::string& topic,
                                        int partitions, size_t expected,
                                        std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", "reader-" + topic);
  auto rk = make_handle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk.get());
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<Consumed> got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Consumed c;
      if (m->key) c.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) c.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* h = nullptr;
      if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* v = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &v, &size) == 0; ++i)
          c.headers[name] = std::string(static_cast<const char*>(v), size);
      }
      got.push_back(std::move(c));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  return got;
}

// A KafkaJob running on its own io_context with two threads; stops and joins on destruction.
class RunningJob {
 public:
  RunningJob(const std::string& yaml, const std::string& bootstrap,
             server::kafka::KafkaJobOptions options = {})
      : work_(boost::asio::make_work_guard(io_)) {
    auto job = std::make_shared<config::JobConfig>(config::load_job_text(yaml, "job.yaml"));
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
    job_ = std::make_unique<server::kafka::KafkaJob>(
        io_, job, config::KafkaProperties{{"bootstrap.servers", bootstrap}}, 1, options);
    job_->start();
  }
  ~RunningJob() {
    if (job_) stop();
    work_.reset();
    for (auto& t : threads_)
      t.join();
  }

  // Polls the status until `done(status)` or `timeout`; returns the last status.
  template <typename Pred>
  server::JobStatus wait_for(Pred done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    server::JobStatus st;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      st = job_->status();
      if (done(st)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return st;
  }

  server::JobStatus status() const { return job_->status(); }

  // Stops the job (drain, commit) and returns its final status; false in `stopped` on timeout.
  server::JobStatus stop(bool* stopped = nullptr) {
    std::atomic<bool> done{false};
    job_->stop([&] { done = true; });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (stopped != nullptr) *stopped = done;
    server::JobStatus st = job_->status();
    job_.reset();
    return st;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<server::kafka::KafkaJob> job_;
};

// The committed offsets of `group` for partitions 0..n-1 of `topic`, with their metadata.
inline std::vector<std::pair<int64_t, std::string>> committed(const std::string& bootstrap,
                                                              const std::string& group,
                                                              const std::string& topic, int n) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", group);
  auto rk = make_handle(RD_KAFKA_CONSUMER, conf);
  auto* parts = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p);
  std::vector<std::pair<int64_t, std::string>> out;
  if (rd_kafka_committed(rk.get(), parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < parts->cnt; ++i) {
      const auto& e = parts->elems[i];
      out.emplace_back(e.offset, std::string(static_cast<const char*>(e.metadata),
                                             e.metadata != nullptr ? e.metadata_size : 0));
    }
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return out;
}

// Every input record is counted exactly once, in = accepted + filtered + rejected + late +
// replayed, and rejected = dead_lettered + skipped + `failed_records` (the record that failed the
// job with on_error: fail). check_counts checks what holds for any query: the counts other than
// accepted add up to at most `in`. check_identity also checks that every accepted record has
// been written, for a query with one output per accepted record (stateless, or one update per
// record): in = out + filtered + rejected + late + replayed. Take the status when nothing is in
// flight (after RunningJob::stop, or once every output was acknowledged).
inline void check_counts(const server::JobStatus& st, uint64_t failed_records = 0) {
  const auto& c = st.counts;
  INFO("job " << st.name << ": in " << c.records_in << " out " << c.records_out << " filtered "
              << c.filtered << " rejected " << c.rejected << " late " << c.late << " replayed "
              << c.replayed << " dead_lettered " << c.dead_lettered << " skipped " << c.skipped
              << " failed " << failed_records);
  CHECK(c.records_in >= c.filtered + c.rejected + c.late + c.replayed);
  CHECK(c.rejected == c.dead_lettered + c.skipped + failed_records);
}

inline void check_identity(const server::JobStatus& st, uint64_t failed_records = 0) {
  check_counts(st, failed_records);
  const auto& c = st.counts;
  INFO("job " << st.name << ": in " << c.records_in << " out " << c.records_out << " filtered "
              << c.filtered << " rejected " << c.rejected << " late " << c.late << " replayed "
              << c.replayed);
  CHECK(c.records_in == c.records_out + c.filtered + c.rejected + c.late + c.replayed);
}

inline const char* kTestKafka =
    "kafka: {auto.offset.reset: earliest, session.timeout.ms: 6000, fetch.wait.max.ms: 10}\n";

}  // namespace sluice::kafka_testing
