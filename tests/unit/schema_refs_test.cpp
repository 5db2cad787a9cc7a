// Schema references: an Avro schema using a named type another subject defines, a .proto importing
// files registered as their own subjects (as source or as a base64 FileDescriptorProto), parsed
// with the texts the registry serves; and the registry client fetching them, nested, by subject
// and version, for ids and for a subject's latest version.

#include "common/error.hpp"
#include "format/avro.hpp"
#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"
#include "format/schema_columns.hpp"
#include "server/kafka/schema_registry.hpp"
#include "types/bytes_text.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>

#include "test_http_server.hpp"

using namespace sluice;
using format::SchemaReferences;
using server::http::Request;
using server::http::Response;
using sluice::test::TestServer;

namespace {

std::string described(const std::vector<format::Column>& columns) {
  std::string out;
  for (const auto& c : columns)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", c.name, c.type.to_string());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* const kCustomer = R"({"type":"record","name":"Customer","namespace":"shop",
  "fields":[{"name":"id","type":"long"},{"name":"tier","type":{"type":"enum","name":"Tier",
  "symbols":["GOLD","SILVER"]}}]})";
const char* const kOrder = R"({"type":"record","name":"Order","namespace":"shop",
  "fields":[{"name":"n","type":"long"},{"name":"customer","type":"Customer"},
  {"name":"tier","type":"shop.Tier"}]})";

// .proto files: order.proto imports common.proto, which imports money.proto.
const char* const kMoney = R"(syntax = "proto3"; package shop; message Money { int64 cents = 1; })";
const char* const kCommon = R"(syntax = "proto3"; package shop; import "shop/money.proto";
message Line { string sku = 1; Money price = 2; })";
const char* const kOrderProto = R"(syntax = "proto3"; package shop; import "shop/common.proto";
message Order { int64 id = 1; repeated Line lines = 2; })";

// `source` as a registry serves a client's FileDescriptorProto: base64.
std::string as_descriptor(const std::string& source) {
  namespace pb = google::protobuf;
  pb::FileDescriptorProto file;
  pb::io::ArrayInputStream in(source.data(), static_cast<int>(source.size()));
  pb::io::Tokenizer tokens(&in, nullptr);
  pb::compiler::Parser parser;
  REQUIRE(parser.Parse(&tokens, &file));
  std::string bytes, out;
  REQUIRE(file.SerializeToString(&bytes));
  types::append_base64(bytes, out);
  return out;
}

}  // namespace

TEST_CASE("schema references: Avro named types from another schema", "[refs][avro]") {
  SchemaReferences refs = {{"shop.Customer", kCustomer}};
  auto schema = format::avro::Schema::parse(kOrder, refs);
  CHECK(schema->root().fields.at(1).type->name == "shop.Customer");
  // n = 3, customer {id = -1, tier SILVER}, tier GOLD: zigzag varints.
  std::vector<format::Column> columns = format::registry_schema_columns("AVRO", kOrder, refs);
  CHECK(described(columns) == "n BIGINT, customer STRUCT<id BIGINT, tier STRING>, tier STRING");
  format::AvroDecoder decoder(schema, columns);
  REQUIRE(decoder.mismatch().empty());
  Arena arena;
  std::vector<types::Value> row(columns.size());
  RecordError err;
  REQUIRE(decoder.decode(std::string("\x06\x01\x02\x00", 4), row.data(), arena, &err));
  std::string json;
  format::JsonEncoder(columns).encode(row.data(), json);
  CHECK(json == R"({"n":3,"customer":{"id":-1,"tier":"SILVER"},"tier":"GOLD"})");

  CHECK(error_of([] { format::avro::Schema::parse(kOrder); }) ==
        "invalid Avro schema: unknown type 'Customer'");
  CHECK(error_of([] {
          format::avro::Schema::parse(kOrder, {{"shop.Customer", "{nope"}});
        }).find("the referenced schema 'shop.Customer'") != std::string::npos);
}

