// Aggregate functions: result types, NULL/empty groups, DISTINCT, exact decimals, state ownership.

#include "functions/aggregate.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "functions_test_util.hpp"

namespace sluice::functions::testing {
namespace {

Value d(std::string_view text) {
  return dec(text).value;
}
Value n() {
  return Value::make_null();
}
Value s(std::string_view x) {
  return Value::string(x);
}
Value i(int64_t x) {
  return Value::bigint(x);
}
Value f(double x) {
  return Value::float64(x);
}

TEST_CASE("aggregate registry", "[functions]") {
  std::vector<std::string> names = aggregate_function_names();
  for (const char* name :
       {"COUNT", "SUM", "AVG", "MIN", "MAX", "FIRST_VALUE", "LAST_VALUE", "STDDEV", "STDDEV_SAMP",
        "STDDEV_POP", "VARIANCE", "VAR_SAMP", "VAR_POP"}) {
    INFO(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    CHECK(is_aggregate_function(name));
  }
  CHECK(is_aggregate_function("count"));
  CHECK_FALSE(is_aggregate_function("UPPER"));
  CHECK(agg_bind_error("SUMM", {DataType::bigint()}) ==
        "SQL_UNKNOWN_FUNCTION: unknown function 'SUMM'; did you mean 'SUM'?");
  CHECK(agg_bind_error("SUM", {DataType::string()}) ==
        "SQL_TYPE: SUM takes (number), got (STRING)");
  CHECK(agg_bind_error("AVG", {DataType::timestamp()}) ==
        "SQL_TYPE: AVG takes (number), got (TIMESTAMP)");
  CHECK(agg_bind_error("SUM", {}, false, true) == "SQL_TYPE: SUM takes (number), got (*)");
  CHECK(agg_bind_error("COUNT", {}, true, true) == "SQL_TYPE: COUNT(DISTINCT *) is not valid");
  CHECK(agg_bind_error("MIN", {DataType::bigint(), DataType::bigint()}) ==
        "SQL_TYPE: MIN takes (value), got (BIGINT, BIGINT)");
  CHECK(agg_bind_error("STDDEV", {DataType::string()}) ==
        "SQL_TYPE: STDDEV takes (number), got (STRING)");
  CHECK(agg_bind_error("COUNT", {DataType::string()}).empty());
}

TEST_CASE("COUNT(*), COUNT(x), COUNT(DISTINCT x)", "[functions]") {
  Result r = run_aggregate("COUNT", DataType::null(), {i(1), n(), i(2)}, false, true);
  CHECK(r.type == DataType::bigint());
  CHECK(r.text() == "3");
  CHECK(run_aggregate("COUNT", DataType::bigint(), {i(1), n(), i(1)}).text() == "2");
  CHECK(run_aggregate("COUNT", DataType::bigint(), {}).text() == "0");
  CHECK(run_aggregate("count", DataType::null(), {}, false, true).text() == "0");
  CHECK(run_aggregate("COUNT", DataType::bigint(), {i(1), n(), i(1), i(2)}, true).text() == "2");
  CHECK(run_aggregate("COUNT", DataType::string(), {s("a"), s("b"), s("a"), s("")}, true).text() ==
        "3");
  CHECK(run_aggregate("COUNT", DataType::decimal(4, 2), {d("1.50"), d("1.50"), d("2.00")}, true)
            .text() == "2");
  CHECK(run_aggregate("COUNT", DataType::float64(), {f(0.0), f(-0.0), f(1.0)}, true).text() == "2");
}

TEST_CASE("SUM keeps BIGINT exact and reports overflow at finalize", "[functions]") {
  Result r = run_aggregate("SUM", DataType::bigint(), {i(1), n(), i(2), i(3)});
  CHECK(r.type == DataType::bigint());
  CHECK(r.text() == "6");
  CHECK(run_aggregate("SUM", DataType::bigint(), {}).is_null());
  CHECK(run_aggregate("SUM", DataType::bigint(), {n(), n()}).is_null());
  // Passing through values above INT64_MAX is fine when the total fits.
  CHECK(run_aggregate("SUM", DataType::bigint(), {i(INT64_MAX), i(10), i(-20)}).text() ==
        std::to_string(INT64_MAX - 10));
  r = run_aggregate("SUM", DataType::bigint(), {i(INT64_MAX), i(1)});
  CHECK(r.failed);
  CHECK(r.code == ErrorCode::kOverflow);
  CHECK(r.message == "SUM: result overflows BIGINT");
  CHECK(run_aggregate("SUM", DataType::bigint(), {i(2), i(2), i(3)}, true).text() == "5");
  r = run_aggregate("SUM", DataType::interval(), {Value::interval(1000), Value::interval(500)});
  CHECK(r.type == DataType::interval());
  CHECK(r.value.i == 1500);
}

TEST_CASE("SUM of DECIMAL is exact with precision 38", "[functions]") {
  std::vector<Value> tenths(10, d("0.1"));
  Result r = run_aggregate("SUM", DataType::decimal(2, 1), tenths);
  CHECK(r.type == DataType::decimal(38, 1));
  CHECK(r.text() == "1.0");
  CHECK(r.value.dec == 10);
  CHECK(run_aggregate("SUM", DataType::decimal(5, 2), {d("1.25"), n(), d("-0.50")}).text() ==
        "0.75");
  CHECK(run_aggregate("SUM", DataType::decimal(5, 2), {d("1.25"), d("1.25"), d("0.50")}, true)
            .text() == "1.75");
  // 10^37 * 20 does not fit 38 digits.
  Value big = Value::decimal(types::decimal::pow10(37), 0);
  r = run_aggregate("SUM", DataType::decimal(38, 0), std::vector<Value>(20, big));
  CHECK(r.code == ErrorCode::kOverflow);
  CHECK(r.message == "SUM: result overflows DECIMAL(38)");
  // Overflowing the 128-bit accumulator is also caught.
  Value huge = Value::decimal(types::decimal::pow10(38) - 1, 0);
  CHECK(run_aggregate("SUM", DataType::decimal(38, 0), std::vector<Value>(200, huge)).failed);
}

TEST_CASE("SUM and AVG of DOUBLE", "[functions]") {
  Result r = run_aggregate("SUM", DataType::float64(), {f(0.5), f(0.25), n()});
  CHECK(r.type == DataType::float64());
  CHECK(r.value.d == 0.75);
  r = run_aggregate("AVG", DataType::float64(), {f(1), f(2), n(), f(4)});
  CHECK(r.type == DataType::float64());
  CHECK(std::abs(r.value.d - 7.0 / 3) < 1e-15);
  CHECK(run_aggregate("AVG", DataType::float64(), {}).is_null());
  CHECK(run_aggregate("AVG", DataType::float64(), {f(1), f(1), f(4)}, true).value.d == 2.5);
}

TEST_CASE("AVG of BIGINT is DOUBLE, of DECIMAL is exact", "[functions]") {
  Result r = run_aggregate("AVG", DataType::bigint(), {i(1), i(2), n()});
  CHECK(r.type == DataType::float64());
  CHECK(r.value.d == 1.5);
  CHECK(run_aggregate("AVG", DataType::bigint(), {i(INT64_MAX), i(INT64_MAX)}).value.d ==
        static_cast<double>(INT64_MAX));
  CHECK(run_aggregate("AVG", DataType::bigint(), {i(1), i(1), i(2)}, true).value.d == 1.5);
  CHECK(run_aggregate("AVG", DataType::bigint(), {n()}).is_null());

  r = run_aggregate("AVG", DataType::decimal(4, 2), {d("1.00"), d("2.00"), d("2.00")});
  CHECK(r.type == DataType::decimal(38, 6));
  CHECK(r.text() == "1.666667");  // half away from zero
  r = run_aggregate("AVG", DataType::decimal(4, 2), {d("-1.00"), d("-2.00"), d("-2.00")});
  CHECK(r.text() == "-1.666667");
  r = run_aggregate("AVG", DataType::decimal(12, 8), {d("0.12345678"), d("0.12345679")});
  CHECK(r.type == DataType::decimal(38, 8));
  CHECK(r.text() == "0.12345679");  // 0.123456785 rounds up
  std::vector<Value> tenths(10, d("0.1"));
  CHECK(run_aggregate("AVG", DataType::decimal(2, 1), tenths).text() == "0.100000");
  CHECK(run_aggregate("AVG", DataType::decimal(2, 1), tenths, true).text() == "0.100000");
  CHECK(run_aggregate("AVG", DataType::decimal(2, 1), {}).is_null());
}

TEST_CASE("MIN and MAX over every comparable type", "[functions]") {
  CHECK(run_aggregate("MIN", DataType::bigint(), {i(3), n(), i(-1), i(2)}).text() == "-1");
  CHECK(run_aggregate("MAX", DataType::bigint(), {i(3), n(), i(-1), i(2)}).text() == "3");
  Result r = run_aggregate("MAX", DataType::decimal(5, 2), {d("1.50"), d("10.25"), d("-3.00")});
  CHECK(r.type == DataType::decimal(5, 2));
  CHECK(r.text() == "10.25");
  CHECK(run_aggregate("MIN", DataType::float64(), {f(2.5), f(-0.5)}).value.d == -0.5);
  CHECK(run_aggregate("MAX", DataType::boolean(), {Value::boolean(false), Value::boolean(true)})
            .text() == "true");
  CHECK(run_aggregate("MIN", DataType::timestamp(), {Value::timestamp(5), Value::timestamp(2)})
            .value.i == 2);
  CHECK(run_aggregate("MAX", DataType::interval(), {Value::interval(5), Value::interval(9)})
            .value.i == 9);
  CHECK(run_aggregate("MIN", DataType::bigint(), {}).is_null());
  CHECK(run_aggregate("MAX", DataType::string(), {n()}).is_null());
  CHECK(run_aggregate("MAX", DataType::bigint(), {i(1), i(5), i(5)}, true).text() == "5");
}

TEST_CASE("MIN/MAX/FIRST/LAST own their strings", "[functions]") {
  // The rows' bytes are overwritten after each update: the state must have copied them.
  BoundAggregate agg =
      bind_aggregate("MAX", std::vector<DataType>{DataType::string()}, false, false);
  BoundAggregate first =
      bind_aggregate("FIRST_VALUE", std::vector<DataType>{DataType::string()}, false, false);
  void* st = ::operator new(agg.state_size, std::align_val_t(agg.state_align));
  void* st2 = ::operator new(first.state_size, std::align_val_t(first.state_align));
  agg.init(st);
  first.init(st2);
  std::string buf;
  for (const char* row : {"banana", "apple", "cherry pie", "cherry", "avocado"}) {
    buf = row;
    Value v = Value::string(buf);
    agg.update(st, &v);
    first.update(st2, &v);
    std::fill(buf.begin(), buf.end(), 'z');
  }
  Arena arena;
  exec::EvalContext ctx;
  CHECK(types::to_text(agg.finalize(st, arena, ctx)) == "cherry pie");
  CHECK(types::to_text(first.finalize(st2, arena, ctx)) == "banana");
  agg.destroy(st);
  first.destroy(st2);
  ::operator delete(st, std::align_val_t(agg.state_align));
  ::operator delete(st2, std::align_val_t(first.state_align));

  CHECK(run_aggregate("MIN", DataType::string(), {s("pear"), s("Äpfel"), s("apple"), n()}).text() ==
        "apple");
  CHECK(run_aggregate("MAX", DataType::string(), {s("pear"), s("Äpfel"), s("apple")}).text() ==
        "Äpfel");
  CHECK(run_aggregate("MIN", DataType::string(), {s("b"), s("")}).text() == "");
}

TEST_CASE("FIRST_VALUE and LAST_VALUE skip NULLs", "[functions]") {
  CHECK(run_aggregate("FIRST_VALUE", DataType::bigint(), {n(), i(7), i(8), n()}).text() == "7");
  CHECK(run_aggregate("LAST_VALUE", DataType::bigint(), {n(), i(7), i(8), n()}).text() == "8");
  CHECK(
      run_aggregate("LAST_VALUE", DataType::string(), {s("a"), s("longer value"), s("b")}).text() ==
      "b");
  Result r = run_aggregate("FIRST_VALUE", DataType::decimal(4, 2), {d("1.25"), d("2.50")});
  CHECK(r.type == DataType::decimal(4, 2));
  CHECK(r.text() == "1.25");
  CHECK(run_aggregate("FIRST_VALUE", DataType::string(), {n()}).is_null());
  CHECK(run_aggregate("LAST_VALUE", DataType::timestamp(), {}).is_null());
  CHECK(run_aggregate("LAST_VALUE", DataType::bigint(), {i(1), i(2), i(1)}, true).text() == "2");
}

TEST_CASE("variance and standard deviation", "[functions]") {
  std::vector<Value> xs = {i(2), i(4), i(4), i(4), i(5), i(5), i(7), i(9), n()};
  CHECK(run_aggregate("VAR_POP", DataType::bigint(), xs).value.d == Approx(4.0));
  CHECK(run_aggregate("STDDEV_POP", DataType::bigint(), xs).value.d == Approx(2.0));
  CHECK(run_aggregate("VAR_SAMP", DataType::bigint(), xs).value.d == Approx(32.0 / 7));
  CHECK(run_aggregate("VARIANCE", DataType::bigint(), xs).value.d == Approx(32.0 / 7));
  CHECK(run_aggregate("STDDEV_SAMP", DataType::bigint(), xs).value.d ==
        Approx(std::sqrt(32.0 / 7)));
  Result r = run_aggregate("STDDEV", DataType::decimal(3, 1), {d("1.5"), d("2.5")});
  CHECK(r.type == DataType::float64());
  CHECK(r.value.d == Approx(std::sqrt(0.5)));
  CHECK(run_aggregate("STDDEV", DataType::float64(), {f(1)}).is_null());
  CHECK(run_aggregate("VAR_SAMP", DataType::float64(), {f(1)}).is_null());
  CHECK(run_aggregate("VAR_POP", DataType::float64(), {f(1)}).value.d == 0.0);
  CHECK(run_aggregate("VAR_POP", DataType::float64(), {}).is_null());
  // Welford stays accurate with a large offset.
  std::vector<Value> shifted;
  for (double x : {4.0, 7.0, 13.0, 16.0})
    shifted.push_back(f(1e9 + x));
  CHECK(run_aggregate("VAR_SAMP", DataType::float64(), shifted).value.d == Approx(30.0));
  CHECK(run_aggregate("VAR_POP", DataType::bigint(), {i(1), i(1), i(3)}, true).value.d ==
        Approx(1.0));
  CHECK(run_aggregate("VAR_POP", DataType::float64(), std::vector<Value>(5, f(0.1))).value.d ==
        0.0);
}

TEST_CASE("aggregate states are aligned and sized for a group block", "[functions]") {
  for (const char* name : {"COUNT", "SUM", "AVG", "MIN", "MAX", "FIRST_VALUE", "STDDEV"}) {
    for (bool distinct : {false, true}) {
      for (DataType t : {DataType::bigint(), DataType::decimal(10, 2), DataType::string()}) {
        if (t.id == TypeId::kString &&
            (std::string_view(name) == "SUM" || std::string_view(name) == "AVG" ||
             std::string_view(name) == "STDDEV")) {
          continue;
        }
        BoundAggregate a = bind_aggregate(name, std::vector<DataType>{t}, distinct, false);
        INFO(name << " " << t.to_string() << " distinct=" << distinct);
        CHECK(a.state_size > 0);
        CHECK(a.state_align >= 8);
        CHECK((a.state_align & (a.state_align - 1)) == 0);
        CHECK(a.init != nullptr);
        CHECK(a.update != nullptr);
        CHECK(a.finalize != nullptr);
        CHECK_FALSE(a.takes_nulls);
        if (distinct && std::string_view(name) != "MIN" && std::string_view(name) != "MAX") {
          CHECK(a.destroy != nullptr);
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::functions::testing
