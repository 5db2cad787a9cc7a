#include "types/decimal.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

namespace dec = sluice::types::decimal;
using sluice::types::int128;

namespace {

// Parses or fails the test; returns the unscaled value.
int128 parsed(std::string_view text, uint8_t precision, uint8_t scale) {
  int128 v = 0;
  INFO(std::string(text));
  REQUIRE(dec::parse(text, precision, scale, &v));
  return v;
}

std::string round_trip(std::string_view text, uint8_t precision, uint8_t scale) {
  return dec::to_string(parsed(text, precision, scale), scale);
}

int128 max_int128() {
  return static_cast<int128>(~static_cast<unsigned __int128>(0) >> 1);
}

}  // namespace

TEST_CASE("decimal: pow10 and fits", "[types][decimal]") {
  CHECK(dec::pow10(0) == 1);
  CHECK(dec::pow10(4) == 10000);
  CHECK(dec::pow10(38) / dec::pow10(19) == dec::pow10(19));
  CHECK(dec::fits(99999, 5));
  CHECK_FALSE(dec::fits(100000, 5));
  CHECK(dec::fits(-99999, 5));
  CHECK_FALSE(dec::fits(-100000, 5));
  CHECK(dec::fits(dec::pow10(38) - 1, 38));
  CHECK_FALSE(dec::fits(dec::pow10(38), 38));
}

TEST_CASE("decimal: parse and format keep the exact text", "[types][decimal]") {
  CHECK(round_trip("123.4500", 18, 4) == "123.4500");
  CHECK(parsed("123.4500", 18, 4) == 1234500);
  CHECK(round_trip("-0.5", 10, 1) == "-0.5");
  CHECK(round_trip("+7", 10, 0) == "7");
  CHECK(round_trip("12.", 10, 2) == "12.00");
  CHECK(round_trip(".5", 10, 2) == "0.50");
  CHECK(round_trip("0", 10, 3) == "0.000");
  CHECK(round_trip("-0.05", 10, 2) == "-0.05");
  CHECK(round_trip("00012.3400", 10, 4) == "12.3400");
  CHECK(round_trip("-0", 10, 2) == "0.00");
  CHECK(round_trip("99999999999999999999999999999999999999", 38, 0) ==
        "99999999999999999999999999999999999999");
  CHECK(round_trip("-9999999999999999999.9999999999999999999", 38, 19) ==
        "-9999999999999999999.9999999999999999999");
}

TEST_CASE("decimal: exponents", "[types][decimal]") {
  CHECK(round_trip("1.5e3", 10, 0) == "1500");
  CHECK(round_trip("1E-2", 10, 2) == "0.01");
  CHECK(round_trip("1e-2", 10, 1) == "0.0");  // 0.01 rounds to 0.0
  CHECK(round_trip("5e-2", 10, 1) == "0.1");  // 0.05 rounds half away from zero
  CHECK(round_trip("-2.5E+1", 10, 1) == "-25.0");
  CHECK(round_trip("123e-5", 10, 5) == "0.00123");
  CHECK(round_trip("0e999999999999", 10, 2) == "0.00");
  CHECK(round_trip("1e-999999999999", 10, 2) == "0.00");
  int128 v = 0;
  CHECK_FALSE(dec::parse("1e999999999999", 38, 0, &v));
  CHECK_FALSE(dec::parse("1e38", 38, 0, &v));
  CHECK(dec::parse("1e37", 38, 0, &v));
}

TEST_CASE("decimal: rounding half away from zero on parse", "[types][decimal]") {
  CHECK(round_trip("1.25", 10, 1) == "1.3");
  CHECK(round_trip("1.24999", 10, 1) == "1.2");
  CHECK(round_trip("-1.25", 10, 1) == "-1.3");
  CHECK(round_trip("-1.35", 10, 1) == "-1.4");
  CHECK(round_trip("0.5", 10, 0) == "1");
  CHECK(round_trip("-0.5", 10, 0) == "-1");
  CHECK(round_trip("0.4999999999999999999999999999999999999999999", 10, 0) == "0");
  CHECK(round_trip("2.675", 10, 2) == "2.68");  // exact text: no binary floating point drift
  CHECK(round_trip("9.995", 10, 2) == "10.00");
}

