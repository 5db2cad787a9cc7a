// Sources whose job file leaves `schema:` to the Schema Registry: the columns each registry schema
// type describes (format/schema_columns.hpp), the job file rules (config), the registry's latest
// version read into the job (kafka/registry_schema.hpp), `sluice validate --registry`, and the
// daemon starting such a job once the registry answers.

#include "common/error.hpp"
#include "config/job_config.hpp"
#include "format/avro.hpp"
#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"
#include "format/schema_columns.hpp"
#include "server/cli/cli.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/http/http_server.hpp"
#include "server/http/job_admin.hpp"
#include "server/kafka/registry_schema.hpp"
#include "server/plan/job_plan.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "job_manager_rig.hpp"
#include "protobuf_shop.hpp"
#include "temp_dir.hpp"
#include "test_http_server.hpp"

using namespace sluice;
using format::Column;
using format::registry_schema_columns;
using server::http::Request;
using server::http::Response;
using sluice::test::TestServer;

namespace {

// "name TYPE, ..." of the columns.
std::string described(const std::vector<Column>& columns) {
  std::string out;
  for (const auto& c : columns)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", c.name, c.type.to_string());
  return out;
}

std::string refusal(std::string_view type, std::string_view text) {
  try {
    registry_schema_columns(type, text);
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kConfig);
    return e.what();
  }
  return "(accepted)";
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

const char* const kTrade = R"({"type":"record","name":"Trade","namespace":"t","fields":[
  {"name":"symbol","type":"string"},
  {"name":"price","type":["null",{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}]},
  {"name":"qty","type":"int"},
  {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
  {"name":"day","type":{"type":"int","logicalType":"date"}},
  {"name":"tod","type":{"type":"long","logicalType":"time-micros"}},
  {"name":"ratio","type":"float"},
  {"name":"ok","type":"boolean"},
  {"name":"side","type":{"type":"enum","name":"Side","symbols":["BUY","SELL"]}},
  {"name":"raw","type":{"type":"fixed","name":"F","size":4}},
  {"name":"fills","type":{"type":"array","items":{"type":"record","name":"Fill","fields":[
    {"name":"venue","type":["null","string"]},{"name":"n","type":"long"}]}}},
  {"name":"tags","type":{"type":"map","values":"string"}},
  {"name":"last","type":["null","Fill"],"default":null}]})";

}  // namespace

TEST_CASE("registry schemas: an Avro record's fields are the columns", "[infer]") {
  CHECK(described(registry_schema_columns("AVRO", kTrade)) ==
        "symbol STRING, price DECIMAL(18,4), qty BIGINT, at TIMESTAMP, day DATE, tod TIME, "
        "ratio DOUBLE, ok BOOLEAN, side STRING, raw BYTES, "
        "fills ARRAY<STRUCT<venue STRING, n BIGINT>>, tags MAP<STRING, STRING>, "
        "last STRUCT<venue STRING, n BIGINT>");
  // The decoder reads the schema's records into them.
  CHECK(format::AvroDecoder(format::avro::Schema::parse(kTrade),
                            registry_schema_columns("AVRO", kTrade))
            .mismatch()
            .empty());

  // The schema sluice's own sink registers reads back as the columns it was made from.
  std::vector<Column> out;
  for (const char* t : {"BIGINT", "DOUBLE", "STRING", "BOOLEAN", "BYTES", "DECIMAL(38,10)",
                        "TIMESTAMP", "DATE", "TIME", "ARRAY<STRUCT<a BIGINT, b ARRAY<STRING>>>",
                        "MAP<STRING, MAP<STRING, DOUBLE>>", "STRUCT<x STRUCT<y TIMESTAMP>>"}) {
    std::string error;
    auto type = types::parse_type_name(t, &error);
    REQUIRE(type);
    out.push_back({fmt::format("c{}", out.size()), *type});
  }
  CHECK(described(registry_schema_columns("AVRO", format::avro::schema_for(out, "Row"))) ==
        described(out));
}

