// Protobuf values (format::protobuf::Schema, format::ProtobufDecoder): schemas as a registry
// serves them (.proto source or a base64 FileDescriptorProto), and records written by libprotobuf's
// own serializer (DynamicMessage, from the same schema text) read into rows: every scalar type,
// nested and repeated messages, maps, enums, well-known types, proto3 defaults and presence, the
// message indexes, and the malformed inputs each a DECODE error.

#include "format/protobuf.hpp"

#include "common/arena.hpp"
#include "format/avro.hpp"
#include "format/json.hpp"
#include "format/varint.hpp"
#include "types/bytes_text.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_schemas.hpp"
#include "pipeline_rig.hpp"
#include "protobuf_shop.hpp"

using namespace sluice;
using format::Column;
using types::DataType;

namespace {

namespace pb = google::protobuf;

using testing::kShop;

// The same schema in libprotobuf's own DynamicMessage: the independent writer of the records.
struct Writer {
  pb::DescriptorPool pool;
  pb::DynamicMessageFactory factory{&pool};
  pb::FileDescriptorProto file;

  explicit Writer(const std::string& text) {
    pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
    pb::io::Tokenizer tokens(&in, nullptr);
    pb::compiler::Parser parser;
    REQUIRE(parser.Parse(&tokens, &file));
    file.set_name("shop.proto");
    for (const char* dep : {"google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"}) {
      pb::FileDescriptorProto p;
      pb::DescriptorPool::generated_pool()->FindFileByName(dep)->CopyTo(&p);
      REQUIRE(pool.BuildFile(p) != nullptr);
    }
    REQUIRE(pool.BuildFile(file) != nullptr);
  }
  // The message `type` given in protobuf's text format, serialized.
  std::string bytes(const std::string& type, const std::string& text) {
    const pb::Descriptor* d = pool.FindMessageTypeByName(type);
    REQUIRE(d != nullptr);
    std::unique_ptr<pb::Message> m(factory.GetPrototype(d)->New());
    REQUIRE(pb::TextFormat::ParseFromString(text, m.get()));
    return m->SerializeAsString();
  }
};

// Zigzag varint, as message indexes are written.
std::string zigzag(int64_t v) {
  std::string out;
  format::append_varint(format::zigzag(v), out);
  return out;
}

std::string indexes(const std::vector<int64_t>& path) {
  std::string out = zigzag(static_cast<int64_t>(path.size()));
  for (int64_t i : path)
    out += zigzag(i);
  return out;
}

std::vector<Column> order_columns() {
  auto t = [](const char* name) { return *types::parse_type_name(name); };
  return {{"id", DataType::bigint()},
          {"customer", DataType::string()},
          {"lines", t("ARRAY<STRUCT<sku STRING, QTY BIGINT>>")},
          {"attrs", t("MAP<STRING, BIGINT>")},
          {"status", DataType::string()},
          {"created", DataType::timestamp()},
          {"discount", DataType::float64()},
          {"note", DataType::string()},
          {"codes", t("ARRAY<BIGINT>")},
          {"delta", DataType::bigint()},
          {"big", DataType::decimal(20, 0)},
          {"raw", DataType::bytes()},
          {"rush", DataType::boolean()},
          {"weight", DataType::float64()},
          {"F32", DataType::bigint()},
          {"sf64", DataType::bigint()},
          {"names", t("MAP<STRING, STRING>")},
          {"card", DataType::string()},
          {"account", DataType::bigint()},
          {"unpacked", t("ARRAY<BIGINT>")},
          {"small", DataType::bigint()},
          {"absent", DataType::string()}};
}

// Decodes `payload` (indexes + message) into `columns` and gives the row as JSON, or the error.
std::string read(const format::ProtobufDecoder& d, const std::string& payload) {
  Arena arena;
  std::vector<types::Value> row(d.columns().size());
  RecordError err;
  if (!d.decode(payload, row.data(), arena, &err)) {
    CHECK(err.code == ErrorCode::kDecode);
    return "error: " + err.message;
  }
  std::string out;
  format::JsonEncoder(d.columns(), format::TimestampOutput::kEpochMillis).encode(row.data(), out);
  return out;
}

std::shared_ptr<const format::protobuf::Schema> shop() {
  return format::protobuf::Schema::parse(kShop);
}

}  // namespace

