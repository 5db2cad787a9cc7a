// A KafkaJob with `format: avro` on the mock broker, beside a registry made up by the test: the
// sink's schema is registered before anything is written, once the registry answers (a registry
// that is down or busy at the start is asked again; a refusal fails the job), and records go in
// and out in the wire format.

#include "format/avro.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/kafka/schema_registry.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <mutex>

#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"
#include "test_http_server.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using server::http::Request;
using server::http::Response;
using sluice::test::TestServer;

namespace {

const std::vector<format::Column> kIn = {{"id", types::DataType::bigint()},
                                         {"name", types::DataType::string()}};

const std::string kJob = std::string(
                             "name: av\nsql: SELECT id, name FROM t WHERE id > 0\n"
                             "source: {type: kafka, topic: in, name: t, format: avro, "
                             "schema: {id: BIGINT, name: STRING}}\n"
                             "sink: {type: kafka, topic: out, format: avro}\n") +
                         kTestKafka;

// A registry holding the input schema as id 1; it answers registrations with `register_status`
// (and id 7 on 200) after failing the first `busy` of them with 503.
struct FakeRegistry {
  TestServer srv;
  std::mutex mu;
  std::string registered;             // the last subject
  std::vector<std::string> subjects;  // every subject registered
  std::vector<std::string> schemas;   // and its schema
  std::atomic<int> posts{0};
  FakeRegistry(int busy, int register_status) {
    format::AvroEncoder in(kIn, "In");
    std::string schema;
    format::append_json_string(in.schema(), schema);
    // 42: the output schema of kJob (its columns, named after the topic); 43: one with the second
    // field renamed.
    std::string out_schema, other_schema;
    format::append_json_string(format::AvroEncoder(kIn, "out").schema(), out_schema);
    format::append_json_string(
        format::AvroEncoder({kIn[0], {"title", types::DataType::string()}}, "out").schema(),
        other_schema);
    srv.server().handle("GET", "/schemas/ids/{id}", [=](const Request& q) {
      const std::string& id = q.params.at("id");
      if (id == "1") return Response::json(200, "{\"schema\":" + schema + "}");
      if (id == "42") return Response::json(200, "{\"schema\":" + out_schema + "}");
      if (id == "43") return Response::json(200, "{\"schema\":" + other_schema + "}");
      return Response::json(404, R"({"message":"not found"})");
    });
    srv.server().handle(
        "POST", "/subjects/{subject}/versions", [this, busy, register_status](const Request& q) {
          if (posts++ < busy) return Response::json(503, R"({"message":"busy"})");
          if (register_status != 200)
            return Response::json(register_status, R"({"message":"incompatible with version 1"})");
          std::lock_guard lock(mu);
          registered = q.params.at("subject");
          subjects.push_back(registered);
          schemas.push_back(q.body);
          return Response::json(200, subjects.size() == 1 ? R"({"id":7})" : R"({"id":8})");
        });
    srv.start();
  }
  std::string url() { return fmt::format("http://127.0.0.1:{}", srv.port()); }
};

std::string record(int64_t id, const std::string& name) {
  format::AvroEncoder in(kIn, "In");
  std::vector<types::Value> row = {types::Value::bigint(id), types::Value::string(name)};
  std::string out;
  format::append_frame(1, out);
  RecordError err;
  REQUIRE(in.encode(row.data(), out, &err));
  return out;
}

// The mock broker with records 0, 1 and 2 in `in`, and job options with `registry`.
struct KeyedSetup {
  server::devtools::MockBroker broker;
  std::string bootstrap;
  server::kafka::KafkaJobOptions options;
  explicit KeyedSetup(FakeRegistry& registry) {
    bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
    Producer producer(bootstrap);
    for (int i = 0; i < 3; ++i)
      producer.produce("in", "k", record(i, "n" + std::to_string(i)));
    producer.flush(std::chrono::seconds(10));
    options.registry = std::make_shared<server::kafka::SchemaRegistry>(
        server::kafka::RegistryOptions{registry.url(), "", "", 2000});
  }
};

}  // namespace

TEST_CASE("avro job: a busy registry at the start is asked again; records go in and out framed",
          "[kafka][avro]") {
  FakeRegistry registry(2, 200);  // 503, 503 (1 s, then 2 s), then 200
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
  Producer producer(bootstrap);
  for (int i = 0; i < 10; ++i)
    producer.produce("in", "k", record(i, "n" + std::to_string(i)));
  producer.flush(std::chrono::seconds(10));
  server::kafka::KafkaJobOptions options;
  options.registry = std::make_shared<server::kafka::SchemaRegistry>(
      server::kafka::RegistryOptions{registry.url(), "", "", 2000});
  RunningJob job(kJob, bootstrap, options);
  auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 9; },
                         std::chrono::seconds(30));
  REQUIRE(st.counts.records_out == 9);
  CHECK(st.state == server::JobState::kRunning);
  CHECK(registry.posts == 3);
  {
    std::lock_guard lock(registry.mu);
    CHECK(registry.registered == "out-value");
  }
  auto out = read_topic(bootstrap, "out", 1, 9, std::chrono::seconds(10));
  REQUIRE(out.size() == 9);
  format::AvroDecoder reader(format::avro::Schema::parse(format::AvroEncoder(kIn, "x").schema()),
                             kIn);
  for (size_t i = 0; i < out.size(); ++i) {
    format::Framed f;
    RecordError err;
    REQUIRE(format::unframe(out[i].value, &f, &err));
    CHECK(f.schema_id == 7);
    Arena arena;
    std::vector<types::Value> row(2);
    REQUIRE(reader.decode(f.payload, row.data(), arena, &err));
    CHECK(types::to_text(row[0]) == std::to_string(i + 1));
    CHECK(types::to_text(row[1]) == "n" + std::to_string(i + 1));
  }
}

