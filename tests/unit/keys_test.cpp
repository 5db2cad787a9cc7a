// Record keys in their own formats: a source's key_format/key_type (Kafka's primitive serdes, or a
// JSON value of any type) typing and filling `_key`, a sink's key_format, a bad key as a DECODE
// rejection, and the original key carried through a repartition (`sluice.key`).

#include "format/avro.hpp"
#include "format/json.hpp"
#include "format/kafka_serde.hpp"
#include "plan/state_fingerprint.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/plan/job_plan.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "config_test_util.hpp"
#include "kafka_job_test_util.hpp"
#include "kafka_test_util.hpp"
#include "pipeline_rig.hpp"

using namespace sluice;
using namespace sluice::kafka_testing;
using namespace std::chrono_literals;
using config::testing::job_errors;

namespace {

std::string be(uint64_t v, size_t n) {
  std::string out;
  for (size_t i = n; i-- > 0;)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

std::string job(const std::string& sql, const std::string& source_extra,
                const std::string& sink_extra = "") {
  return "name: k\nsql: " + sql +
         "\nsource: {type: kafka, topic: in, name: t, schema: {id: BIGINT, k: STRING}" +
         source_extra + "}\nsink: {type: kafka, topic: out" + sink_extra +
         "}\ndead_letter: {type: kafka, topic: dlq}\n";
}

// The errors of compiling job file `yaml` (what `sluice validate` checks), or "no error".
std::string errors(const std::string& yaml) {
  try {
    server::compile_job(config::load_job_text(yaml, "job.yaml"));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("keys: Kafka's primitive serdes read and write as Kafka's serializers do", "[keys]") {
  using format::KafkaSerde;
  Arena arena;
  RecordError err;
  types::Value v;
  REQUIRE(format::decode_kafka(KafkaSerde::kLong, be(uint64_t(-2), 8), &v, arena, &err));
  CHECK(v.i == -2);
  REQUIRE(format::decode_kafka(KafkaSerde::kInt, be(0x80000000u, 4), &v, arena, &err));
  CHECK(v.i == -2147483648LL);
  REQUIRE(format::decode_kafka(KafkaSerde::kDouble, be(0x3FF8000000000000ULL, 8), &v, arena, &err));
  CHECK(v.d == 1.5);
  CHECK_FALSE(format::decode_kafka(KafkaSerde::kLong, "12345", &v, arena, &err));
  CHECK(err.code == ErrorCode::kDecode);
  CHECK(err.message == "a Kafka BIGINT is 8 bytes, not 5");
  CHECK_FALSE(format::decode_kafka(KafkaSerde::kInt, "", &v, arena, &err));
  std::string out;
  REQUIRE(format::encode_kafka(KafkaSerde::kLong, types::Value::bigint(258), out));
  CHECK(out == be(258, 8));
  out.clear();
  CHECK_FALSE(format::encode_kafka(KafkaSerde::kInt, types::Value::bigint(1LL << 40), out));
  CHECK(format::kafka_serde_of(" bigint ") == KafkaSerde::kLong);
  CHECK(format::kafka_serde_of("Integer") == KafkaSerde::kInt);
  CHECK_FALSE(format::kafka_serde_of("DECIMAL(10,2)"));
}

TEST_CASE("keys: a JSON key is exactly one JSON value of the key type", "[keys][json]") {
  Arena arena;
  RecordError err;
  types::Value v;
  format::JsonValueDecoder scalar({"_key", types::DataType::bigint()});
  REQUIRE(scalar.decode(" 42 ", &v, arena, &err));
  CHECK(v.i == 42);
  REQUIRE(scalar.decode("null", &v, arena, &err));
  CHECK(v.null);
  for (const char* bad : {"1,2", "1] [2", "", "[1]", "\"x\"", "1 2", "{"}) {
    INFO(bad);
    CHECK_FALSE(scalar.decode(bad, &v, arena, &err));
    CHECK(err.code == ErrorCode::kDecode);
  }
  CHECK_FALSE(scalar.decode("1,2", &v, arena, &err));
  CHECK(err.message == "not one JSON value");
  auto type = types::parse_type_name("STRUCT<id BIGINT, region STRING>");
  format::JsonValueDecoder object({"_key", *type});
  REQUIRE(object.decode(R"({"region":"eu","id":7,"other":true})", &v, arena, &err));
  std::string text;
  REQUIRE(format::append_json_value(v, *type, format::TimestampOutput::kIso8601, text));
  CHECK(text == R"({"id":7,"region":"eu"})");
  CHECK_FALSE(object.decode(R"({"id":"seven"})", &v, arena, &err));
  CHECK_THAT(err.message, Catch::Contains("_key.id"));
}

TEST_CASE("keys: key_format and key_type in job files", "[keys][config]") {
  auto loaded = config::load_job_text(job("SELECT id FROM t", ", key_format: kafka, key_type: int"),
                                      "job.yaml");
  CHECK(loaded.source.key_serde == format::KafkaSerde::kInt);
  CHECK(loaded.source.key_type == types::DataType::bigint());
  loaded = config::load_job_text(
      job("SELECT id FROM t", ", key_format: json, key_type: 'STRUCT<id BIGINT>'"), "job.yaml");
  CHECK(loaded.source.key_format == "json");
  CHECK(loaded.source.key_type.to_string() == "STRUCT<id BIGINT>");
  loaded = config::load_job_text(job("SELECT id FROM t", ""), "job.yaml");
  CHECK(loaded.source.key_format == "kafka");
  CHECK(loaded.source.key_type == types::DataType::string());

  CHECK_THAT(
      job_errors(job("SELECT id FROM t", ", key_type: 'DECIMAL(10,2)'")),
      Catch::Contains("source.key_type: 'DECIMAL(10,2)' is not a type Kafka's serializers "
                      "write: use STRING, BYTES, INT (4 bytes), BIGINT (8 bytes) or DOUBLE"));
  CHECK_THAT(job_errors(job("SELECT id FROM t", ", key_format: xml")),
             Catch::Contains("source.key_format: unknown a key format 'xml'") ||
                 Catch::Contains("source.key_format"));
  CHECK_THAT(job_errors(job("SELECT id FROM t", ", key_format: json, key_type: 'LIST<x>'")),
             Catch::Contains("source.key_type: unknown type 'LIST<x>'"));
  CHECK_THAT(job_errors("name: f\nsql: SELECT id FROM t\n"
                        "source: {type: file, path: in.jsonl, name: t, schema: {id: BIGINT}, "
                        "key_format: json}\nsink: {type: stdout}\n"),
             Catch::Contains("source.key_format: not allowed when type is 'file'"));
  CHECK_THAT(job_errors("name: f\nsql: SELECT id FROM t\n"
                        "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
                        "sink: {type: stdout, key_format: json}\n"),
             Catch::Contains("sink.key_format: not allowed when type is 'stdout'"));
}

TEST_CASE("keys: a sink's key_format kafka needs one key column of a type with a serializer",
          "[keys][config]") {
  CHECK_THAT(errors(job("SELECT id, k FROM t", "", ", key: [id, k], key_format: kafka")),
             Catch::Contains("sink.key_format: key_format kafka writes one column, and the key "
                             "has 2"));
  CHECK_THAT(errors(job("SELECT CAST(id AS DECIMAL(10,2)) AS d FROM t", "",
                        ", key: [d], key_format: kafka")),
             Catch::Contains("has no serializer for the key column's type DECIMAL(10,2)"));
  CHECK(errors(job("SELECT id, k FROM t", "", ", key: [id], key_format: kafka")) == "no error");
}

TEST_CASE("keys: `_key` takes the key type; a key that does not decode is a DECODE rejection",
          "[keys][pipeline]") {
  SECTION("kafka BIGINT") {
    test::Rig rig(job("SELECT id, _key AS key, _key + 1 AS next FROM t",
                      ", key_format: kafka, key_type: BIGINT"));
    rig.source->append("{\"id\":1}", be(uint64_t(-5), 8));
    rig.source->append("{\"id\":2}", std::string("12345"));
    rig.source->append("{\"id\":3}");  // no key: NULL
    rig.start();
    REQUIRE(rig.out.taken().size() == 2);
    CHECK(rig.out.taken()[0].value == R"({"id":1,"key":-5,"next":-4})");
    CHECK(rig.out.taken()[1].value == R"({"id":3,"key":null,"next":null})");
    REQUIRE(rig.dlq.taken().size() == 1);
    CHECK(rig.dlq.taken()[0].headers.at("sluice.error.code") == "DECODE");
    CHECK(rig.dlq.taken()[0].headers.at("sluice.error.message") ==
          "the key (kafka BIGINT): a Kafka BIGINT is 8 bytes, not 5");
    CHECK(rig.dlq.taken()[0].key == "12345");  // the original key, kept
  }
  SECTION("json STRUCT") {
    test::Rig rig(job("SELECT id, _key.region AS region FROM t WHERE _key.id > 0",
                      ", key_format: json, key_type: 'STRUCT<id BIGINT, region STRING>'"));
    rig.source->append("{\"id\":1}", std::string(R"({"id":7,"region":"eu"})"));
    rig.source->append("{\"id\":2}", std::string(R"({"id":0,"region":"us"})"));
    rig.source->append("{\"id\":3}", std::string("not json"));
    rig.start();
    REQUIRE(rig.out.taken().size() == 1);
    CHECK(rig.out.taken()[0].value == R"({"id":1,"region":"eu"})");
    CHECK(rig.counts().filtered == 1);
    REQUIRE(rig.dlq.taken().size() == 1);
    CHECK_THAT(rig.dlq.taken()[0].headers.at("sluice.error.message"),
               Catch::StartsWith("the key (json STRUCT<id BIGINT, region STRING>): ") &&
                   Catch::Contains("invalid JSON"));
  }
}

TEST_CASE("keys: a sink writes its key in its key_format", "[keys][pipeline]") {
  auto keys = [](const std::string& sink_extra, const std::string& select) {
    test::Rig rig(job(select, "", sink_extra));
    rig.source->append("{\"id\":258,\"k\":\"a\"}");
    rig.source->append("{\"k\":\"b\"}");  // id NULL
    rig.start();
    std::vector<std::optional<std::string>> out;
    for (const auto& t : rig.out.taken())
      out.push_back(t.key);
    return out;
  };
  using Keys = std::vector<std::optional<std::string>>;
  CHECK(keys(", key: [id], key_format: kafka", "SELECT id, k FROM t") ==
        Keys{be(258, 8), std::nullopt});
  CHECK(keys(", key: [k], key_format: kafka", "SELECT id, k FROM t") == Keys{"a", "b"});
  CHECK(keys(", key: [d], key_format: kafka", "SELECT CAST(id AS DOUBLE) / 2 AS d FROM t") ==
        Keys{be(0x4060200000000000ULL, 8), std::nullopt});  // 129.0
  CHECK(keys(", key: [k], key_format: json", "SELECT id, k FROM t") == Keys{"\"a\"", "\"b\""});
  CHECK(keys(", key: [id], key_format: json", "SELECT id, k FROM t") == Keys{"258", std::nullopt});
  CHECK(keys(", key: [id, k], key_format: json", "SELECT id, k FROM t") ==
        Keys{R"({"id":258,"k":"a"})", R"({"id":null,"k":"b"})"});
  // avro: framed with the key schema's id (the rig's 2), one column as its Avro type (258 is the
  // zigzag varint 84 04), several as a record of nullable fields; a NULL single column no key.
  std::string frame;
  format::append_frame(2, frame);
  CHECK(keys(", key: [id], key_format: avro", "SELECT id, k FROM t") ==
        Keys{frame + "\x84\x04", std::nullopt});
  CHECK(keys(", key: [id, k], key_format: avro", "SELECT id, k FROM t") ==
        Keys{frame + "\x02\x84\x04\x02\x02" + "a", frame + std::string("\0\x02\x02", 3) + "b"});
  // protobuf: framed, message indexes [0], then a message of the key columns (field 1 the varint
  // 258, field 2 the string); a NULL field is left out, a NULL single column no key.
  CHECK(keys(", key: [id, k], key_format: protobuf", "SELECT id, k FROM t") ==
        Keys{frame + std::string("\0\x08\x82\x02\x12\x01", 6) + "a",
             frame + std::string("\0\x12\x01", 3) + "b"});
  CHECK(keys(", key: [id], key_format: protobuf", "SELECT id, k FROM t") ==
        Keys{frame + std::string("\0\x08\x82\x02", 4), std::nullopt});
  // Without key_format, as before: one STRING column as its bytes, else an object.
  CHECK(keys(", key: [k]", "SELECT id, k FROM t") == Keys{"a", "b"});
  CHECK(keys(", key: [id]", "SELECT id, k FROM t") == Keys{R"({"id":258})", R"({"id":null})"});
}

TEST_CASE("keys: the query stage of a repartitioned job reads each record's own key",
          "[kafka][keys]") {
  server::devtools::MockBroker broker;
  // The repartition topic of the GROUP BY (the test broker cannot create it).
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 1}, {"r-repartition", 2}});
  Producer producer(bootstrap);
  for (int i = 0; i < 10; ++i) {
    producer.produce("in", be(static_cast<uint64_t>(i), 8),
                     "{\"k\":\"" + std::string(i % 2 ? "odd" : "even") + "\"}");
  }
  producer.flush(10s);
  RunningJob job(
      "name: r\nsql: SELECT k, COUNT(*) AS n, SUM(_key) AS keys FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, key_format: kafka, key_type: BIGINT, "
      "schema: {k: STRING}}\n"
      "sink: {type: kafka, topic: out, key_format: json}\n" +
          std::string(kTestKafka),
      bootstrap);
  auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 10; });
  REQUIRE(st.counts.records_out == 10);
  CHECK(st.counts.rejected == 0);
  st = job.stop();
  auto out = read_topic(bootstrap, "out", 1, 10, 10s);
  REQUIRE(out.size() == 10);
  std::map<std::string, std::string> last;
  for (const auto& c : out)
    last[c.key] = c.value;
  CHECK(last == std::map<std::string, std::string>{{"\"even\"", R"({"k":"even","n":5,"keys":20})"},
                                                   {"\"odd\"", R"({"k":"odd","n":5,"keys":25})"}});
}

