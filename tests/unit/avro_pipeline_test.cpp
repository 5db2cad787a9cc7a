// A partition pipeline with Avro values: a batch whose writer schema is not at hand waits for it
// without reading on, unreadable ids and malformed values are DECODE rejections, and an Avro sink
// writes the Schema Registry wire format. The same for JSON Schema (format: json_sr), and each
// format refusing the other's schemas.

#include "format/avro.hpp"
#include "format/json_schema.hpp"
#include "format/varint.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <map>

#include "fake_schemas.hpp"
#include "pipeline_rig.hpp"

using namespace sluice;
using sluice::test::opts;
using sluice::test::Rig;
using sluice::test::RigOptions;

namespace {

using sluice::testing::FakeSchemas;

const std::string kTradeSchema =
    R"({"type":"record","name":"T","fields":[{"name":"note","type":"string"},)"
    R"({"name":"id","type":"long"},{"name":"qty","type":["null","long"]}]})";

// Avro's long: zigzag, then a varint.
std::string avro_long(int64_t v) {
  std::string out;
  format::append_varint(format::zigzag(v), out);
  return out;
}

// `payload` in the Schema Registry wire format.
std::string framed(uint32_t schema_id, const std::string& payload) {
  std::string out;
  format::append_frame(schema_id, out);
  return out + payload;
}

// A framed record of kTradeSchema: `note` is skipped by the job, `qty` null when negative. (The
// encoder's own schema is ["null", T] everywhere: kTradeSchema's bytes are written by hand.)
std::string trade(uint32_t schema_id, int64_t id, int64_t qty) {
  std::string record = avro_long(2) + "hi" + avro_long(id);
  record += qty < 0 ? avro_long(0) : avro_long(1) + avro_long(qty);
  return framed(schema_id, record);
}

const std::string kAvroIn =
    "name: p\nsql: SELECT id, qty FROM t\n"
    "source: {type: kafka, topic: in, name: t, format: avro, schema: {id: BIGINT, qty: BIGINT}}\n"
    "sink: {type: kafka, topic: out}\n"
    "dead_letter: {type: kafka, topic: dlq}\n";

}  // namespace

TEST_CASE("pipeline: a batch waits for writer schemas not at hand, reading nothing meanwhile",
          "[pipeline][avro]") {
  auto schemas = std::make_shared<FakeSchemas>();
  Rig rig(kAvroIn, opts([&](RigOptions& o) {
            o.schemas = schemas;
            o.batch_records = 10;
          }));
  rig.source->append(trade(7, 1, 10));
  rig.source->append(trade(8, 2, 20));
  rig.source->append(std::string("\x01\0\0\0\x07x", 6));  // not the wire format
  rig.source->append(trade(7, 3, -1));
  rig.start();
  CHECK(rig.out.taken().empty());
  CHECK(schemas->requests == std::map<uint32_t, int>{{7, 1}, {8, 1}});
  rig.source->append(trade(7, 4, 40));  // a later batch: not read while the first waits
  rig.run();
  schemas->answer(7, kTradeSchema);
  rig.run();
  CHECK(rig.out.taken().empty());  // 8 is still being fetched
  CHECK(rig.counts().records_in == 0);
  schemas->answer(8, "", "the registry answered HTTP 404: Schema 8 not found");
  rig.run();
  REQUIRE(rig.out.taken().size() == 3);
  CHECK(rig.out.taken()[0].value == R"({"id":1,"qty":10})");
  CHECK(rig.out.taken()[1].value == R"({"id":3,"qty":null})");
  CHECK(rig.out.taken()[2].value == R"({"id":4,"qty":40})");
  REQUIRE(rig.dlq.taken().size() == 2);
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.code") == "DECODE");
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.message") ==
        "schema 8: the registry answered HTTP 404: Schema 8 not found");
  CHECK(rig.dlq.taken()[0].value == trade(8, 2, 20));  // the record's own bytes
  CHECK(rig.dlq.taken()[1].headers.at("sluice.error.message") ==
        "magic byte 1 where the Schema Registry wire format has 0");
  CHECK(schemas->requests == std::map<uint32_t, int>{{7, 1}, {8, 1}});  // asked once each
}