TEST_CASE("protobuf: every field type reads into its column", "[protobuf]") {
  Writer w(kShop);
  format::ProtobufDecoder d(shop(), order_columns());
  std::string order = w.bytes("shop.Order", R"(
      id: -5 customer: "ada" lines { sku: "a" qty: 2 } lines { sku: "b" qty: -1 }
      attrs { key: "z" value: 1 } attrs { key: "a" value: -2 } status: SHIPPED
      created { seconds: 1700000000 nanos: 123999999 } discount: 0.5 note { value: "hi" }
      codes: [1, -1, 300] delta: -7 big: 18446744073709551615 raw: "\x00\xff" rush: true
      weight: 1.5 f32: 4294967295 sf64: -9 names { key: -3 value: "minus" }
      names { key: 10 value: "ten" } account: 42 unpacked: [-1, 2] small: -2147483648)");
  CHECK(read(d, indexes({0}) + order) ==
        R"({"id":-5,"customer":"ada","lines":[{"sku":"a","QTY":2},{"sku":"b","QTY":-1}],)"
        R"("attrs":{"a":-2,"z":1},"status":"SHIPPED","created":1700000000123,"discount":0.5,)"
        R"("note":"hi","codes":[1,-1,300],"delta":-7,"big":18446744073709551615,"raw":"AP8=",)"
        R"("rush":true,"weight":1.5,"F32":4294967295,"sf64":-9,"names":{"-3":"minus","10":"ten"},)"
        R"("card":null,"account":42,"unpacked":[-1,2],"small":-2147483648,"absent":null})");
  // A count of 0 stands for [0].
  CHECK(read(d, std::string(1, '\0') + order) == read(d, indexes({0}) + order));
}

TEST_CASE("protobuf: left-out fields read as proto3 defaults, or NULL where they have presence",
          "[protobuf]") {
  Writer w(kShop);
  format::ProtobufDecoder d(shop(), order_columns());
  CHECK(read(d, std::string(1, '\0')) ==
        R"({"id":0,"customer":"","lines":[],"attrs":{},"status":"NEW","created":null,)"
        R"("discount":null,"note":null,"codes":[],"delta":0,"big":0,"raw":"","rush":false,)"
        R"("weight":0,"F32":0,"sf64":0,"names":{},"card":null,"account":null,"unpacked":[],)"
        R"("small":0,"absent":null})");
  // A wrapper that is there but empty holds its default; a oneof member set to its default too.
  CHECK(read(d, indexes({0}) + w.bytes("shop.Order", R"(note {} card: "" discount: 0)"))
            .find(R"("discount":0,"note":"",)") != std::string::npos);
}

TEST_CASE("protobuf: message indexes pick the value's message, nested ones too", "[protobuf]") {
  Writer w(kShop);
  auto schema = shop();
  REQUIRE(schema->messages().size() == 2);
  CHECK(schema->messages()[1]->name == "shop.Refund");
  // Map fields declare their entry types as nested messages, which count (as in Confluent's
  // serializers): Line comes after AttrsEntry and NamesEntry.
  std::vector<int32_t> entry_path{0, 0}, line_path{0, 2};
  REQUIRE(schema->at(entry_path) != nullptr);
  CHECK(schema->at(entry_path)->name == "shop.Order.AttrsEntry");
  REQUIRE(schema->at(line_path) != nullptr);
  CHECK(schema->at(line_path)->name == "shop.Order.Line");
  format::ProtobufDecoder d(schema, {{"sku", DataType::string()},
                                     {"qty", DataType::bigint()},
                                     {"order_id", DataType::bigint()},
                                     {"line", *types::parse_type_name("STRUCT<qty BIGINT>")}});
  CHECK(read(d, indexes({0, 2}) + w.bytes("shop.Order.Line", R"(sku: "s" qty: 3)")) ==
        R"({"sku":"s","qty":3,"order_id":null,"line":null})");
  CHECK(read(d, indexes({1}) + w.bytes("shop.Refund", R"(order_id: 9 line { qty: 4 })")) ==
        R"({"sku":null,"qty":null,"order_id":9,"line":{"qty":4}})");
  CHECK(read(d, indexes({2}) + w.bytes("shop.Refund", "order_id: 9")) ==
        "error: message indexes [2] name no message of the schema");
  CHECK(read(d, indexes({0, 3})) == "error: message indexes [0, 3] name no message of the schema");
  CHECK(read(d, indexes({-5})) == "error: message indexes [-5] name no message of the schema");
  CHECK(read(d, zigzag(-1)) == "error: -1 Protobuf message indexes");
  CHECK(read(d, zigzag(65)) == "error: 65 Protobuf message indexes");
  CHECK(read(d, "") == "error: truncated Protobuf message indexes");
  CHECK(read(d, zigzag(2) + zigzag(0)) == "error: truncated Protobuf message indexes");
}

