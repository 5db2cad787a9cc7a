// Scalar function registry, math and conditional functions.

#include "functions/scalar.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "functions_test_util.hpp"

namespace sluice::functions::testing {
namespace {

TEST_CASE("registry lists names, upper case and sorted", "[functions]") {
  std::vector<std::string> names = scalar_function_names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (const char* n : {"ABS",
                        "ROUND",
                        "CEIL",
                        "CEILING",
                        "FLOOR",
                        "SQRT",
                        "POWER",
                        "POW",
                        "MOD",
                        "EXP",
                        "LN",
                        "LOG10",
                        "SIGN",
                        "LEAST",
                        "GREATEST",
                        "UPPER",
                        "LOWER",
                        "LENGTH",
                        "CHAR_LENGTH",
                        "SUBSTRING",
                        "SUBSTR",
                        "TRIM",
                        "LTRIM",
                        "RTRIM",
                        "CONCAT",
                        "CONCAT_WS",
                        "REPLACE",
                        "SPLIT_PART",
                        "LEFT",
                        "RIGHT",
                        "REVERSE",
                        "LPAD",
                        "RPAD",
                        "POSITION",
                        "INSTR",
                        "STARTS_WITH",
                        "ENDS_WITH",
                        "REGEXP_LIKE",
                        "REGEXP_EXTRACT",
                        "REGEXP_REPLACE",
                        "DATE_FORMAT",
                        "FROM_UNIXTIME",
                        "UNIX_TIMESTAMP",
                        "TO_TIMESTAMP",
                        "NOW",
                        "CURRENT_TIMESTAMP",
                        "DATE_TRUNC",
                        "TIMESTAMPADD",
                        "COALESCE",
                        "NULLIF",
                        "IF",
                        "IFNULL"}) {
    INFO(n);
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
    CHECK(is_scalar_function(n));
  }
  CHECK(is_scalar_function("upper"));
  CHECK(is_scalar_function("Regexp_Like"));
  CHECK_FALSE(is_scalar_function("SUM"));
  CHECK_FALSE(is_scalar_function("nope"));
}

TEST_CASE("unknown functions and hints", "[functions]") {
  CHECK(bind_error("FOO", {DataType::bigint()}) ==
        "SQL_UNKNOWN_FUNCTION: unknown function 'FOO'; did you mean 'FLOOR'?");
  CHECK(bind_error("uper", {DataType::string()}) ==
        "SQL_UNKNOWN_FUNCTION: unknown function 'uper'; did you mean 'UPPER'?");
  CHECK(bind_error("SUBSTRNG", {DataType::string()}) ==
        "SQL_UNKNOWN_FUNCTION: unknown function 'SUBSTRNG'; did you mean 'SUBSTRING'?");
  CHECK(bind_error("COALESC", {}) ==
        "SQL_UNKNOWN_FUNCTION: unknown function 'COALESC'; did you mean 'COALESCE'?");
  CHECK(bind_error("XYZZY_PLUGH", {}) == "SQL_UNKNOWN_FUNCTION: unknown function 'XYZZY_PLUGH'");
}

TEST_CASE("argument type errors name the signature", "[functions]") {
  CHECK(bind_error("ROUND", {DataType::string()}) ==
        "SQL_TYPE: ROUND takes (number[, integer]), got (STRING)");
  CHECK(bind_error("round", {DataType::float64(), DataType::float64()}) ==
        "SQL_TYPE: ROUND takes (number[, integer]), got (DOUBLE, DOUBLE)");
  CHECK(bind_error("ABS", {}) == "SQL_TYPE: ABS takes (number), got ()");
  CHECK(bind_error("CEILING", {DataType::boolean()}) ==
        "SQL_TYPE: CEILING takes (number), got (BOOLEAN)");
  CHECK(bind_error("MOD", {DataType::bigint(), DataType::string()}) ==
        "SQL_TYPE: MOD takes (number, number), got (BIGINT, STRING)");
  CHECK(bind_error("UPPER", {DataType::bigint()}) ==
        "SQL_TYPE: UPPER takes (string), got (BIGINT)");
  CHECK(bind_error("SUBSTRING", {DataType::string()}) ==
        "SQL_TYPE: SUBSTRING takes (string, integer[, integer]), got (STRING)");
  CHECK(bind_error("LEAST", {DataType::bigint(), DataType::string()}) ==
        "SQL_TYPE: LEAST takes (value, ...) of one common ordered type, got (BIGINT, STRING)");
  CHECK(bind_error("COALESCE", {}) ==
        "SQL_TYPE: COALESCE takes (value, ...) of one common type, got ()");
  CHECK(bind_error("IF", {DataType::bigint(), DataType::bigint(), DataType::bigint()}) ==
        "SQL_TYPE: IF takes (boolean, value, value), got (BIGINT, BIGINT, BIGINT)");
  CHECK(bind_error("NOW", {DataType::bigint()}) == "SQL_TYPE: NOW takes (), got (BIGINT)");
  CHECK(bind_error("SQRT", {DataType::decimal(10, 2)}).empty());
}

TEST_CASE("ABS and SIGN keep or choose types", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("ABS", {i64(-5)}) == "5");
  CHECK(ev.call("ABS", {i64(-5)}).type == DataType::bigint());
  CHECK(ev.text("ABS", {f64(-2.5)}) == "2.5");
  CHECK(ev.text("ABS", {dec("-12.50")}) == "12.50");
  CHECK(ev.call("ABS", {dec("-12.50")}).type == DataType::decimal(4, 2));
  CHECK(ev.call("ABS", {null_of(DataType::bigint())}).is_null());
  CHECK(ev.call("ABS", {null_lit()}).is_null());
  Result r = ev.call("ABS", {i64(INT64_MIN)});
  CHECK(r.failed);
  CHECK(r.code == ErrorCode::kOverflow);
  CHECK(r.message == "ABS: -9223372036854775808 overflows BIGINT");

