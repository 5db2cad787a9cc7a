// Fuzz target `protobuf`: the Protobuf record decoder (format::ProtobufDecoder) and schema parser
// (format::protobuf::Schema), which read bytes and schemas from Kafka topics and a Schema Registry
// and must trust neither. Byte 0 (mod 3) picks: 0 the shop schema below (every scalar type,
// nested and repeated messages, maps, an enum, a oneof, Timestamp and wrappers), 1 a recursive
// tree (a message holding repeated and map fields of itself), read three levels deep; with 2 the
// rest is a schema text (.proto source or base64) instead. The rest is one payload: the message
// indexes, then the message.
//
// Checked: a failure is a DECODE error with a message; a decoded row, written by
// format::ProtobufEncoder as a sink writes it, reads back through the schema the encoder declares
// to the same values. A schema text either parses or throws sluice::Error (DECODE); a schema that
// parses gets a decoder (every field of its first message a STRING column) that decodes a few
// fixed byte strings without crashing or hanging.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/protobuf.hpp"
#include "types/nested.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_rows.hpp"
#include "protobuf_shop.hpp"

namespace {

using namespace sluice;
using format::Column;
using fuzz::row_text;
using types::DataType;
using types::TypeId;

using testing::kShop;

const char* const kTree = R"(syntax = "proto2";
message Node {
  optional int64 v = 1;
  repeated Node kids = 2;
  map<string, Node> named = 3;
  optional string label = 4 [default = "x"];
  repeated fixed64 weights = 5 [packed = true];
}
)";

DataType type(const char* name) {
  return *types::parse_type_name(name);
}

std::vector<Column> shop_columns() {
  return {{"id", DataType::bigint()},
          {"customer", DataType::string()},
          {"lines", type("ARRAY<STRUCT<sku STRING, qty BIGINT>>")},
          {"attrs", type("MAP<STRING, BIGINT>")},
          {"status", DataType::string()},
          {"created", DataType::timestamp()},
          {"discount", DataType::float64()},
          {"note", DataType::string()},
          {"codes", type("ARRAY<BIGINT>")},
          {"delta", DataType::bigint()},
          {"big", DataType::decimal(20, 0)},
          {"raw", DataType::bytes()},
          {"rush", DataType::boolean()},
          {"weight", DataType::float64()},
          {"f32", DataType::interval()},
          {"sf64", DataType::timestamp()},
          {"names", type("MAP<STRING, STRING>")},
          {"card", DataType::string()},
          {"account", DataType::bigint()},
          {"unpacked", type("ARRAY<BIGINT>")},
          {"amount", DataType::decimal(18, 4)},
          {"day", DataType::date()}};
}

std::vector<Column> tree_columns() {
  const char* level2 = "STRUCT<v BIGINT, label STRING, weights ARRAY<DECIMAL(20,0)>>";
  std::string level1 =
      fmt::format("STRUCT<v BIGINT, kids ARRAY<{0}>, named MAP<STRING, {0}>>", level2);
  return {{"v", DataType::bigint()},
          {"label", DataType::string()},
          {"kids", type(fmt::format("ARRAY<{}>", level1).c_str())},
          {"named", type(fmt::format("MAP<STRING, {}>", level1).c_str())},
          {"weights", type("ARRAY<DOUBLE>")}};
}

struct Fixture {
  std::vector<Column> columns;
  std::unique_ptr<format::ProtobufDecoder> decoder;   // the writer's schema
  std::unique_ptr<format::ProtobufEncoder> encoder;   // as a sink writes the columns
  std::unique_ptr<format::ProtobufDecoder> readback;  // the encoder's schema
};

Fixture make(const char* schema, std::vector<Column> columns) {
  Fixture f;
  f.columns = std::move(columns);
  f.decoder =
      std::make_unique<format::ProtobufDecoder>(format::protobuf::Schema::parse(schema), f.columns);
  f.encoder = std::make_unique<format::ProtobufEncoder>(f.columns, "Out");
  f.readback = std::make_unique<format::ProtobufDecoder>(
      format::protobuf::Schema::parse(f.encoder->schema()), f.columns);
  return f;
}

void fuzz_schema(std::string_view text) {
  std::shared_ptr<const format::protobuf::Schema> schema;
  try {
    schema = format::protobuf::Schema::parse(text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kDecode && std::string_view(e.what()).size() > 0, e.what());
    return;
  }
  FUZZ_CHECK(!schema->messages().empty(), "a schema without messages parsed");
  std::vector<Column> cols;
  for (const auto& f : schema->messages()[0]->fields)
    cols.push_back({f.name, DataType::string()});
  format::ProtobufDecoder d(schema, cols);
  Arena arena;
  std::vector<types::Value> row(cols.size());
  for (std::string_view bytes :
       {std::string_view("\0", 1), std::string_view("\0\x0a\x02hi\x12\x00", 7),
        std::string_view("\x02\x02\x08\x01", 4), std::string_view("\x04\x00\x00\x1a\x01x", 6)}) {
    RecordError err;
    if (!d.decode(bytes, row.data(), arena, &err))
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Fixture fixtures[] = {make(kShop, shop_columns()), make(kTree, tree_columns())};
  unsigned mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 2) {
    fuzz_schema(rest);
    return 0;
  }
  const Fixture& f = fixtures[mode];
  Arena arena(4096);
  std::vector<types::Value> row(f.columns.size()), again(f.columns.size());
  RecordError err;
  if (!f.decoder->decode(rest, row.data(), arena, &err)) {
    FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
    return 0;
  }
  // Protobuf has no NULL repeated field or map: a column the message lacks (NULL) is written as
  // none, which reads back empty.
  for (size_t c = 0; c < row.size(); ++c) {
    if (row[c].null && (row[c].type == TypeId::kArray || row[c].type == TypeId::kMap))
      row[c] = types::Value::nested(row[c].type, types::nested::build({}, arena));
  }
  std::string encoded;
  RecordError err2;
  FUZZ_CHECK(f.encoder->encode(row.data(), encoded, &err2), err2.message);
  FUZZ_CHECK(f.readback->decode(encoded, again.data(), arena, &err2), err2.message);
  FUZZ_CHECK(row_text(row) == row_text(again),
             fmt::format("{} -> {}", row_text(row), row_text(again)));
  return 0;
}
