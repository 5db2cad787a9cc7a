// Avro: schema parsing, decoding into rows against records written by an independent
// implementation (fastavro 1.13's schemaless_writer; the hex below is its output), schema
// resolution by name, hostile bytes, and the encoder against the same implementation's bytes.

#include "format/avro.hpp"

#include "common/arena.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
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

// The fastavro writer's schema: every primitive and logical type sluice maps, an enum, unions,
// and a nested record, an array, a map and a recursive reference the columns below skip.
const char* const kTradeSchema =
    R"json({"type": "record", "name": "Trade", "namespace": "com.example", "fields": [{"name": "ok", "type": "boolean"}, {"name": "qty", "type": "int"}, {"name": "id", "type": "long"}, {"name": "f", "type": "float"}, {"name": "price", "type": "double"}, {"name": "symbol", "type": "string"}, {"name": "raw", "type": "bytes"}, {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}}, {"name": "famount", "type": {"type": "fixed", "name": "F8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4}}, {"name": "day", "type": {"type": "int", "logicalType": "date"}}, {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}}, {"name": "tmu", "type": {"type": "long", "logicalType": "time-micros"}}, {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}, {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}}, {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}}, {"name": "maybe", "type": ["null", "long"]}, {"name": "note", "type": ["null", "string"], "default": null}, {"name": "venue", "type": {"type": "record", "name": "Venue", "fields": [{"name": "name", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}}, {"name": "attrs", "type": {"type": "map", "values": "long"}}, {"name": "next", "type": ["null", "Venue"]}]})json";
const char* const kTrade0 =
    "010d9693d89fee470000c03f00000000005059400853594d300400ff04fb2e00000000499602d2b2b402f0ddc023fe"
    "ffbadd8305f6b582c9a163010200020c68c3a96c6c6f08584e4153040261026200040278020279030002026e00";
const char* const kTrade1 =
    "000001000080be000000000000008000000a02540be3ffffffffffffffffff0100d00f0080a9f5baa2be8706000254"
    "00"
    "00000000";

// Columns in another order, names in other case, a rescaled DECIMAL and a column the writer lacks.
std::vector<Column> trade_columns() {
  return {{"symbol", DataType::string()},
          {"ID", DataType::bigint()},
          {"qty", DataType::bigint()},
          {"ok", DataType::boolean()},
          {"f", DataType::float64()},
          {"price", DataType::float64()},
          {"raw", DataType::bytes()},
          {"amount", DataType::decimal(12, 3)},
          {"famount", DataType::decimal(18, 4)},
          {"day", DataType::date()},
          {"tm", DataType::time()},
          {"tmu", DataType::time()},
          {"ts", DataType::timestamp()},
          {"tsu", DataType::timestamp()},
          {"side", DataType::string()},
          {"maybe", DataType::bigint()},
          {"note", DataType::string()},
          {"missing", DataType::bigint()}};
}

std::string row_text(const std::vector<Value>& row) {
  std::string out;
  for (const Value& v : row)
    out += types::to_text(v) + "|";
  return out;
}

}  // namespace

TEST_CASE("avro: decodes an independent writer's records, resolving fields by name", "[avro]") {
  auto schema = format::avro::Schema::parse(kTradeSchema);
  AvroDecoder d(schema, trade_columns());
  REQUIRE(d.mismatch().empty());
  Arena arena;
  std::vector<Value> row(trade_columns().size());
  RecordError err;
  REQUIRE(d.decode(unhex(kTrade0), row.data(), arena, &err));
  CHECK(row_text(row) ==
        "SYM0|1234567890123|-7|true|1.5|101.25|AP8=|-12.340|123456.7890|2024-01-15|10:20:30.456|"
        "23:59:59.999|2024-01-15T10:00:00.123Z|1969-12-31T23:59:59.999Z|SELL|NULL|héllo|NULL|");
  REQUIRE(d.decode(unhex(kTrade1), row.data(), arena, &err));
  CHECK(row_text(row) ==
        "|-1|0|false|-0.25|-0||99999999.990|-0.0001|1969-12-31|00:00:00.000|00:00:00.001|"
        "1970-01-01T00:00:00.000Z|2024-01-15T10:00:00.123Z|BUY|42|NULL|NULL|");
  CHECK(row[6].type == types::TypeId::kBytes);
  CHECK(row[16].null);
}