TEST_CASE("protobuf: a message whose fields do not fit the columns is refused per record",
          "[protobuf]") {
  Writer w(kShop);
  auto schema = shop();
  format::ProtobufDecoder d(schema, {{"customer", DataType::bigint()}, {"id", DataType::bigint()}});
  CHECK(d.mismatch(*schema->messages()[0]) ==
        "column 'customer' is BIGINT, but field 'customer' of shop.Order is string");
  CHECK(d.mismatch(*schema->messages()[1]).empty());
  CHECK(read(d, indexes({0}) + w.bytes("shop.Order", "id: 1")) ==
        "error: column 'customer' is BIGINT, but field 'customer' of shop.Order is string");
  // Refund has no customer: its records read.
  CHECK(read(d, indexes({1}) + w.bytes("shop.Refund", "order_id: 1")) ==
        R"({"customer":null,"id":null})");
  format::ProtobufDecoder maps(shop(), {{"attrs", DataType::bigint()}});
  CHECK(read(maps, indexes({0})) ==
        "error: column 'attrs' is BIGINT, but field 'attrs' of shop.Order is map<string, int32>");
}

TEST_CASE("protobuf: malformed records are DECODE errors naming the column", "[protobuf]") {
  Writer w(kShop);
  format::ProtobufDecoder d(shop(), order_columns());
  std::string head = indexes({0});
  std::string good = w.bytes("shop.Order", R"(id: 300 customer: "ada")");
  CHECK(read(d, head + good.substr(0, good.size() - 1)) ==
        "error: column 'customer': Protobuf data: a length beyond the end");
  CHECK(read(d, head + good.substr(0, 2)) == "error: column 'id': Protobuf data: truncated");
  // id (field 1) with wire type 2.
  CHECK(read(d, head + "\x0a\x01x") ==
        "error: column 'id': field 'id' (int64) has wire type 2, not 0");
  CHECK(read(d, head + std::string("\x00\x01", 2)) ==
        "error: Protobuf data: a field number out of range");
  CHECK(read(d, head + "\x12\x02\xc3\x28") ==
        "error: column 'customer': field 'customer': a string that is not UTF-8");
  CHECK(read(d, head + "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01") ==
        "error: column 'id': Protobuf data: a varint longer than 64 bits");
  // uint64 beyond BIGINT.
  format::ProtobufDecoder narrow(shop(), {{"big", DataType::bigint()}});
  CHECK(read(narrow, head + w.bytes("shop.Order", "big: 9223372036854775808")) ==
        "error: column 'big': 9223372036854775808 does not fit BIGINT");
  CHECK(read(narrow, head + w.bytes("shop.Order", "big: 9223372036854775807")) ==
        R"({"big":9223372036854775807})");
  // A Timestamp whose milliseconds overflow.
  CHECK(read(d, head + w.bytes("shop.Order", "created { seconds: 9223372036854775807 }")) ==
        "error: column 'created': a Timestamp of 9223372036854775807 seconds is out of range");
}

TEST_CASE("protobuf: unknown fields are skipped, groups and unknown enum numbers too",
          "[protobuf]") {
  format::ProtobufDecoder d(shop(), {{"id", DataType::bigint()}, {"status", DataType::string()}});
  std::string head = indexes({0});
  // Field 99 as varint, fixed64, fixed32, bytes and a group with a field inside; then id 7.
  std::string unknown =
      "\x98\x06\x05"                              // 99 varint
      "\x99\x06\x01\x02\x03\x04\x05\x06\x07\x08"  // 99 fixed64
      "\x9d\x06\x01\x02\x03\x04"                  // 99 fixed32
      "\x9a\x06\x02hi"                            // 99 bytes
      "\x9b\x06\x08\x01\x9c\x06"                  // 99 group { 1: 1 }
      "\x08\x07"                                  // id 7
      "\x28\x09";                                 // status 9: not declared
  CHECK(read(d, head + unknown) == R"({"id":7,"status":"9"})");
  CHECK(read(d, head + "\x9b\x06\x08\x01") ==
        "error: Protobuf data: truncated");  // a group never closed
  CHECK(read(d, head + "\x9b\x06\x08\x01\xa4\x06") ==
        "error: Protobuf data: a group closed by another field");
  CHECK(read(d, head + "\x9c\x06") == "error: Protobuf data: a group end without its start");
  CHECK(read(d, head + "\x9e\x06") == "error: Protobuf data: a bad wire type");
  // Groups nested past the bound.
  std::string deep;
  for (int i = 0; i < 100; ++i)
    deep += "\x9b\x06";
  CHECK(read(d, head + deep) == "error: Protobuf data: groups nested too deeply");
}