TEST_CASE("keys: without key columns a repartitioned job's output keeps the group key",
          "[kafka][keys]") {
  server::devtools::MockBroker broker;
  std::string bootstrap = broker.start(1, {{"in", 2}, {"out", 1}, {"g-repartition", 2}});
  Producer producer(bootstrap);
  for (int i = 0; i < 6; ++i)
    producer.produce("in", "order-" + std::to_string(i),
                     i % 2 ? R"({"k":"odd"})" : R"({"k":"even"})");
  producer.flush(10s);
  RunningJob job(
      "name: g\nsql: SELECT COUNT(*) AS n FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, schema: {k: STRING}}\n"
      "sink: {type: kafka, topic: out}\n" +
          std::string(kTestKafka),
      bootstrap);
  auto st = job.wait_for([](const auto& s) { return s.counts.records_out >= 6; });
  REQUIRE(st.counts.records_out == 6);
  st = job.stop();
  auto out = read_topic(bootstrap, "out", 1, 6, 10s);
  REQUIRE(out.size() == 6);
  std::map<std::string, int> by_key;
  for (const auto& c : out)
    ++by_key[c.key];
  // The copy's Kafka key (the group key, "even"/"odd"), as before sluice.key: not the orders'.
  CHECK(by_key == std::map<std::string, int>{{"even", 3}, {"odd", 3}});
}

