// Record headers: the `_headers` column and HEADER('name') over records with headers, in a
// partition pipeline (an in-memory source) and in a KafkaJob on the mock broker, where a GROUP BY
// on a header repartitions: the router forwards the record's own headers (null values too) and
// the query stage does not see sluice's `sluice.source` among them.

#include "server/devtools/mock_broker.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"
#include "pipeline_rig.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;

namespace {

const std::string kSource =
    "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, k: STRING}}\n"
    "sink: {type: kafka, topic: out}\n";

testing::FakeSource::Record with_headers(int id, Producer::Headers headers) {
  testing::FakeSource::Record r;
  r.value = "{\"id\":" + std::to_string(id) + ",\"k\":\"x\"}";
  for (auto& h : headers)
    r.headers.push_back(std::move(h));
  return r;
}

}  // namespace

TEST_CASE("headers: _headers holds every header in order, HEADER the last value of a name",
          "[headers][pipeline]") {
  test::Rig rig(
      "name: h\nsql: SELECT id, HEADER('trace') AS trace, HEADER('gone') AS gone, "
      "_headers AS h FROM t\n" +
      kSource);
  rig.source->append(
      with_headers(1, {{"trace", "a"}, {"gone", std::nullopt}, {"trace", "b"}, {"e", ""}}));
  rig.source->append(with_headers(2, {}));
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  // BYTES are base64 in JSON: "a" YQ==, "b" Yg==.
  CHECK(rig.out.taken()[0].value ==
        R"({"id":1,"trace":"Yg==","gone":null,"h":[{"key":"trace","value":"YQ=="},)"
        R"({"key":"gone","value":null},{"key":"trace","value":"Yg=="},{"key":"e","value":""}]})");
  CHECK(rig.out.taken()[1].value == R"({"id":2,"trace":null,"gone":null,"h":[]})");
}

TEST_CASE("headers: a query that does not read them has rows without the headers column",
          "[headers][pipeline]") {
  auto job = config::load_job_text("name: h\nsql: SELECT id FROM t\n" + kSource, "job.yaml");
  auto with =
      config::load_job_text("name: h\nsql: SELECT id, header('x') FROM t\n" + kSource, "job.yaml");
  CHECK(server::compile_job(with)->input_width() == server::compile_job(job)->input_width() + 1);
}

TEST_CASE("headers: a router forwards the record's headers, null values too, and its key",
          "[headers][pipeline]") {
  test::Rig rig(
      "name: r\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, schema: {k: STRING, v: BIGINT}}\n"
      "sink: {type: kafka, topic: out}\n",
      test::opts([](test::RigOptions& o) { o.route = true; }));
  for (bool keyed : {true, false}) {
    testing::FakeSource::Record r;
    r.value = "{\"k\":\"a\",\"v\":1}";
    r.headers = {{"tenant", "t1"}, {"none", std::nullopt}};
    if (keyed) r.key = "original";
    rig.source->append(std::move(r));
  }
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  using List = std::vector<std::pair<std::string, std::optional<std::string>>>;
  // The copy's Kafka key is the group key; `sluice.key` holds the record's own (null: none).
  CHECK(rig.out.taken()[0].key == "a");
  CHECK(rig.out.taken()[0].header_list == List{{"tenant", "t1"},
                                               {"none", std::nullopt},
                                               {"sluice.key", "original"},
                                               {"sluice.source", "0:0"}});
  CHECK(rig.out.taken()[1].header_list == List{{"tenant", "t1"},
                                               {"none", std::nullopt},
                                               {"sluice.key", std::nullopt},
                                               {"sluice.source", "0:1"}});
}

TEST_CASE("headers: on the broker, grouped by a header across a repartition", "[kafka][headers]") {
  server::devtools::MockBroker broker;
  // The repartition topic of the GROUP BY (the test broker cannot create it).
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 1}, {"g-repartition", 2}});
  Producer producer(bootstrap);
  for (int i = 0; i < 12; ++i) {
    Producer::Headers h = {{"tenant", i % 3 == 0 ? "acme" : "zenith"}, {"n", std::nullopt}};
    if (i == 0) h.emplace_back("sluice.key", "not-a-router");  // an ordinary topic: just a header
    if (i == 11) h.erase(h.begin());                           // no tenant: NULL
    std::string k = i % 3 == 0 ? "acme" : "zenith";
    producer.produce("in", "key" + std::to_string(i),
                     "{\"id\":" + std::to_string(i) + ",\"k\":\"" + k + "\"}", h);
  }
  producer.flush(10s);

  SECTION("the values as produced") {
    RunningJob job(
        "name: p\nsql: SELECT id, _key AS key, HEADER('tenant') AS tenant, _headers AS h FROM t\n"
        "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, k: STRING}}\n"
        "sink: {type: kafka, topic: out}\n" +
            std::string(kTestKafka),
        bootstrap);
    auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 12; });
    REQUIRE(st.counts.records_out == 12);
    auto out = read_topic(bootstrap, "out", 1, 12, 10s);
    REQUIRE(out.size() == 12);
    std::map<std::string, std::string> by_id;
    for (const auto& c : out)
      by_id[c.value.substr(0, c.value.find(','))] = c.value;
    // "acme" YWNtZQ==, "zenith" emVuaXRo.
    CHECK(by_id.at("{\"id\":0") ==
          R"({"id":0,"key":"key0","tenant":"YWNtZQ==","h":[{"key":"tenant","value":"YWNtZQ=="},)"
          R"({"key":"n","value":null},{"key":"sluice.key","value":"bm90LWEtcm91dGVy"}]})");
    CHECK(by_id.at("{\"id\":11") ==
          R"({"id":11,"key":"key11","tenant":null,"h":[{"key":"n","value":null}]})");
    st = job.stop();
    check_identity(st);
  }

  SECTION("read after a repartition: forwarded, without sluice's own header") {
    RunningJob job(
        "name: g\nsql: SELECT k, COUNT(HEADER('tenant')) AS tenants, "
        "MIN(CARDINALITY(_headers)) AS fewest, MAX(CARDINALITY(_headers)) AS most, "
        "COUNT(*) AS n FROM t GROUP BY k\n"
        "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, k: STRING}}\n"
        "sink: {type: kafka, topic: out}\n" +
            std::string(kTestKafka),
        bootstrap);
    auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 12; });
    REQUIRE(st.counts.records_out == 12);
    st = job.stop();
    auto out = read_topic(bootstrap, "out", 1, 12, 10s);
    REQUIRE(out.size() == 12);
    std::set<std::string> values;
    for (const auto& c : out)
      values.insert(c.value);
    // k: "acme" for ids 0, 3, 6, 9 (4 records, each with both headers); "zenith" for the other 8,
    // of which id 11 has no tenant header.
    // Order 0's own `sluice.key` header goes through the repartition as its header (3 of them).
    CHECK(values.count(R"({"k":"acme","tenants":4,"fewest":2,"most":3,"n":4})") == 1);
    CHECK(values.count(R"({"k":"zenith","tenants":7,"fewest":1,"most":2,"n":8})") == 1);
  }
}