TEST_CASE("protobuf: schemas parse from source or a base64 FileDescriptorProto, or say why not",
          "[protobuf]") {
  Writer w(kShop);
  std::string encoded;
  types::append_base64(w.file.SerializeAsString(), encoded);
  auto from_base64 = format::protobuf::Schema::parse(encoded);
  REQUIRE(from_base64->messages().size() == 2);
  format::ProtobufDecoder d(from_base64, order_columns());
  std::string order = indexes({0}) + w.bytes("shop.Order", R"(id: 1 lines { qty: 2 })");
  CHECK(read(d, order) == read(format::ProtobufDecoder(shop(), order_columns()), order));
  CHECK(from_base64->messages()[0]->fields[2].describe() == "repeated message shop.Order.Line");
  CHECK(from_base64->messages()[0]->fields[3].describe() == "map<string, int32>");

  auto refused = [](const std::string& text) {
    try {
      format::protobuf::Schema::parse(text);
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::kDecode);
      return std::string(e.what());
    }
    return std::string("parsed");
  };
  CHECK(refused("syntax = \"proto3\";\nmessage A { int64 id = 1 }") ==
        "Protobuf schema: line 2, column 26: Expected \";\".");
  CHECK(refused("syntax = \"proto3\";\nimport \"other.proto\";\nmessage A { Other o = 1; }") ==
        "Protobuf schema: it imports \"other.proto\", which is neither among its schema "
        "references nor one of Protobuf's well-known types (google/protobuf/*.proto)");
  CHECK(refused("syntax = \"proto3\";") == "Protobuf schema: it declares no message");
  CHECK(refused("syntax = \"proto3\";\nmessage A { B b = 1; }") ==
        "Protobuf schema: A.b: \"B\" is not defined.");
  // Blocks nested past the bound are refused before libprotobuf's parser recurses into them.
  CHECK(refused("syntax = \"proto3\";" + std::string(17000, '{')) ==
        "Protobuf schema: blocks nested over 64 deep");
  std::string deep = "syntax = \"proto3\";";
  for (int i = 0; i < 65; ++i)
    deep += "message M" + std::to_string(i) + " {";
  CHECK(refused(deep + std::string(65, '}')) == "Protobuf schema: blocks nested over 64 deep");
  // Recursive messages parse; reading follows the columns' finite depth.
  auto tree = format::protobuf::Schema::parse(
      "syntax = \"proto3\";\nmessage Node { int64 v = 1; repeated Node kids = 2; }");
  format::ProtobufDecoder nodes(
      tree, {{"v", DataType::bigint()},
             {"kids", *types::parse_type_name("ARRAY<STRUCT<v BIGINT, kids ARRAY<STRUCT<v "
                                              "BIGINT>>>>")}});
  CHECK(read(nodes, std::string(1, '\0') + "\x08\x01\x12\x06\x08\x02\x12\x02\x08\x03") ==
        R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]})");
}

