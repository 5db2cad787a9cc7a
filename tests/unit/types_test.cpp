#include "types/data_type.hpp"
#include "types/number_text.hpp"
#include "types/time.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "test_text.hpp"

using sluice::Arena;
using sluice::ErrorCode;
using sluice::RecordError;
using sluice::types::DataType;
using sluice::types::TypeId;
using sluice::types::Value;
namespace types = sluice::types;
namespace stime = sluice::types::time;

namespace {

using sluice::test::type_error;
using sluice::test::type_of;

int64_t ts(std::string_view text) {
  int64_t ms = 0;
  INFO(std::string(text));
  REQUIRE(stime::parse_timestamp(text, &ms));
  return ms;
}

}  // namespace

TEST_CASE("data_type: names", "[types]") {
  CHECK(DataType::boolean().to_string() == "BOOLEAN");
  CHECK(DataType::bigint().to_string() == "BIGINT");
  CHECK(DataType::float64().to_string() == "DOUBLE");
  CHECK(DataType::decimal(18, 4).to_string() == "DECIMAL(18,4)");
  CHECK(DataType::string().to_string() == "STRING");
  CHECK(DataType::timestamp().to_string() == "TIMESTAMP");
  CHECK(DataType::interval().to_string() == "INTERVAL");
  CHECK(DataType::null().to_string() == "NULL");
}

TEST_CASE("data_type: parse_type_name", "[types]") {
  CHECK(type_of("BOOLEAN") == DataType::boolean());
  CHECK(type_of("bool") == DataType::boolean());
  for (auto name : {"BIGINT", "int", "Integer", "SMALLINT", "tinyint", "LONG"})
    CHECK(type_of(name) == DataType::bigint());
  for (auto name : {"DOUBLE", "float", "REAL", "double precision"})
    CHECK(type_of(name) == DataType::float64());
  CHECK(type_of("DECIMAL(18,4)") == DataType::decimal(18, 4));
  CHECK(type_of(" numeric ( 10 , 2 ) ") == DataType::decimal(10, 2));
  CHECK(type_of("decimal(5)") == DataType::decimal(5, 0));
  CHECK(type_of("DECIMAL") == DataType::decimal(18, 0));
  CHECK(type_of("DECIMAL(38,38)") == DataType::decimal(38, 38));
  for (auto name : {"STRING", "varchar", "VARCHAR(255)", "text", "CHAR(1)"})
    CHECK(type_of(name) == DataType::string());
  CHECK(type_of("timestamp") == DataType::timestamp());
  CHECK(type_of("TIMESTAMP(3)") == DataType::timestamp());
  CHECK(type_of("INTERVAL") == DataType::interval());

  CHECK(type_error("DECIMAL(0,0)") == "DECIMAL precision must be between 1 and 38, got 0");
  CHECK(type_error("DECIMAL(39,2)") == "DECIMAL precision must be between 1 and 38, got 39");
  CHECK(type_error("DECIMAL(4,5)") == "DECIMAL scale 5 exceeds precision 4");
  CHECK(type_error("FOO") == "unknown type 'FOO'");
  CHECK(type_error("") == "expected a type name, got ''");
  CHECK(type_error("DECIMAL(18,4") == "expected ')' after DECIMAL arguments");
  CHECK(type_error("DECIMAL(x)") == "expected a number after 'DECIMAL('");
  CHECK(type_error("BIGINT(3)") == "type BIGINT does not take an argument");
  CHECK(type_error("VARCHAR(1,2)") == "type VARCHAR does not take arguments");
  CHECK(type_error("BIGINT x") == "unexpected text in type 'BIGINT x'");
  CHECK(type_error("TIMESTAMP(12)") == "TIMESTAMP precision must be between 0 and 9, got 12");
  CHECK_FALSE(types::parse_type_name("DECIMAL(99999999999999999999,1)").has_value());
}