TEST_CASE("decimal: exact flag of parse_status", "[types][decimal]") {
  int128 v = 0;
  bool exact = false;
  CHECK(dec::parse_status("1.500", 10, 1, &v, &exact) == dec::ParseStatus::kOk);
  CHECK(exact);
  CHECK(v == 15);
  CHECK(dec::parse_status("1.51", 10, 1, &v, &exact) == dec::ParseStatus::kOk);
  CHECK_FALSE(exact);
  CHECK(dec::parse_status("1e3", 10, 0, &v, &exact) == dec::ParseStatus::kOk);
  CHECK(exact);
  CHECK(dec::parse_status("abc", 10, 0, &v, &exact) == dec::ParseStatus::kSyntax);
  CHECK(dec::parse_status("123456", 5, 0, &v, &exact) == dec::ParseStatus::kOverflow);
}

TEST_CASE("decimal: rejects junk and overflow", "[types][decimal]") {
  int128 v = 0;
  for (const char* bad :
       {"",   "abc", "-",   "+",   ".",  "1.2.3", "1e",  "1e+", "e5",    "1,5",
        " 1", "1 ",  "--1", "+-1", "1x", "0x10",  "NaN", "inf", "1e5.5", "1..2"}) {
    INFO(bad);
    CHECK(dec::parse_status(bad, 18, 2, &v) == dec::ParseStatus::kSyntax);
  }
  CHECK(dec::parse_status("123456.789", 5, 2, &v) == dec::ParseStatus::kOverflow);
  CHECK(dec::parse_status("999.995", 5, 2, &v) ==
        dec::ParseStatus::kOverflow);  // rounds to 1000.00
  CHECK(dec::parse_status("999.994", 5, 2, &v) == dec::ParseStatus::kOk);
  CHECK(dec::parse_status("100000000000000000000000000000000000000", 38, 0, &v) ==
        dec::ParseStatus::kOverflow);
  CHECK(dec::parse_status(std::string(200, '9'), 38, 0, &v) == dec::ParseStatus::kOverflow);
  std::string long_zeros = "0." + std::string(300, '0') + "1";
  CHECK(dec::parse_status(long_zeros, 38, 10, &v) == dec::ParseStatus::kOk);
  CHECK(v == 0);
}

TEST_CASE("decimal: format", "[types][decimal]") {
  CHECK(dec::to_string(7, 0) == "7");
  CHECK(dec::to_string(-5, 2) == "-0.05");
  CHECK(dec::to_string(1234500, 4) == "123.4500");
  CHECK(dec::to_string(0, 0) == "0");
  CHECK(dec::to_string(max_int128(), 0) == "170141183460469231731687303715884105727");
  CHECK(dec::to_string(-max_int128() - 1, 38) == "-1.70141183460469231731687303715884105728");
  CHECK(dec::to_string(dec::pow10(20), 20) == "1.00000000000000000000");
}

TEST_CASE("decimal: add/sub/mul detect overflow", "[types][decimal]") {
  int128 r = 0;
  // 0.1 + 0.2 == 0.3 exactly.
  REQUIRE(dec::add(parsed("0.1", 18, 1), parsed("0.2", 18, 1), &r));
  CHECK(r == parsed("0.3", 18, 1));
  CHECK(dec::to_string(r, 1) == "0.3");
  REQUIRE(dec::sub(parsed("1.00", 18, 2), parsed("1.25", 18, 2), &r));
  CHECK(dec::to_string(r, 2) == "-0.25");
  REQUIRE(dec::mul(parsed("1.5", 18, 1), parsed("-2.25", 18, 2), &r));
  CHECK(dec::to_string(r, 3) == "-3.375");
  CHECK_FALSE(dec::add(max_int128(), 1, &r));
  CHECK_FALSE(dec::sub(-max_int128() - 1, 1, &r));
  CHECK_FALSE(dec::mul(dec::pow10(20), dec::pow10(19), &r));
  CHECK(dec::mul(dec::pow10(19), dec::pow10(19), &r));
}