TEST_CASE(
    "pipeline: format protobuf reads framed messages; other schemas and bad bytes are refused",
    "[pipeline][protobuf]") {
  Writer w(kShop);
  auto schemas = std::make_shared<testing::FakeSchemas>();
  test::Rig rig(
      "name: p\nsql: SELECT id, customer, lines[1].sku AS sku, created FROM t\n"
      "source: {type: kafka, topic: in, name: t, format: protobuf, "
      "schema: {id: BIGINT, customer: STRING, lines: 'ARRAY<STRUCT<sku STRING>>', created: "
      "TIMESTAMP}}\n"
      "sink: {type: kafka, topic: out, timestamp_format: epoch_millis}\n"
      "dead_letter: {type: kafka, topic: dlq}\n",
      test::opts([&](test::RigOptions& o) { o.schemas = schemas; }));
  std::string frame;
  format::append_frame(3, frame);
  rig.source->append(frame + indexes({0}) +
                     w.bytes("shop.Order", R"(id: 1 customer: "ada" lines { sku: "x" } created {
                         seconds: 2 })"));
  rig.source->append(frame + std::string(1, '\0') + w.bytes("shop.Order", "id: 2"));
  rig.source->append(frame + indexes({1}) + w.bytes("shop.Refund", "order_id: 3"));
  rig.source->append(frame + indexes({0}) + "\x0a\x01x");  // id with wire type 2
  std::string avro_frame;
  format::append_frame(4, avro_frame);
  rig.source->append(avro_frame + "\x02");  // a schema of another type
  rig.start();
  CHECK(rig.out.taken().empty());
  CHECK(schemas->requests == std::map<uint32_t, int>{{3, 1}, {4, 1}});
  schemas->answer(3, kShop, "", "PROTOBUF");
  schemas->answer(4, R"({"type":"record","name":"R","fields":[{"name":"id","type":"long"}]})");
  rig.run();
  std::vector<std::string> out;
  for (const auto& t : rig.out.taken())
    out.push_back(t.value);
  CHECK(out ==
        std::vector<std::string>{R"({"id":1,"customer":"ada","sku":"x","created":2000})",
                                 R"({"id":2,"customer":"","sku":null,"created":null})",
                                 R"({"id":null,"customer":null,"sku":null,"created":null})"});
  std::vector<std::string> why;
  for (const auto& t : rig.dlq.taken())
    why.push_back(t.headers.at("sluice.error.message"));
  CHECK(why ==
        std::vector<std::string>{"schema 3: column 'id': field 'id' (int64) has wire type 2, not 0",
                                 "schema 4: its type is AVRO; the job reads Protobuf"});
}

namespace {

std::vector<Column> out_columns() {
  auto t = [](const char* name) { return *types::parse_type_name(name); };
  return {{"id", DataType::bigint()},
          {"ok", DataType::boolean()},
          {"price", DataType::float64()},
          {"amount", DataType::decimal(12, 2)},
          {"name", DataType::string()},
          {"raw", DataType::bytes()},
          {"at", DataType::timestamp()},
          {"day", DataType::date()},
          {"tm", DataType::time()},
          {"wait", DataType::interval()},
          {"customer", t("STRUCT<name STRING, address STRUCT<city STRING>>")},
          {"lines", t("ARRAY<STRUCT<sku STRING, qty BIGINT>>")},
          {"codes", t("ARRAY<BIGINT>")},
          {"grid", t("ARRAY<ARRAY<DOUBLE>>")},
          {"attrs", t("MAP<STRING, BIGINT>")},
          {"groups", t("MAP<STRING, ARRAY<STRING>>")},
          {"my col", DataType::string()}};
}

// A row of `columns` from JSON, as a source would read it.
std::vector<types::Value> row_of(const std::vector<Column>& columns, const std::string& json,
                                 Arena& arena) {
  std::vector<types::Value> row(columns.size());
  format::JsonDecoder decoder(columns);
  RecordError err;
  REQUIRE(decoder.decode(json, row.data(), arena, &err));
  return row;
}

}  // namespace

TEST_CASE("protobuf: the schema a protobuf sink registers for its columns", "[protobuf]") {
  CHECK(format::protobuf_schema_for(out_columns(), "orders-out") == R"(syntax = "proto3";

import "google/protobuf/timestamp.proto";

message orders_out {
  optional int64 id = 1;
  optional bool ok = 2;
  optional double price = 3;
  optional string amount = 4;
  optional string name = 5;
  optional bytes raw = 6;
  google.protobuf.Timestamp at = 7;
  optional int32 day = 8;
  optional int32 tm = 9;
  optional int64 wait = 10;
  Customer customer = 11;
  repeated LinesItem lines = 12;
  repeated int64 codes = 13;
  repeated GridItem grid = 14;
  map<string, int64> attrs = 15;
  map<string, GroupsValue> groups = 16;
  optional string my_col = 17;
  message Customer {
    optional string name = 1;
    Address address = 2;
    message Address {
      optional string city = 1;
    }
  }
  message LinesItem {
    optional string sku = 1;
    optional int64 qty = 2;
  }
  message GridItem {
    repeated double value = 1;
  }
  message GroupsValue {
    repeated string value = 1;
  }
}
)");
  // Names proto3 would refuse together.
  try {
    format::protobuf_schema_for({{"a_b", DataType::bigint()}, {"aB", DataType::bigint()}}, "T");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kConfig);
    CHECK(std::string(e.what()) ==
          "output columns 'a_b' and 'aB' are both written as the Protobuf field 'aB' (proto3 "
          "compares names without '_' and case): give one an alias");
  }
  // A STRUCT field named like its message's scope gets a name of its own.
  CHECK(format::protobuf_schema_for({{"t", *types::parse_type_name("STRUCT<t STRUCT<x BIGINT>>")}},
                                    "T")
            .find("  T_2 t = 1;") != std::string::npos);
}

