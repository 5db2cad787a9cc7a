// Fuzz target `avro`: the Avro record decoder (format::AvroDecoder) and schema parser, which read
// bytes and schemas from Kafka topics and a Schema Registry and must trust neither. Byte 0 (mod 4)
// picks the writer schema: 0 a record of every primitive and logical type with skipped nested
// values, 1 a recursive list with arrays and maps of records and a wide union, 2 the schema sluice
// writes for a row of every type; with 3 the rest is a schema text instead. The rest is one record.
//
// Checked: a failure is a DECODE error with a message; a decoded row, written by
// format::AvroEncoder as a sink writes it, reads back through the schema the encoder declares to
// the same values. A schema text either parses or throws sluice::Error (DECODE); a record schema
// that parses gets a decoder (every other field a column) that decodes a few fixed byte strings
// without crashing or hanging.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/avro.hpp"
#include "format/schema_columns.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_rows.hpp"

namespace {

using namespace sluice;
using format::Column;
using Fixture = fuzz::RoundTrip<format::avro::Schema, format::AvroDecoder, format::AvroEncoder>;
using types::DataType;
using types::TypeId;

const char* const kTradeSchema =
    R"json({"type": "record", "name": "Trade", "namespace": "com.example", "fields": [{"name": "ok", "type": "boolean"}, {"name": "qty", "type": "int"}, {"name": "id", "type": "long"}, {"name": "f", "type": "float"}, {"name": "price", "type": "double"}, {"name": "symbol", "type": "string"}, {"name": "raw", "type": "bytes"}, {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}}, {"name": "famount", "type": {"type": "fixed", "name": "F8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4}}, {"name": "day", "type": {"type": "int", "logicalType": "date"}}, {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}}, {"name": "tmu", "type": {"type": "long", "logicalType": "time-micros"}}, {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}}, {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}}, {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}}, {"name": "maybe", "type": ["null", "long"]}, {"name": "note", "type": ["null", "string"], "default": null}, {"name": "venue", "type": {"type": "record", "name": "Venue", "fields": [{"name": "name", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}}, {"name": "attrs", "type": {"type": "map", "values": "long"}}, {"name": "next", "type": ["null", "Venue"]}]})json";

const char* const kNestedSchema = R"json({"type":"record","name":"L","fields":[
  {"name":"id","type":"long"},
  {"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[
    {"name":"k","type":"string"},{"name":"v","type":["null","double","L"]}]}}},
  {"name":"by","type":{"type":"map","values":{"type":"array","items":"I"}}},
  {"name":"any","type":["null","boolean","int","long","float","double","bytes","string",
    {"type":"fixed","name":"F3","size":3},{"type":"enum","name":"E","symbols":["A","B","C"]}]},
  {"name":"next","type":["null","L"]},
  {"name":"nothing","type":{"type":"array","items":"null"}}]})json";

std::vector<Column> trade_columns() {
  return {{"symbol", DataType::string()},
          {"ID", DataType::bigint()},
          {"qty", DataType::decimal(12, 0)},
          {"ok", DataType::boolean()},
          {"f", DataType::float64()},
          {"price", DataType::float64()},
          {"raw", DataType::bytes()},
          {"amount", DataType::decimal(12, 3)},
          {"famount", DataType::decimal(18, 4)},
          {"day", DataType::timestamp()},
          {"tm", DataType::time()},
          {"tmu", DataType::time()},
          {"ts", DataType::timestamp()},
          {"tsu", DataType::timestamp()},
          {"side", DataType::string()},
          {"maybe", DataType::interval()},
          {"note", DataType::string()},
          // The nested record, array, map and recursive reference, read whole.
          {"venue", *types::parse_type_name("STRUCT<name STRING, tags ARRAY<STRING>>")},
          {"attrs", *types::parse_type_name("MAP<STRING, BIGINT>")},
          {"next", *types::parse_type_name("STRUCT<name STRING, tags ARRAY<STRING>>")}};
}

std::vector<Column> every_type() {
  return {{"b", DataType::boolean()},      {"n", DataType::bigint()}, {"d", DataType::float64()},
          {"m", DataType::decimal(18, 4)}, {"s", DataType::string()}, {"ts", DataType::timestamp()},
          {"dt", DataType::date()},        {"tm", DataType::time()},  {"by", DataType::bytes()},
          {"iv", DataType::interval()}};
}

void fuzz_schema(std::string_view text) {
  std::shared_ptr<const format::avro::Schema> schema;
  try {
    schema = format::avro::Schema::parse(text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kDecode && std::string_view(e.what()).size() > 0, e.what());
    return;
  }
  if (schema->root().kind != format::avro::Kind::kRecord) return;
  // The columns a source without `schema:` takes from it fit the schema's own records.
  std::vector<Column> inferred;
  try {
    inferred = format::registry_schema_columns("AVRO", text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kConfig && std::string_view(e.what()).size() > 0, e.what());
  }
  if (!inferred.empty()) {
    format::AvroDecoder fits(schema, inferred);
    FUZZ_CHECK(fits.mismatch().empty(), fits.mismatch());
  }
  // Every other field a column, so the rest are skipped.
  std::vector<Column> cols;
  for (size_t i = 0; i < schema->root().fields.size(); i += 2) {
    const auto& f = schema->root().fields[i];
    cols.push_back({f.name, f.type->kind == format::avro::Kind::kString ? DataType::string()
                                                                        : DataType::bigint()});
  }
  fuzz::decode_each(format::AvroDecoder(schema, cols), cols.size(),
                    {std::string_view(""), std::string_view("\0\0\0\0", 4),
                     std::string_view("\x02\x02\x02\x02\x02\x02", 6)});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Fixture fixtures[] = {
      {kTradeSchema, trade_columns()},
      {kNestedSchema,
       {{"ID", DataType::bigint()}, {"any", DataType::string()}, {"absent", DataType::date()}}},
      {format::avro::schema_for(every_type(), "Out"), every_type()}};
  unsigned mode = data[0] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 3) {
    fuzz_schema(rest);
    return 0;
  }
  fixtures[mode].check(rest);
  return 0;
}