  CHECK(ev.text("SIGN", {i64(-7)}) == "-1");
  CHECK(ev.text("SIGN", {dec("0.00")}) == "0");
  CHECK(ev.call("SIGN", {dec("3.5")}).type == DataType::bigint());
  CHECK(ev.text("SIGN", {f64(0.25)}) == "1");
  CHECK(ev.call("SIGN", {f64(0.25)}).type == DataType::float64());
}

TEST_CASE("ROUND on every number type", "[functions]") {
  Evaluator ev;
  // BIGINT stays BIGINT; negative digits round to tens, hundreds...
  CHECK(ev.text("ROUND", {i64(1234)}) == "1234");
  CHECK(ev.text("ROUND", {i64(1250), i64(-2)}) == "1300");
  CHECK(ev.text("ROUND", {i64(-1250), i64(-2)}) == "-1300");
  CHECK(ev.text("ROUND", {i64(1249), i64(-2)}) == "1200");
  CHECK(ev.text("ROUND", {i64(5), i64(-30)}) == "0");
  CHECK(ev.call("ROUND", {i64(INT64_MAX), i64(-1)}).code == ErrorCode::kOverflow);
  // DOUBLE: half away from zero.
  CHECK(ev.text("ROUND", {f64(2.5)}) == "3");
  CHECK(ev.text("ROUND", {f64(-2.5)}) == "-3");
  CHECK(ev.text("ROUND", {f64(3.14159), i64(2)}) == "3.14");
  CHECK(ev.text("ROUND", {f64(1234.5), i64(-2)}) == "1200");
  CHECK(ev.text("ROUND", {f64(1e300), i64(400)}) == "1e+300");
  // DECIMAL: exact, half away from zero, constant digits set the scale.
  Result r = ev.call("ROUND", {dec("2.345"), i64(2)});
  CHECK(r.text() == "2.35");
  CHECK(r.type == DataType::decimal(4, 2));
  CHECK(ev.text("ROUND", {dec("-2.345"), i64(2)}) == "-2.35");
  CHECK(ev.text("ROUND", {dec("9.995"), i64(2)}) == "10.00");
  r = ev.call("ROUND", {dec("12.5")});
  CHECK(r.text() == "13");
  CHECK(r.type == DataType::decimal(3, 0));
  r = ev.call("ROUND", {dec("1234.56"), i64(-2)});
  CHECK(r.text() == "1200");
  CHECK(r.type == DataType::decimal(5, 0));
  r = ev.call("ROUND", {dec("1.5"), i64(3)});
  CHECK(r.text() == "1.5");
  CHECK(r.type == DataType::decimal(2, 1));
  CHECK(ev.text("ROUND", {dec("0.4"), i64(-40)}) == "0");
  // Digits from a column: the input scale is kept.
  r = ev.call("ROUND", {dec("2.345"), i64(1)}, false);
  CHECK(r.text() == "2.300");
  CHECK(r.type == DataType::decimal(5, 3));
  CHECK(ev.call("ROUND", {dec("2.345"), null_of(DataType::bigint())}).is_null());
}

TEST_CASE("CEIL and FLOOR", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("CEIL", {dec("1.20")}) == "2");
  CHECK(ev.text("CEIL", {dec("-1.20")}) == "-1");
  CHECK(ev.text("FLOOR", {dec("-1.20")}) == "-2");
  CHECK(ev.text("FLOOR", {dec("1.99")}) == "1");
  CHECK(ev.text("CEILING", {dec("5.00")}) == "5");
  CHECK(ev.call("FLOOR", {dec("1.99")}).type == DataType::decimal(3, 0));
  CHECK(ev.text("FLOOR", {f64(-0.5)}) == "-1");
  CHECK(ev.call("CEIL", {f64(0.5)}).type == DataType::float64());
  CHECK(ev.text("CEIL", {i64(7)}) == "7");
  CHECK(ev.call("FLOOR", {i64(7)}).type == DataType::bigint());
}

