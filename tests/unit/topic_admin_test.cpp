// server/kafka/topic_admin against the mock broker: partition counts from metadata, and
// ensure_topic finding a topic with the right partition count, refusing one with another. The
// mock creates any topic a metadata request names, so a missing topic and CreateTopics are
// covered by the real-broker e2e cases (repartition, internal_topics).

#include "server/kafka/topic_admin.hpp"

#include "server/devtools/mock_broker.hpp"

#include <catch2/catch.hpp>

#include "kafka_test_util.hpp"

namespace {

using sluice::server::devtools::MockBroker;
namespace kt = sluice::kafka_testing;
namespace sk = sluice::server::kafka;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A consumer, as a job stage uses (it never asks the broker to auto-create a topic).
kt::Handle client_of(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  kt::set(conf, "bootstrap.servers", bootstrap);
  kt::set(conf, "group.id", "topic-admin-test");
  return kt::make_handle(RD_KAFKA_CONSUMER, conf);
}

}  // namespace

TEST_CASE("topic_admin reads partition counts and checks an existing topic", "[kafka]") {
  MockBroker broker;
  std::string bootstrap = broker.start(1, {{"trades", 3}, {"trades-repartition", 2}});
  kt::Handle client = client_of(bootstrap);
  std::string error;
  CHECK(sk::partition_count(client.get(), "trades", 5000, &error) == 3);
  CHECK(error.empty());

  bool created = true;
  CHECK(sk::ensure_topic(client.get(), {"trades", 3, {}}, 5000, &created).empty());
  CHECK_FALSE(created);
  CHECK(sk::ensure_topic(client.get(), {"trades-repartition", 3, {}}, 5000, &created) ==
        "topic 'trades-repartition' exists with 2 partitions, not 3");
  CHECK_FALSE(created);
}

TEST_CASE("topic_admin: a topic the cluster lacks is not created by asking for it", "[kafka]") {
  MockBroker broker;
  std::string bootstrap = broker.start(1, {{"trades", 3}});
  kt::Handle client = client_of(bootstrap);
  std::string error;
  CHECK(sk::partition_count(client.get(), "no-such-topic", 5000, &error) == 0);
  CHECK(sk::partition_count(client.get(), "no-such-topic", 5000, &error) == 0);
  CHECK(error.empty());
  // Creating it takes CreateTopics, which the test broker never answers (it has no controller).
  bool created = true;
  CHECK(contains(sk::ensure_topic(client.get(), {"new-topic", 4, {}}, 1000, &created),
                 "creating topic 'new-topic' (4 partitions): "));
  CHECK_FALSE(created);
}
