// STRUCT, ARRAY and MAP: type names, the value layout (types/nested.hpp), the parser's forms,
// JSON in and out, and the state codec.

#include "types/nested.hpp"

#include "exec/expressions.hpp"
#include "exec/state_codec.hpp"
#include "format/json.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sql_parser_test_util.hpp"
#include "test_text.hpp"

using namespace sluice;
using types::DataType;
using types::TypeId;
using types::Value;
namespace nested = types::nested;

namespace {

DataType parse(std::string_view text) {
  return test::type_of(text);
}
using test::type_error;

}  // namespace

TEST_CASE("nested: type names parse, print and intern", "[nested][types]") {
  DataType t = parse("struct< id bigint, `odd name` ARRAY<Map<String,Decimal(10,2)>>, \"Q\" BOOL>");
  CHECK(t.to_string() ==
        "STRUCT<id BIGINT, `odd name` ARRAY<MAP<STRING, DECIMAL(10,2)>>, Q BOOLEAN>");
  CHECK(parse(t.to_string()) == t);  // the printed form reads back as the same interned type
  REQUIRE(t.fields().size() == 3);
  CHECK(t.fields()[1].type.element().element() == DataType::decimal(10, 2));
  CHECK(t.field_index("ID") == 0);  // case-insensitive when there is no exact match
  CHECK(t.field_index("q") == 2);
  CHECK(t.field_index("nope") == -1);
  CHECK(parse("STRUCT<a: BIGINT>") == parse("STRUCT<a BIGINT>"));
  CHECK_FALSE(parse("ARRAY<BIGINT>") == parse("ARRAY<DOUBLE>"));
  CHECK(DataType::array(DataType::bigint()) == parse("ARRAY<INT>"));

  CHECK(type_error("MAP<BIGINT, STRING>") == "MAP keys must be STRING, got BIGINT");
  CHECK(type_error("STRUCT<a BIGINT, a STRING>") == "STRUCT field 'a' appears twice");
  CHECK(type_error("ARRAY<BIGINT") == "expected '>' to close ARRAY<...>");
  CHECK(type_error("ARRAY BIGINT") == "expected '<' after ARRAY");
  CHECK(type_error("ARRAY<NOPE>") == "unknown type 'NOPE'");
  CHECK(type_error("STRUCT<>") == "expected a field name in STRUCT<...>");
  CHECK(type_error("ARRAY<BIGINT> x") == "unexpected text in type 'ARRAY<BIGINT> x'");
  std::string deep;
  for (int i = 0; i < 40; ++i)
    deep += "ARRAY<";
  deep += "BIGINT" + std::string(40, '>');
  CHECK(type_error(deep) == "types nest more than 32 levels deep");

  // Common types: a nested type meets only itself (and NULL).
  CHECK(types::common_super_type(t, t) == t);
  CHECK(types::common_super_type(t, DataType::null()) == t);
  CHECK_FALSE(types::common_super_type(parse("ARRAY<BIGINT>"), parse("ARRAY<DOUBLE>")));
  CHECK(types::can_cast(parse("ARRAY<BIGINT>"), parse("ARRAY<BIGINT>")));
  CHECK(types::can_cast(parse("ARRAY<BIGINT>"), DataType::string()));  // its JSON text
  CHECK_FALSE(types::can_cast(parse("ARRAY<BIGINT>"), DataType::bigint()));
  CHECK_FALSE(types::can_cast(DataType::string(), parse("ARRAY<STRING>")));
}