TEST_CASE("registry schemas: Avro types no column holds are refused, naming the field", "[infer]") {
  auto record = [](const std::string& fields) {
    return R"({"type":"record","name":"R","fields":[)" + fields + "]}";
  };
  CHECK(refusal("AVRO", record(R"({"name":"u","type":["null","long","string"]})")) ==
        "field 'u': a union of several types other than null");
  CHECK(refusal("AVRO", record(R"({"name":"n","type":"null"})")) ==
        "field 'n': type null holds "
        "no value");
  CHECK(refusal("AVRO", record(R"({"name":"a","type":{"type":"array","items":{"type":"record",)"
                               R"("name":"In","fields":[{"name":"b","type":["null","long",)"
                               R"("double"]}]}}})")) ==
        "field 'a[].b': a union of several types other than null");
  CHECK(refusal("AVRO", R"({"type":"record","name":"Node","fields":[{"name":"v","type":"long"},)"
                        R"({"name":"next","type":["null","Node"]}]})") ==
        "field 'next': record Node contains itself");
  // A decimal wider than DECIMAL's 38 digits is not a valid logical type here: its bytes remain.
  CHECK(described(registry_schema_columns(
            "AVRO", record(R"({"name":"d","type":{"type":"bytes","logicalType":"decimal",)"
                           R"("precision":40,"scale":2}})"))) == "d BYTES");
  CHECK(refusal("AVRO", record(R"({"name":"Id","type":"long"},{"name":"id","type":"long"})")) ==
        "field 'id': its name differs from field 'Id' only in case");
  CHECK(contains(refusal("AVRO", R"("long")"), "the Avro schema is a long, not a record"));
  CHECK(contains(refusal("AVRO", R"({"type":"record","name":"R"})"), "fields"));
  std::string deep = R"("long")";
  for (int i = 0; i < 70; ++i)
    deep = R"({"type":"array","items":)" + deep + "}";
  CHECK(contains(refusal("AVRO", record(R"({"name":"deep","type":)" + deep + "}")),
                 "nested deeper than 64 levels"));
  // Named types used twice in each of 30 nested records: 2^30 fields once expanded. Refused at
  // the bound, at once.
  std::string dag = R"({"type":"record","name":"N30","fields":[{"name":"v","type":"long"}]})";
  for (int i = 29; i >= 0; --i) {
    dag = fmt::format(R"({{"type":"record","name":"N{}","fields":[{{"name":"a","type":{}}},)"
                      R"({{"name":"b","type":"N{}"}}]}})",
                      i, dag, i + 1);
  }
  CHECK(contains(refusal("AVRO", dag), "would hold more than 10000 types in all"));
}

TEST_CASE("registry schemas: a Protobuf file's first message is the row", "[infer][protobuf]") {
  CHECK(described(registry_schema_columns("PROTOBUF", testing::kShop)) ==
        "id BIGINT, customer STRING, lines ARRAY<STRUCT<sku STRING, qty BIGINT>>, "
        "attrs MAP<STRING, BIGINT>, status STRING, created TIMESTAMP, discount DOUBLE, "
        "note STRING, codes ARRAY<BIGINT>, delta BIGINT, big BIGINT, raw BYTES, rush BOOLEAN, "
        "weight DOUBLE, f32 BIGINT, sf64 BIGINT, names MAP<STRING, STRING>, card STRING, "
        "account BIGINT, unpacked ARRAY<BIGINT>, small BIGINT, amount STRING, day BIGINT");
  auto shop = format::protobuf::Schema::parse(testing::kShop);
  CHECK(format::ProtobufDecoder(shop, registry_schema_columns("PROTOBUF", testing::kShop))
            .mismatch(*shop->messages()[0])
            .empty());

  // sluice's own lists inside lists (a message of `repeated ... value = 1`) read as the list.
  std::string error;
  std::vector<Column> nested = {
      {"grid", *types::parse_type_name("ARRAY<ARRAY<BIGINT>>", &error)},
      {"m", *types::parse_type_name("MAP<STRING, ARRAY<STRING>>", &error)},
      {"s", *types::parse_type_name("STRUCT<a DOUBLE, t TIMESTAMP>", &error)}};
  CHECK(described(registry_schema_columns("PROTOBUF", format::protobuf_schema_for(nested, "R"))) ==
        described(nested));

  CHECK(refusal("PROTOBUF",
                R"(syntax = "proto3"; message T { int64 v = 1; repeated T kids = 2; })") ==
        "field 'kids[]': message T contains itself");
  CHECK(refusal("PROTOBUF", R"(syntax = "proto3"; message E {} message T { E e = 1; })") ==
        "the schema has no field a column can hold");
  CHECK(refusal("PROTOBUF", R"(syntax = "proto3"; message T { E e = 1; } message E {})") ==
        "field 'e': a record without fields cannot be a column type");
  CHECK(contains(refusal("PROTOBUF", "message {"), "Protobuf"));
}