TEST_CASE("schema references: Protobuf imports from other subjects, nested, in either form",
          "[refs][protobuf]") {
  for (bool descriptors : {false, true}) {
    INFO("base64 descriptors: " << descriptors);
    auto text = [&](const char* source) {
      return descriptors ? as_descriptor(source) : std::string(source);
    };
    SchemaReferences refs = {{"shop/money.proto", text(kMoney)},
                             {"shop/common.proto", text(kCommon)}};
    auto schema = format::protobuf::Schema::parse(text(kOrderProto), refs);
    REQUIRE(schema->messages().size() == 1);
    std::vector<format::Column> columns =
        format::registry_schema_columns("PROTOBUF", text(kOrderProto), refs);
    CHECK(described(columns) ==
          "id BIGINT, lines ARRAY<STRUCT<sku STRING, price STRUCT<cents BIGINT>>>");
    format::ProtobufDecoder decoder(schema, columns);
    // indexes [0]; id 7; lines {sku "a", price {cents 250}}
    std::string bytes(
        "\x00\x08\x07\x12\x08\x0a\x01"
        "a\x12\x03\x08\xfa\x01",
        13);
    Arena arena;
    std::vector<types::Value> row(columns.size());
    RecordError err;
    REQUIRE(decoder.decode(bytes, row.data(), arena, &err));
    std::string json;
    format::JsonEncoder(columns).encode(row.data(), json);
    CHECK(json == R"({"id":7,"lines":[{"sku":"a","price":{"cents":250}}]})");
  }
  // A missing reference, and imports that go round, are refused.
  CHECK(error_of([] {
          format::protobuf::Schema::parse(kOrderProto, {{"shop/common.proto", kCommon}});
        }).find("it imports \"shop/money.proto\", which is neither among its schema references") !=
        std::string::npos);
  const char* a = R"(syntax = "proto3"; import "b.proto"; message A { int64 x = 1; })";
  const char* b = R"(syntax = "proto3"; import "a.proto"; message B { int64 y = 1; })";
  CHECK(error_of([&] {
          format::protobuf::Schema::parse(a, {{"a.proto", a}, {"b.proto", b}});
        }).find("imports nested over 64 deep") != std::string::npos);
}

namespace {

// A registry on 127.0.0.1: id 1 is order.proto with its reference to common.proto (subject
// "shop/common.proto" version 2), which refers to money.proto; id 2 an Avro order referring to
// shop.Customer; subject orders-value's latest version is id 2. `money_status` answers the
// money.proto version with that status.
struct ReferencingRegistry {
  TestServer srv;
  std::atomic<int> money_status{200};
  std::atomic<int> money_gets{0};

  static std::string answer(const std::string& schema, const char* type, const std::string& refs,
                            const std::string& extra = "") {
    std::string body = "{\"schema\":";
    format::append_json_string(schema, body);
    return body + ",\"schemaType\":\"" + type + "\",\"references\":[" + refs + "]" + extra + "}";
  }

  ReferencingRegistry() {
    const std::string order_refs =
        R"({"name":"shop/common.proto","subject":"shop/common.proto","version":2})";
    const std::string customer_ref =
        R"({"name":"shop.Customer","subject":"shop.Customer","version":1})";
    srv.server().handle("GET", "/schemas/ids/{id}", [=](const Request& q) {
      if (q.params.at("id") == "1")
        return Response::json(200, answer(kOrderProto, "PROTOBUF", order_refs));
      if (q.params.at("id") == "2")
        return Response::json(200, answer(kOrder, "AVRO", customer_ref));
      return Response::json(404, R"({"message":"no such id"})");
    });
    srv.server().handle(
        "GET", "/subjects/{subject}/versions/{version}", [=, this](const Request& q) {
          const std::string& subject = q.params.at("subject");
          const std::string& version = q.params.at("version");
          if (subject == "shop/common.proto" && version == "2") {
            return Response::json(
                200,
                answer(kCommon, "PROTOBUF",
                       R"({"name":"shop/money.proto","subject":"shop/money.proto","version":1})"));
          }
          if (subject == "shop/money.proto" && version == "1") {
            ++money_gets;
            if (money_status != 200) return Response::json(money_status, R"({"message":"busy"})");
            return Response::json(200, answer(kMoney, "PROTOBUF", ""));
          }
          if (subject == "shop.Customer" && version == "1")
            return Response::json(200, answer(kCustomer, "AVRO", ""));
          if (subject == "orders-value" && version == "latest") {
            return Response::json(200, answer(kOrder, "AVRO", customer_ref,
                                              R"(,"subject":"orders-value","version":4,"id":2)"));
          }
          return Response::json(404, R"({"message":"Subject not found"})");
        });
    srv.start();
  }
  std::string url() { return fmt::format("http://127.0.0.1:{}", srv.port()); }
};

bool answered(server::kafka::SchemaRegistry& r, uint32_t id) {
  auto done = std::make_shared<std::promise<void>>();
  r.request(id, [done] { done->set_value(); });
  return done->get_future().wait_for(std::chrono::seconds(15)) == std::future_status::ready;
}

}  // namespace

