// Avro records, arrays and maps into and out of STRUCT, ARRAY and MAP columns, against records
// written by an independent implementation (fastavro 1.13's schemaless_writer; the hex below is
// its output) and read back by it.

#include "common/arena.hpp"
#include "format/avro.hpp"
#include "types/nested.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test_text.hpp"

using namespace sluice;
using format::AvroDecoder;
using format::Column;
using types::DataType;
using types::Value;

namespace {

using test::hex;
using test::unhex;

DataType type(std::string_view text) {
  return test::type_of(text);
}

// A nested record with a union, an array the columns skip and a record inside it; an array of
// records with a decimal; a map of arrays of nullable doubles, keys written out of order.
const char* const kOrderSchema =
    R"json({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}, {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [{"name": "name", "type": "string"}, {"name": "tier", "type": ["null", "int"]}, {"name": "ignored", "type": {"type": "array", "items": "string"}}, {"name": "address", "type": {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}}]}}, {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}, {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}}]}}}, {"name": "attrs", "type": {"type": "map", "values": {"type": "array", "items": ["null", "double"]}}}]})json";
// {"id": 42, "customer": {"name": "Ann", "tier": None, "ignored": ["x", "y"],
//  "address": {"city": "Oslo"}}, "lines": [{"sku": "A-1", "qty": 2, "price": 9.99},
//  {"sku": "B-2", "qty": 1, "price": -0.50}], "attrs": {"zeta": [1.5, None], "alpha": []}}
const char* const kOrder =
    "5406416e6e00040278027900084f736c6f0406412d31040403e706422d320202ce0004087a65746104020000000000"
    "00"
    "f83f00000a616c7068610000";

// What sluice writes for the columns of the last test below. fastavro reads kOut under
// kOutSchema as {"id": 42, "customer": {"name": "Ann", "address": {"city": "Oslo"}}, "lines":
// [{"sku": "A-1", "price": 9.99}, {"sku": "B-2", "price": -0.50}], "attrs": {"alpha": [],
// "zeta": [1.5, None]}} and writes that dict as exactly these bytes.
const char* const kOutSchema =
    R"json({"type":"record","name":"Out","fields":[{"name":"id","type":["null","long"],"default":null},{"name":"customer","type":["null",{"type":"record","name":"Out_customer","fields":[{"name":"name","type":["null","string"],"default":null},{"name":"address","type":["null",{"type":"record","name":"Out_customer_address","fields":[{"name":"city","type":["null","string"],"default":null}]}],"default":null}]}],"default":null},{"name":"lines","type":["null",{"type":"array","items":["null",{"type":"record","name":"Out_lines_item","fields":[{"name":"sku","type":["null","string"],"default":null},{"name":"price","type":["null",{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}],"default":null}]}]}],"default":null},{"name":"attrs","type":["null",{"type":"map","values":["null",{"type":"array","items":["null","double"]}]}],"default":null}]})json";
const char* const kOut =
    "0254020206416e6e0202084f736c6f0204020206412d31020403e7020206422d320202ce0002040a616c7068610200"
    "087a657461020402000000000000f83f000000";

std::vector<Column> order_columns() {
  return {{"id", DataType::bigint()},
          {"customer", type("STRUCT<NAME STRING, tier BIGINT, address STRUCT<city STRING>, "
                            "missing STRING>")},
          {"lines", type("ARRAY<STRUCT<sku STRING, price DECIMAL(9,2)>>")},
          {"attrs", type("MAP<STRING, ARRAY<DOUBLE>>")}};
}

std::string as_json(const std::vector<Column>& columns, const std::vector<Value>& row) {
  std::string out;
  format::JsonEncoder(columns).encode(row.data(), out);
  return out;
}

}  // namespace

TEST_CASE("avro: records, arrays and maps read into STRUCT, ARRAY and MAP columns",
          "[avro][nested]") {
  auto schema = format::avro::Schema::parse(kOrderSchema);
  AvroDecoder d(schema, order_columns());
  REQUIRE(d.mismatch().empty());
  Arena arena;
  RecordError err;
  std::vector<Value> row(4);
  REQUIRE(d.decode(unhex(kOrder), row.data(), arena, &err));
  CHECK(as_json(order_columns(), row) ==
        R"({"id":42,"customer":{"NAME":"Ann","tier":null,"address":{"city":"Oslo"},)"
        R"("missing":null},"lines":[{"sku":"A-1","price":9.99},{"sku":"B-2","price":-0.50}],)"
        R"("attrs":{"alpha":[],"zeta":[1.5,null]}})");
  // Every truncation fails cleanly.
  std::string rec = unhex(kOrder);
  for (size_t n = 0; n < rec.size(); ++n) {
    INFO(n);
    CHECK_FALSE(d.decode(std::string_view(rec).substr(0, n), row.data(), arena, &err));
    CHECK(err.code == ErrorCode::kDecode);
  }
}

