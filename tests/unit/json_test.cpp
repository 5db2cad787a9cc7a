#include "format/json.hpp"

#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <string>
#include <vector>

using sluice::Arena;
using sluice::ErrorCode;
using sluice::RecordError;
using sluice::format::Column;
using sluice::format::JsonDecoder;
using sluice::format::JsonEncoder;
using sluice::format::TimestampInput;
using sluice::format::TimestampOutput;
using sluice::types::DataType;
using sluice::types::TypeId;
using sluice::types::Value;

namespace {

std::vector<Column> orders_schema() {
  return {{"id", DataType::bigint()},       {"price", DataType::decimal(18, 4)},
          {"quantity", DataType::bigint()}, {"name", DataType::string()},
          {"ts", DataType::timestamp()},    {"ok", DataType::boolean()},
          {"score", DataType::float64()},   {"dur", DataType::interval()}};
}

// Decodes `json` with `decoder`; returns the row as text per column ("NULL" for nulls).
struct Decoded {
  bool ok;
  std::vector<Value> row;
  RecordError err;
  std::string text(size_t i) const { return sluice::types::to_text(row[i]); }
};

Decoded decode(JsonDecoder& decoder, std::string_view json, Arena& arena) {
  Decoded d{false, std::vector<Value>(decoder.schema().size()), {}};
  d.ok = decoder.decode(json, d.row.data(), arena, &d.err);
  return d;
}

// Expects a decode failure and returns its message.
std::string decode_error(JsonDecoder& decoder, std::string_view json) {
  Arena arena;
  Decoded d = decode(decoder, json, arena);
  INFO(std::string(json));
  CHECK_FALSE(d.ok);
  CHECK(d.err.code == ErrorCode::kDecode);
  return d.err.message;
}

std::string decode_error(const std::vector<Column>& schema, std::string_view json,
                         TimestampInput ts = TimestampInput::kAuto) {
  JsonDecoder decoder(schema, ts);
  return decode_error(decoder, json);
}

// One column decoded from `json_value` (e.g. "1.5" or "\"abc\""), as text.
std::string one(DataType type, std::string_view json_value,
                TimestampInput ts = TimestampInput::kAuto) {
  JsonDecoder decoder({{"c", type}}, ts);
  Arena arena;
  std::string json = "{\"c\":" + std::string(json_value) + "}";
  Decoded d = decode(decoder, json, arena);
  INFO(json << " -> " << d.err.message);
  REQUIRE(d.ok);
  return d.text(0);
}

}  // namespace

TEST_CASE("json decode: every type", "[json]") {
  JsonDecoder decoder(orders_schema());
  Arena arena;
  Decoded d = decode(decoder,
                     R"({"id": 7, "price": 123.4500, "quantity": -3, "name": "widget",
                         "ts": "2024-01-15T10:00:00Z", "ok": true, "score": 0.25, "dur": 1500})",
                     arena);
  INFO(d.err.message);
  REQUIRE(d.ok);
  CHECK(d.row[0].type == TypeId::kBigInt);
  CHECK(d.row[0].i == 7);
  CHECK(d.row[1].type == TypeId::kDecimal);
  CHECK(d.row[1].scale == 4);
  CHECK(d.text(1) == "123.4500");
  CHECK(d.row[2].i == -3);
  CHECK(d.text(3) == "widget");
  CHECK(d.row[4].type == TypeId::kTimestamp);
  CHECK(d.row[4].i == 1705312800000);
  CHECK(d.row[5].b);
  CHECK(d.row[6].d == 0.25);
  CHECK(d.row[7].type == TypeId::kInterval);
  CHECK(d.row[7].i == 1500);
}