TEST_CASE("schema registry: references are fetched with the schema, a busy one asked again",
          "[refs][registry]") {
  ReferencingRegistry fake;
  fake.money_status = 503;
  server::kafka::RegistryOptions options;
  options.url = fake.url();
  server::kafka::SchemaRegistry registry(options);

  // money.proto cannot be had yet: the id waits (asked again after 1 s), then reads.
  auto done = std::make_shared<std::promise<void>>();
  registry.request(1, [done] { done->set_value(); });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fake.money_gets < 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(fake.money_gets >= 1);
  CHECK_FALSE(registry.find(1).known());
  fake.money_status = 200;
  REQUIRE(done->get_future().wait_for(std::chrono::seconds(15)) == std::future_status::ready);
  auto one = registry.find(1);
  INFO(one.error);
  REQUIRE(one.proto != nullptr);
  CHECK(one.proto->messages().at(0)->name == "shop.Order");

  REQUIRE(answered(registry, 2));
  auto two = registry.find(2);
  INFO(two.error);
  REQUIRE(two.schema != nullptr);
  CHECK(two.schema->root().fields.at(1).type->name == "shop.Customer");

  // A subject's latest version brings its references too.
  auto latest = registry.latest("orders-value");
  CHECK(latest.version == 4);
  REQUIRE(latest.references.size() == 1);
  CHECK(latest.references[0].name == "shop.Customer");
  CHECK(described(format::registry_schema_columns(latest.type, latest.schema, latest.references)) ==
        "n BIGINT, customer STRUCT<id BIGINT, tier STRING>, tier STRING");
}

TEST_CASE("schema registry: a reference the registry does not have makes the id unreadable",
          "[refs][registry]") {
  TestServer srv;
  srv.server().handle("GET", "/schemas/ids/{id}", [](const Request&) {
    return Response::json(
        200, ReferencingRegistry::answer(
                 kOrder, "AVRO", R"({"name":"shop.Customer","subject":"gone","version":9})"));
  });
  srv.server().handle("GET", "/subjects/{subject}/versions/{version}", [](const Request&) {
    return Response::json(404, R"({"error_code":40402,"message":"Version not found"})");
  });
  srv.start();
  server::kafka::RegistryOptions options;
  options.url = fmt::format("http://127.0.0.1:{}", srv.port());
  server::kafka::SchemaRegistry registry(options);
  REQUIRE(answered(registry, 5));
  CHECK(registry.find(5).error ==
        "the referenced schema 'shop.Customer' (subject 'gone' version 9): HTTP 404: Version not "
        "found");
}

TEST_CASE("schema registry: references that go round, or too many, are refused at a bound",
          "[refs][registry]") {
  // Ids 3: x1 refers to x2, which refers to x1 (so on). 4: 300 references.
  std::string many;
  for (int i = 0; i < 300; ++i)
    many +=
        fmt::format("{}{{\"name\":\"r{}\",\"subject\":\"r{}\",\"version\":1}}", i ? "," : "", i, i);
  std::atomic<int> gets{0};
  TestServer srv;
  srv.server().handle("GET", "/schemas/ids/{id}", [&](const Request& q) {
    std::string refs =
        q.params.at("id") == "3" ? R"({"name":"x1","subject":"x1","version":1})" : many;
    return Response::json(200, ReferencingRegistry::answer(kOrder, "AVRO", refs));
  });
  srv.server().handle("GET", "/subjects/{subject}/versions/{version}", [&](const Request& q) {
    ++gets;
    std::string next = q.params.at("subject") == "x1" ? "x2" : "x1";
    std::string refs = q.params.at("subject")[0] == 'x'
                           ? fmt::format(R"({{"name":"{0}","subject":"{0}","version":1}})", next)
                           : "";
    return Response::json(200, ReferencingRegistry::answer(kCustomer, "AVRO", refs));
  });
  srv.start();
  server::kafka::RegistryOptions options;
  options.url = fmt::format("http://127.0.0.1:{}", srv.port());
  server::kafka::SchemaRegistry registry(options);
  REQUIRE(answered(registry, 3));
  CHECK(registry.find(3).error == "schema references nested over 16 deep");
  CHECK(gets == 16);
  gets = 0;
  REQUIRE(answered(registry, 4));
  CHECK(registry.find(4).error == "over 256 schema references to fetch");
  CHECK(gets == 256);
}
