// A sink configured with a schema id (value_schema_id, key_schema_id) writes with it only when the
// schema behind it is the job's own output schema: format::schema_difference, and the job file
// rules. The job itself is tested in avro_job_test ("a configured schema id ...").

#include "config/job_config.hpp"
#include "format/avro_schema.hpp"
#include "format/json_schema.hpp"
#include "format/protobuf.hpp"
#include "format/schema_compare.hpp"
#include "types/data_type.hpp"

#include <catch2/catch.hpp>

using namespace sluice;
using format::Column;
using format::schema_difference;

namespace {

std::vector<Column> columns(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<Column> out;
  for (auto [name, type] : list) {
    std::string error;
    auto t = types::parse_type_name(type, &error);
    REQUIRE(t);
    out.push_back({name, *t});
  }
  return out;
}

}  // namespace

TEST_CASE("schema ids: an Avro schema is the job's when types, names and fields are",
          "[schema_id]") {
  auto mine = columns({{"id", "BIGINT"}, {"price", "DECIMAL(18,4)"}, {"tags", "ARRAY<STRING>"}});
  std::string ours = format::avro::schema_for(mine, "out");
  CHECK(schema_difference("AVRO", ours, {}, ours).empty());
  // Documentation, defaults and whitespace aside.
  std::string documented = ours;
  documented.replace(documented.find("\"name\":\"out\""), 12, "\"name\": \"out\", \"doc\": \"x\"");
  CHECK(schema_difference("AVRO", documented, {}, ours).empty());

  auto diff = [&](std::initializer_list<std::pair<const char*, const char*>> theirs,
                  const char* name = "out") {
    return schema_difference("AVRO", format::avro::schema_for(columns(theirs), name), {}, ours);
  };
  CHECK(diff({{"id", "BIGINT"}, {"price", "DECIMAL(18,2)"}, {"tags", "ARRAY<STRING>"}}) ==
        "'price': bytes (decimal) (18,2) where the job writes bytes (decimal) (18,4)");
  CHECK(diff({{"id", "BIGINT"}, {"cost", "DECIMAL(18,4)"}, {"tags", "ARRAY<STRING>"}}) ==
        "field 2 is 'cost', not 'price'");
  CHECK(diff({{"id", "BIGINT"}, {"price", "DECIMAL(18,4)"}}) == "2 fields where the job writes 3");
  CHECK(diff({{"id", "BIGINT"}, {"price", "DECIMAL(18,4)"}, {"tags", "ARRAY<BIGINT>"}}) ==
        "'tags[]': long where the job writes string");
  CHECK(diff({{"id", "BIGINT"}, {"price", "DECIMAL(18,4)"}, {"tags", "ARRAY<STRING>"}}, "other") ==
        "named other, not out");
  CHECK(schema_difference("AVRO", "{nope", {}, ours).find("Avro schema") != std::string::npos);
}

TEST_CASE("schema ids: a Protobuf schema is the job's when its first message is", "[schema_id]") {
  auto mine = columns({{"id", "BIGINT"}, {"at", "TIMESTAMP"}, {"s", "STRUCT<a STRING>"}});
  std::string ours = format::protobuf_schema_for(mine, "out");
  CHECK(schema_difference("PROTOBUF", ours, {}, ours).empty());
  CHECK(schema_difference("PROTOBUF",
                          format::protobuf_schema_for(columns({{"id", "BIGINT"},
                                                               {"at", "TIMESTAMP"},
                                                               {"s",
                                                                "STRUCT<a "
                                                                "BIGINT>"}}),
                                                      "out"),
                          {},
                          ours) == "'s.a': optional int64 where the job writes optional string");
  CHECK(schema_difference("PROTOBUF",
                          format::protobuf_schema_for(columns({{"id", "BIGINT"}}), "out"), {},
                          ours) == "message out has 1 fields where the job writes 3");
  CHECK(schema_difference("PROTOBUF", R"(syntax = "proto3"; message out { int64 id = 2; })", {},
                          format::protobuf_schema_for(columns({{"id", "BIGINT"}}), "out")) ==
        "field id = 2 where the job writes id = 1");
  CHECK(schema_difference("PROTOBUF", format::protobuf_schema_for(mine, "other"), {}, ours) ==
        "its first message is other, not out");
}

TEST_CASE("schema ids: a JSON Schema is the job's when it is the same JSON", "[schema_id]") {
  auto mine = columns({{"id", "BIGINT"}, {"name", "STRING"}});
  std::string ours = format::json_schema_for(mine, format::TimestampOutput::kIso8601, "out");
  std::string spaced = ours;
  spaced.insert(1, "\n  ");
  CHECK(schema_difference("JSON", spaced, {}, ours).empty());
  CHECK(schema_difference("JSON",
                          format::json_schema_for(mine, format::TimestampOutput::kIso8601, "x"), {},
                          ours) == "other JSON");
  CHECK(schema_difference("XML", "", {}, ours) == "it is of type XML");
}

TEST_CASE("schema ids: the job file rules", "[schema_id][config]") {
  auto load = [](const std::string& sink) {
    return config::load_job_text(
        "name: j\nsql: SELECT a FROM t\n"
        "source: {type: kafka, topic: t, schema: {a: BIGINT}}\n"
        "sink: {type: kafka, topic: o, " +
            sink + "}\n",
        "job.yaml");
  };
  auto errors = [&](const std::string& sink) -> std::string {
    try {
      load(sink);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "(loaded)";
  };
  config::JobConfig ok = load(
      "format: avro, value_schema_id: 42, key: [a], key_format: protobuf, "
      "key_schema_id: 0");
  CHECK(ok.sink.value_schema_id == 42u);
  CHECK(ok.sink.key_schema_id == 0u);
  CHECK(load("format: avro").sink.value_schema_id == std::nullopt);
  CHECK_THAT(errors("value_schema_id: 1"),
             Catch::Contains("sink.value_schema_id: needs a format whose schema is registered"));
  CHECK_THAT(errors("format: avro, value_schema_id: -1"),
             Catch::Contains("sink.value_schema_id: '-1' is not a schema id (0 to 2147483647)"));
  CHECK_THAT(errors("format: avro, value_schema_id: 2147483648"),
             Catch::Contains("'2147483648' is not a schema id"));
  CHECK_THAT(errors("format: avro, value_schema_id: 7, value_subject: s"),
             Catch::Contains("sink.value_schema_id: a schema id is used as it is, under no "
                             "subject: leave value_subject out"));
  CHECK_THAT(errors("format: avro, key_schema_id: 7"),
             Catch::Contains("sink.key_schema_id: needs key_format: avro or protobuf"));
}
