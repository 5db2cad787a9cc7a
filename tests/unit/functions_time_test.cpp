// Time functions and EXTRACT fields (UTC).

#include "functions/extract.hpp"

#include <catch2/catch.hpp>

#include <chrono>

#include "functions_test_util.hpp"

namespace sluice::functions::testing {
namespace {

constexpr int64_t kT = 1705314645123;        // 2024-01-15T10:30:45.123Z, a Monday
constexpr int64_t kLeap = 1709251199999;     // 2024-02-29T23:59:59.999Z, a Thursday
constexpr int64_t kBefore = -500;            // 1969-12-31T23:59:59.500Z, a Wednesday
constexpr int64_t kSun2021 = 1609632000000;  // 2021-01-03, ISO week 53 of 2020
constexpr int64_t kMon2024 = 1735516800000;  // 2024-12-30, ISO week 1 of 2025

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

TEST_CASE("DATE_FORMAT pattern letters", "[functions]") {
  Evaluator ev;
  for (bool constant : {true, false}) {
    CHECK(ev.text("DATE_FORMAT", {ts(kT), str("yyyy-MM-dd HH:mm:ss.SSS")}, constant) ==
          "2024-01-15 10:30:45.123");
    CHECK(ev.text("DATE_FORMAT", {ts(kT), str("yy/M/d h:m:s a")}, constant) ==
          "24/1/15 10:30:45 AM");
    CHECK(ev.text("DATE_FORMAT", {ts(kLeap), str("EEE, dd MMM yyyy hh:mm a")}, constant) ==
          "Thu, 29 Feb 2024 11:59 PM");
    CHECK(ev.text("DATE_FORMAT", {ts(kLeap), str("EEEE MMMM D")}, constant) ==
          "Thursday February 60");
    CHECK(ev.text("DATE_FORMAT", {ts(kT), str("yyyy-MM-dd'T'HH:mm:ss.SSSX")}, constant) ==
          "2024-01-15T10:30:45.123Z");
    CHECK(ev.text("DATE_FORMAT", {ts(kT), str("'at' HH 'o''clock' ''")}, constant) ==
          "at 10 o'clock '");
    CHECK(ev.text("DATE_FORMAT", {ts(kT), str("S SS SSSS u Z z")}, constant) ==
          "1 12 1230 1 +0000 UTC");
    CHECK(ev.text("DATE_FORMAT", {ts(kBefore), str("yyyy-MM-dd HH:mm:ss.SSS")}, constant) ==
          "1969-12-31 23:59:59.500");
    CHECK(ev.text("DATE_FORMAT", {ts(0), str("hh k K")}, constant) == "12 24 0");
  }
  // A STRING first argument is cast to TIMESTAMP by the binder.
  CHECK(ev.text("DATE_FORMAT", {str("2024-01-15 10:30:45"), str("dd.MM.yyyy")}) == "15.01.2024");
  CHECK(ev.call("DATE_FORMAT", {null_of(DataType::timestamp()), str("yyyy")}).is_null());
  CHECK(bind_error("DATE_FORMAT", {DataType::timestamp(), DataType::string()},
                   {std::nullopt, Value::string("yyyy-qq")}) ==
        "SQL_TYPE: DATE_FORMAT: invalid date format pattern 'yyyy-qq': unknown pattern letter "
        "'q'");
  CHECK(bind_error("DATE_FORMAT", {DataType::timestamp(), DataType::string()},
                   {std::nullopt, Value::string("'open")}) ==
        "SQL_TYPE: DATE_FORMAT: invalid date format pattern ''open': unterminated quote");
  Result r = ev.call("DATE_FORMAT", {ts(0), str("yyyy-qq")}, false);
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(bind_error("DATE_FORMAT", {DataType::bigint(), DataType::string()}) ==
        "SQL_TYPE: DATE_FORMAT takes (timestamp, pattern), got (BIGINT, STRING)");
}

TEST_CASE("FROM_UNIXTIME", "[functions]") {
  Evaluator ev;
  Result r = ev.call("FROM_UNIXTIME", {i64(1705314645)});
  CHECK(r.type == DataType::timestamp());
  CHECK(r.value.i == 1705314645000);
  CHECK(ev.call("FROM_UNIXTIME", {dec("1705314645.123")}).value.i == kT);
  CHECK(ev.call("FROM_UNIXTIME", {dec("-0.5")}).value.i == -500);
  CHECK(ev.call("FROM_UNIXTIME", {dec("1.0005")}).value.i == 1001);  // nearest millisecond
  CHECK(ev.call("FROM_UNIXTIME", {f64(1.001)}).value.i == 1001);
  CHECK(ev.call("FROM_UNIXTIME", {f64(-1.5)}).value.i == -1500);
  r = ev.call("FROM_UNIXTIME", {i64(1705314645), str("yyyy-MM-dd HH:mm:ss")});
  CHECK(r.type == DataType::string());
  CHECK(r.text() == "2024-01-15 10:30:45");
  CHECK(ev.text("FROM_UNIXTIME", {i64(0), str("yyyy")}, false) == "1970");
  r = ev.call("FROM_UNIXTIME", {i64(INT64_MAX)});
  CHECK(r.code == ErrorCode::kOverflow);
  CHECK(r.message == "FROM_UNIXTIME: 9223372036854775807 is out of the TIMESTAMP range");
  CHECK(ev.call("FROM_UNIXTIME", {f64(1e300)}).code == ErrorCode::kOverflow);
  CHECK(ev.call("FROM_UNIXTIME", {f64(std::nan(""))}).code == ErrorCode::kOverflow);
  CHECK(ev.call("FROM_UNIXTIME", {dec("99999999999999999999999999.5")}).code ==
        ErrorCode::kOverflow);
  CHECK(ev.call("FROM_UNIXTIME", {null_lit()}).is_null());
  CHECK(bind_error("FROM_UNIXTIME", {DataType::string()}) ==
        "SQL_TYPE: FROM_UNIXTIME takes (number[, pattern]), got (STRING)");
}

TEST_CASE("UNIX_TIMESTAMP, TO_TIMESTAMP, NOW", "[functions]") {
  Evaluator ev;
  CHECK(ev.text("UNIX_TIMESTAMP", {ts(kT)}) == "1705314645");
  CHECK(ev.text("UNIX_TIMESTAMP", {ts(kBefore)}) == "-1");  // floor
  CHECK(ev.text("UNIX_TIMESTAMP", {str("2024-01-15T10:30:45.123Z")}) == "1705314645");
  CHECK(ev.text("UNIX_TIMESTAMP", {str("2024-01-15 12:30:45+02:00")}) == "1705314645");
  Result r = ev.call("UNIX_TIMESTAMP", {str("yesterday")});
  CHECK(r.code == ErrorCode::kInvalidArgument);
  CHECK(r.message.starts_with("UNIX_TIMESTAMP: 'yesterday' is not a timestamp"));
  int64_t before = now_ms() / 1000;
  int64_t got = ev.call("UNIX_TIMESTAMP", {}).value.i;
  CHECK(got >= before);
  CHECK(got <= now_ms() / 1000);

  CHECK(ev.call("TO_TIMESTAMP", {str("2024-01-15T10:30:45.123Z")}).value.i == kT);
  CHECK(ev.call("TO_TIMESTAMP", {i64(kT)}).value.i == kT);
  CHECK(ev.call("TO_TIMESTAMP", {i64(kT)}).type == DataType::timestamp());
  CHECK(ev.call("TO_TIMESTAMP", {str("2024-13-01")}).code == ErrorCode::kInvalidArgument);
  CHECK(ev.call("TO_TIMESTAMP", {null_of(DataType::string())}).is_null());

  int64_t t0 = now_ms();
  Result now = ev.call("NOW", {});
  CHECK(now.type == DataType::timestamp());
  CHECK(now.value.i >= t0);
  CHECK(now.value.i <= now_ms());
  CHECK(ev.call("current_timestamp", {}).value.i >= t0);
}

TEST_CASE("DATE_TRUNC", "[functions]") {
  Evaluator ev;
  auto trunc = [&](const char* unit, int64_t ms, bool constant = true) {
    Result r = ev.call("DATE_TRUNC", {str(unit), ts(ms)}, constant);
    return r.failed ? "ERROR: " + r.message : r.text();
  };
  for (bool c : {true, false}) {
    CHECK(trunc("second", kT, c) == "2024-01-15T10:30:45.000Z");
    CHECK(trunc("MINUTE", kT, c) == "2024-01-15T10:30:00.000Z");
    CHECK(trunc("hours", kT, c) == "2024-01-15T10:00:00.000Z");
    CHECK(trunc("day", kT, c) == "2024-01-15T00:00:00.000Z");
    CHECK(trunc("week", kLeap, c) == "2024-02-26T00:00:00.000Z");
    CHECK(trunc("month", kLeap, c) == "2024-02-01T00:00:00.000Z");
    CHECK(trunc("quarter", kLeap, c) == "2024-01-01T00:00:00.000Z");
    CHECK(trunc("year", kLeap, c) == "2024-01-01T00:00:00.000Z");
    CHECK(trunc("millisecond", kT, c) == "2024-01-15T10:30:45.123Z");
    CHECK(trunc("second", kBefore, c) == "1969-12-31T23:59:59.000Z");
    CHECK(trunc("week", kBefore, c) == "1969-12-29T00:00:00.000Z");
  }
  CHECK(trunc("fortnight", kT, false) ==
        "ERROR: DATE_TRUNC: unknown unit 'fortnight'; expected one of millisecond, second, "
        "minute, hour, day, week, month, quarter, year");
  CHECK(bind_error("DATE_TRUNC", {DataType::string(), DataType::timestamp()},
                   {Value::string("fortnight"), std::nullopt}) ==
        "SQL_TYPE: DATE_TRUNC: unknown unit 'fortnight'; expected one of millisecond, second, "
        "minute, hour, day, week, month, quarter, year");
  CHECK(ev.call("DATE_TRUNC", {str("day"), null_of(DataType::timestamp())}).is_null());
}

TEST_CASE("TIMESTAMPADD", "[functions]") {
  Evaluator ev;
  auto add = [&](const char* unit, int64_t n, int64_t ms) {
    Result r = ev.call("TIMESTAMPADD", {str(unit), i64(n), ts(ms)});
    return r.failed ? "ERROR: " + r.message : r.text();
  };
  CHECK(add("second", 15, kT) == "2024-01-15T10:31:00.123Z");
  CHECK(add("day", -15, kT) == "2023-12-31T10:30:45.123Z");
  CHECK(add("week", 1, kT) == "2024-01-22T10:30:45.123Z");
  CHECK(add("month", 1, 1706659200000) == "2024-02-29T00:00:00.000Z");  // from Jan 31
  CHECK(add("year", 1, kLeap) == "2025-02-28T23:59:59.999Z");
  CHECK(add("quarter", -1, kT) == "2023-10-15T10:30:45.123Z");
  CHECK(add("month", -13, kT) == "2022-12-15T10:30:45.123Z");
  CHECK(add("day", INT64_MAX, kT) == "ERROR: TIMESTAMPADD: result is out of the TIMESTAMP range");
  CHECK(add("year", INT64_MAX / 12, kT).starts_with("ERROR"));
}

TEST_CASE("EXTRACT fields", "[functions]") {
  using F = ExtractField;
  CHECK(extract(F::kYear, kT) == 2024);
  CHECK(extract(F::kQuarter, kT) == 1);
  CHECK(extract(F::kQuarter, 1735516800000) == 4);
  CHECK(extract(F::kMonth, kLeap) == 2);
  CHECK(extract(F::kDay, kLeap) == 29);
  CHECK(extract(F::kDow, kT) == 1);
  CHECK(extract(F::kDow, kSun2021) == 7);
  CHECK(extract(F::kDoy, kLeap) == 60);
  CHECK(extract(F::kHour, kT) == 10);
  CHECK(extract(F::kMinute, kT) == 30);
  CHECK(extract(F::kSecond, kT) == 45);
  CHECK(extract(F::kMillisecond, kT) == 123);
  CHECK(extract(F::kEpoch, kT) == 1705314645);
  CHECK(extract(F::kWeek, kT) == 3);
  CHECK(extract(F::kWeek, kSun2021) == 53);
  CHECK(extract(F::kWeek, kMon2024) == 1);
  CHECK(extract(F::kWeek, 1609416000000) == 53);  // 2020-12-31
  CHECK(extract(F::kYear, kBefore) == 1969);
  CHECK(extract(F::kHour, kBefore) == 23);
  CHECK(extract(F::kSecond, kBefore) == 59);
  CHECK(extract(F::kMillisecond, kBefore) == 500);
  CHECK(extract(F::kEpoch, kBefore) == -1);
  CHECK(extract(F::kWeek, kBefore) == 1);

  CHECK(parse_extract_field("year") == F::kYear);
  CHECK(parse_extract_field("DOW") == F::kDow);
  CHECK(parse_extract_field("DayOfYear") == F::kDoy);
  CHECK_FALSE(parse_extract_field("fortnight").has_value());
}

}  // namespace
}  // namespace sluice::functions::testing
