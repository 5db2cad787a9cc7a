// String functions: UTF-8 character semantics, NULLs, limits.

#include <catch2/catch.hpp>

#include "functions_test_util.hpp"

namespace sluice::functions::testing {
namespace {

TEST_CASE("UPPER and LOWER map ASCII and common non-ASCII letters", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("UPPER", {str("Hello, World 1!")}) == "HELLO, WORLD 1!");
  CHECK(ev.text("lower", {str("Hello, World 1!")}) == "hello, world 1!");
  CHECK(ev.text("UPPER", {str("straße café ÿ")}) == "STRAßE CAFÉ Ÿ");
  CHECK(ev.text("LOWER", {str("ÀÉÎÕÜ ŁÓDŹ")}) == "àéîõü łódź");
  CHECK(ev.text("UPPER", {str("αβγ ς привет ёж")}) == "ΑΒΓ Σ ПРИВЕТ ЁЖ");
  CHECK(ev.text("LOWER", {str("ΑΒΓ ПРИВЕТ")}) == "αβγ привет");
  CHECK(ev.text("UPPER", {str("日本語 ×÷")}) == "日本語 ×÷");
  CHECK(ev.text("UPPER", {str("")}) == "");
  CHECK(ev.text("UPPER", {str("a\xff\xc3z")}) == "A\xff\xc3Z");  // invalid bytes kept
  CHECK(ev.call("UPPER", {null_of(DataType::string())}).is_null());
}

TEST_CASE("LENGTH counts characters", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("LENGTH", {str("hello")}) == "5");
  CHECK(ev.text("CHAR_LENGTH", {str("héllo")}) == "5");
  CHECK(ev.text("CHARACTER_LENGTH", {str("日本語")}) == "3");
  CHECK(ev.text("LENGTH", {str("😀x")}) == "2");
  CHECK(ev.text("LENGTH", {str("")}) == "0");
  CHECK(ev.text("LENGTH", {str("\xff\xfe")}) == "2");
  CHECK(ev.text("LENGTH", {str("\xe6\x97")}) == "2");  // truncated sequence: one per byte
  CHECK(ev.call("LENGTH", {str("x")}).type == DataType::bigint());
  CHECK(ev.call("LENGTH", {null_lit()}).is_null());
}

TEST_CASE("SUBSTRING follows SQL positions on characters", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(2)}) == "ello");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(2), i64(3)}) == "ell");
  CHECK(ev.text("SUBSTR", {str("hello"), i64(0), i64(3)}) == "he");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(-5), i64(7)}) == "h");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(4), i64(100)}) == "lo");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(6)}) == "");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(2), i64(0)}) == "");
  CHECK(ev.text("SUBSTRING", {str("héllo wörld"), i64(2), i64(4)}) == "éllo");
  CHECK(ev.text("SUBSTRING", {str("日本語テキスト"), i64(3), i64(2)}) == "語テ");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(INT64_MAX), i64(INT64_MAX)}) == "");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(INT64_MIN), i64(INT64_MAX)}) == "");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(INT64_MIN)}) == "hello");
  CHECK(ev.text("SUBSTRING", {str("hello"), i64(2), i64(INT64_MAX)}) == "ello");
  Result r = ev.call("SUBSTRING", {str("hello"), i64(1), i64(-1)});
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(r.message == "SUBSTRING: length must not be negative, got -1");
  CHECK(ev.call("SUBSTRING", {str("hello"), null_of(DataType::bigint())}).is_null());
}

TEST_CASE("TRIM, LTRIM, RTRIM with default and given characters", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("TRIM", {str("  a b  ")}) == "a b");
  CHECK(ev.text("LTRIM", {str("  a b  ")}) == "a b  ");
  CHECK(ev.text("RTRIM", {str("  a b  ")}) == "  a b");
  CHECK(ev.text("TRIM", {str("\tx\t")}) == "\tx\t");  // only spaces by default
  CHECK(ev.text("TRIM", {str("xxhixyx"), str("xy")}) == "hi");
  CHECK(ev.text("TRIM", {str("··中文··"), str("·")}) == "中文");
  CHECK(ev.text("RTRIM", {str("éaé"), str("é")}) == "éa");
  CHECK(ev.text("TRIM", {str("    ")}) == "");
  CHECK(ev.text("TRIM", {str("abc"), str("")}) == "abc");
  CHECK(ev.call("TRIM", {str("abc"), null_lit()}).is_null());
}

TEST_CASE("CONCAT converts any type and is NULL when any argument is NULL", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("CONCAT", {str("a"), str("b"), str("c")}) == "abc");
  CHECK(ev.text("CONCAT", {str("n="), i64(42), str(" d="), dec("1.50"), str(" b="),
                           boolean(true)}) == "n=42 d=1.50 b=true");
  CHECK(ev.text("CONCAT", {str("t="), ts(0)}) == "t=1970-01-01T00:00:00.000Z");
  CHECK(ev.call("CONCAT", {str("a"), null_of(DataType::string())}).is_null());
  CHECK(ev.text("CONCAT", {str("")}) == "");
  CHECK(ev.text("CONCAT", {str("日本"), str("語")}) == "日本語");
  CHECK(bind_error("CONCAT", {}) == "SQL_TYPE: CONCAT takes (value, ...), got ()");
}

