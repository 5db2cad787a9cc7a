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
#include "format/schema_columns.hpp"
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
using Fixture =
    fuzz::RoundTrip<format::protobuf::Schema, format::ProtobufDecoder, format::ProtobufEncoder>;
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

void fuzz_schema(std::string_view text) {
  std::shared_ptr<const format::protobuf::Schema> schema;
  try {
    schema = format::protobuf::Schema::parse(text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kDecode && std::string_view(e.what()).size() > 0, e.what());
    return;
  }
  FUZZ_CHECK(!schema->messages().empty(), "a schema without messages parsed");
  // The columns a source without `schema:` takes from it fit its first message.
  std::vector<Column> inferred;
  try {
    inferred = format::registry_schema_columns("PROTOBUF", text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kConfig && std::string_view(e.what()).size() > 0, e.what());
  }
  if (!inferred.empty()) {
    format::ProtobufDecoder fits(schema, inferred);
    const std::string& why = fits.mismatch(*schema->messages()[0]);
    FUZZ_CHECK(why.empty(), why);
  }
  std::vector<Column> cols;
  for (const auto& f : schema->messages()[0]->fields)
    cols.push_back({f.name, DataType::string()});
  fuzz::decode_each(
      format::ProtobufDecoder(schema, cols), cols.size(),
      {std::string_view("\0", 1), std::string_view("\0\x0a\x02hi\x12\x00", 7),
       std::string_view("\x02\x02\x08\x01", 4), std::string_view("\x04\x00\x00\x1a\x01x", 6)});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Fixture fixtures[] = {{kShop, shop_columns()}, {kTree, tree_columns()}};
  unsigned mode = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 2) {
    fuzz_schema(rest);
    return 0;
  }
  // Protobuf has no NULL repeated field or map: a column the message lacks (NULL) is written as
  // none, which reads back empty.
  fixtures[mode].check(rest, [](std::vector<types::Value>& row, Arena& arena) {
    for (auto& v : row) {
      if (v.null && (v.type == TypeId::kArray || v.type == TypeId::kMap))
        v = types::Value::nested(v.type, types::nested::build({}, arena));
    }
  });
  return 0;
}