TEST_CASE("protobuf: what a protobuf sink writes, libprotobuf reads, and sluice reads back",
          "[protobuf]") {
  Arena arena;
  std::vector<Column> columns = out_columns();
  format::ProtobufEncoder encoder(columns, "orders-out");
  std::vector<types::Value> row =
      row_of(columns,
             R"({"id":-3,"ok":false,"price":-0.25,"amount":"-12.50","name":"ü","raw":"AAE=",)"
             R"("at":"1969-12-31T23:59:59.999Z","day":"2024-02-29","tm":"12:00:00.001","wait":0,)"
             R"("customer":{"name":"ada","address":{"city":null}},)"
             R"("lines":[{"sku":"a","qty":2},{"sku":null,"qty":0}],"codes":[1,-1],)"
             R"("grid":[[1.5],[]],"attrs":{"b":2,"a":1},"groups":{"g":["x","y"]},"my col":null})",
             arena);
  std::string out;
  RecordError err;
  REQUIRE(encoder.encode(row.data(), out, &err));
  REQUIRE(out.size() > 1);
  CHECK(out[0] == '\0');  // message indexes [0]

  // libprotobuf's own parser, of the schema text and of the bytes.
  Writer lib(encoder.schema());
  const pb::Descriptor* d = lib.pool.FindMessageTypeByName("orders_out");
  REQUIRE(d != nullptr);
  std::unique_ptr<pb::Message> m(lib.factory.GetPrototype(d)->New());
  REQUIRE(m->ParseFromString(out.substr(1)));
  CHECK(m->ShortDebugString() ==
        R"(id: -3 ok: false price: -0.25 amount: "-12.50" name: "\303\274" raw: "\000\001" )"
        R"(at { seconds: -1 nanos: 999000000 } day: 19782 tm: 43200001 wait: 0 )"
        R"(customer { name: "ada" address { } } lines { sku: "a" qty: 2 } lines { qty: 0 } )"
        R"(codes: 1 codes: -1 grid { value: 1.5 } grid { } attrs { key: "a" value: 1 } )"
        R"(attrs { key: "b" value: 2 } groups { key: "g" value { value: "x" value: "y" } })");

  // sluice reads it back through the registered schema, to the same values.
  format::ProtobufDecoder back(format::protobuf::Schema::parse(encoder.schema()), columns);
  std::string json_in, json_out;
  format::JsonEncoder(columns).encode(row.data(), json_in);
  std::vector<types::Value> again(columns.size());
  // ("my col" is written as field my_col, which no column names: it reads NULL, as it was.)
  REQUIRE(back.decode(out, again.data(), arena, &err));
  format::JsonEncoder(columns).encode(again.data(), json_out);
  CHECK(json_out == json_in);
}

TEST_CASE("protobuf: values Protobuf cannot hold are refused, nothing written", "[protobuf]") {
  Arena arena;
  auto t = [](const char* name) { return *types::parse_type_name(name); };
  std::vector<Column> columns = {
      {"a", t("ARRAY<BIGINT>")}, {"m", t("MAP<STRING, STRING>")}, {"s", t("ARRAY<STRING>")}};
  format::ProtobufEncoder encoder(columns, "T");
  std::string out = "kept";
  RecordError err;
  CHECK_FALSE(encoder.encode(row_of(columns, R"({"a":[1,null]})", arena).data(), out, &err));
  CHECK(err.code == ErrorCode::kInvalidArgument);
  CHECK(err.message ==
        "column 'a': a NULL element or map value, which Protobuf's repeated fields and maps "
        "cannot hold");
  CHECK_FALSE(encoder.encode(row_of(columns, R"({"m":{"k":null}})", arena).data(), out, &err));
  CHECK_FALSE(encoder.encode(row_of(columns, R"({"s":["x",null]})", arena).data(), out, &err));
  CHECK(out == "kept");
  // NULL arrays and maps are written as empty ones (Protobuf has no NULL for them).
  REQUIRE(encoder.encode(row_of(columns, R"({"a":null,"m":null})", arena).data(), out, &err));
  CHECK(out == std::string("kept\0", 5));
  format::ProtobufEncoder dates({{"d", DataType::date()}}, "T");
  std::vector<types::Value> far = {types::Value::date(int64_t{1} << 40)};
  out.clear();
  CHECK_FALSE(dates.encode(far.data(), out, &err));
  CHECK(err.code == ErrorCode::kOverflow);
  CHECK(out.empty());
}