TEST_CASE("avro: a nested column the writer's type cannot fill is a mismatch", "[avro][nested]") {
  auto schema = format::avro::Schema::parse(kOrderSchema);
  CHECK(AvroDecoder(schema, {{"customer", type("STRUCT<name BIGINT>")}}).mismatch() ==
        "column 'customer' is STRUCT<name BIGINT>, but the writer's field 'customer' is record "
        "Customer");
  CHECK_FALSE(AvroDecoder(schema, {{"lines", type("ARRAY<STRING>")}}).mismatch().empty());
  CHECK_FALSE(AvroDecoder(schema, {{"attrs", type("MAP<STRING, DOUBLE>")}}).mismatch().empty());
  CHECK_FALSE(AvroDecoder(schema, {{"id", type("ARRAY<BIGINT>")}}).mismatch().empty());
}

TEST_CASE("avro: a huge count of empty items stops at the nested size limit", "[avro][nested]") {
  auto nulls = format::avro::Schema::parse(
      R"({"type":"record","name":"r","fields":[{"name":"a","type":{"type":"array","items":"null"}}]})");
  AvroDecoder d(nulls, {{"a", type("ARRAY<BIGINT>")}});
  Arena arena;
  Value v;
  RecordError err;
  CHECK_FALSE(d.decode(unhex("80808080808080804000"), &v, arena, &err));  // 2^61 nulls
  CHECK(err.message == "column 'a': a nested value over 16 MiB once laid out");
}

TEST_CASE("avro: nested columns write as records, arrays and maps of nullable unions",
          "[avro][nested]") {
  std::vector<Column> columns = {
      {"id", DataType::bigint()},
      {"customer", type("STRUCT<name STRING, address STRUCT<city STRING>>")},
      {"lines", type("ARRAY<STRUCT<sku STRING, price DECIMAL(9,2)>>")},
      {"attrs", type("MAP<STRING, ARRAY<DOUBLE>>")}};
  format::AvroEncoder encoder(columns, "Out");
  CHECK(encoder.schema() == kOutSchema);
  // The order above, read into these columns and written again.
  AvroDecoder d(format::avro::Schema::parse(kOrderSchema), columns);
  Arena arena;
  RecordError err;
  std::vector<Value> row(4);
  REQUIRE(d.decode(unhex(kOrder), row.data(), arena, &err));
  std::string out;
  REQUIRE(encoder.encode(row.data(), out, &err));
  CHECK(hex(out) == kOut);
  // And read back by sluice under the schema it wrote.
  AvroDecoder back(format::avro::Schema::parse(encoder.schema()), columns);
  std::vector<Value> again(4);
  REQUIRE(back.decode(out, again.data(), arena, &err));
  CHECK(as_json(columns, again) == as_json(columns, row));
}

TEST_CASE("avro: a nested field under its exact name wins over one that differs in case",
          "[avro][nested]") {
  // Writer fields `b` and `B`, either order, the second of another type: STRUCT<b BIGINT> takes
  // `b` and skips `B`, as top-level columns do.
  for (bool exact_first : {true, false}) {
    INFO(exact_first);
    std::string b = R"({"name":"b","type":"long"})", B = R"({"name":"B","type":"string"})";
    auto schema = format::avro::Schema::parse(
        R"({"type":"record","name":"r","fields":[{"name":"s","type":{"type":"record","name":"S",)"
        R"("fields":[)" +
        (exact_first ? b + "," + B : B + "," + b) + "]}}]}");
    std::vector<Column> columns = {{"s", type("STRUCT<b BIGINT>")}};
    AvroDecoder d(schema, columns);
    CHECK(d.mismatch().empty());
    Arena arena;
    RecordError err;
    std::vector<Value> row(1);
    REQUIRE(d.decode(unhex(exact_first ? "080278" : "027808"), row.data(), arena, &err));
    CHECK(as_json(columns, row) == R"({"s":{"b":4}})");
  }
}

TEST_CASE("avro: record names in a written schema are unique even where paths meet",
          "[avro][nested]") {
  // `a` with field `b` and a column `a_b` would both name their record Out_a_b.
  std::vector<Column> columns = {{"a", type("STRUCT<b STRUCT<x BIGINT>>")},
                                 {"a_b", type("STRUCT<y BIGINT>")},
                                 {"c", type("ARRAY<STRUCT<z BIGINT>>")},
                                 {"c_item", type("STRUCT<w BIGINT>")}};
  format::AvroEncoder encoder(columns, "Out");
  const std::string& text = encoder.schema();
  for (const char* name : {R"("name":"Out_a")", R"("name":"Out_a_b")", R"("name":"Out_a_b_2")",
                           R"("name":"Out_c_item")", R"("name":"Out_c_item_2")"}) {
    INFO(name);
    CHECK(text.find(name) != std::string::npos);
  }
  auto parsed = format::avro::Schema::parse(text);  // a name defined twice would throw
  AvroDecoder back(parsed, columns);
  CHECK(back.mismatch().empty());
}