TEST_CASE("data_type: common_super_type", "[types]") {
  using types::common_super_type;
  CHECK(common_super_type(DataType::bigint(), DataType::bigint()) == DataType::bigint());
  CHECK(common_super_type(DataType::null(), DataType::string()) == DataType::string());
  CHECK(common_super_type(DataType::timestamp(), DataType::null()) == DataType::timestamp());
  CHECK(common_super_type(DataType::null(), DataType::null()) == DataType::null());
  CHECK(common_super_type(DataType::decimal(10, 2), DataType::decimal(8, 4)) ==
        DataType::decimal(12, 4));
  CHECK(common_super_type(DataType::decimal(38, 0), DataType::decimal(38, 10)) ==
        DataType::decimal(38, 10));
  CHECK(common_super_type(DataType::bigint(), DataType::decimal(18, 4)) ==
        DataType::decimal(23, 4));
  CHECK(common_super_type(DataType::decimal(5, 2), DataType::bigint()) == DataType::decimal(21, 2));
  CHECK(common_super_type(DataType::bigint(), DataType::float64()) == DataType::float64());
  CHECK(common_super_type(DataType::decimal(5, 2), DataType::float64()) == DataType::float64());
  CHECK_FALSE(common_super_type(DataType::string(), DataType::bigint()));
  CHECK_FALSE(common_super_type(DataType::boolean(), DataType::bigint()));
  CHECK_FALSE(common_super_type(DataType::timestamp(), DataType::interval()));
  CHECK_FALSE(common_super_type(DataType::timestamp(), DataType::bigint()));
}

TEST_CASE("time: known epoch values", "[types][time]") {
  CHECK(ts("1970-01-01T00:00:00Z") == 0);
  CHECK(ts("2024-01-15T10:00:00Z") == 1705312800000);
  CHECK(ts("2024-01-15T10:00:00.123+02:00") == 1705305600123);
  CHECK(ts("2000-02-29 12:30:45.5") == 951827445500);
  CHECK(ts("1969-12-31T23:59:59.999Z") == -1);
  CHECK(ts("1900-01-01") == -2208988800000);
  CHECK(ts("0001-01-01") == -62135596800000);
  CHECK(ts("9999-12-31T23:59:59.999") == 253402300799999);
  CHECK(ts("1600-03-01") == -11670912000000);
  CHECK(ts("2024-02-29") == 1709164800000);
}

TEST_CASE("time: accepted forms", "[types][time]") {
  const int64_t t = 1705312800000;
  CHECK(ts("2024-01-15T10:00:00") == t);
  CHECK(ts("2024-01-15 10:00:00") == t);
  CHECK(ts("2024-01-15t10:00:00z") == t);
  CHECK(ts("2024-01-15T10:00") == t);
  CHECK(ts("2024-01-15T10:00:00.000000000Z") == t);
  CHECK(ts("2024-01-15T10:00:00.5") == t + 500);
  CHECK(ts("2024-01-15T10:00:00.12") == t + 120);
  CHECK(ts("2024-01-15T10:00:00.123456789Z") == t + 123);  // truncated to ms
  CHECK(ts("2024-01-15T10:00:00,250Z") == t + 250);
  CHECK(ts("2024-01-15T12:00:00+02:00") == t);
  CHECK(ts("2024-01-15T12:00:00+0200") == t);
  CHECK(ts("2024-01-15T12:00:00+02") == t);
  CHECK(ts("2024-01-15T04:30:00-05:30") == t);
  CHECK(ts("2024-01-15T10:00:00-00:00") == t);
  CHECK(ts("2024-01-15") == t - 10 * 3600 * 1000);
}

TEST_CASE("time: rejects", "[types][time]") {
  int64_t ms = 0;
  for (const char* bad : {"",
                          "2024",
                          "2024-01",
                          "2024-02-30",
                          "2023-02-29",
                          "1900-02-29",
                          "2024-13-01",
                          "2024-00-10",
                          "2024-01-00",
                          "24-01-15",
                          "2024-1-15",
                          "2024-01-15T",
                          "2024-01-15T10",
                          "2024-01-15T24:00:00",
                          "2024-01-15T10:60:00",
                          "2024-01-15T10:00:60",
                          "2024-01-15T10:00:00.",
                          "2024-01-15T10:00:00.1234567890",
                          "2024-01-15T10:00:00Zx",
                          "2024-01-15T10:00:00+2:00",
                          "2024-01-15T10:00:00+24:00",
                          "2024-01-15T10:00:00+02:60",
                          "2024-01-15X10:00:00",
                          " 2024-01-15",
                          "2024-01-15 ",
                          "abc",
                          "2024-01-15T10:00:00 Z",
                          "2024/01/15",
                          "2024-01-15T10:00:00+02:0"}) {
    INFO(bad);
    CHECK_FALSE(stime::parse_timestamp(bad, &ms));
  }
}

