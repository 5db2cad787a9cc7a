// Faults of a Kafka job against the in-process mock broker: a backpressure-paused partition that is
// revoked and assigned again, records too large to produce, and the counts every input record
// lands in (in = accepted + filtered + late + replayed + dead-lettered + skipped + failed).

#include "config/job_config.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

namespace {

// A consumer of `group` that joins while the job runs, takes its share of `topic`'s partitions for
// a moment (reading nothing it commits) and leaves again: two rebalances of the job's group.
void join_and_leave(const std::string& bootstrap, const std::string& group,
                    const std::string& topic) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", group);
  set(conf, "enable.auto.commit", "false");
  set(conf, "session.timeout.ms", "6000");
  Handle rk = make_handle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk.get());
  auto* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(rk.get(), topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  bool assigned = false;
  while (!assigned && std::chrono::steady_clock::now() < deadline) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100)) rd_kafka_message_destroy(m);
    rd_kafka_topic_partition_list_t* a = nullptr;
    if (rd_kafka_assignment(rk.get(), &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      assigned = a->cnt > 0;
      rd_kafka_topic_partition_list_destroy(a);
    }
  }
  REQUIRE(assigned);
  rd_kafka_consumer_close(rk.get());
}

std::string big_string(size_t n) {
  return std::string(n, 'x');
}

}  // namespace

TEST_CASE("a backpressure-paused partition that is revoked and assigned again resumes",
          "[kafka][faults]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 2}});
  Producer producer(bootstrap);
  const int n = 2000;
  for (int i = 0; i < n; ++i)
    producer.produce("in", fmt::format("k{}", i % 13), fmt::format("{{\"id\":{}}}", i));
  producer.flush(20s);

  server::kafka::KafkaJobOptions options;
  options.max_in_flight = 100;
  options.batch_records = 64;
  // The output lingers, so both partitions are paused by backpressure when the group rebalances.
  RunningJob job(std::string("name: bp\nsql: SELECT id FROM t\n"
                             "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n"
                             "kafka: {auto.offset.reset: earliest, session.timeout.ms: 6000, "
                             "fetch.wait.max.ms: 10, linger.ms: 1000}\n"),
                 bootstrap, options);
  auto st = job.wait_for([](const auto& s) {
    size_t paused = 0;
    for (const auto& p : s.partitions)
      paused += p.paused;
    return paused == 2;
  });
  REQUIRE(st.partitions.size() == 2);
  join_and_leave(bootstrap, "bp", "in");
  // Both partitions come back and every record comes out (at least once: the rebalances re-read
  // what was not committed yet).
  std::set<std::string> distinct;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (distinct.size() < size_t(n) && std::chrono::steady_clock::now() < deadline) {
    for (const auto& r : read_topic(bootstrap, "out", 2, SIZE_MAX, 3s))
      distinct.insert(r.value);
  }
  CHECK(distinct.size() == size_t(n));
  st = job.status();
  CHECK(st.rebalances >= 3);
  for (const auto& p : st.partitions) {
    INFO("partition " << p.partition << " at " << p.position << " of " << p.high_watermark
                      << ", paused " << p.paused << ", in flight " << p.in_flight << ", committed "
                      << p.committed);
    CHECK_FALSE(p.paused);
    CHECK(p.position == p.high_watermark);
  }
  st = job.stop();
  check_identity(st);
}