TEST_CASE("registry schemas: a JSON Schema object's properties are the columns", "[infer]") {
  const char* schema = R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
    "properties":{
      "id":{"type":"integer"}, "total":{"type":["number","null"]}, "name":{"type":"string"},
      "at":{"type":"string","format":"date-time"}, "day":{"type":"string","format":"date"},
      "tod":{"type":"string","format":"time"},
      "blob":{"type":"string","contentEncoding":"base64"}, "ok":{"type":"boolean"},
      "tags":{"type":"array","items":{"type":"string"}},
      "attrs":{"type":"object","additionalProperties":{"type":"integer"}},
      "addr":{"oneOf":[{"type":"null"},{"type":"object","properties":{"city":{"type":"string"}}}]}
    }})";
  CHECK(described(registry_schema_columns("JSON", schema)) ==
        "id BIGINT, total DOUBLE, name STRING, at TIMESTAMP, day DATE, tod TIME, blob BYTES, "
        "ok BOOLEAN, tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>, addr STRUCT<city STRING>");

  CHECK(refusal("JSON", R"({"type":"object","properties":{"a":{"$ref":"#/definitions/A"}}})") ==
        "field 'a': a $ref (references in a JSON Schema are not read)");
  CHECK(refusal("JSON", R"({"type":"object","properties":{"a":{"type":["string","integer"]}}})") ==
        "field 'a': a \"type\" list of several types other than null");
  CHECK(refusal("JSON", R"({"type":"object","properties":{"a":{}}})") ==
        "field 'a': it has no \"type\"");
  CHECK(refusal("JSON", R"({"type":"object","properties":{"a":{"type":"array"}}})") ==
        "field 'a': an array without one \"items\" schema");
  CHECK(refusal("JSON", R"({"type":"array","items":{"type":"string"}})") ==
        "the JSON schema is not of an object (records are objects)");
  CHECK(contains(refusal("JSON", "{nope"), "the JSON schema does not parse"));
  CHECK(refusal("XML", "<a/>") == "schema type 'XML' is not read");
}

namespace {

const char* const kInferredJob = R"(name: inferred
sql: SELECT symbol, qty FROM trades WHERE qty > 0
source:
  name: trades
  type: kafka
  topic: trades
  format: avro
sink: {type: kafka, topic: out}
)";