TEST_CASE("avro: every truncation, a trailing byte and bad indexes are DECODE errors", "[avro]") {
  auto schema = format::avro::Schema::parse(kTradeSchema);
  AvroDecoder d(schema, trade_columns());
  Arena arena;
  std::vector<Value> row(trade_columns().size());
  std::string rec = unhex(kTrade0);
  for (size_t n = 0; n < rec.size(); ++n) {
    RecordError err;
    INFO(n);
    CHECK_FALSE(d.decode(std::string_view(rec).substr(0, n), row.data(), arena, &err));
    CHECK(err.code == ErrorCode::kDecode);
    CHECK_FALSE(err.message.empty());
  }
  RecordError err;
  std::string trailing = rec;
  trailing.push_back('\0');
  CHECK_FALSE(d.decode(trailing, row.data(), arena, &err));
  CHECK(err.message == "1 bytes after the Avro record");
  // The enum index (byte 59 holds SELL = 1, zigzag 2) beyond the symbols.
  std::string bad = rec;
  REQUIRE(bad[59] == 2);
  bad[59] = 8;
  CHECK_FALSE(d.decode(bad, row.data(), arena, &err));
  CHECK(err.message == "column 'side': enum index 4 out of range");
}

TEST_CASE("avro: a column the writer's type cannot fill makes every record a DECODE error",
          "[avro]") {
  auto schema = format::avro::Schema::parse(kTradeSchema);
  AvroDecoder d(schema, {{"symbol", DataType::bigint()}});
  CHECK(d.mismatch() == "column 'symbol' is BIGINT, but the writer's field 'symbol' is string");
  Arena arena;
  Value v;
  RecordError err;
  CHECK_FALSE(d.decode(unhex(kTrade0), &v, arena, &err));
  CHECK(err.message == d.mismatch());
  CHECK(AvroDecoder(format::avro::Schema::parse(R"("long")"), {{"x", DataType::bigint()}})
            .mismatch() == "the writer schema is long, not a record");
}

TEST_CASE("avro: hostile counts and nesting end quickly with an error", "[avro]") {
  Arena arena;
  Value v;
  RecordError err;
  // An array of 2^61 longs in a 10-byte record: refused as truncated, not looped over.
  auto longs = format::avro::Schema::parse(
      R"({"type":"record","name":"r","fields":[{"name":"a","type":{"type":"array","items":"long"}}]})");
  AvroDecoder d1(longs, {{"x", DataType::bigint()}});
  std::string huge = unhex("80808080808080804000");
  CHECK_FALSE(d1.decode(huge, &v, arena, &err));
  CHECK(err.message == "truncated Avro data");
  // The same count of nulls takes no bytes: skipped at once.
  auto nulls = format::avro::Schema::parse(
      R"({"type":"record","name":"r","fields":[{"name":"a","type":{"type":"array","items":"null"}}]})");
  AvroDecoder d2(nulls, {{"x", DataType::bigint()}});
  CHECK(d2.decode(huge, &v, arena, &err));
  // A recursive list nested deeper than the limit.
  auto list = format::avro::Schema::parse(
      R"({"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]})");
  AvroDecoder d3(list, {{"x", DataType::bigint()}});
  std::string deep(1000, '\x02');
  deep.push_back('\0');
  CHECK_FALSE(d3.decode(deep, &v, arena, &err));
  CHECK(err.message == "nested too deeply Avro data");
  // A union index out of range, a negative length, a varint longer than 64 bits.
  auto u = format::avro::Schema::parse(
      R"({"type":"record","name":"r","fields":[{"name":"x","type":["null","string"]}]})");
  AvroDecoder d4(u, {{"x", DataType::string()}});
  for (const char* bytes : {"04", "0201", "02ffffffffffffffffff7f"}) {
    INFO(bytes);
    CHECK_FALSE(d4.decode(unhex(bytes), &v, arena, &err));
    CHECK(err.code == ErrorCode::kDecode);
  }
}