TEST_CASE("pipeline: an Avro sink writes the wire format with its schema's id",
          "[pipeline][avro]") {
  Rig rig(
      "name: p\nsql: SELECT id, id * 2 AS twice, CAST(id AS STRING) AS s FROM t\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
      "sink: {type: kafka, topic: out, format: avro}\n",
      opts([&](RigOptions& o) { o.avro_schema_id = 42; }));
  rig.source->append(R"({"id":5})");
  rig.source->append(R"({})");
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  std::vector<format::Column> cols = {{"id", types::DataType::bigint()},
                                      {"twice", types::DataType::bigint()},
                                      {"s", types::DataType::string()}};
  format::AvroEncoder expected(cols, "Out");
  format::AvroDecoder reader(format::avro::Schema::parse(expected.schema()), cols);
  std::vector<std::string> rows;
  for (const auto& t : rig.out.taken()) {
    format::Framed f;
    RecordError err;
    REQUIRE(format::unframe(t.value, &f, &err));
    CHECK(f.schema_id == 42);
    Arena arena;
    std::vector<types::Value> row(3);
    REQUIRE(reader.decode(f.payload, row.data(), arena, &err));
    rows.push_back(types::to_text(row[0]) + "|" + types::to_text(row[1]) + "|" +
                   types::to_text(row[2]));
  }
  CHECK(rows == std::vector<std::string>{"5|10|5", "NULL|NULL|NULL"});
}

TEST_CASE("pipeline: json_sr reads JSON framed for a JSON schema; other schemas are refused",
          "[pipeline][avro][json_sr]") {
  auto schemas = std::make_shared<FakeSchemas>();
  Rig rig(
      "name: p\nsql: SELECT id, qty FROM t\n"
      "source: {type: kafka, topic: in, name: t, format: json_sr, "
      "schema: {id: BIGINT, qty: BIGINT}}\n"
      "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n",
      opts([&](RigOptions& o) { o.schemas = schemas; }));
  rig.source->append(framed(3, R"({"id":1,"qty":10,"extra":true})"));
  rig.source->append(trade(4, 2, 20));             // an Avro record
  rig.source->append(framed(3, R"({"id":"x"})"));  // does not fit the columns
  rig.source->append(std::string(R"({"id":4})"));  // plain JSON, not framed
  rig.source->append(framed(5, R"({"id":5})"));    // an id the registry does not have
  rig.start();
  CHECK(rig.out.taken().empty());
  schemas->answer(3, R"({"type":"object"})", "", "JSON");
  schemas->answer(4, kTradeSchema);
  schemas->answer(5, "", "the registry answered HTTP 404: Schema 5 not found");
  rig.run();
  REQUIRE(rig.out.taken().size() == 1);
  CHECK(rig.out.taken()[0].value == R"({"id":1,"qty":10})");
  std::vector<std::string> why;
  for (const auto& t : rig.dlq.taken())
    why.push_back(t.headers.at("sluice.error.message"));
  CHECK(why ==
        std::vector<std::string>{"schema 4: its type is AVRO; the job reads JSON Schema",
                                 "column 'id': expected a number for BIGINT, found string \"x\"",
                                 "magic byte 123 where the Schema Registry wire format has 0",
                                 "schema 5: the registry answered HTTP 404: Schema 5 not found"});
}

TEST_CASE("pipeline: an Avro source refuses a record written with a JSON schema",
          "[pipeline][avro][json_sr]") {
  auto schemas = std::make_shared<FakeSchemas>();
  Rig rig(kAvroIn, opts([&](RigOptions& o) { o.schemas = schemas; }));
  rig.source->append(framed(9, R"({"id":1})"));
  rig.start();
  schemas->answer(9, R"({"type":"object"})", "", "JSON");
  rig.run();
  CHECK(rig.out.taken().empty());
  REQUIRE(rig.dlq.taken().size() == 1);
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.message") ==
        "schema 9: its type is JSON; the job reads Avro");
}

TEST_CASE("pipeline: a json_sr sink writes JSON after its schema's id", "[pipeline][json_sr]") {
  Rig rig(
      "name: p\nsql: SELECT id, CAST(id AS DOUBLE) / 4 AS q FROM t\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
      "sink: {type: kafka, topic: out, format: json_sr}\n",
      opts([&](RigOptions& o) { o.avro_schema_id = 42; }));
  rig.source->append(R"({"id":5})");
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  CHECK(rig.out.taken()[0].value == framed(42, R"({"id":5,"q":1.25})"));
}

