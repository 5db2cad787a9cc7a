// The Schema Registry client (server/kafka/schema_registry) against a registry made up by the
// test on 127.0.0.1: lookups answered off the caller's thread, errors remembered per id, a failing
// registry asked again until it answers, registration, and basic authentication.

#include "server/kafka/schema_registry.hpp"

#include "common/error.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "test_http_server.hpp"

using namespace sluice;
using server::http::Request;
using server::http::Response;
using sluice::test::TestServer;

namespace {

const char* const kSchema = R"({"type":"record","name":"T","fields":[{"name":"a","type":"long"}]})";

// Waits (bounded) for request(id)'s callback.
bool answered(server::kafka::SchemaRegistry& r, uint32_t id) {
  auto done = std::make_shared<std::promise<void>>();
  r.request(id, [done] { done->set_value(); });
  return done->get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
}

std::string json_string(std::string_view s) {
  std::string out;
  format::append_json_string(s, out);
  return out;
}

}  // namespace

TEST_CASE("schema registry: ids are fetched once, off the caller's thread; errors stay",
          "[registry]") {
  TestServer srv;
  std::atomic<int> gets{0}, failures_left{2};
  std::mutex mu;
  std::string auth;
  srv.server().handle("GET", "/api/schemas/ids/{id}", [&](const Request& q) {
    ++gets;
    {
      std::lock_guard lock(mu);
      if (const std::string* a = q.header("Authorization")) auth = *a;
    }
    const std::string& id = q.params.at("id");
    if (id == "1") return Response::json(200, "{\"schema\":" + json_string(kSchema) + "}");
    if (id == "2") {
      return Response::json(200, R"({"schema":"syntax = \"proto3\"; message M { int64 a = 1; }",)"
                                 R"("schemaType":"PROTOBUF"})");
    }
    if (id == "7") return Response::json(200, R"({"schema":"message {","schemaType":"PROTOBUF"})");
    if (id == "3") return Response::json(200, R"({"schema":"{\"type\":\"nope\"}"})");
    if (id == "5" && failures_left-- > 0) return Response::json(503, R"({"message":"busy"})");
    if (id == "5") return Response::json(200, "{\"schema\":" + json_string(kSchema) + "}");
    if (id == "6") {  // an empty type is Avro, as an absent one
      return Response::json(200, "{\"schema\":" + json_string(kSchema) + ",\"schemaType\":\"\"}");
    }
    return Response::json(404, R"({"error_code":40403,"message":"Schema not found"})");
  });
  srv.start();
  server::kafka::SchemaRegistry registry(
      {fmt::format("http://127.0.0.1:{}/api", srv.port()), "user", "secret", 2000});
  CHECK_FALSE(registry.find(1).known());
  REQUIRE(answered(registry, 1));
  auto one = registry.find(1);
  REQUIRE(one.schema != nullptr);
  CHECK(one.schema->root().fields.at(0).name == "a");
  REQUIRE(answered(registry, 1));  // known: called back at once, not fetched again
  CHECK(gets == 1);
  {
    std::lock_guard lock(mu);
    CHECK(auth == "Basic dXNlcjpzZWNyZXQ=");  // user:secret
  }
  REQUIRE(answered(registry, 2));
  // Another type is an answer: the pipeline that reads it says whether it can
  // (RegistryValueDecoder). Protobuf schemas are parsed here, once.
  CHECK(registry.find(2).type == "PROTOBUF");
  CHECK(registry.find(2).error.empty());
  REQUIRE(registry.find(2).proto != nullptr);
  CHECK(registry.find(2).proto->messages().at(0)->name == "M");
  REQUIRE(answered(registry, 7));
  CHECK(registry.find(7).error == "Protobuf schema: line 1, column 9: Expected message name.");
  CHECK(registry.find(1).type == "AVRO");
  REQUIRE(answered(registry, 3));
  CHECK_THAT(registry.find(3).error, Catch::StartsWith("invalid Avro schema: unknown type 'nope'"));
  REQUIRE(answered(registry, 6));
  CHECK(registry.find(6).type == "AVRO");
  CHECK(registry.find(6).schema != nullptr);
  REQUIRE(answered(registry, 4));
  CHECK(registry.find(4).error == "the registry answered HTTP 404: Schema not found");
  // 503 twice: asked again (1 s, then 2 s) until it answers.
  auto started = std::chrono::steady_clock::now();
  REQUIRE(answered(registry, 5));
  CHECK(registry.find(5).schema != nullptr);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(2900));
}