TEST_CASE("keys: state is keyed by schema columns only; a sink key_format needs key columns",
          "[keys][config]") {
  // A router re-keys by schema columns: grouping by a system column is refused, not crashed on.
  for (const char* sql :
       {"SELECT COUNT(*) AS n FROM t GROUP BY _key",
        "SELECT COUNT(*) AS n FROM t GROUP BY k, _headers", "SELECT DISTINCT _key FROM t"}) {
    INFO(sql);
    CHECK_THAT(errors(job(sql, "")),
               Catch::Contains("the query keeps state keyed by the system column '_") &&
                   Catch::Contains("key it by schema columns"));
  }
  // Partitioned by schema columns among the keys: no router, so a system column may join them.
  CHECK(errors(job("SELECT k, COUNT(*) AS n FROM t GROUP BY k, _partition",
                   ", partitioned_by: [k]")) == "no error");
  CHECK_THAT(errors(job("SELECT id FROM t", "", ", key_format: json")),
             Catch::Contains("sink.key_format: key_format json needs key columns"));
  CHECK_THAT(errors(job("SELECT id FROM t", "", ", key_format: kafka")),
             Catch::Contains("sink.key_format: key_format kafka needs key columns"));
}

TEST_CASE("keys: the state fingerprint changes with how `_key` is read, and only then",
          "[keys][state]") {
  std::vector<format::Column> cols = {{"k", types::DataType::string()}};
  const std::string sql = "SELECT _key, COUNT(*) FROM t GROUP BY _key";
  plan::SourceSchema plain("t", cols);
  plan::SourceSchema kafka_string("t", cols);
  kafka_string.key_format = "kafka";
  plan::SourceSchema json_string("t", cols);
  json_string.key_format = "json";
  plan::SourceSchema long_key("t", cols, types::DataType::bigint());
  long_key.key_format = "kafka";
  uint64_t before = plan::state_fingerprint(sql, plain);
  CHECK(plan::state_fingerprint(sql, kafka_string) == before);  // as before key formats
  CHECK(plan::state_fingerprint(sql, json_string) != before);
  CHECK(plan::state_fingerprint(sql, long_key) != before);
  CHECK(plan::state_fingerprint(sql, long_key) != plan::state_fingerprint(sql, json_string));
}