TEST_CASE("avro: skipping nested named types costs at most a step per byte", "[avro]") {
  // E0 {} and Ek {a: Ek-1, b: Ek-1}: 2^60 empty leaves in a field no column reads; then the same
  // with an int in E0, whose 2^60 ints a 1-byte record cannot hold. Both end at once.
  for (const char* leaf : {"", R"({"name":"i","type":"int"})"}) {
    std::string fields = std::string(R"({"type":"record","name":"E0","fields":[)") + leaf + "]}";
    for (int k = 1; k <= 60; ++k) {
      fields = fmt::format(
          R"({{"type":"record","name":"E{}","fields":[{{"name":"a","type":{}}},{{"name":"b","type":"E{}"}}]}})",
          k, fields, k - 1);
    }
    auto schema = format::avro::Schema::parse(
        R"({"type":"record","name":"R","fields":[{"name":"junk","type":)" + fields +
        R"(},{"name":"x","type":"long"}]})");
    AvroDecoder d(schema, {{"x", DataType::bigint()}});
    Arena arena;
    Value v;
    RecordError err;
    auto started = std::chrono::steady_clock::now();
    bool ok = d.decode(std::string("\x02", 1), &v, arena, &err);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
    if (*leaf == '\0') {
      CHECK(ok);
      CHECK(types::to_text(v) == "1");
    } else {
      CHECK_FALSE(ok);
      CHECK(err.message == "truncated Avro data");
    }
  }
}

TEST_CASE("avro: edges of the specification", "[avro]") {
  Arena arena;
  RecordError err;
  // "namespace": "" is the null namespace, where a type in another namespace finds it.
  auto ns = format::avro::Schema::parse(
      R"({"type":"record","name":"R","namespace":"a","fields":[)"
      R"({"name":"x","type":{"type":"record","name":"X","namespace":"","fields":[]}},)"
      R"({"name":"y","type":{"type":"record","name":"Y","namespace":"b","fields":[)"
      R"({"name":"z","type":"X"}]}}]})");
  CHECK(ns->root().fields.at(0).type->name == "X");
  // A decimal in a fixed wider than 16 bytes: its sign bytes are dropped; more is refused.
  auto wide = format::avro::Schema::parse(
      R"({"type":"record","name":"R","fields":[{"name":"d","type":{"type":"fixed","name":"F",)"
      R"("size":18,"logicalType":"decimal","precision":10,"scale":2}}]})");
  AvroDecoder d(wide, {{"d", DataType::decimal(10, 2)}});
  Value v;
  std::string minus = std::string(17, '\xff') + "\xff";  // -1 as 18 bytes: -0.01
  REQUIRE(d.decode(minus, &v, arena, &err));
  CHECK(types::to_text(v) == "-0.01");
  std::string huge = std::string(1, '\x01') + std::string(17, '\0');
  CHECK_FALSE(d.decode(huge, &v, arena, &err));
  CHECK(err.message == "column 'd': a decimal beyond 128 bits");
  // A negative time-micros is no time of day; a string that is not UTF-8 is refused.
  auto t = format::avro::Schema::parse(
      R"({"type":"record","name":"R","fields":[{"name":"t","type":{"type":"long",)"
      R"("logicalType":"time-micros"}},{"name":"s","type":"string"}]})");
  AvroDecoder dt(t, {{"t", DataType::time()}, {"s", DataType::string()}});
  std::vector<Value> row(2);
  CHECK_FALSE(dt.decode(unhex("0100"), row.data(), arena, &err));  // -1 us
  CHECK(err.message == "column 't': time -1 is out of range");
  CHECK(dt.decode(unhex("d00f00"), row.data(), arena, &err));  // 1000 us, ""
  CHECK(types::to_text(row[0]) == "00:00:00.001");
  CHECK_FALSE(dt.decode(unhex("d00f04fffe"), row.data(), arena, &err));
  CHECK(err.message == "column 's': a string that is not UTF-8");
}