TEST_CASE("schema registry: registration returns the id; a refusal names the reason",
          "[registry]") {
  TestServer srv;
  std::string body, type;
  srv.server().handle("POST", "/subjects/{subject}/versions", [&](const Request& q) {
    if (q.params.at("subject") != "out-value")
      return Response::json(409, R"({"message":"Schema being registered is incompatible"})");
    body = q.body;
    if (const std::string* t = q.header("Content-Type")) type = *t;
    return Response::json(200, R"({"id":17})");
  });
  srv.start();
  server::kafka::SchemaRegistry registry(
      {fmt::format("http://127.0.0.1:{}", srv.port()), "", "", 2000});
  CHECK(registry.register_schema("out-value", kSchema) == 17);
  CHECK(body == "{\"schema\":" + json_string(kSchema) + "}");
  CHECK(type == "application/vnd.schemaregistry.v1+json");
  CHECK(registry.find(17).schema != nullptr);  // what it registered is known by its id
  const std::string json_schema = R"({"type":"object"})";
  CHECK(registry.register_schema("out-value", json_schema, "JSON") == 17);
  CHECK(body == "{\"schema\":" + json_string(json_schema) + ",\"schemaType\":\"JSON\"}");
  CHECK(registry.find(17).type == "JSON");
  CHECK(registry.find(17).schema == nullptr);
  CHECK_THROWS_WITH(registry.register_schema("other-value", kSchema),
                    Catch::Contains("registering the schema of subject 'other-value': HTTP 409: "
                                    "Schema being registered is incompatible"));
}

TEST_CASE("schema registry: an id that fails waits its own backoff; a 404 is asked again later",
          "[registry]") {
  TestServer srv;
  std::atomic<int> gets_of_1{0}, gets_of_3{0};
  srv.server().handle("GET", "/schemas/ids/{id}", [&](const Request& q) {
    const std::string& id = q.params.at("id");
    if (id == "1") {  // never answers: the others must not wait for it
      ++gets_of_1;
      return Response::json(500, R"({"message":"broken"})");
    }
    if (id == "2") return Response::json(401, R"({"message":"Unauthorized"})");
    if (id == "3") {
      ++gets_of_3;
      return Response::json(404, R"({"message":"Schema not found"})");
    }
    return Response::json(200, "{\"schema\":" + json_string(kSchema) + "}");
  });
  srv.start();
  server::kafka::RegistryOptions o{fmt::format("http://127.0.0.1:{}", srv.port()), "", "", 2000};
  o.negative_ttl_ms = 300;
  server::kafka::SchemaRegistry registry(o);
  std::atomic<bool> one{false}, two{false};
  registry.request(1, [&] { one = true; });
  registry.request(2, [&] { two = true; });
  auto started = std::chrono::steady_clock::now();
  REQUIRE(answered(registry, 4));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(900));
  CHECK(registry.find(4).schema != nullptr);
  // A refusal (401) is no answer about the id: asked again, never remembered as an error.
  CHECK_FALSE(two);
  CHECK_FALSE(registry.find(2).known());
  CHECK_FALSE(one);
  CHECK(gets_of_1 >= 1);
  // A 404 is an error for negative_ttl_ms, then asked again.
  REQUIRE(answered(registry, 3));
  CHECK_FALSE(registry.find(3).error.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK_FALSE(registry.find(3).known());
  REQUIRE(answered(registry, 3));
  CHECK(gets_of_3 == 2);
}

TEST_CASE("schema registry: unreachable, it is asked again; a bad URL is refused", "[registry]") {
  CHECK_THROWS_WITH(server::kafka::SchemaRegistry({"https://r:1", "", "", 200}),
                    Catch::Contains("schema_registry.url"));
  server::kafka::SchemaRegistry registry({"http://127.0.0.1:1", "", "", 200});
  CHECK_THROWS_AS(registry.register_schema("s", kSchema), Error);
  std::atomic<bool> called{false};
  registry.request(9, [&] { called = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(called);  // still waiting for the registry; the destructor ends the retries
  CHECK_FALSE(registry.find(9).known());
}