TEST_CASE("json schema: the schema of the objects a json_sr sink writes", "[json_sr]") {
  std::vector<format::Column> cols = {
      {"id", types::DataType::bigint()},
      {"price", types::DataType::decimal(18, 4)},
      {"at", types::DataType::timestamp()},
      {"raw", types::DataType::bytes()},
      {"fills", *types::parse_type_name("ARRAY<STRUCT<qty BIGINT, \"v\"\"x\" STRING>>")},
      {"tags", *types::parse_type_name("MAP<STRING, BOOLEAN>")}};
  CHECK(format::json_schema_for(cols, format::TimestampOutput::kIso8601, "orders") ==
        R"({"$schema":"http://json-schema.org/draft-07/schema#","title":"orders","type":"object",)"
        R"("properties":{"id":{"type":["integer","null"]},"price":{"type":["number","null"]},)"
        R"("at":{"type":["string","null"]},)"
        R"("raw":{"type":["string","null"],"contentEncoding":"base64"},)"
        R"("fills":{"type":["array","null"],"items":{"type":["object","null"],"properties":{)"
        R"("qty":{"type":["integer","null"]},"v\"x":{"type":["string","null"]}},)"
        R"("additionalProperties":false}},)"
        R"("tags":{"type":["object","null"],"additionalProperties":{"type":["boolean","null"]}}},)"
        R"("additionalProperties":false})");
  CHECK_THAT(format::json_schema_for(cols, format::TimestampOutput::kEpochMillis, "orders"),
             Catch::Contains(R"("at":{"type":["integer","null"]})"));
}

TEST_CASE("pipeline: key_format avro reads a key of any writer schema into `_key`",
          "[pipeline][avro][keys]") {
  auto schemas = std::make_shared<FakeSchemas>();
  SECTION("a primitive") {
    Rig rig(
        "name: p\nsql: SELECT id, _key AS k FROM t\n"
        "source: {type: kafka, topic: in, name: t, key_format: avro, key_type: BIGINT, "
        "schema: {id: BIGINT}}\n"
        "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n",
        opts([&](RigOptions& o) { o.schemas = schemas; }));
    rig.source->append(R"({"id":1})", framed(11, avro_long(-7)));  // "long"
    rig.source->append(R"({"id":2})", framed(12, avro_long(40)));  // "int": read as BIGINT
    rig.source->append(R"({"id":3})", framed(13, avro_long(1)));   // "string": does not fit
    rig.source->append(R"({"id":4})", std::string("plain"));       // not the wire format
    rig.source->append(R"({"id":5})");                             // no key
    rig.start();
    CHECK(rig.out.taken().empty());
    CHECK(schemas->requests == std::map<uint32_t, int>{{11, 1}, {12, 1}, {13, 1}});
    schemas->answer(11, R"("long")");
    schemas->answer(12, R"({"type":"int"})");
    schemas->answer(13, R"("string")");
    rig.run();
    std::vector<std::string> out;
    for (const auto& t : rig.out.taken())
      out.push_back(t.value);
    CHECK(out == std::vector<std::string>{R"({"id":1,"k":-7})", R"({"id":2,"k":40})",
                                          R"({"id":5,"k":null})"});
    REQUIRE(rig.dlq.taken().size() == 2);
    CHECK_THAT(rig.dlq.taken()[0].headers.at("sluice.error.message"),
               Catch::StartsWith("the key (avro BIGINT): schema 13: "));
    CHECK(rig.dlq.taken()[1].headers.at("sluice.error.message") ==
          "the key (avro BIGINT): magic byte 112 where the Schema Registry wire format has 0");
    CHECK(rig.dlq.taken()[1].key == "plain");
  }
  SECTION("a record, into a STRUCT") {
    Rig rig(
        "name: p\nsql: SELECT id, _key.region AS region, _key.id AS kid FROM t\n"
        "source: {type: kafka, topic: in, name: t, key_format: avro, "
        "key_type: 'STRUCT<id BIGINT, region STRING>', schema: {id: BIGINT}}\n"
        "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n",
        opts([&](RigOptions& o) { o.schemas = schemas; }));
    // The writer has one more field, first, which the key type skips.
    rig.source->append(R"({"id":1})",
                       framed(21, avro_long(3) + "abc" + avro_long(9) + avro_long(2) + "eu"));
    rig.start();
    schemas->answer(21, R"({"type":"record","name":"K","namespace":"x","fields":[)"
                        R"({"name":"note","type":"string"},{"name":"id","type":"long"},)"
                        R"({"name":"region","type":"string"}]})");
    rig.run();
    REQUIRE(rig.out.taken().size() == 1);
    CHECK(rig.out.taken()[0].value == R"({"id":1,"region":"eu","kid":9})");
  }
}
