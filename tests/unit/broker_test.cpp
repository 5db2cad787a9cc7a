// MockBroker in-process: topics with their partition counts, keyed produce and consume over
// 127.0.0.1, argument checks, and that stop() closes the listeners. Also `sluice broker` usage
// errors through run_cli (they never start a broker).

#include "common/error.hpp"
#include "server/cli/cli.hpp"
#include "server/devtools/mock_broker.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "kafka_test_util.hpp"

namespace {

using sluice::server::devtools::MockBroker;
using sluice::server::devtools::TopicSpec;
namespace kt = sluice::kafka_testing;
using namespace std::chrono_literals;

std::vector<int> ports_of(const std::string& bootstrap) {
  std::vector<int> ports;
  std::stringstream list(bootstrap);
  for (std::string addr; std::getline(list, addr, ',');)
    ports.push_back(std::stoi(addr.substr(addr.rfind(':') + 1)));
  return ports;
}

}  // namespace

TEST_CASE("MockBroker serves keyed produce and consume on loopback", "[kafka]") {
  const std::vector<TopicSpec> topics = {{"trades", 3}, {"quotes", 5}, {"orders", 1}};
  MockBroker broker;
  std::string bootstrap = broker.start(3, topics);
  CHECK(broker.bootstrap() == bootstrap);
  REQUIRE(std::regex_match(bootstrap, std::regex(R"(127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2})")));

  for (const auto& t : topics)
    CHECK(kt::partition_count(bootstrap, t.name) == t.partitions);

  constexpr int kPerTopic = 200;
  constexpr int kKeys = 16;
  kt::Producer producer(bootstrap);
  for (const auto& t : topics)
    for (int i = 0; i < kPerTopic; ++i)
      producer.produce(t.name, "key-" + std::to_string(i % kKeys), std::to_string(i));
  std::vector<kt::Message> delivered = producer.flush(10s);
  REQUIRE(delivered.size() == topics.size() * kPerTopic);

  // Where each (topic, value) was delivered; each key must map to one partition.
  std::map<std::pair<std::string, std::string>, int32_t> delivered_partition;
  for (const auto& m : delivered)
    delivered_partition[{m.topic, m.value}] = m.partition;

  for (const auto& t : topics) {
    INFO("topic " << t.name);
    std::vector<kt::Message> got = kt::consume(bootstrap, t.name, t.partitions, kPerTopic, 15s);
    REQUIRE(got.size() == kPerTopic);
    std::map<std::string, int32_t> key_partition;
    std::map<std::string, int> last_value_of_key;
    std::set<std::string> values;
    std::set<int32_t> partitions_used;
    for (const auto& m : got) {
      CHECK(m.topic == t.name);
      int value = std::stoi(m.value);
      CHECK(m.key == "key-" + std::to_string(value % kKeys));
      CHECK(m.partition >= 0);
      CHECK(m.partition < t.partitions);
      CHECK(delivered_partition.at({t.name, m.value}) == m.partition);
      auto [it, first] = key_partition.emplace(m.key, m.partition);
      CHECK(it->second == m.partition);  // one key, one partition
      // A key's records come back in the order they were produced.
      if (!first) CHECK(last_value_of_key[m.key] < value);
      last_value_of_key[m.key] = value;
      values.insert(m.value);
      partitions_used.insert(m.partition);
    }
    CHECK(values.size() == kPerTopic);  // no duplicates, nothing missing
    if (t.partitions > 1) CHECK(partitions_used.size() > 1);
  }
}

TEST_CASE("MockBroker stop closes its listeners", "[kafka]") {
  MockBroker broker;
  std::vector<int> ports = ports_of(broker.start(2, {{"t", 2}}));
  REQUIRE(ports.size() == 2);
  for (int port : ports)
    CHECK(kt::tcp_connects(port));
  broker.stop();
  CHECK(broker.bootstrap().empty());
  for (int port : ports)
    CHECK_FALSE(kt::tcp_connects(port));
  broker.stop();  // idempotent
}

TEST_CASE("MockBroker rejects bad broker counts and topics", "[kafka]") {
  auto code_of = [](int brokers, std::vector<TopicSpec> topics) {
    MockBroker broker;
    try {
      broker.start(brokers, topics);
    } catch (const sluice::Error& e) {
      return e.code();
    }
    return sluice::ErrorCode::kInternal;
  };
  using sluice::ErrorCode;
  CHECK(code_of(0, {}) == ErrorCode::kUsage);
  CHECK(code_of(65, {}) == ErrorCode::kUsage);
  CHECK(code_of(1, {{"t", 0}}) == ErrorCode::kUsage);
  CHECK(code_of(1, {{"", 1}}) == ErrorCode::kUsage);
  CHECK(code_of(1, {{"a/b", 1}}) == ErrorCode::kUsage);
  CHECK(code_of(1, {{"t", 1}, {"t", 2}}) == ErrorCode::kUsage);
}

TEST_CASE("sluice broker usage errors exit 2 without starting a broker", "[kafka][cli]") {
  auto cli = [](std::vector<const char*> args) {
    args.insert(args.begin(), {"sluice", "broker"});
    std::ostringstream out, err;
    int code = sluice::server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
    return std::make_tuple(code, out.str(), err.str());
  };
  auto [code, out, err] = cli({"--topic", "trades"});
  CHECK(code == 2);
  CHECK(out.empty());
  CHECK(err.find("--topic 'trades': expected NAME:PARTITIONS") != std::string::npos);
  CHECK(std::get<0>(cli({"--topic", "trades:0"})) == 2);
  CHECK(std::get<0>(cli({"--topic=trades:two"})) == 2);
  CHECK(std::get<0>(cli({"--brokers", "-1"})) == 2);
  CHECK(std::get<0>(cli({"--brokers"})) == 2);
  auto unknown = cli({"--fast"});
  CHECK(std::get<0>(unknown) == 2);
  CHECK(std::get<2>(unknown).find("unknown option '--fast'") != std::string::npos);
  auto help = cli({"--help"});
  CHECK(std::get<0>(help) == 0);
  CHECK(std::get<1>(help).find("usage: sluice broker") != std::string::npos);
}