TEST_CASE("decimal: div rounds half away from zero", "[types][decimal]") {
  int128 r = 0;
  REQUIRE(dec::div(10, 0, 3, 0, 4, &r));  // 10 / 3
  CHECK(dec::to_string(r, 4) == "3.3333");
  REQUIRE(dec::div(20, 0, 3, 0, 4, &r));
  CHECK(dec::to_string(r, 4) == "6.6667");
  REQUIRE(dec::div(-20, 0, 3, 0, 4, &r));
  CHECK(dec::to_string(r, 4) == "-6.6667");
  REQUIRE(dec::div(1, 0, 8, 0, 2, &r));  // 0.125 -> 0.13
  CHECK(dec::to_string(r, 2) == "0.13");
  REQUIRE(dec::div(-1, 0, 8, 0, 2, &r));
  CHECK(dec::to_string(r, 2) == "-0.13");
  REQUIRE(dec::div(1, 0, -8, 0, 2, &r));
  CHECK(dec::to_string(r, 2) == "-0.13");
  REQUIRE(dec::div(12345, 2, 5, 1, 3, &r));  // 123.45 / 0.5
  CHECK(dec::to_string(r, 3) == "246.900");
  REQUIRE(dec::div(12355, 2, 100, 0, 0, &r));  // 123.55 / 100 = 1.2355 -> 1 (out scale below)
  CHECK(dec::to_string(r, 0) == "1");
  REQUIRE(dec::div(15, 1, 1, 0, 0, &r));  // 1.5 / 1 -> 2
  CHECK(r == 2);
  REQUIRE(dec::div(-25, 1, 1, 0, 0, &r));  // -2.5 -> -3
  CHECK(r == -3);
  CHECK_FALSE(dec::div(1, 0, 0, 0, 2, &r));
  // Numerator times 10^scale exceeds 128 bits but the quotient fits (long division path).
  REQUIRE(dec::div(dec::pow10(30), 0, dec::pow10(30), 0, 18, &r));
  CHECK(r == dec::pow10(18));
  REQUIRE(dec::div(dec::pow10(37), 0, 3 * dec::pow10(36), 0, 20, &r));
  CHECK(dec::to_string(r, 20) == "3.33333333333333333333");
  // Huge divisor: digits come from the slow, overflow-free remainder step.
  REQUIRE(dec::div(max_int128() - 1, 0, max_int128(), 0, 30, &r));
  CHECK(dec::to_string(r, 30) == "1.000000000000000000000000000000");
  CHECK_FALSE(dec::div(max_int128(), 0, 1, 0, 1, &r));
  REQUIRE(dec::div(1, 0, 3, 0, 0, &r));
  CHECK(r == 0);
}

TEST_CASE("decimal: rescale", "[types][decimal]") {
  int128 r = 0;
  REQUIRE(dec::rescale(12345, 2, 4, &r));
  CHECK(r == 1234500);
  REQUIRE(dec::rescale(12345, 2, 1, &r));
  CHECK(r == 1235);
  REQUIRE(dec::rescale(-12345, 2, 1, &r));
  CHECK(r == -1235);
  REQUIRE(dec::rescale(12344, 2, 1, &r));
  CHECK(r == 1234);
  REQUIRE(dec::rescale(49, 2, 0, &r));
  CHECK(r == 0);
  REQUIRE(dec::rescale(50, 2, 0, &r));
  CHECK(r == 1);
  REQUIRE(dec::rescale(5 * dec::pow10(37), 38, 0, &r));  // 0.5 at scale 38
  CHECK(r == 1);
  CHECK_FALSE(dec::rescale(dec::pow10(30), 0, 10, &r));
  REQUIRE(dec::rescale(0, 0, 38, &r));
  CHECK(r == 0);
}

TEST_CASE("decimal: double conversions", "[types][decimal]") {
  CHECK(dec::to_double(1234500, 4) == 123.45);
  CHECK(dec::to_double(-5, 2) == -0.05);
  CHECK(dec::to_double(max_int128(), 0) == Approx(1.7014118346046923e38));
  CHECK(dec::to_double(dec::pow10(30) + 1, 25) == 100000.0);
  int128 r = 0;
  REQUIRE(dec::from_double(0.1, 10, 2, &r));
  CHECK(r == 10);
  REQUIRE(dec::from_double(2.675, 10, 2, &r));  // shortest text "2.675" rounds up
  CHECK(r == 268);
  REQUIRE(dec::from_double(-1e-10, 10, 2, &r));
  CHECK(r == 0);
  REQUIRE(dec::from_double(1e20, 38, 0, &r));
  CHECK(r == dec::pow10(20));
  CHECK_FALSE(dec::from_double(1e10, 5, 0, &r));
  CHECK_FALSE(dec::from_double(std::numeric_limits<double>::infinity(), 10, 0, &r));
  CHECK_FALSE(dec::from_double(std::numeric_limits<double>::quiet_NaN(), 10, 0, &r));
}
