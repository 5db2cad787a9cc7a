// Fetching a backlog: a partition whose local prefetch queue fills up keeps being fetched as its
// pipeline drains the queue, instead of waiting for librdkafka's next idle wake-up (up to a
// second each time the bound fills; librdkafka #2879).

#include "server/devtools/mock_broker.hpp"
#include "server/kafka/fetch_waker.hpp"
#include "server/kafka/kafka_job.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

TEST_CASE("a backlog larger than the prefetch bound is read without a pause per refill",
          "[kafka][fetch]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
  Producer producer(bootstrap);
  // ~2.4 MB of input in record batches of 100 records (~12 KB) against a 64 KiB prefetch bound
  // filled 16 KiB per fetch: the bound fills about 35 times while the job catches up.
  const int n = 20000;
  std::string pad(90, 'p');
  for (int i = 0; i < n; ++i) {
    producer.produce("in", fmt::format("k{}", i % 7),
                     fmt::format(R"({{"id":{},"p":"{}"}})", i, pad));
    if (i % 100 == 99) producer.flush(20s);
  }

  RunningJob job(std::string("name: backlog\nsql: SELECT id FROM t\n"
                             "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                             "sink: {type: kafka, topic: out}\n"
                             "kafka: {auto.offset.reset: earliest, fetch.wait.max.ms: 10, "
                             "queued.max.messages.kbytes: 64, fetch.message.max.bytes: 16384}\n"),
                 bootstrap);
  auto st = job.wait_for([](const auto& s) { return s.partitions.size() == 1; });
  REQUIRE(st.partitions.size() == 1);
  auto started = std::chrono::steady_clock::now();
  st = job.wait_for(
      [&](const auto& s) { return s.partitions.size() == 1 && s.partitions[0].position == n; },
      90s);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(st.partitions.size() == 1);
  REQUIRE(st.partitions[0].position == n);
  // Waiting for librdkafka's idle wake-up after every refill (up to a second each) took 13 s on
  // a 2-core machine; fetching again as soon as the queue drains, 0.5 s.
  INFO("read " << n << " records in " << took << " s");
  CHECK(took < 6.0);
  st = job.stop();
  check_identity(st);
}

TEST_CASE("the refill trigger wakes the fetcher once per fill, after the queue drained to half",
          "[kafka][fetch]") {
  // A 100 KB bound and 100-byte records: full at 1,000 records queued.
  server::kafka::RefillTrigger t(100'000, 10'000'000);
  CHECK_FALSE(t.after_read(100, 10'000, 600, 500));  // never near the bound
  CHECK_FALSE(t.after_read(100, 10'000, 500, 400));
  CHECK_FALSE(t.after_read(100, 10'000, 1000, 900));  // full: librdkafka stopped fetching
  CHECK_FALSE(t.after_read(100, 10'000, 900, 800));
  CHECK(t.after_read(400, 40'000, 800, 400));  // drained below half: wake once
  CHECK_FALSE(t.after_read(100, 10'000, 400, 300));
  CHECK_FALSE(t.after_read(300, 30'000, 300, 0));
  CHECK(t.after_read(1000, 100'000, 1000, 0));  // filled and drained in one read
  // The record-count bound (queued.min.messages) counts the same way.
  server::kafka::RefillTrigger by_count(0, 1000);
  CHECK_FALSE(by_count.after_read(10, 0, 600, 590));
  CHECK(by_count.after_read(400, 0, 800, 400));
}
