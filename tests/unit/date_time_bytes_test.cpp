// DATE, TIME and BYTES below SQL: their text forms, base64 and hex, JSON decode/encode round trips
// and the comparisons and hashes grouping relies on.

#include "common/arena.hpp"
#include "format/json.hpp"
#include "types/bytes_text.hpp"
#include "types/time.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using namespace sluice;
using types::DataType;
using types::Value;

TEST_CASE("base64 and hex round-trip every byte string and refuse malformed text", "[types]") {
  std::mt19937_64 rng(7);
  for (size_t n = 0; n < 70; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng() % 256);
    std::string text, back;
    types::append_base64(bytes, text);
    CHECK(text.size() == types::base64_size(n));
    REQUIRE(types::decode_base64(text, back));
    CHECK(back == bytes);
    // Without its padding too.
    while (!text.empty() && text.back() == '=')
      text.pop_back();
    REQUIRE(types::decode_base64(text, back));
    CHECK(back == bytes);
    std::string hex;
    types::append_hex(bytes, hex);
    REQUIRE(types::decode_hex(hex, back));
    CHECK(back == bytes);
  }
  std::string out;
  CHECK(types::decode_base64("aGk=", out));
  CHECK(out == "hi");
  for (const char* bad : {"a", "aGk==", "aG=k", "aGl=", "a b=", "aGk*", "====", "aGk=aGk="}) {
    INFO(bad);
    CHECK_FALSE(types::decode_base64(bad, out));
  }
  CHECK(types::decode_hex("00FFaB", out));
  CHECK(out == std::string("\x00\xff\xab", 3));
  CHECK_FALSE(types::decode_hex("abc", out));
  CHECK_FALSE(types::decode_hex("0g", out));
}

TEST_CASE("DATE and TIME text: parse, format, range", "[types]") {
  int64_t days = 0, ms = 0;
  CHECK(types::time::parse_date("1970-01-01", &days));
  CHECK(days == 0);
  CHECK(types::time::parse_date("2024-02-29", &days));
  CHECK(days == 19782);
  CHECK(types::time::parse_date("-0001-12-31", &days));
  CHECK(types::time::parse_date("+10000-01-01", &days));
  CHECK_FALSE(types::time::parse_date("2023-02-29", &days));
  CHECK_FALSE(types::time::parse_date("2024-01-15 ", &days));
  CHECK_FALSE(types::time::parse_date("999999999-01-01", &days));  // beyond TIMESTAMP's days
  CHECK(types::time::parse_time("00:00", &ms));
  CHECK(ms == 0);
  CHECK(types::time::parse_time("23:59:59.9999", &ms));
  CHECK(ms == 86'399'999);
  CHECK_FALSE(types::time::parse_time("24:00", &ms));
  CHECK_FALSE(types::time::parse_time("12:00Z", &ms));
  // Every day in the range formats to text that parses back to it.
  for (int64_t d : {int64_t{0}, int64_t{-1}, int64_t{19782}, int64_t{-719'528}, int64_t{2'932'897},
                    types::time::kMaxDateDays, -types::time::kMaxDateDays}) {
    char buf[16];
    std::string text(buf, types::time::format_date(d, buf));
    INFO(text);
    REQUIRE(types::time::parse_date(text, &days));
    CHECK(days == d);
    // And DATE -> TIMESTAMP stays in range: its midnight's day is the date.
    CHECK(types::time::day_of(d * types::time::kMsPerDay) == d);
  }
  char buf[16];
  CHECK(std::string(buf, types::time::format_time(3'723'004, buf)) == "01:02:03.004");
}

TEST_CASE("DATE, TIME and BYTES compare and hash by value", "[types]") {
  CHECK(types::compare(Value::date(1), Value::date(2)) < 0);
  CHECK(types::compare(Value::time(5), Value::time(5)) == 0);
  // Bytes compare unsigned, shorter first on a common prefix.
  CHECK(types::compare(Value::bytes("\x01"), Value::bytes("\xff")) < 0);
  CHECK(types::compare(Value::bytes("ab"), Value::bytes("abc")) < 0);
  std::string a("x\0y", 3), b("x\0y", 3);
  Value va = Value::bytes(std::string_view(a.data(), 3)),
        vb = Value::bytes(std::string_view(b.data(), 3));
  CHECK(types::group_equal(va, vb));
  CHECK(types::hash(va) == types::hash(vb));
  // A DATE and a BIGINT of the same number are different keys.
  CHECK_FALSE(types::group_equal(Value::date(3), Value::bigint(3)));
}

TEST_CASE("JSON round trip of DATE, TIME and BYTES in both sink timestamp formats", "[json]") {
  std::vector<format::Column> cols = {
      {"d", DataType::date()}, {"t", DataType::time()}, {"b", DataType::bytes()}};
  for (auto out_format :
       {format::TimestampOutput::kIso8601, format::TimestampOutput::kEpochMillis}) {
    format::JsonDecoder decoder(cols);
    format::JsonEncoder encoder(cols, out_format);
    Arena arena;
    std::vector<Value> row(3), again(3);
    RecordError err;
    REQUIRE(
        decoder.decode(R"({"d":"1969-07-20","t":"20:17:40","b":"AP8A"})", row.data(), arena, &err));
    std::string json;
    encoder.encode(row.data(), json);
    INFO(json);
    CHECK(json == (out_format == format::TimestampOutput::kIso8601
                       ? R"({"d":"1969-07-20","t":"20:17:40.000","b":"AP8A"})"
                       : R"({"d":-165,"t":73060000,"b":"AP8A"})"));
    REQUIRE(decoder.decode(json, again.data(), arena, &err));
    for (size_t i = 0; i < 3; ++i)
      CHECK(types::group_equal(row[i], again[i]));
  }
}