TEST_CASE("CONCAT_WS skips NULL values", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("CONCAT_WS", {str("-"), str("a"), null_of(DataType::string()), str("c")}) == "a-c");
  CHECK(ev.text("CONCAT_WS", {str(", "), i64(1), f64(2.5)}) == "1, 2.5");
  CHECK(ev.text("CONCAT_WS", {str("-")}) == "");
  CHECK(ev.text("CONCAT_WS", {str("-"), null_lit()}) == "");
  CHECK(ev.call("CONCAT_WS", {null_of(DataType::string()), str("a")}).is_null());
}

TEST_CASE("REPLACE replaces every occurrence", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("REPLACE", {str("a-b-c"), str("-"), str("+")}) == "a+b+c");
  CHECK(ev.text("REPLACE", {str("aaa"), str("aa"), str("b")}) == "ba");
  CHECK(ev.text("REPLACE", {str("abc"), str(""), str("x")}) == "abc");
  CHECK(ev.text("REPLACE", {str("abc"), str("b"), str("")}) == "ac");
  CHECK(ev.text("REPLACE", {str("née née"), str("é"), str("ee")}) == "neee neee");
  CHECK(ev.text("REPLACE", {str("abc"), str("z"), str("y")}) == "abc");
  CHECK(ev.call("REPLACE", {str("abc"), str("b"), null_lit()}).is_null());
}

TEST_CASE("SPLIT_PART", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("SPLIT_PART", {str("a,b,c"), str(","), i64(1)}) == "a");
  CHECK(ev.text("SPLIT_PART", {str("a,b,c"), str(","), i64(3)}) == "c");
  CHECK(ev.text("SPLIT_PART", {str("a,b,c"), str(","), i64(4)}) == "");
  CHECK(ev.text("SPLIT_PART", {str("a::b"), str("::"), i64(2)}) == "b");
  CHECK(ev.text("SPLIT_PART", {str(",a,"), str(","), i64(1)}) == "");
  CHECK(ev.text("SPLIT_PART", {str("abc"), str(""), i64(1)}) == "abc");
  CHECK(ev.text("SPLIT_PART", {str("abc"), str(""), i64(2)}) == "");
  Result r = ev.call("SPLIT_PART", {str("a,b"), str(","), i64(0)});
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(r.message == "SPLIT_PART: field position must be greater than zero, got 0");
  CHECK(ev.call("SPLIT_PART", {str("a,b"), str(","), i64(-1)}).failed);
}

TEST_CASE("LEFT, RIGHT, REVERSE", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("LEFT", {str("héllo"), i64(2)}) == "hé");
  CHECK(ev.text("LEFT", {str("héllo"), i64(-2)}) == "hél");
  CHECK(ev.text("LEFT", {str("abc"), i64(10)}) == "abc");
  CHECK(ev.text("LEFT", {str("abc"), i64(-10)}) == "");
  CHECK(ev.text("LEFT", {str("abc"), i64(INT64_MIN)}) == "");
  CHECK(ev.text("RIGHT", {str("héllo"), i64(4)}) == "éllo");
  CHECK(ev.text("RIGHT", {str("héllo"), i64(-1)}) == "éllo");
  CHECK(ev.text("RIGHT", {str("abc"), i64(10)}) == "abc");
  CHECK(ev.text("RIGHT", {str("abc"), i64(0)}) == "");
  CHECK(ev.text("RIGHT", {str("abc"), i64(INT64_MIN)}) == "");
  CHECK(ev.text("REVERSE", {str("abc")}) == "cba");
  CHECK(ev.text("REVERSE", {str("añb日😀")}) == "😀日bña");
  CHECK(ev.text("REVERSE", {str("")}) == "");
}

TEST_CASE("LPAD and RPAD", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("LPAD", {str("7"), i64(3), str("0")}) == "007");
  CHECK(ev.text("LPAD", {str("hi"), i64(5)}) == "   hi");
  CHECK(ev.text("RPAD", {str("hi"), i64(5), str("xy")}) == "hixyx");
  CHECK(ev.text("LPAD", {str("hi"), i64(6), str("ab")}) == "ababhi");
  CHECK(ev.text("LPAD", {str("hello"), i64(3)}) == "hel");
  CHECK(ev.text("RPAD", {str("hello"), i64(3)}) == "hel");
  CHECK(ev.text("LPAD", {str("é"), i64(3), str("ü")}) == "üüé");
  CHECK(ev.text("LPAD", {str("hi"), i64(-1)}) == "");
  CHECK(ev.text("LPAD", {str("hi"), i64(5), str("")}) == "hi");
  Result r = ev.call("RPAD", {str("x"), i64(INT64_MAX), str("ab")});
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(r.message.starts_with("RPAD: result too large"));
}

TEST_CASE("POSITION, INSTR, STARTS_WITH, ENDS_WITH", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("POSITION", {str("hello"), str("ll")}) == "3");
  CHECK(ev.text("INSTR", {str("héllo"), str("llo")}) == "3");
  CHECK(ev.text("POSITION", {str("hello"), str("z")}) == "0");
  CHECK(ev.text("POSITION", {str("hello"), str("")}) == "1");
  CHECK(ev.text("STARTS_WITH", {str("hello"), str("he")}) == "true");
  CHECK(ev.text("STARTS_WITH", {str("hello"), str("lo")}) == "false");
  CHECK(ev.text("ENDS_WITH", {str("hello"), str("lo")}) == "true");
  CHECK(ev.text("ENDS_WITH", {str("hello"), str("")}) == "true");
  CHECK(ev.call("ENDS_WITH", {str("x"), str("y")}).type == DataType::boolean());
  CHECK(ev.call("STARTS_WITH", {null_lit(), str("y")}).is_null());
}

}  // namespace
}  // namespace sluice::functions::testing
