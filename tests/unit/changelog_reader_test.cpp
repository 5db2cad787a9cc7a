// Reading a changelog partition on restore (server/kafka/changelog_reader): every record from the
// start to the end, through the transient errors of a topic just created (its leader not known
// yet), against the in-process test broker.

#include "server/kafka/changelog_reader.hpp"

#include "server/devtools/mock_broker.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "kafka_test_util.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

namespace {

Handle reader(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", "restore-test");
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.partition.eof", "true");
  for (const auto& [k, v] : server::kafka::reader_defaults())
    set(conf, k.c_str(), v);
  Handle rk = make_handle(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk.get());
  return rk;
}

}  // namespace

TEST_CASE("a changelog partition is read to its end, through a leader not known yet",
          "[kafka][changelog]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"cl", 2}});
  Producer producer(bootstrap);
  for (int i = 0; i < 300; ++i)
    producer.produce("cl", fmt::format("k{}", i), fmt::format("v{}", i));
  producer.flush(20s);
  Handle rk = reader(bootstrap);
  // The partition's offsets cannot be read for a while, as right after the topic was created.
  broker.push_request_errors("ListOffsets", 3, "NOT_LEADER_OR_FOLLOWER");
  std::vector<std::string> keys;
  int64_t end = -1;
  std::string error;
  for (int32_t p = 0; p < 2; ++p) {
    error = server::kafka::read_partition(
        rk.get(), "cl", p, -1, 10000,
        [&](const rd_kafka_message_t& m) {
          keys.emplace_back(static_cast<const char*>(m.key), m.key_len);
        },
        &end);
    REQUIRE(error == "");
  }
  CHECK(keys.size() == 300);
  // From the end (partition 1's, read last): nothing more.
  std::vector<std::string> none;
  int64_t again = -1;
  error = server::kafka::read_partition(
      rk.get(), "cl", 1, end, 10000, [&](const rd_kafka_message_t&) { none.push_back(""); },
      &again);
  CHECK(error == "");
  CHECK(none.empty());
  CHECK(again == end);
  // A partition that does not exist is an error once the timeout passes, not a hang.
  auto started = std::chrono::steady_clock::now();
  error = server::kafka::read_partition(
      rk.get(), "cl", 7, -1, 1500, [](const rd_kafka_message_t&) {}, &end);
  CHECK(error != "");
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}