TEST_CASE("avro job: a registry refusing the output schema fails the job with its answer",
          "[kafka][avro]") {
  FakeRegistry registry(0, 409);
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 1}, {"out", 1}});
  server::kafka::KafkaJobOptions options;
  options.registry = std::make_shared<server::kafka::SchemaRegistry>(
      server::kafka::RegistryOptions{registry.url(), "", "", 2000});
  RunningJob job(kJob, bootstrap, options);
  auto st = job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; },
                         std::chrono::seconds(10));
  CHECK(st.state == server::JobState::kFailed);
  CHECK_THAT(st.error,
             Catch::Contains("subject 'out-value': HTTP 409: incompatible with version 1"));
}

TEST_CASE("avro job: without a registry it is refused, saying so", "[kafka][avro]") {
  boost::asio::io_context io;
  auto job = std::make_shared<config::JobConfig>(config::load_job_text(kJob, "job.yaml"));
  CHECK_THROWS_WITH(
      server::kafka::KafkaJob(io, job, config::KafkaProperties{{"bootstrap.servers", "x:1"}}, 1),
      Catch::Contains("job 'av': format avro needs a Schema Registry: set schema_registry.url"));
  auto keyed = std::make_shared<config::JobConfig>(
      config::load_job_text("name: kv\nsql: SELECT id FROM t\n"
                            "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                            "sink: {type: kafka, topic: out, key: [id], key_format: avro}\n",
                            "job.yaml"));
  CHECK_THROWS_WITH(
      server::kafka::KafkaJob(io, keyed, config::KafkaProperties{{"bootstrap.servers", "x:1"}}, 1),
      Catch::Contains("job 'kv': key_format avro needs a Schema Registry"));
}

TEST_CASE("avro job: an Avro key is registered (under its configured subject) and frames each key",
          "[kafka][avro][keys]") {
  FakeRegistry registry(0, 200);
  KeyedSetup setup(registry);
  const std::string& bootstrap = setup.bootstrap;
  const server::kafka::KafkaJobOptions& options = setup.options;
  std::string keyed = kJob;
  keyed.replace(keyed.find("format: avro}\n"), 14,
                "format: avro, key: [id], key_format: avro, key_subject: shop.OrderKey}\n");
  RunningJob job(keyed, bootstrap, options);
  auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 2; },
                         std::chrono::seconds(30));
  REQUIRE(st.counts.records_out == 2);
  {
    std::lock_guard lock(registry.mu);
    CHECK(registry.subjects == std::vector<std::string>{"out-value", "shop.OrderKey"});
    REQUIRE(registry.schemas.size() == 2);
    CHECK(registry.schemas[1] == R"({"schema":"\"long\""})");
  }
  auto out = read_topic(bootstrap, "out", 1, 2, std::chrono::seconds(10));
  REQUIRE(out.size() == 2);
  for (size_t i = 0; i < out.size(); ++i) {
    std::string want;
    format::append_frame(8, want);
    want.push_back(static_cast<char>(2 * (i + 1)));  // zigzag id
    CHECK(out[i].key == want);
  }
}

TEST_CASE("avro job: a configured schema id is written with when it holds the output schema",
          "[kafka][avro][schema_id]") {
  FakeRegistry registry(0, 200);
  KeyedSetup setup(registry);
  const std::string& bootstrap = setup.bootstrap;
  const server::kafka::KafkaJobOptions& options = setup.options;

  std::string pinned = kJob;
  pinned.replace(pinned.find("format: avro}\n"), 14, "format: avro, value_schema_id: 42}\n");
  {
    RunningJob job(pinned, bootstrap, options);
    auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 2; },
                           std::chrono::seconds(30));
    REQUIRE(st.counts.records_out == 2);
    CHECK(registry.posts == 0);  // nothing registered
    auto out = read_topic(bootstrap, "out", 1, 2, std::chrono::seconds(10));
    REQUIRE(out.size() == 2);
    for (const auto& r : out) {
      format::Framed f;
      RecordError err;
      REQUIRE(format::unframe(r.value, &f, &err));
      CHECK(f.schema_id == 42);
    }
  }

  // Another schema, or an id the registry does not have: the job fails at start, saying why.
  for (auto [id, why] :
       {std::pair{"43",
                  "schema 43 (sink.value_schema_id) is not the schema the job writes: "
                  "field 2 is 'title', not 'name'"},
        std::pair{"44", "schema 44: the registry has no schema of that id"}}) {
    std::string other = kJob;
    other.replace(other.find("format: avro}\n"), 14,
                  std::string("format: avro, value_schema_id: ") + id + "}\n");
    RunningJob job(other, bootstrap, options);
    auto st = job.wait_for([](const auto& s) { return s.state == server::JobState::kFailed; },
                           std::chrono::seconds(10));
    CHECK(st.state == server::JobState::kFailed);
    CHECK_THAT(st.error, Catch::Contains(why));
  }
}