TEST_CASE("time: format and civil fields", "[types][time]") {
  CHECK(stime::timestamp_to_string(0) == "1970-01-01T00:00:00.000Z");
  CHECK(stime::timestamp_to_string(1705305600123) == "2024-01-15T08:00:00.123Z");
  CHECK(stime::timestamp_to_string(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(stime::timestamp_to_string(-62135596800000) == "0001-01-01T00:00:00.000Z");
  CHECK(stime::timestamp_to_string(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(stime::timestamp_to_string(253402300800000) == "10000-01-01T00:00:00.000Z");
  CHECK(stime::timestamp_to_string(-62135596800001) == "0000-12-31T23:59:59.999Z");
  // Extreme values format without overflow.
  CHECK(stime::timestamp_to_string(std::numeric_limits<int64_t>::min()).size() <= 32);
  CHECK(stime::timestamp_to_string(std::numeric_limits<int64_t>::max()).size() <= 32);

  auto leap = stime::to_civil(1709164800000);  // 2024-02-29, a Thursday
  CHECK(leap.year == 2024);
  CHECK(leap.month == 2);
  CHECK(leap.day == 29);
  CHECK(leap.day_of_week == 4);
  CHECK(leap.day_of_year == 60);
  auto moon = stime::to_civil(-14182940000);  // 1969-07-20T20:17:40Z, a Sunday
  CHECK(moon.year == 1969);
  CHECK(moon.month == 7);
  CHECK(moon.day == 20);
  CHECK(moon.hour == 20);
  CHECK(moon.minute == 17);
  CHECK(moon.second == 40);
  CHECK(moon.millisecond == 0);
  CHECK(moon.day_of_week == 7);
  CHECK(moon.day_of_year == 201);
  CHECK(stime::to_civil(1735603200000).day_of_year == 366);

  CHECK(stime::from_civil(2024, 1, 15, 10, 0, 0, 0) == 1705312800000);
  CHECK(stime::from_civil(2023, 13, 15, 10, 0, 0, 0) == 1705312800000);  // month carries over
  CHECK(stime::from_civil(2024, 2, 0, 0, 0, 0, 0) == stime::from_civil(2024, 1, 31, 0, 0, 0, 0));
  CHECK(stime::from_civil(std::numeric_limits<int64_t>::max(), 1, 1, 0, 0, 0, 0) ==
        std::numeric_limits<int64_t>::max());
  // Every day in 1899..2101 round-trips through to_civil / from_civil / format / parse.
  for (int64_t day = -25567; day <= 48213; day += 7) {
    int64_t ms = day * 86400000 + 12345678;
    auto c = stime::to_civil(ms);
    REQUIRE(stime::from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second, c.millisecond) ==
            ms);
    int64_t back = 0;
    REQUIRE(stime::parse_timestamp(stime::timestamp_to_string(ms), &back));
    REQUIRE(back == ms);
  }
}

TEST_CASE("time: every timestamp reads back as written, years past 9999 and before 1 too",
          "[types][time]") {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t ms : {kMin, kMin + 1, int64_t{-62135596800001}, int64_t{-62167219200000},
                     int64_t{-62167219200001}, int64_t{253402300800000},
                     int64_t{1700999999999999991}, kMax - 1, kMax}) {
    std::string text = stime::timestamp_to_string(ms);
    INFO(ms << " " << text);
    int64_t back = 0;
    REQUIRE(stime::parse_timestamp(text, &back));
    CHECK(back == ms);
  }
  int64_t ms = 0;
  CHECK(stime::parse_timestamp("0000-01-01T00:00:00Z", &ms));
  CHECK(ms == -62167219200000);
  CHECK(stime::parse_timestamp("-0001-12-31", &ms));
  CHECK(ms == -62167219200000 - 86400000);
  // ISO 8601's expanded years, as Java and JavaScript write them.
  CHECK(stime::parse_timestamp("+10000-01-01T00:00:00.000Z", &ms));
  CHECK(ms == 253402300800000);
  CHECK(stime::parse_timestamp("+275760-09-13T00:00:00.000Z", &ms));
  CHECK(ms == 8640000000000000);
  for (const char* bad : {"202-01-15", "02024-01-15", "+2024-1-15", "--2024-01-15", "+-2024-01-15",
                          "1234567890-01-01", "+292278995-01-01", "-292275056-01-01",
                          "+292278994-08-17T07:12:55.808Z", "-292275055-05-16T16:47:04.191Z"}) {
    INFO(bad);
    CHECK_FALSE(stime::parse_timestamp(bad, &ms));
  }
}

TEST_CASE("number_text: strict parsing helpers", "[types]") {
  int64_t i = 0;
  CHECK(types::parse_int64("42", &i) == types::NumberStatus::kOk);
  CHECK(i == 42);
  CHECK(types::parse_int64("+42", &i) == types::NumberStatus::kOk);
  CHECK(types::parse_int64("-9223372036854775808", &i) == types::NumberStatus::kOk);
  CHECK(i == std::numeric_limits<int64_t>::min());
  CHECK(types::parse_int64("9223372036854775808", &i) == types::NumberStatus::kOverflow);
  CHECK(types::parse_int64("1.0", &i) == types::NumberStatus::kOk);
  CHECK(i == 1);
  CHECK(types::parse_int64("15e-1", &i) == types::NumberStatus::kNotInteger);
  CHECK(types::parse_int64("1e3", &i) == types::NumberStatus::kOk);
  CHECK(i == 1000);
  CHECK(types::parse_int64("1e30", &i) == types::NumberStatus::kOverflow);
  for (auto bad : {"", "+", "-", "+-1", "1x", "x", "1 "})
    CHECK(types::parse_int64(bad, &i) == types::NumberStatus::kSyntax);
  double d = 0;
  CHECK(types::parse_double("+1.5", &d) == types::NumberStatus::kOk);
  CHECK(d == 1.5);
  CHECK(types::parse_double("1e400", &d) == types::NumberStatus::kOverflow);
  CHECK(types::parse_double("-1e-400", &d) == types::NumberStatus::kOk);
  CHECK(d == 0.0);
  CHECK(types::parse_double("0.000001e-400", &d) == types::NumberStatus::kOk);
  CHECK(types::parse_double("Infinity", &d) == types::NumberStatus::kOk);
  CHECK(std::isinf(d));
  CHECK(types::parse_double("1.5.", &d) == types::NumberStatus::kSyntax);
  CHECK(types::is_json_number("-0.5e+10"));
  CHECK_FALSE(types::is_json_number("01"));
  CHECK_FALSE(types::is_json_number("1."));
  CHECK_FALSE(types::is_json_number("+1"));
  CHECK_FALSE(types::is_json_number(".5"));
}

namespace {

struct CastResult {
  bool ok;
  Value value;
  RecordError err;
};

CastResult cast_to(const Value& v, DataType target, Arena& arena) {
  CastResult r{false, Value(), {}};
  r.ok = types::cast(v, target, arena, &r.value, &r.err);
  return r;
}

std::string text_of(const Value& v, DataType target) {
  Arena arena;
  CastResult r = cast_to(v, target, arena);
  INFO(r.err.message);
  REQUIRE(r.ok);
  return types::to_text(r.value);
}

// Expects failure with `code` and returns the message.
std::string cast_error(const Value& v, DataType target, ErrorCode code) {
  Arena arena;
  CastResult r = cast_to(v, target, arena);
  CHECK_FALSE(r.ok);
  CHECK(r.err.code == code);
  return r.err.message;
}

Value str(const char* s) {
  return Value::string(s);
}
Value dec(const char* text, uint8_t scale) {
  Arena arena;
  CastResult r = cast_to(Value::string(text), DataType::decimal(38, scale), arena);
  REQUIRE(r.ok);
  return r.value;
}

}  // namespace

TEST_CASE("value_ops: compare", "[types]") {
  using types::compare;
  CHECK(compare(Value::bigint(1), Value::bigint(2)) < 0);
  CHECK(compare(Value::bigint(2), Value::bigint(2)) == 0);
  CHECK(compare(Value::boolean(true), Value::boolean(false)) > 0);
  CHECK(compare(Value::float64(-0.0), Value::float64(0.0)) == 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(compare(Value::float64(nan), Value::float64(inf)) > 0);
  CHECK(compare(Value::float64(1), Value::float64(nan)) < 0);
  CHECK(compare(Value::float64(nan), Value::float64(nan)) == 0);
  CHECK(compare(dec("1.5", 1), dec("1.50", 2)) == 0);
  CHECK(compare(dec("1.49", 2), dec("1.5", 1)) < 0);
  CHECK(compare(dec("-2", 0), dec("-1.99", 2)) < 0);
  // Raising the scale of a huge value overflows: its sign decides.
  CHECK(compare(Value::decimal(types::int128{1} << 120, 0), Value::decimal(1, 30)) > 0);
  CHECK(compare(Value::decimal(-(types::int128{1} << 120), 0), Value::decimal(1, 30)) < 0);
  CHECK(compare(str("abc"), str("abd")) < 0);
  CHECK(compare(str("ab"), str("abc")) < 0);
  CHECK(compare(str(""), str("")) == 0);
  CHECK(compare(str("\xc3\xa9"), str("z")) > 0);  // bytewise: UTF-8 code point order
  CHECK(compare(Value::timestamp(-5), Value::timestamp(3)) < 0);
  CHECK(compare(Value::bigint(2), dec("1.5", 1)) > 0);  // mixed numeric still compares by value
  CHECK(compare(Value::bigint(1), Value::float64(1.5)) < 0);
}

TEST_CASE("value_ops: group_equal and hash agree", "[types]") {
  using types::group_equal;
  using types::hash;
  CHECK(group_equal(Value::make_null(TypeId::kBigInt), Value::make_null(TypeId::kBigInt)));
  CHECK_FALSE(group_equal(Value::make_null(TypeId::kBigInt), Value::bigint(0)));
  CHECK(hash(Value::make_null(TypeId::kBigInt)) == hash(Value::make_null(TypeId::kString)));
  CHECK(group_equal(Value::float64(0.0), Value::float64(-0.0)));
  CHECK(hash(Value::float64(0.0)) == hash(Value::float64(-0.0)));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(group_equal(Value::float64(nan), Value::float64(-nan)));
  CHECK(hash(Value::float64(nan)) == hash(Value::float64(-nan)));
  // Strings: equal bytes from different buffers hash equally, lengths 0..40 cover the tail.
  std::string a(40, 'x'), b(40, 'x');
  for (size_t n = 0; n <= 40; ++n) {
    Value va = Value::string(std::string_view(a).substr(0, n));
    Value vb = Value::string(std::string_view(b).substr(0, n));
    REQUIRE(group_equal(va, vb));
    REQUIRE(hash(va) == hash(vb));
    REQUIRE(hash(va, 7) == hash(vb, 7));
  }
  CHECK(hash(str("abc")) != hash(str("abd")));
  CHECK(hash(str("abc")) != hash(str("abc"), 1));
  CHECK(hash(Value::bigint(1)) != hash(Value::bigint(2)));
  CHECK(hash(dec("1.25", 2)) == hash(dec("1.25", 2)));
  CHECK(hash(dec("1.25", 2)) != hash(dec("-1.25", 2)));
  CHECK(hash(Value::decimal(types::int128{1} << 64, 0)) != hash(Value::decimal(1, 0)));
  // Few collisions over a range of small integers (a weak mix would collide in the low bits).
  std::set<uint64_t> low_bits;
  for (int64_t i = 0; i < 4096; ++i)
    low_bits.insert(hash(Value::bigint(i)) & 0xFFFF);
  CHECK(low_bits.size() > 3900);
}

TEST_CASE("value_ops: text form", "[types]") {
  CHECK(types::to_text(Value::make_null()) == "NULL");
  CHECK(types::to_text(Value::boolean(true)) == "true");
  CHECK(types::to_text(Value::bigint(-42)) == "-42");
  CHECK(types::to_text(Value::float64(0.1)) == "0.1");
  CHECK(types::to_text(Value::float64(1e300)) == "1e+300");
  CHECK(types::to_text(Value::float64(std::numeric_limits<double>::infinity())) == "Infinity");
  CHECK(types::to_text(Value::float64(-std::numeric_limits<double>::infinity())) == "-Infinity");
  CHECK(types::to_text(Value::float64(std::nan(""))) == "NaN");
  CHECK(types::to_text(Value::decimal(1234500, 4)) == "123.4500");
  CHECK(types::to_text(str("héllo")) == "héllo");
  CHECK(types::to_text(Value::timestamp(1705305600123)) == "2024-01-15T08:00:00.123Z");
  CHECK(types::to_text(Value::interval(90000)) == "90000");
}

TEST_CASE("value_ops: cast numeric paths", "[types]") {
  const DataType big = DataType::bigint(), dbl = DataType::float64();
  CHECK(text_of(Value::bigint(42), DataType::decimal(10, 2)) == "42.00");
  CHECK(text_of(Value::bigint(42), dbl) == "42");
  CHECK(text_of(Value::float64(-2.9), big) == "-2");  // truncates toward zero
  CHECK(text_of(Value::float64(2.9), big) == "2");
  CHECK(text_of(Value::float64(0.125), DataType::decimal(10, 2)) == "0.13");
  CHECK(text_of(Value::float64(-0.125), DataType::decimal(10, 2)) == "-0.13");
  CHECK(text_of(dec("2.5", 1), big) == "3");  // rounds half away from zero
  CHECK(text_of(dec("-2.5", 1), big) == "-3");
  CHECK(text_of(dec("2.49", 2), big) == "2");
  CHECK(text_of(dec("123.456", 3), DataType::decimal(6, 2)) == "123.46");
  CHECK(text_of(dec("1.5", 1), DataType::decimal(10, 4)) == "1.5000");
  CHECK(text_of(dec("0.1", 1), dbl) == "0.1");
  CHECK(text_of(Value::boolean(true), big) == "1");
  CHECK(text_of(Value::boolean(false), big) == "0");
  CHECK(text_of(Value::boolean(true), DataType::decimal(5, 2)) == "1.00");
  CHECK(text_of(Value::bigint(7), DataType::boolean()) == "true");
  CHECK(text_of(Value::bigint(0), DataType::boolean()) == "false");
  CHECK(text_of(dec("0.00", 2), DataType::boolean()) == "false");
  CHECK(text_of(Value::float64(0.5), DataType::boolean()) == "true");
  CHECK(text_of(Value::timestamp(1705312800000), big) == "1705312800000");
  CHECK(text_of(Value::bigint(1705312800000), DataType::timestamp()) == "2024-01-15T10:00:00.000Z");
  CHECK(text_of(Value::bigint(60000), DataType::interval()) == "60000");
  CHECK(text_of(Value::interval(60000), big) == "60000");

  CHECK(cast_error(Value::float64(1e30), big, ErrorCode::kOverflow) ==
        "cannot cast 1e+30 to BIGINT: out of range");
  cast_error(Value::float64(9223372036854775808.0), big, ErrorCode::kOverflow);
  CHECK(text_of(Value::float64(-9223372036854775808.0), big) == "-9223372036854775808");
  CHECK(cast_error(Value::float64(std::nan("")), big, ErrorCode::kCast) ==
        "cannot cast NaN to BIGINT");
  CHECK(cast_error(Value::bigint(1000), DataType::decimal(5, 2), ErrorCode::kOverflow) ==
        "cannot cast 1000 to DECIMAL(5,2): out of range");
  CHECK(cast_error(dec("999.995", 3), DataType::decimal(5, 2), ErrorCode::kOverflow) ==
        "cannot cast 999.995 to DECIMAL(5,2): out of range");
  cast_error(Value::float64(1e50), DataType::decimal(38, 0), ErrorCode::kOverflow);
  cast_error(Value::float64(std::numeric_limits<double>::infinity()), DataType::decimal(10, 0),
             ErrorCode::kCast);
  cast_error(dec("1e20", 0), big, ErrorCode::kOverflow);
  cast_error(Value::boolean(true), DataType::decimal(2, 2), ErrorCode::kOverflow);
}

TEST_CASE("value_ops: cast from and to STRING", "[types]") {
  Arena arena;
  CHECK(text_of(str(" 42 "), DataType::bigint()) == "42");
  CHECK(text_of(str("-1.0"), DataType::bigint()) == "-1");
  CHECK(text_of(str("1.5e1"), DataType::float64()) == "15");
  CHECK(text_of(str("Infinity"), DataType::float64()) == "Infinity");
  CHECK(text_of(str("123.4500"), DataType::decimal(18, 4)) == "123.4500");
  CHECK(text_of(str("1.005"), DataType::decimal(18, 2)) == "1.01");
  for (auto yes : {"true", "TRUE", "t", "1", "yes", "Yes"})
    CHECK(text_of(str(yes), DataType::boolean()) == "true");
  for (auto no : {"false", "F", "0", "no", " NO "})
    CHECK(text_of(str(no), DataType::boolean()) == "false");
  CHECK(text_of(str("2024-01-15T10:00:00Z"), DataType::timestamp()) == "2024-01-15T10:00:00.000Z");
  CHECK(text_of(str("250"), DataType::interval()) == "250");

  CHECK(cast_error(str("abc"), DataType::bigint(), ErrorCode::kCast) ==
        "cannot cast 'abc' to BIGINT");
  CHECK(cast_error(str("1.5"), DataType::bigint(), ErrorCode::kCast) ==
        "cannot cast '1.5' to BIGINT");
  CHECK(cast_error(str("99999999999999999999"), DataType::bigint(), ErrorCode::kOverflow) ==
        "cannot cast '99999999999999999999' to BIGINT: out of range");
  CHECK(cast_error(str("x1"), DataType::float64(), ErrorCode::kCast) ==
        "cannot cast 'x1' to DOUBLE");
  cast_error(str("1e999"), DataType::float64(), ErrorCode::kOverflow);
  CHECK(cast_error(str("12.3.4"), DataType::decimal(10, 2), ErrorCode::kCast) ==
        "cannot cast '12.3.4' to DECIMAL(10,2)");
  CHECK(cast_error(str("123456"), DataType::decimal(5, 2), ErrorCode::kOverflow) ==
        "cannot cast '123456' to DECIMAL(5,2): out of range");
  CHECK(cast_error(str("maybe"), DataType::boolean(), ErrorCode::kCast) ==
        "cannot cast 'maybe' to BOOLEAN");
  CHECK(cast_error(str("2024-02-30"), DataType::timestamp(), ErrorCode::kCast) ==
        "cannot cast '2024-02-30' to TIMESTAMP");
  std::string long_text(200, 'a');
  std::string message = cast_error(Value::string(long_text), DataType::bigint(), ErrorCode::kCast);
  CHECK(message.size() < 100);  // long values are cut in messages

  // Anything -> STRING lands in the arena.
  Value out;
  RecordError err;
  REQUIRE(types::cast(Value::decimal(-5, 2), DataType::string(), arena, &out, &err));
  CHECK(out.type == TypeId::kString);
  CHECK(out.str() == "-0.05");
  CHECK(arena.bytes_reserved() > 0);
  CHECK(text_of(Value::boolean(false), DataType::string()) == "false");
  CHECK(text_of(Value::float64(2.5), DataType::string()) == "2.5");
  CHECK(text_of(Value::timestamp(-1), DataType::string()) == "1969-12-31T23:59:59.999Z");
  CHECK(text_of(Value::interval(5), DataType::string()) == "5");
}

TEST_CASE("value_ops: cast NULL, identity and unsupported pairs", "[types]") {
  Arena arena;
  CastResult r = cast_to(Value::make_null(), DataType::decimal(10, 3), arena);
  REQUIRE(r.ok);
  CHECK(r.value.is_null());
  CHECK(r.value.type == TypeId::kDecimal);
  CHECK(r.value.scale == 3);
  r = cast_to(Value::make_null(TypeId::kString), DataType::bigint(), arena);
  REQUIRE(r.ok);
  CHECK(r.value.is_null());
  CHECK(r.value.type == TypeId::kBigInt);

  Value s = str("same");
  r = cast_to(s, DataType::string(), arena);
  REQUIRE(r.ok);
  CHECK(r.value.s.data == s.s.data);  // unchanged, not copied
  r = cast_to(Value::bigint(5), DataType::bigint(), arena);
  CHECK(r.value.i == 5);

  CHECK(cast_error(Value::boolean(true), DataType::timestamp(), ErrorCode::kCast) ==
        "cannot cast BOOLEAN to TIMESTAMP");
  CHECK(cast_error(Value::timestamp(0), DataType::float64(), ErrorCode::kCast) ==
        "cannot cast TIMESTAMP to DOUBLE");
  CHECK(cast_error(dec("1", 0), DataType::interval(), ErrorCode::kCast) ==
        "cannot cast DECIMAL to INTERVAL");
  CHECK(cast_error(Value::bigint(1), DataType::null(), ErrorCode::kCast) ==
        "cannot cast BIGINT to NULL");

  CHECK(types::can_cast(DataType::string(), DataType::timestamp()));
  CHECK(types::can_cast(DataType::timestamp(), DataType::string()));
  CHECK(types::can_cast(DataType::null(), DataType::interval()));
  CHECK(types::can_cast(DataType::decimal(5, 1), DataType::decimal(10, 3)));
  CHECK(types::can_cast(DataType::timestamp(), DataType::bigint()));
  CHECK_FALSE(types::can_cast(DataType::boolean(), DataType::timestamp()));
  CHECK_FALSE(types::can_cast(DataType::timestamp(), DataType::interval()));
  CHECK_FALSE(types::can_cast(DataType::float64(), DataType::timestamp()));
}