TEST_CASE("a record too large to produce is dead-lettered truncated, skipped or fails the job",
          "[kafka][faults]") {
  server::devtools::MockBroker broker;
  // The repartition topic of the GROUP BY section (the test broker cannot create it).
  std::string bootstrap =
      broker.start(1, {{"in", 1}, {"out", 1}, {"dlq", 1}, {"big-repartition", 1}});
  {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "message.max.bytes", "3000000");
    Handle rk = make_handle(RD_KAFKA_PRODUCER, conf);
    for (int i = 0; i < 21; ++i) {
      // Record 10 carries 1.2 MB in `big`: as output, a repartition copy or a dead letter it is
      // over the producer's message.max.bytes (1,000,000).
      std::string v = "{\"id\":" + std::to_string(i) + ",\"k\":\"k" + std::to_string(i % 3) +
                      "\",\"big\":\"" + (i == 10 ? big_string(1200000) : "small") + "\"}";
      std::string key = "k" + std::to_string(i % 3);
      REQUIRE(rd_kafka_producev(
                  rk.get(), RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(key.data(), key.size()),
                  RD_KAFKA_V_VALUE(v.data(), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(rk.get(), 20000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  const std::string source =
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, k: STRING, big: STRING}}\n";

  SECTION("pass-through output: dead-lettered, truncated, with headers saying so") {
    RunningJob job("name: big\nsql: SELECT id, big FROM t\n" + source +
                       "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n" +
                       kTestKafka,
                   bootstrap);
    auto st = job.wait_for([](const auto& s) {
      return s.counts.records_out + s.counts.dead_lettered >= 21 ||
             s.state == server::JobState::kFailed;
    });
    CHECK(st.state == server::JobState::kRunning);
    CHECK(st.error.empty());
    CHECK(st.counts.records_out == 20);
    CHECK(st.counts.dead_lettered == 1);
    auto dlq = read_topic(bootstrap, "dlq", 1, 1, 15s);
    REQUIRE(dlq.size() == 1);
    CHECK(dlq[0].headers.at("sluice.error.code") == "RECORD_TOO_LARGE");
    CHECK(dlq[0].headers.at("sluice.source.offset") == "10");
    CHECK(dlq[0].headers.at("sluice.value.truncated") != "");
    CHECK(dlq[0].value.size() < 1000000);
    CHECK(dlq[0].value.rfind("{\"id\":10,", 0) == 0);  // the start of the original record
    st = job.stop();
    check_identity(st);
    auto offsets = committed(bootstrap, "big", "in", 1);
    REQUIRE(offsets.size() == 1);
    CHECK(offsets[0].first == 21);
  }
  SECTION("on_error: skip counts it and goes on") {
    RunningJob job("name: big\nsql: SELECT id, big FROM t\non_error: skip\n" + source +
                       "sink: {type: kafka, topic: out}\n" + kTestKafka,
                   bootstrap);
    auto st = job.wait_for([](const auto& s) {
      return s.counts.records_out + s.counts.skipped >= 21 || s.state == server::JobState::kFailed;
    });
    CHECK(st.state == server::JobState::kRunning);
    CHECK(st.counts.records_out == 20);
    CHECK(st.counts.skipped == 1);
    st = job.stop();
    check_identity(st);
    auto offsets = committed(bootstrap, "big", "in", 1);
    REQUIRE(offsets.size() == 1);
    CHECK(offsets[0].first == 21);
  }
  SECTION("a repartition copy of a record whose big field is unused is dead-lettered") {
    RunningJob job("name: big\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n" + source +
                       "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n" +
                       kTestKafka,
                   bootstrap);
    auto st = job.wait_for([](const auto& s) {
      return s.counts.records_out + s.counts.dead_lettered >= 21 ||
             s.state == server::JobState::kFailed;
    });
    CHECK(st.state == server::JobState::kRunning);
    CHECK(st.counts.records_out == 20);
    CHECK(st.counts.dead_lettered == 1);
    auto dlq = read_topic(bootstrap, "dlq", 1, 1, 15s);
    REQUIRE(dlq.size() == 1);
    CHECK(dlq[0].headers.at("sluice.error.code") == "RECORD_TOO_LARGE");
    // One update per accepted record; the copy is counted in (once, at the router) and rejected.
    st = job.stop();
    CHECK(st.counts.records_in == 21);
    check_identity(st);
  }
  SECTION("a big record that does not decode is dead-lettered truncated") {
    RunningJob job(
        "name: big\nsql: SELECT id FROM t\n"
        "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, big: BIGINT}}\n"
        "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n" +
            std::string(kTestKafka),
        bootstrap);
    auto st = job.wait_for([](const auto& s) {
      return s.counts.records_out + s.counts.dead_lettered >= 21 ||
             s.state == server::JobState::kFailed;
    });
    CHECK(st.state == server::JobState::kRunning);
    CHECK(st.counts.dead_lettered == 21);  // `big` is a string everywhere: none decodes
    auto dlq = read_topic(bootstrap, "dlq", 1, 21, 15s);
    REQUIRE(dlq.size() == 21);
    size_t truncated = 0;
    for (const auto& r : dlq) {
      CHECK(r.headers.at("sluice.error.code") == "DECODE");
      if (r.headers.count("sluice.value.truncated")) ++truncated;
    }
    CHECK(truncated == 1);
    st = job.stop();
    check_identity(st);
  }
  SECTION("on_error: fail fails the job without committing past the record") {
    RunningJob job("name: big\nsql: SELECT id, big FROM t\non_error: fail\n" + source +
                       "sink: {type: kafka, topic: out}\n" + kTestKafka,
                   bootstrap);
    auto st = job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; });
    CHECK(st.state == server::JobState::kFailed);
    CHECK_THAT(st.error, Catch::Contains("offset 10"));
    CHECK_THAT(st.error, Catch::Contains("RECORD_TOO_LARGE"));
    st = job.stop();
    check_identity(st, 1);  // the outputs of the other records were delivered
    auto offsets = committed(bootstrap, "big", "in", 1);
    REQUIRE(offsets.size() == 1);
    CHECK(offsets[0].first <= 10);
  }
}

TEST_CASE("late records dead-lettered count as late only", "[kafka][faults]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}, {"dlq", 1}});
  Producer producer(bootstrap);
  // Windows of 10 s; the watermark passes 20 s before the two late records arrive.
  const int64_t times[] = {1000, 2000, 12000, 25000, 3000, 4000, 31000};
  for (int64_t t : times)
    producer.produce("in", "k", "{\"k\":\"a\",\"ts\":" + std::to_string(t) + "}");
  producer.flush(10s);
  server::kafka::KafkaJobOptions options;
  options.batch_records = 1;  // the watermark moves after every record
  RunningJob job(std::string("name: late\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k "
                             "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
                             "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
                             "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts, "
                             "late_records: dead_letter}\n"
                             "sink: {type: kafka, topic: out}\n"
                             "dead_letter: {type: kafka, topic: dlq}\n") +
                     kTestKafka,
                 bootstrap, options);
  auto st = job.wait_for([](const auto& s) { return s.counts.late >= 2; });
  CHECK(st.counts.records_in == 7);
  CHECK(st.counts.late == 2);
  CHECK(st.counts.dead_lettered == 0);
  CHECK(st.counts.rejected == 0);
  auto dlq = read_topic(bootstrap, "dlq", 1, 2, 15s);
  CHECK(dlq.size() == 2);
  st = job.stop();
  CHECK(st.counts.records_in == 7);
  check_counts(st);
}

TEST_CASE("a failed batch counts the output that was delivered", "[kafka][faults]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
  Producer producer(bootstrap);
  for (int i = 0; i < 40; ++i)
    producer.produce("in", "k", i == 25 ? "not json" : "{\"id\":" + std::to_string(i) + "}");
  producer.flush(10s);
  server::kafka::KafkaJobOptions options;
  options.batch_records = 10;
  RunningJob job(std::string("name: strict\nsql: SELECT id FROM t\non_error: fail\n"
                             "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n") +
                     kTestKafka,
                 bootstrap, options);
  job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; });
  auto st = job.stop();
  auto out = read_topic(bootstrap, "out", 1, 40, 5s);
  CHECK(st.counts.records_out == out.size());
  CHECK(st.counts.rejected == 1);
  check_identity(st, 1);
}