TEST_CASE("json decode: value conversions per type", "[json]") {
  const DataType d184 = DataType::decimal(18, 4);
  CHECK(one(d184, "1.5") == "1.5000");
  CHECK(one(d184, "1.23456") == "1.2346");
  CHECK(one(d184, "-0.00005") == "-0.0001");
  CHECK(one(d184, "1.5e3") == "1500.0000");
  CHECK(one(d184, "\"42.5\"") == "42.5000");
  CHECK(one(d184, "\" 42.5 \"") == "42.5000");
  CHECK(one(d184, "12345678901234.5678") == "12345678901234.5678");
  CHECK(one(DataType::bigint(), "\"42\"") == "42");
  CHECK(one(DataType::bigint(), "1.0") == "1");
  CHECK(one(DataType::bigint(), "2e3") == "2000");
  CHECK(one(DataType::bigint(), "-9223372036854775808") == "-9223372036854775808");
  CHECK(one(DataType::float64(), "1") == "1");
  CHECK(one(DataType::float64(), "-1.5e-3") == "-0.0015");
  CHECK(one(DataType::float64(), "\"2.5\"") == "2.5");
  CHECK(one(DataType::float64(), "1e-400") == "0");
  CHECK(one(DataType::boolean(), "false") == "false");
  CHECK(one(DataType::boolean(), "\"true\"") == "true");
  CHECK(one(DataType::string(), "12.50") == "12.50");
  CHECK(one(DataType::string(), "true") == "true");
  CHECK(one(DataType::string(), R"({"a": [1, 2], "b": "}"} )") == R"({"a": [1, 2], "b": "}"})");
  CHECK(one(DataType::string(), "[1, {\"x\": null}]") == "[1, {\"x\": null}]");
  CHECK(one(DataType::string(), "\"\"") == "");
  CHECK(one(DataType::interval(), "\"250\"") == "250");
}

TEST_CASE("json decode: timestamps", "[json]") {
  const DataType t = DataType::timestamp();
  CHECK(one(t, "1705312800123") == "2024-01-15T10:00:00.123Z");
  CHECK(one(t, "\"2024-01-15T12:00:00.5+02:00\"") == "2024-01-15T10:00:00.500Z");
  CHECK(one(t, "\"1705312800123\"") == "2024-01-15T10:00:00.123Z");  // kAuto: digits = millis
  CHECK(one(t, "-1") == "1969-12-31T23:59:59.999Z");
  CHECK(one(t, "1.9") == "1970-01-01T00:00:00.001Z");  // below a millisecond is floored
  CHECK(one(t, "-0.5") == "1969-12-31T23:59:59.999Z");
  CHECK(one(t, "1705312800123", TimestampInput::kEpochMillis) == "2024-01-15T10:00:00.123Z");
  CHECK(one(t, "\"1705312800123\"", TimestampInput::kEpochMillis) == "2024-01-15T10:00:00.123Z");
  CHECK(one(t, "1705312800.1239", TimestampInput::kEpochSeconds) == "2024-01-15T10:00:00.123Z");
  CHECK(one(t, "1705312800", TimestampInput::kEpochSeconds) == "2024-01-15T10:00:00.000Z");
  CHECK(one(t, "\"2024-01-15 10:00:00\"", TimestampInput::kIso8601) == "2024-01-15T10:00:00.000Z");

  const std::vector<Column> schema = {{"ts", t}};
  CHECK(decode_error(schema, R"({"ts": "2024-02-30"})") ==
        "column 'ts': cannot parse \"2024-02-30\" as TIMESTAMP");
  CHECK(decode_error(schema, R"({"ts": 1705312800123})", TimestampInput::kIso8601) ==
        "column 'ts': expected an ISO-8601 string for TIMESTAMP, found number 1705312800123");
  CHECK(decode_error(schema, R"({"ts": "2024-01-15"})", TimestampInput::kEpochMillis) ==
        "column 'ts': expected epoch milliseconds for TIMESTAMP, found string \"2024-01-15\"");
  CHECK(decode_error(schema, R"({"ts": true})") ==
        "column 'ts': expected epoch milliseconds or an ISO-8601 string for TIMESTAMP, found "
        "true");
  CHECK(decode_error(schema, R"({"ts": 1e30})") ==
        "column 'ts': 1e30 is out of range for TIMESTAMP");
}