TEST_CASE("avro: invalid schemas are refused naming why", "[avro]") {
  for (const char* text :
       {R"({"type":"record","name":"r"})", R"("nope")", R"({"type":"enum","name":"e"})",
        R"([["null"]])", R"({"type":"record","name":"r","fields":[{"name":"a","type":"b"}]})",
        R"({"type":"array"})", "{", R"([])"}) {
    INFO(text);
    CHECK_THROWS_WITH(format::avro::Schema::parse(text), Catch::StartsWith("invalid Avro schema"));
  }
  std::string deep;
  for (int i = 0; i < 200; ++i)
    deep += R"({"type":"array","items":)";
  deep += R"("long")" + std::string(200, '}');
  CHECK_THROWS_WITH(format::avro::Schema::parse(deep), Catch::Contains("nested deeper"));
}

TEST_CASE("avro: the encoder writes what an independent reader expects, and reads back", "[avro]") {
  std::vector<Column> cols = {{"b", DataType::boolean()}, {"n", DataType::bigint()},
                              {"d", DataType::float64()}, {"m", DataType::decimal(18, 4)},
                              {"s", DataType::string()},  {"ts", DataType::timestamp()},
                              {"dt", DataType::date()},   {"tm", DataType::time()},
                              {"by", DataType::bytes()},  {"iv", DataType::interval()}};
  format::AvroEncoder enc(cols, "Out");
  std::vector<Value> row = {Value::boolean(true),
                            Value::bigint(-3),
                            Value::float64(2.5),
                            Value::decimal(-1'280'000, 4),
                            Value::string("héllo"),
                            Value::timestamp(1'705'312'800'123),
                            Value::date(19'737),
                            Value::time(37'230'456),
                            Value::bytes(std::string_view("\0\xff", 2)),
                            Value::interval(1500)};
  std::string out;
  RecordError err;
  REQUIRE(enc.encode(row.data(), out, &err));
  // fastavro's bytes for the same row under the same schema.
  CHECK(hex(out) ==
        "020102050200000000000004400206ec7800020c68c3a96c6c6f02f6b582c9a16302b2b40202f0ddc0230204"
        "00ff02b817");
  std::vector<Value> nulls(cols.size());
  for (size_t i = 0; i < cols.size(); ++i)
    nulls[i] = Value::make_null(cols[i].type.id);
  nulls[3] = Value::decimal(127, 4);
  out.clear();
  REQUIRE(enc.encode(nulls.data(), out, &err));
  CHECK(hex(out) == "00000002027f000000000000");
  // Read back through the schema it declares.
  AvroDecoder dec(format::avro::Schema::parse(enc.schema()), cols);
  REQUIRE(dec.mismatch().empty());
  out.clear();
  REQUIRE(enc.encode(row.data(), out, &err));
  Arena arena;
  std::vector<Value> back(cols.size());
  REQUIRE(dec.decode(out, back.data(), arena, &err));
  CHECK(row_text(back) == row_text(row));
  // A DATE beyond Avro's int is refused, and nothing is appended.
  row[6] = Value::date(int64_t{1} << 40);
  out.clear();
  out.push_back('x');
  CHECK_FALSE(enc.encode(row.data(), out, &err));
  CHECK(out == "x");
  // Column names Avro cannot hold get a field name it can; two that meet are refused.
  CHECK(format::avro::field_name("COUNT(*)") == "COUNT___");
  CHECK(format::avro::field_name("2x") == "_2x");
  CHECK(format::avro::field_name("ok_1") == "ok_1");
  CHECK_THROWS_WITH(
      format::AvroEncoder({{"a b", DataType::bigint()}, {"a_b", DataType::bigint()}}, "Out"),
      Catch::Contains("both written as the Avro field 'a_b'"));
}

TEST_CASE("avro: Schema Registry framing", "[avro]") {
  std::string framed;
  format::append_frame(0x01020304, framed);
  framed += "payload";
  format::Framed f;
  RecordError err;
  REQUIRE(format::unframe(framed, &f, &err));
  CHECK(f.schema_id == 0x01020304);
  CHECK(f.payload == "payload");
  CHECK_FALSE(format::unframe(std::string("\x01\0\0\0\x01x", 6), &f, &err));
  CHECK(err.message == "magic byte 1 where the Schema Registry wire format has 0");
  CHECK_FALSE(format::unframe(std::string("\0\0\0", 3), &f, &err));
  CHECK_FALSE(format::unframe("", &f, &err));
}