TEST_CASE("nested: layouts read back every element type; equal values have equal bytes",
          "[nested]") {
  Arena arena;
  std::vector<Value> inner = {Value::string("x"), Value::make_null(TypeId::kString)};
  std::string_view inner_layout = nested::build(inner, arena);
  std::vector<Value> items = {Value::boolean(true),
                              Value::bigint(-5),
                              Value::float64(2.5),
                              Value::decimal(12345, 2),
                              Value::string("héllo"),
                              Value::bytes(std::string_view("\0\1", 2)),
                              Value::timestamp(1700000000000),
                              Value::date(-3),
                              Value::time(1000),
                              Value::make_null(TypeId::kBigInt),
                              Value::nested(TypeId::kArray, inner_layout),
                              Value::string("")};
  std::vector<DataType> types = {DataType::boolean(),
                                 DataType::bigint(),
                                 DataType::float64(),
                                 DataType::decimal(10, 2),
                                 DataType::string(),
                                 DataType::bytes(),
                                 DataType::timestamp(),
                                 DataType::date(),
                                 DataType::time(),
                                 DataType::bigint(),
                                 DataType::array(DataType::string()),
                                 DataType::string()};
  std::string_view layout = nested::build(items, arena);
  nested::View view;
  REQUIRE(nested::View::open(layout, &view));
  REQUIRE(view.size() == items.size());
  for (uint32_t i = 0; i < view.size(); ++i) {
    INFO(i);
    Value back = view.get(i, types[i]);
    CHECK(back.null == items[i].null);
    CHECK(back.type == types[i].id);
    if (!back.null) CHECK(types::compare(back, items[i]) == 0);
  }
  CHECK(view.get(4, DataType::bigint()).null);  // a payload that does not fit the type
  CHECK(view.get(99, DataType::bigint()).null);

  std::vector<DataType::Field> fields;
  for (size_t i = 0; i < types.size(); ++i) {
    std::string name = "f";
    name += std::to_string(i);
    fields.push_back({name, types[i]});
  }
  DataType row_type = DataType::structure(fields);
  CHECK(nested::valid(layout, row_type));
  CHECK_FALSE(nested::valid(layout, DataType::array(DataType::bigint())));

  // -0.0 and 0.0, and any two NaNs, lay out alike: grouping and = see them as equal.
  std::vector<Value> a = {Value::float64(-0.0), Value::float64(std::nan("1"))};
  std::vector<Value> b = {Value::float64(0.0), Value::float64(-std::nan("2"))};
  CHECK(nested::build(a, arena) == nested::build(b, arena));
  CHECK(nested::build_string(a) == std::string(nested::build(b, arena)));
}

TEST_CASE("nested: damaged layouts read as NULLs, never out of bounds", "[nested]") {
  Arena arena;
  std::vector<Value> items = {Value::string("abc"), Value::bigint(7), Value::string("defgh")};
  std::string layout(nested::build(items, arena));
  DataType t = DataType::structure(
      {{"a", DataType::string()}, {"b", DataType::bigint()}, {"c", DataType::string()}});
  REQUIRE(nested::valid(layout, t));
  for (size_t cut = 0; cut < layout.size(); ++cut) {
    std::string_view part(layout.data(), cut);
    nested::View view;
    if (!nested::View::open(part, &view)) continue;
    for (uint32_t i = 0; i < view.size(); ++i)
      (void)view.get(i, t.fields()[i].type);  // ASan checks these stay inside `part`
    CHECK_FALSE(nested::valid(part, t));
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string damaged = layout;
    damaged[rng() % damaged.size()] = static_cast<char>(rng());
    nested::View view;
    if (!nested::View::open(damaged, &view)) continue;
    for (uint32_t i = 0; i < std::min<uint32_t>(view.size(), 3); ++i)
      (void)view.get(i, t.fields()[i].type);
    (void)nested::valid(damaged, t);
  }
  nested::View view;
  std::string huge_count("\xff\xff\xff\x7f", 4);
  CHECK_FALSE(nested::View::open(huge_count, &view));
}

TEST_CASE("nested: the parser's field, subscript and constructor forms", "[nested][parser]") {
  using sql::testing::sx;
  CHECK(sx("a.b.c") == "(.c (q.b a))");  // a is not the source t: a column with fields
  CHECK(sx("t.a.b") == "(.b t.a)");
  CHECK(sx("a->b->c") == "(.c (.b a))");
  CHECK(sx("x[1]") == "([] x int:1)");
  CHECK(sx("x['k'][2].f") == "(.f ([] ([] x 'k') int:2))");
  CHECK(sx("-x[1]") == "(- ([] x int:1))");
  CHECK(sx("ARRAY[1, 2]") == "(ARRAY() int:1 int:2)");
  CHECK(sx("ARRAY[]") == "(ARRAY())");
  CHECK(sx("STRUCT(a := 1, b := 'x')") == "(STRUCT() := a int:1 b 'x')");
  CHECK(sx("MAP('k' := 1)") == "(MAP() := 'k' int:1)");
  CHECK(sx("f(x).y") == "(.y (F() x))");
  CHECK(sx("CAST(x AS ARRAY<STRUCT<a BIGINT>>)") == "(CAST ARRAY < STRUCT < a BIGINT > > x)");
  CHECK_THROWS_WITH(sql::parse_select("SELECT x[1 FROM t"), Catch::Contains("']' to close '['"));
  CHECK_THROWS_WITH(sql::parse_select("SELECT STRUCT(a := 1, 2) FROM t"),
                    Catch::Contains("expected ':=' after 'STRUCT' argument"));
  CHECK_THROWS_WITH(sql::parse_select("SELECT MAP(1, 'a' := 2) FROM t"),
                    Catch::Contains("all `a := b` pairs or none are"));
}