TEST_CASE("json decode: missing, extra and null fields", "[json]") {
  JsonDecoder decoder(orders_schema());
  Arena arena;
  Decoded d = decode(decoder,
                     R"({"extra": {"deep": [1, 2, {"x": "y"}]}, "price": null, "id": 1,
                         "other": "ignored", "more": [true, false]})",
                     arena);
  REQUIRE(d.ok);
  CHECK(d.row[0].i == 1);
  for (size_t i = 1; i < d.row.size(); ++i) {
    INFO(i);
    CHECK(d.row[i].is_null());
    CHECK(d.row[i].type == orders_schema()[i].type.id);  // typed NULLs
  }
  CHECK(d.row[1].scale == 4);
  // Reusing the decoder: a field present before but missing now is NULL again.
  d = decode(decoder, R"({"name": "x"})", arena);
  REQUIRE(d.ok);
  CHECK(d.row[0].is_null());
  CHECK(d.text(3) == "x");
  d = decode(decoder, "{}", arena);
  REQUIRE(d.ok);
  CHECK(d.row[3].is_null());
}

TEST_CASE("json decode: key matching", "[json]") {
  JsonDecoder decoder({{"Price", DataType::bigint()},
                       {"price", DataType::bigint()},
                       {"userId", DataType::bigint()}});
  Arena arena;
  Decoded d = decode(decoder, R"({"price": 2, "Price": 1, "USERID": 3})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "1");  // exact match beats case-insensitive
  CHECK(d.text(1) == "2");
  CHECK(d.text(2) == "3");
  d = decode(decoder, R"({"PRICE": 5})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "5");  // case-insensitive: the first such column
  CHECK(d.row[1].is_null());
  // Duplicate keys: the last occurrence wins, also when it is null.
  d = decode(decoder, R"({"userId": 1, "userId": 2})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(2) == "2");
  d = decode(decoder, R"({"userId": 1, "userId": null})", arena);
  REQUIRE(d.ok);
  CHECK(d.row[2].is_null());
  // Escaped keys are unescaped before matching.
  d = decode(decoder, R"({"user\u0049d": 9})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(2) == "9");
  // Many columns exercise the hash table beyond the order hint.
  std::vector<Column> wide;
  for (int i = 0; i < 100; ++i)
    wide.push_back({"col" + std::to_string(i), DataType::bigint()});
  JsonDecoder wide_decoder(wide);
  d = decode(wide_decoder, R"({"col99": 99, "COL0": 0, "col50": 50, "nope": 1})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(99) == "99");
  CHECK(d.text(0) == "0");
  CHECK(d.text(50) == "50");
  CHECK(d.row[1].is_null());
}

TEST_CASE("json decode: an exact key match wins over a case-insensitive one in any order",
          "[json]") {
  Arena arena;
  JsonDecoder decoder({{"id", DataType::bigint()}});
  for (const char* json : {R"({"id":2,"ID":1})", R"({"ID":1,"id":2})", R"({"Id":7,"id":2,"ID":1})",
                           R"({"id":2,"ID":"not a number"})", R"({"ID":[1],"id":2,"iD":{}})"}) {
    INFO(json);
    Decoded d = decode(decoder, json, arena);
    REQUIRE(d.ok);
    CHECK(d.text(0) == "2");
  }
  // An exact null also wins; repeated exact keys: the last one; only folded keys: the last one.
  Decoded d = decode(decoder, R"({"id":null,"ID":1})", arena);
  REQUIRE(d.ok);
  CHECK(d.row[0].is_null());
  d = decode(decoder, R"({"id":2,"ID":1,"id":3,"ID":4})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "3");
  d = decode(decoder, R"({"Id":1,"ID":4})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "4");
  // A bad value under a case-insensitive key is an error unless an exact key sets the column.
  d = decode(decoder, R"({"ID":"x","id":2})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "2");
  CHECK(decode_error(decoder, R"({"ID":"x"})") ==
        "column 'id': expected a number for BIGINT, found string \"x\"");
  CHECK(decode_error(decoder, R"({"ID":"x","Id":5})") ==
        "column 'id': expected a number for BIGINT, found string \"x\"");
  CHECK(decode_error(decoder, R"({"ID":"x","id":"y"})") ==
        "column 'id': expected a number for BIGINT, found string \"y\"");
  // Each record starts afresh: an exact key in one record does not mute a folded one in the next.
  d = decode(decoder, R"({"ID":5})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "5");

  // Through the order hint (the key after the last match) and the hash table of a wide schema.
  JsonDecoder pair({{"a", DataType::bigint()}, {"id", DataType::bigint()}});
  d = decode(pair, R"({"a":1,"id":2,"ID":1,"A":9})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(0) == "1");
  CHECK(d.text(1) == "2");
  std::vector<Column> wide;
  for (int i = 0; i < 100; ++i)
    wide.push_back({"col" + std::to_string(i), DataType::bigint()});
  JsonDecoder wide_decoder(wide);
  d = decode(wide_decoder, R"({"col70": 70, "COL70": 1, "COL80": 1, "col80": 80})", arena);
  REQUIRE(d.ok);
  CHECK(d.text(70) == "70");
  CHECK(d.text(80) == "80");
}

TEST_CASE("json decode: strings, escapes and unicode", "[json]") {
  const DataType s = DataType::string();
  CHECK(one(s, R"("a\"b\\c\/d\n\t")") == "a\"b\\c/d\n\t");
  CHECK(one(s, R"("\u00e9\u4e2d")") == "\xc3\xa9\xe4\xb8\xad");
  CHECK(one(s, R"("\ud83d\ude00")") == "\xf0\x9f\x98\x80");  // surrogate pair
  CHECK(one(s, "\"h\xc3\xa9llo\"") == "h\xc3\xa9llo");
  // Strings are copied into the arena: they survive the next decode.
  JsonDecoder decoder({{"name", s}});
  Arena arena;
  Decoded first = decode(decoder, R"({"name": "first"})", arena);
  Decoded second = decode(decoder, R"({"name": "second value"})", arena);
  REQUIRE(first.ok);
  REQUIRE(second.ok);
  CHECK(first.text(0) == "first");
  CHECK(second.text(0) == "second value");
}

TEST_CASE("json decode: precise error messages", "[json]") {
  const auto schema = orders_schema();
  CHECK(decode_error(schema, "[1, 2]") == "not a JSON object");
  CHECK(decode_error(schema, "42") == "not a JSON object");
  CHECK(decode_error(schema, "\"str\"") == "not a JSON object");
  CHECK(decode_error(schema, R"({"price": "abc"})") ==
        "column 'price': expected a number for DECIMAL(18,4), found string \"abc\"");
  CHECK(decode_error(schema, R"({"quantity": 1.5})") == "column 'quantity': 1.5 is not an integer");
  CHECK(decode_error(schema, R"({"quantity": "1.5"})") ==
        "column 'quantity': \"1.5\" is not an integer");
  CHECK(decode_error({{"price", DataType::decimal(5, 2)}}, R"({"price": 123456.789})") ==
        "column 'price': 123456.789 does not fit DECIMAL(5,2)");
  CHECK(decode_error(schema, R"({"quantity": 99999999999999999999})") ==
        "column 'quantity': 99999999999999999999 does not fit BIGINT");
  CHECK(decode_error(schema, R"({"quantity": [1]})") ==
        "column 'quantity': expected a number for BIGINT, found array");
  CHECK(decode_error(schema, R"({"price": {"v": 1}})") ==
        "column 'price': expected a number for DECIMAL(18,4), found object");
  CHECK(decode_error(schema, R"({"ok": 1})") ==
        "column 'ok': expected true or false for BOOLEAN, found number 1");
  CHECK(decode_error(schema, R"({"ok": "yes"})") ==
        "column 'ok': expected true or false for BOOLEAN, found string \"yes\"");
  CHECK(decode_error(schema, R"({"score": "high"})") ==
        "column 'score': expected a number for DOUBLE, found string \"high\"");
  CHECK(decode_error(schema, R"({"score": 1e999})") == "column 'score': 1e999 does not fit DOUBLE");
  CHECK(decode_error(schema, R"({"name": 01})") == "column 'name': invalid JSON number 01");
  CHECK(decode_error(schema, R"({"price": 1.2.3})") == "column 'price': invalid JSON number 1.2.3");
  CHECK(decode_error(schema, R"({"ok": tru})") == "column 'ok': invalid JSON value tru");
  CHECK(decode_error(schema, R"({"id": nul})") == "column 'id': invalid JSON value nul");
  CHECK(decode_error(schema, R"({"name": [1, 2}})") == "column 'name': invalid nested JSON [1, 2}");
  std::string long_value(300, 'x');
  std::string message = decode_error(schema, R"({"price": ")" + long_value + "\"}");
  CHECK(message.size() < 150);  // long values are clipped in messages
  CHECK(decode_error(schema, R"({"id": 1} {"id": 2})") ==
        "invalid JSON: unexpected content after the object");
  CHECK(decode_error(schema, R"({"id": 1}})") ==
        "invalid JSON: unexpected content after the object");
}

TEST_CASE("json decode: malformed input never crashes", "[json]") {
  JsonDecoder decoder(orders_schema());
  const std::string_view bad_inputs[] = {"",
                                         "   ",
                                         "{",
                                         "}",
                                         "{\"id\"",
                                         "{\"id\":",
                                         "{\"id\":1",
                                         "{\"id\":1,}",
                                         "{\"id\" 1}",
                                         "{id: 1}",
                                         "{\"id\":1 \"price\":2}",
                                         "{\"name\":\"unterminated}",
                                         "{\"a\":[1,2,3",
                                         "{\"name\":\"\\x\"}",
                                         "{\"name\":\"\\u12\"}",
                                         "{\"name\":\"\\ud800\"}",
                                         "nul",
                                         "{,}",
                                         "{\"id\":-}",
                                         std::string_view("\x00\x01\x02", 3),
                                         "{\"name\":\"\xff\xfe\"}",
                                         std::string_view("{\"id\":1}\x00", 9),
                                         std::string_view("{\"name\":\"a\x00\"}", 12)};
  for (std::string_view bad : bad_inputs) {
    std::string message = decode_error(decoder, bad);
    CHECK_FALSE(message.empty());
  }
  // Binary of every byte, deep nesting, huge numbers: errors or values, never crashes.
  Arena arena;
  std::string deep = "{\"name\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  decode(decoder, deep, arena);
  std::string deep_skipped = "{\"x\":" + std::string(100000, '[') + "}";
  decode(decoder, deep_skipped, arena);
  std::string huge = "{\"price\":" + std::string(5000, '9') +
                     ",\"score\":" + std::string(5000, '9') + ",\"id\":" + std::string(5000, '9') +
                     "}";
  CHECK_FALSE(decode(decoder, huge, arena).ok);
  std::mt19937 rng(42);
  const std::string valid =
      R"({"id": 7, "price": 123.4500, "quantity": -3, "name": "wi\"dget", "ts": 5, "ok": true})";
  for (int i = 0; i < 20000; ++i) {
    std::string input = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          input.erase(pos, 1 + rng() % 8);
          break;
        default:
          input.insert(pos, 1, "{}[]\",:\\0e-"[rng() % 11]);
          break;
      }
      if (input.empty()) input.push_back('{');
    }
    decode(decoder, input, arena);
    arena.reset();
  }
}

TEST_CASE("json encode: exact text", "[json]") {
  JsonEncoder encoder({{"id", DataType::bigint()},
                       {"price", DataType::decimal(18, 4)},
                       {"na\"me", DataType::string()},
                       {"ts", DataType::timestamp()},
                       {"ok", DataType::boolean()},
                       {"score", DataType::float64()},
                       {"dur", DataType::interval()},
                       {"missing", DataType::string()}});
  Value row[] = {Value::bigint(-7),
                 Value::decimal(1234500, 4),
                 Value::string("a\"b\\c\n\x01\x1f/\xc3\xa9"),
                 Value::timestamp(1705312800123),
                 Value::boolean(false),
                 Value::float64(0.1),
                 Value::interval(1500),
                 Value::make_null(TypeId::kString)};
  std::string out;
  encoder.encode(row, out);
  CHECK(out ==
        R"({"id":-7,"price":123.4500,"na\"me":"a\"b\\c\n\u0001\u001f/)"
        "\xc3\xa9"
        R"(","ts":"2024-01-15T10:00:00.123Z","ok":false,"score":0.1,"dur":1500,"missing":null})");
  // Appends; DOUBLE non-finite -> null; epoch millis output.
  JsonEncoder millis({{"ts", DataType::timestamp()}, {"d", DataType::float64()}},
                     TimestampOutput::kEpochMillis);
  Value row2[] = {Value::timestamp(-1), Value::float64(std::numeric_limits<double>::infinity())};
  millis.encode(row2, out);
  CHECK(out.starts_with(R"({"id":-7,)"));
  CHECK(out.ends_with(R"(,"missing":null}{"ts":-1,"d":null})"));
  JsonEncoder none({});
  std::string empty;
  none.encode(nullptr, empty);
  CHECK(empty == "{}");
}

TEST_CASE("json encode: append_json_string", "[json]") {
  auto quoted = [](std::string_view s) {
    std::string out;
    sluice::format::append_json_string(s, out);
    return out;
  };
  CHECK(quoted("") == "\"\"");
  CHECK(quoted("plain") == "\"plain\"");
  CHECK(quoted("\b\f\r\t") == R"("\b\f\r\t")");
  CHECK(quoted(std::string_view("\0x", 2)) == R"("\u0000x")");
  CHECK(quoted("\x7f") == "\"\x7f\"");
  CHECK(quoted("\xe4\xb8\xad\xf0\x9f\x98\x80") ==
        "\"\xe4\xb8\xad\xf0\x9f\x98\x80\"");  // valid UTF-8
  CHECK(quoted("a\xff"
               "b") == R"("a\ufffdb")");                       // invalid byte
  CHECK(quoted("\xc3") == R"("\ufffd")");                      // truncated sequence
  CHECK(quoted("\xc0\xaf") == R"("\ufffd\ufffd")");            // overlong
  CHECK(quoted("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // surrogate
}

TEST_CASE("json: decode -> encode round trip keeps exact decimals", "[json]") {
  std::vector<Column> schema = {{"id", DataType::bigint()},
                                {"price", DataType::decimal(18, 4)},
                                {"name", DataType::string()},
                                {"ts", DataType::timestamp()}};
  JsonDecoder decoder(schema);
  JsonEncoder encoder(schema);
  Arena arena;
  std::vector<Value> row(schema.size());
  RecordError err;
  REQUIRE(decoder.decode(
      R"({"ts":"2024-01-15T10:00:00.123Z","name":"caf\u00e9 \"x\"","price":123.4500,"id":42})",
      row.data(), arena, &err));
  std::string out;
  encoder.encode(row.data(), out);
  CHECK(
      out ==
      "{\"id\":42,\"price\":123.4500,\"name\":\"caf\xc3\xa9 \\\"x\\\"\",\"ts\":\"2024-01-15T10:00:"
      "00.123Z\"}");
  // And the encoded text decodes to the same row.
  std::vector<Value> again(schema.size());
  REQUIRE(decoder.decode(out, again.data(), arena, &err));
  for (size_t i = 0; i < schema.size(); ++i)
    CHECK(sluice::types::group_equal(row[i], again[i]));
}

TEST_CASE("json: a timestamp beyond year 9999 or before year 1 is read back as written", "[json]") {
  std::vector<Column> schema = {{"ts", DataType::timestamp()}};
  JsonDecoder decoder(schema);
  JsonEncoder encoder(schema);
  for (const char* in : {R"({"ts":"1700999999999999991"})", R"({"ts":-62135596800001})",
                         R"({"ts":-9223372036854775808})"}) {
    INFO(in);
    Arena arena;
    std::vector<Value> row(1), again(1);
    RecordError err;
    REQUIRE(decoder.decode(in, row.data(), arena, &err));
    std::string out;
    encoder.encode(row.data(), out);
    INFO(out);
    REQUIRE(decoder.decode(out, again.data(), arena, &err));
    CHECK(again[0].i == row[0].i);
  }
}