TEST_CASE("DOUBLE math functions and their domain errors", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("SQRT", {i64(16)}) == "4");
  CHECK(ev.call("SQRT", {dec("2.25")}).value.d == 1.5);
  Result r = ev.call("SQRT", {i64(-4)});
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(r.message == "SQRT: argument must not be negative, got -4");
  CHECK(ev.text("POWER", {i64(2), i64(10)}) == "1024");
  CHECK(ev.text("POW", {f64(9), f64(0.5)}) == "3");
  CHECK(ev.call("POWER", {f64(10), f64(400)}).code == ErrorCode::kOverflow);
  CHECK(ev.call("POWER", {f64(-8), f64(0.5)}).code == ErrorCode::kInvalidArgument);
  CHECK(ev.call("POWER", {f64(0), f64(-1)}).code == ErrorCode::kInvalidArgument);
  CHECK(ev.text("EXP", {i64(0)}) == "1");
  CHECK(ev.call("EXP", {f64(1000)}).code == ErrorCode::kOverflow);
  CHECK(ev.text("LN", {f64(1)}) == "0");
  CHECK(std::abs(ev.call("LN", {f64(M_E)}).value.d - 1.0) < 1e-15);
  CHECK(ev.call("LN", {i64(0)}).message == "LN: argument must be positive, got 0");
  CHECK(ev.text("LOG10", {i64(1000)}) == "3");
  CHECK(ev.call("LOG10", {i64(-1)}).code == ErrorCode::kInvalidArgument);
  CHECK(ev.call("SQRT", {null_lit()}).is_null());
}