TEST_CASE("nested: JSON in and out", "[nested][json]") {
  DataType t =
      parse("STRUCT<id BIGINT, tags ARRAY<STRING>, m MAP<STRING, BIGINT>, n ARRAY<BIGINT>>");
  std::vector<format::Column> schema = {{"p", t}};
  format::JsonDecoder decoder(schema);
  format::JsonEncoder encoder(schema);
  Arena arena;
  RecordError err;
  Value row[1];

  SECTION("round trip, with unknown fields skipped and escapes kept") {
    REQUIRE(decoder.decode(
        R"({"p":{"x":{"deep":[1,{"a":2}]},"ID":3,"tags":["a\"b",null],"m":{"k":1,"q\n":null}}})",
        row, arena, &err));
    std::string out;
    encoder.encode(row, out);
    CHECK(out == R"({"p":{"id":3,"tags":["a\"b",null],"m":{"k":1,"q\n":null},"n":null}})");
  }
  SECTION("a repeated MAP key keeps its last value, small maps and large alike") {
    for (int keys : {3, 40}) {
      std::string json = R"({"p":{"m":{)";
      for (int i = 0; i < keys; ++i)
        json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
      json += R"("k1":-1,"k0":-2}}})";
      REQUIRE(decoder.decode(json, row, arena, &err));
      std::string out;
      encoder.encode(row, out);
      INFO(out);
      CHECK(out.find(R"("m":{"k0":-2,"k1":-1,)") != std::string::npos);  // sorted by key
      nested::View struct_view, map_view;
      REQUIRE(nested::View::open(row[0].str(), &struct_view));
      REQUIRE(nested::View::open(struct_view.raw(2), &map_view));
      CHECK(map_view.size() == 2u * static_cast<uint32_t>(keys));
    }
  }
  SECTION("a wrong value names its path") {
    CHECK_FALSE(decoder.decode(R"({"p":{"n":[1,2,{}]}})", row, arena, &err));
    CHECK(err.message == "column 'p.n[3]': expected a number for BIGINT, found object");
    CHECK_FALSE(decoder.decode(R"({"p":{"m":{"a":"x"}}})", row, arena, &err));
    CHECK(err.message.rfind("column 'p.m.a': ", 0) == 0);
    CHECK_FALSE(decoder.decode(R"({"p":[1]})", row, arena, &err));
    CHECK(err.message.rfind("column 'p': expected an object", 0) == 0);
    // The next record decodes cleanly (no path left over from the failure).
    REQUIRE(decoder.decode(R"({"p":{"id":1}})", row, arena, &err));
    CHECK_FALSE(decoder.decode(R"({"p":{"id":"x"}})", row, arena, &err));
    CHECK(err.message.rfind("column 'p.id': ", 0) == 0);
  }
}

TEST_CASE("nested: values go through the state codec; damaged ones are refused",
          "[nested][state]") {
  Arena arena;
  std::vector<Value> items = {Value::bigint(1), Value::string("two")};
  Value v = Value::nested(TypeId::kStruct, nested::build(items, arena));
  std::string bytes;
  exec::StateWriter w(bytes);
  w.value(v);
  w.value(Value::make_null(TypeId::kArray));
  exec::StateReader r(bytes, "test");
  Value back = r.value(arena);
  CHECK(back.type == TypeId::kStruct);
  CHECK(back.str() == v.str());
  CHECK(r.value(arena).null);

  std::string damaged;
  exec::StateWriter d(damaged);
  d.value(Value::nested(TypeId::kArray, std::string_view("\x09\0\0", 3)));
  exec::StateReader dr(damaged, "test");
  CHECK_THROWS_WITH(dr.value(arena), Catch::Contains("a damaged nested value"));
}