TEST_CASE("pipeline: a protobuf sink writes the wire format with its schema's id",
          "[pipeline][protobuf]") {
  Writer w(kShop);
  auto schemas = std::make_shared<testing::FakeSchemas>();
  test::Rig rig(
      "name: p\nsql: SELECT id, lines FROM t\n"
      "source: {type: kafka, topic: in, name: t, format: protobuf, "
      "schema: {id: BIGINT, lines: 'ARRAY<STRUCT<sku STRING, qty BIGINT>>'}}\n"
      "sink: {type: kafka, topic: orders-out, format: protobuf}\n",
      test::opts([&](test::RigOptions& o) {
        o.schemas = schemas;
        o.avro_schema_id = 77;
      }));
  std::string frame;
  format::append_frame(3, frame);
  rig.source->append(frame + indexes({0}) +
                     w.bytes("shop.Order", R"(id: 5 lines { sku: "x" qty: 2 } customer: "c")"));
  rig.start();
  schemas->answer(3, kShop, "", "PROTOBUF");
  rig.run();
  REQUIRE(rig.out.taken().size() == 1);
  std::string value = rig.out.taken()[0].value;
  std::string head;
  format::append_frame(77, head);
  REQUIRE(value.substr(0, 6) == head + '\0');
  Writer out(format::protobuf_schema_for(
      {{"id", DataType::bigint()},
       {"lines", *types::parse_type_name("ARRAY<STRUCT<sku STRING, qty BIGINT>>")}},
      "orders-out"));
  std::unique_ptr<pb::Message> m(
      out.factory.GetPrototype(out.pool.FindMessageTypeByName("orders_out"))->New());
  REQUIRE(m->ParseFromString(value.substr(6)));
  CHECK(m->ShortDebugString() == R"(id: 5 lines { sku: "x" qty: 2 })");
}

TEST_CASE("protobuf: hostile schemas parse or are refused, never crash", "[protobuf]") {
  using format::protobuf::Schema;
  auto t = [](const char* name) { return *types::parse_type_name(name); };
  // A schema's own messages named like well-known types, of other shapes: ordinary messages.
  auto fakes = Schema::parse(
      "syntax = \"proto3\"; package google.protobuf;\n"
      "message A { Int64Value x = 1; Timestamp t = 2; Int32Value self = 3; }\n"
      "message Int64Value { string s = 2; }\n"
      "message Timestamp { Empty seconds = 1; }\n"
      "message Empty {}\n"
      "message Int32Value { Int32Value value = 1; }");
  format::ProtobufDecoder scalar(fakes, {{"x", DataType::bigint()}});
  CHECK(read(scalar, indexes({0}) + "\x0a\x00") ==
        "error: column 'x' is BIGINT, but field 'x' of google.protobuf.A is message "
        "google.protobuf.Int64Value");
  format::ProtobufDecoder stamp(fakes, {{"t", DataType::timestamp()}});
  CHECK(read(stamp, indexes({0})) ==
        "error: column 't' is TIMESTAMP, but field 't' of google.protobuf.A is message "
        "google.protobuf.Timestamp");
  format::ProtobufDecoder self(fakes, {{"self", DataType::bigint()}});
  CHECK(read(self, indexes({0})).starts_with("error: column 'self' is BIGINT"));
  format::ProtobufDecoder as_struct(fakes, {{"x", t("STRUCT<s STRING>")}});
  CHECK(read(as_struct, indexes({0}) + "\x0a\x03\x12\x01z") == R"({"x":{"s":"z"}})");

  // A long chain of message types (each holding the next) is built without recursion.
  std::string chain = "syntax = \"proto3\";";
  for (int i = 0; i < 40000; ++i)
    chain += "message M" + std::to_string(i) + " { M" + std::to_string(i + 1) + " x = 1; }";
  chain += "message M40000 {}";
  CHECK(Schema::parse(chain)->all.size() == 40001);

  // Custom options are dropped before the file is built (their values are not read).
  auto options = Schema::parse(
      "syntax = \"proto2\"; import \"google/protobuf/descriptor.proto\";\n"
      "message Foo { optional Foo f = 1; }\n"
      "extend google.protobuf.MessageOptions { optional Foo foo = 50000; }\n"
      "message A { option (foo) = { f { f { } } }; optional int32 x = 1; }");
  CHECK(options->messages().size() == 2);

  // Groups are skipped; a column naming one is a mismatch.
  auto groups = Schema::parse(
      "syntax = \"proto2\";\nmessage A { optional int64 x = 1; optional group G = 2 { optional "
      "int32 y = 3; } }");
  format::ProtobufDecoder skip(groups, {{"x", DataType::bigint()}});
  CHECK(read(skip, indexes({0}) + "\x13\x18\x05\x14\x08\x07") == R"({"x":7})");
  format::ProtobufDecoder named(groups, {{"g", DataType::string()}});
  CHECK(read(named, indexes({0})) == "error: column 'g' is STRING, but field 'g' of A is group");
}