TEST_CASE("keys: an Avro key's schema: one column's type, or a record of several", "[keys][avro]") {
  config::SinkConfig sink;
  sink.topic = "orders-out";
  sink.key_format = "avro";
  std::vector<format::Column> row = {{"id", types::DataType::bigint()},
                                     {"day", types::DataType::date()},
                                     {"at", *types::parse_type_name("STRUCT<city STRING>")}};
  CHECK(server::pipeline::make_key_encoder(sink, {0}, row)->schema() == R"("long")");
  CHECK(server::pipeline::make_key_encoder(sink, {2}, row)->schema() ==
        R"({"type":"record","name":"orders_out_key","fields":[{"name":"city","type":)"
        R"(["null","string"],"default":null}]})");
  CHECK(server::pipeline::make_key_encoder(sink, {0, 1}, row)->schema() ==
        R"({"type":"record","name":"orders_out_key","fields":[{"name":"id","type":["null",)"
        R"("long"],"default":null},{"name":"day","type":["null",{"type":"int","logicalType":)"
        R"("date"}],"default":null}]})");
  CHECK(server::pipeline::make_key_encoder(sink, {}, row) == nullptr);
  // protobuf: always a message, of the key columns.
  sink.key_format = "protobuf";
  auto proto = server::pipeline::make_key_encoder(sink, {0, 2}, row);
  CHECK(std::string(proto->schema_type()) == "PROTOBUF");
  CHECK_THAT(proto->schema(), Catch::Contains("message orders_out_key {\n"
                                              "  optional int64 id = 1;\n"));
  CHECK_THAT(proto->schema(), Catch::Contains("  At at = 2;"));
  sink.key_format = "json";
  CHECK(server::pipeline::make_key_encoder(sink, {0}, row) == nullptr);
  // A key Avro cannot hold rejects its record, naming the key.
  sink.key_format = "avro";
  auto enc = server::pipeline::make_key_encoder(sink, {1}, row);
  server::pipeline::RecordKey key({1}, row, format::TimestampOutput::kIso8601, "avro", enc);
  std::vector<types::Value> far = {types::Value::bigint(1), types::Value::date(int64_t{1} << 40),
                                   types::Value::make_null(types::TypeId::kStruct)};
  std::string out;
  RecordError err{ErrorCode::kInternal, ""};
  CHECK_FALSE(key.encode(far.data(), out, &err));
  CHECK(err.code == ErrorCode::kOverflow);
  CHECK_THAT(err.message, Catch::Contains("day"));
}