std::string config_error(const std::string& text) {
  try {
    config::load_job_text(text, "job.yaml");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("job files: a registry format may leave the schema to the registry", "[infer][config]") {
  config::JobConfig job = config::load_job_text(kInferredJob, "job.yaml");
  CHECK(job.source.schema_from_registry);
  CHECK(job.source.schema.empty());
  CHECK(job.source.registry_subject() == "trades-value");
  // Until the registry is read, compiling says where the columns come from.
  try {
    server::compile_job(job);
    FAIL("compiled without columns");
  } catch (const config::ConfigError& e) {
    CHECK(contains(e.what(),
                   "job.yaml:4:3: source.schema: left out: the columns are those of the "
                   "latest schema of subject 'trades-value'"));
  }

  std::string with_subject = kInferredJob;
  with_subject += "";
  with_subject.replace(with_subject.find("  format: avro"), 14,
                       "  format: avro\n  value_subject: shared.trades");
  CHECK(config::load_job_text(with_subject, "job.yaml").source.registry_subject() ==
        "shared.trades");

  // JSON needs its schema; a subject needs a registry format.
  std::string json = kInferredJob;
  json.replace(json.find("format: avro"), 12, "format: json");
  CHECK(contains(config_error(json), "source: missing required key 'schema'"));
  std::string json_subject = json;
  json_subject.replace(json_subject.find("  format: json"), 14,
                       "  format: json\n  value_subject: x\n  schema: {a: BIGINT}");
  CHECK(contains(config_error(json_subject),
                 "source.value_subject: needs a format whose schema is in the registry"));

  // event_time and partitioned_by are checked against the columns once read.
  std::string timed = kInferredJob;
  timed.replace(timed.find("  format: avro"), 14,
                "  format: avro\n  event_time: qty\n  partitioned_by: [sym]");
  config::JobConfig t = config::load_job_text(timed, "job.yaml");
  try {
    config::set_registry_schema(t, registry_schema_columns("AVRO", kTrade), "the schema");
    FAIL("accepted");
  } catch (const config::ConfigError& e) {
    CHECK(contains(e.what(),
                   "job.yaml:8:15: source.event_time: column 'qty' is BIGINT; the "
                   "event time must be a TIMESTAMP column"));
    CHECK(contains(e.what(), "source.partitioned_by: 'sym' is not a column of source.schema"));
  }
  config::JobConfig sys = config::load_job_text(kInferredJob, "job.yaml");
  try {
    config::set_registry_schema(sys, {{"_key", types::DataType::string()}}, "the schema");
    FAIL("accepted");
  } catch (const config::ConfigError& e) {
    CHECK(contains(e.what(), "source.schema: the schema has field '_key', a system column name"));
  }
}

namespace {

// A registry on 127.0.0.1 whose subject `trades-value` has `schema` as its latest version 3 (id
// 41); `status` other than 200 answers every request with it.
struct FakeRegistry {
  TestServer srv;
  std::atomic<int> status{200};
  std::atomic<int> requests{0};
  std::string schema = kTrade, type = "AVRO";

  FakeRegistry() {
    srv.server().handle("GET", "/subjects/{subject}/versions/latest", [this](const Request& q) {
      ++requests;
      if (status != 200) return Response::json(status, R"({"message":"not now"})");
      if (q.params.at("subject") != "trades-value")
        return Response::json(404, R"({"error_code":40401,"message":"Subject not found"})");
      std::string body = R"({"subject":"trades-value","version":3,"id":41,"schema":)";
      format::append_json_string(schema, body);
      body += R"(,"schemaType":")" + type + "\"}";
      return Response::json(200, body);
    });
    srv.start();
  }
  std::string url() { return fmt::format("http://127.0.0.1:{}", srv.port()); }
};

}  // namespace

TEST_CASE("the registry's latest version gives the source its columns", "[infer][registry]") {
  FakeRegistry fake;
  server::kafka::SchemaRegistry registry({fake.url(), "", "", 2000});

  config::JobConfig job = config::load_job_text(kInferredJob, "job.yaml");
  CHECK(server::kafka::read_registry_schema(job, registry) ==
        "subject 'trades-value' version 3 (schema id 41)");
  CHECK(job.source.schema.size() == 13);
  CHECK(job.source.schema[1].type.to_string() == "DECIMAL(18,4)");
  CHECK_NOTHROW(server::compile_job(job));
  // A source with its own schema is left alone.
  CHECK(server::kafka::read_registry_schema(job, registry).empty());

  auto error_of = [&](const std::string& text) -> std::pair<ErrorCode, std::string> {
    config::JobConfig j = config::load_job_text(text, "job.yaml");
    try {
      server::kafka::read_registry_schema(j, registry);
    } catch (const Error& e) {
      return {e.code(), e.what()};
    }
    return {ErrorCode::kInternal, "(read)"};
  };
  std::string other = kInferredJob;
  other.replace(other.find("topic: trades"), 13, "topic: orders");
  auto [code, what] = error_of(other);
  CHECK(code == ErrorCode::kConfig);
  CHECK(contains(what, "job.yaml:4:3: source.schema: left out, and schema registry " + fake.url() +
                           ": the latest schema of subject 'orders-value': the registry has no "
                           "version of it"));

  std::string proto = kInferredJob;
  proto.replace(proto.find("format: avro"), 12, "format: protobuf");
  CHECK(contains(error_of(proto).second,
                 "the latest schema of subject 'trades-value' version 3 (schema id 41) is AVRO, "
                 "not PROTOBUF (format: protobuf)"));

  fake.schema = R"({"type":"record","name":"R","fields":[{"name":"u","type":["long","string"]}]})";
  CHECK(contains(error_of(kInferredJob).second,
                 "cannot be read into columns: field 'u': a union of several types other than "
                 "null"));

  fake.status = 503;
  auto [busy_code, busy] = error_of(kInferredJob);
  CHECK(busy_code == ErrorCode::kIo);
  CHECK(contains(busy, "HTTP 503: not now"));
}

TEST_CASE("validate --registry reads the columns and says which version", "[infer][cli]") {
  FakeRegistry fake;
  test::TempDir dir("sluice-infer");
  std::string file = dir.write("job.yaml", kInferredJob);
  auto run = [&](std::vector<const char*> args) {
    args.insert(args.begin(), {"sluice", "validate"});
    std::ostringstream out, err;
    int code = server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
    return std::tuple{code, out.str(), err.str()};
  };
  std::string url = fake.url();
  auto [code, out, err] = run({"--registry", url.c_str(), file.c_str()});
  INFO(err);
  CHECK(code == 0);
  CHECK(out == file + ": source.schema: the latest schema of subject 'trades-value' version 3 " +
                   "(schema id 41)\n" + file + ": ok\n");

  auto [code2, out2, err2] = run({file.c_str()});
  CHECK(code2 == 1);
  CHECK(contains(err2, "source.schema: left out"));
  CHECK(contains(err2, "validate --registry URL"));

  auto [code3, out3, err3] = run({"--registry", "ftp://x", file.c_str()});
  CHECK(code3 == 2);
  CHECK(contains(err3, "--registry"));
}

TEST_CASE("daemon: a job whose schema is in the registry starts once the registry answers",
          "[infer][daemon][kafka]") {
  FakeRegistry fake;
  fake.status = 503;
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"trades", 1}, {"out", 1}});
  test::TempDir dir("sluice-infer-daemon");
  std::string file = dir.write("job.yaml", kInferredJob);

  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  server.kafka = {{"bootstrap.servers", bootstrap}};
  server::JobManagerOptions options;
  options.scan_interval_ms = 100;
  server::kafka::RegistryOptions registry_options;
  registry_options.url = fake.url();
  options.job.registry = std::make_shared<server::kafka::SchemaRegistry>(registry_options);
  test::JobManagerRig rig(server, options);
  auto status = [&] { return rig.status_of(file); };
  using test::eventually;
  REQUIRE(eventually([&] { return status().has_value(); }));
  CHECK(status()->state == server::JobState::kInvalid);
  CHECK(contains(status()->error, "HTTP 503: not now (trying again in 1 s)"));
  // POST /jobs reads the schema as the scan does: 503 while the registry cannot answer.
  server::http::HttpServer admin(rig.io);
  server::http::add_job_admin_routes(admin, rig.jobs, {});
  auto post = [&](const std::string& body) {
    Request r;
    r.method = "POST";
    r.target = "/jobs";
    r.headers.emplace_back("Content-Type", "application/yaml");
    r.body = body;
    return admin.dispatch(r);
  };
  std::string posted = kInferredJob;
  posted.replace(posted.find("name: inferred"), 14, "name: posted");
  posted.replace(posted.find("topic: out"), 10, "topic: out2");
  auto refused = post(posted);
  CHECK(refused.status == 503);
  CHECK(contains(refused.body, "HTTP 503: not now"));
  fake.status = 200;
  // Asked again on a later scan, without the file changing.
  CHECK(eventually([&] { return status() && status()->state != server::JobState::kInvalid; }));
  CHECK(fake.requests >= 2);
  CHECK(post(posted).status == 201);

  CHECK(rig.shutdown());
}