TEST_CASE("protobuf: oneofs keep their last member; proto2 map values default; enum aliases",
          "[protobuf]") {
  Writer w(kShop);
  format::ProtobufDecoder d(shop(),
                            {{"card", DataType::string()}, {"account", DataType::bigint()}});
  // card "ab", then account 7: only account is set.
  CHECK(read(d, indexes({0}) + "\x92\x01\x02" + "ab" + "\x98\x01\x07") ==
        R"({"card":null,"account":7})");
  CHECK(read(d, indexes({0}) + "\x98\x01\x07\x92\x01\x02" + "ab") ==
        R"({"card":"ab","account":null})");
  auto proto2 = format::protobuf::Schema::parse(
      "syntax = \"proto2\"; message A { map<string, int32> m = 1; optional E e = 2;\n"
      "enum E { option allow_alias = true; X = 1; Y = 1; Z = 2; } }");
  format::ProtobufDecoder maps(
      proto2, {{"m", *types::parse_type_name("MAP<STRING, BIGINT>")}, {"e", DataType::string()}});
  // An entry without its value: the value type's default, as libprotobuf reads it.
  CHECK(read(maps, indexes({0}) + "\x0a\x03\x0a\x01" + "a" + "\x10\x01") ==
        R"({"m":{"a":0},"e":"X"})");
  // A field numbered past the dense table is found too.
  auto sparse = format::protobuf::Schema::parse(
      "syntax = \"proto3\"; message A { int64 a = 1; int64 b = 100000000; }");
  format::ProtobufDecoder far(sparse, {{"b", DataType::bigint()}});
  CHECK(read(far, indexes({0}) + "\x80\x90\xbc\xfd\x02\x05") == R"({"b":5})");
}

TEST_CASE("protobuf: the sink's schema builds whatever its columns are named; extreme timestamps",
          "[protobuf]") {
  auto t = [](const char* name) { return *types::parse_type_name(name); };
  std::vector<Column> columns = {
      {"_x", t("STRUCT<a BIGINT>")},         {"attrs", t("MAP<STRING, BIGINT>")},
      {"attrsEntry", t("STRUCT<b BIGINT>")}, {"lines", t("ARRAY<STRUCT<c BIGINT>>")},
      {"LinesItem", DataType::bigint()},     {"Address", t("STRUCT<d BIGINT>")},
      {"at", DataType::timestamp()}};
  format::ProtobufEncoder encoder(columns, "Out");
  auto schema = format::protobuf::Schema::parse(encoder.schema());  // throws if it does not build
  Writer lib(encoder.schema());                                     // libprotobuf builds it too
  format::ProtobufDecoder back(schema, columns);
  for (int64_t ms : {INT64_MIN, INT64_MIN + 1, int64_t{-1}, int64_t{0}, INT64_MAX}) {
    std::vector<types::Value> row(columns.size());
    for (size_t c = 0; c < columns.size(); ++c)
      row[c] = types::Value::null_of(columns[c].type);
    row[6] = types::Value::timestamp(ms);
    std::string out;
    RecordError err;
    REQUIRE(encoder.encode(row.data(), out, &err));
    Arena arena;
    std::vector<types::Value> again(columns.size());
    REQUIRE(back.decode(out, again.data(), arena, &err));
    CHECK(again[6].i == ms);
  }
}