TEST_CASE("MOD on integers, decimals and doubles", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("MOD", {i64(10), i64(3)}) == "1");
  CHECK(ev.text("MOD", {i64(-10), i64(3)}) == "-1");
  CHECK(ev.text("MOD", {i64(INT64_MIN), i64(-1)}) == "0");
  Result r = ev.call("MOD", {i64(1), i64(0)});
  CHECK(r.code == ErrorCode::kDivisionByZero);
  CHECK(r.message == "MOD: division by zero");
  r = ev.call("MOD", {dec("10.5"), dec("3")});
  CHECK(r.text() == "1.5");
  CHECK(r.type.id == TypeId::kDecimal);
  CHECK(ev.text("MOD", {dec("7.25"), i64(2)}) == "1.25");
  CHECK(ev.call("MOD", {dec("1.0"), dec("0.0")}).code == ErrorCode::kDivisionByZero);
  CHECK(ev.text("MOD", {f64(5.5), f64(2)}) == "1.5");
  CHECK(ev.call("MOD", {i64(5), null_lit()}).is_null());
}

TEST_CASE("LEAST and GREATEST skip NULLs", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("LEAST", {i64(3), i64(1), i64(2)}) == "1");
  CHECK(ev.text("GREATEST", {i64(3), i64(1), i64(2)}) == "3");
  Result r = ev.call("LEAST", {i64(3), dec("2.50")});
  CHECK(r.text() == "2.50");
  CHECK(r.type.id == TypeId::kDecimal);
  CHECK(ev.text("GREATEST", {i64(1), f64(1.5)}) == "1.5");
  CHECK(ev.text("LEAST", {null_of(DataType::bigint()), i64(4), null_lit()}) == "4");
  CHECK(ev.call("GREATEST", {null_of(DataType::bigint()), null_lit()}).is_null());
  CHECK(ev.text("GREATEST", {str("apple"), str("pear"), str("fig")}) == "pear");
  CHECK(ev.text("LEAST", {ts(2000), ts(1000)}) == "1970-01-01T00:00:01.000Z");
  CHECK(ev.text("LEAST", {i64(9)}) == "9");
}

TEST_CASE("COALESCE, IFNULL and IF are typed here and marked for lazy evaluation", "[functions]") {
  // Their evaluation is a CASE built by the binder (tests/sql/errors_data.test checks laziness).
  std::vector<std::optional<Value>> none(3);
  auto coalesce = bind_scalar("COALESCE", std::vector{DataType::bigint(), DataType::decimal(2, 1)},
                              std::span(none).first(2));
  CHECK(coalesce.conditional == Conditional::kCoalesce);
  CHECK(coalesce.fn == nullptr);
  CHECK(coalesce.result.id == TypeId::kDecimal);
  CHECK(coalesce.arg_types == std::vector<DataType>(2, coalesce.result));
  auto ifnull = bind_scalar("IFNULL", std::vector{DataType::string(), DataType::string()},
                            std::span(none).first(2));
  CHECK(ifnull.conditional == Conditional::kCoalesce);
  auto iff =
      bind_scalar("IF", std::vector{DataType::boolean(), DataType::bigint(), DataType::float64()},
                  std::span(none).first(3));
  CHECK(iff.conditional == Conditional::kIf);
  CHECK(iff.result == DataType::float64());
  CHECK(iff.arg_types ==
        std::vector{DataType::boolean(), DataType::float64(), DataType::float64()});
  CHECK(bind_error("IFNULL", {DataType::string()}) ==
        "SQL_TYPE: IFNULL takes (value, value) of one common type, got (STRING)");
}

TEST_CASE("NULLIF", "[functions]") {
  Evaluator ev;
  CHECK(ev.call("NULLIF", {i64(1), i64(1)}).is_null());
  CHECK(ev.text("NULLIF", {i64(1), i64(2)}) == "1");
  CHECK(ev.text("NULLIF", {i64(1), null_lit()}) == "1");
  CHECK(ev.call("NULLIF", {dec("1.0"), dec("1.00")}).is_null());
}

}  // namespace
}  // namespace sluice::functions::testing