TEST_CASE("nested: one JSON encoder writes nested rows from many threads at once",
          "[nested][json]") {
  // Pipelines share their sink's encoder; it keeps no scratch of its own.
  DataType t = parse("STRUCT<id BIGINT, tags ARRAY<STRING>>");
  std::vector<format::Column> schema = {{"p", t}};
  format::JsonDecoder decoder(schema);
  const format::JsonEncoder encoder(schema);
  Arena arena;
  RecordError err;
  std::vector<Value> rows(2);
  REQUIRE(decoder.decode(R"({"p":{"id":1,"tags":["a","bb"]}})", &rows[0], arena, &err));
  REQUIRE(decoder.decode(R"({"p":{"id":22,"tags":["ccc"]}})", &rows[1], arena, &err));
  const std::string want[2] = {R"({"p":{"id":1,"tags":["a","bb"]}})",
                               R"({"p":{"id":22,"tags":["ccc"]}})"};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      std::string out;
      for (int i = 0; i < 20000; ++i) {
        out.clear();
        encoder.encode(&rows[static_cast<size_t>((i + k) % 2)], out);
        if (out != want[(i + k) % 2]) ++wrong;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  CHECK(wrong == 0);
}

TEST_CASE("nested: a record whose layout would pass 16 MiB is a DECODE rejection",
          "[nested][json]") {
  // `{}` is 3 bytes of input but 829 bytes laid out for a STRUCT of 200 BIGINTs.
  std::string fields;
  for (int i = 0; i < 200; ++i) {
    std::string f = "f";
    f += std::to_string(i);
    fields += (i ? ", " : "") + f + " BIGINT";
  }
  std::vector<format::Column> schema = {{"a", parse("ARRAY<STRUCT<" + fields + ">>")}};
  format::JsonDecoder decoder(schema);
  std::string json = R"({"a":[)";
  for (int i = 0; i < 30000; ++i)
    json += "{},";
  json += R"({"f0":7}]})";
  Arena arena;
  RecordError err;
  Value row[1];
  CHECK_FALSE(decoder.decode(json, row, arena, &err));
  CHECK(err.code == ErrorCode::kDecode);
  CHECK(err.message == "column 'a': a nested value over 16 MiB once laid out");
  CHECK(arena.bytes_reserved() < (size_t{64} << 20));  // stopped early: 30,000 elements take 25 MB

  // Below the limit the same shape decodes, and its last element is there.
  json = R"({"a":[)";
  for (int i = 0; i < 1000; ++i)
    json += "{},";
  json += R"({"f0":7}]})";
  Arena small;
  REQUIRE(decoder.decode(json, row, small, &err));
  nested::View view;
  REQUIRE(nested::View::open(row[0].str(), &view));
  CHECK(view.size() == 1001);
}

TEST_CASE("nested: MAP entries are kept once, sorted by key, and found by key", "[nested]") {
  for (int keys : {3, 16, 17, 500}) {
    INFO(keys);
    Arena arena;
    nested::MapBuilder map;
    map.clear();
    std::vector<std::string> names;
    for (int i = keys - 1; i >= 0; --i) {
      std::string n = "k";
      n += std::to_string(i);
      names.push_back(n);
    }
    for (const auto& n : names)
      map.put(Value::string(n), Value::bigint(1));
    map.put(Value::string("k1"), Value::bigint(-1));  // repeated: the last value wins
    std::string_view layout = nested::build(map.sorted(), arena);
    nested::View view;
    REQUIRE(nested::View::open(layout, &view));
    REQUIRE(view.size() == 2u * static_cast<uint32_t>(keys));
    for (uint32_t i = 2; i < view.size(); i += 2)
      CHECK(view.raw(i - 2) < view.raw(i));
    for (const auto& n : names) {
      int64_t at = nested::find_key(view, n);
      REQUIRE(at > 0);
      CHECK(view.get(static_cast<uint32_t>(at), DataType::bigint()).i == (n == "k1" ? -1 : 1));
    }
    CHECK(nested::find_key(view, "nope") == -1);
    CHECK(nested::find_key(view, "") == -1);
  }
}

TEST_CASE("nested: CAST to STRING stops at 16 MiB of JSON text", "[nested]") {
  // One field with a 200-character name: 9 bytes laid out per element, 212 of JSON text.
  std::string name(200, 'f');
  DataType element = parse("STRUCT<" + name + " BOOLEAN>");
  DataType array = DataType::array(element);
  Arena arena;
  std::vector<Value> none = {Value::make_null(TypeId::kBoolean)};
  Value empty = Value::nested(TypeId::kStruct, nested::build(none, arena));
  for (auto [n, fits] : {std::pair{1000, true}, std::pair{100000, false}}) {
    INFO(n);
    std::vector<Value> items(static_cast<size_t>(n), empty);
    Value v = Value::nested(TypeId::kArray, nested::build(items, arena));
    REQUIRE(v.str().size() <= nested::kMaxBytes);
    exec::ExpressionPtr text = exec::make_json_text(exec::make_constant(v, array));
    exec::EvalContext ctx;
    ctx.arena = &arena;
    Value out = text->eval(nullptr, ctx);
    CHECK(ctx.failed == !fits);
    if (fits) {
      CHECK(out.str().size() == 2 + 1000 * (name.size() + 10) - 1);  // [{"f...":null},...]
    } else {
      CHECK(ctx.error.message == "CAST: result too large");
    }
  }
}
