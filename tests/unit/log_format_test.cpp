// `--log-format json` lines (server/cli/log_format.hpp): one JSON object, escaped strings, UTC
// time with milliseconds, job and partition taken from job-related messages.

#include "server/cli/log_format.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace sluice;

namespace {

std::chrono::system_clock::time_point at_ms(int64_t ms) {
  return std::chrono::system_clock::time_point{} + std::chrono::milliseconds(ms);
}

}  // namespace

TEST_CASE("log format: names", "[cli]") {
  CHECK(server::parse_log_format("text") == server::LogFormat::kText);
  CHECK(server::parse_log_format("json") == server::LogFormat::kJson);
  CHECK_FALSE(server::parse_log_format("JSON").has_value());
  CHECK_FALSE(server::parse_log_format("").has_value());
}

TEST_CASE("log format: a JSON line with job and partition", "[cli]") {
  // 2023-11-14T22:13:20.123Z
  auto t = at_ms(1'700'000'000'123);
  CHECK(
      server::json_log_line(t, "info", "job s2: partition 3: paused 10 records in flight") ==
      R"x({"time":"2023-11-14T22:13:20.123Z","level":"info",)x"
      R"x("message":"job s2: partition 3: paused 10 records in flight","job":"s2","partition":3})x");
  CHECK(server::json_log_line(t, "warning", "job s2: partition 07 offset 5: skipped: x") ==
        R"x({"time":"2023-11-14T22:13:20.123Z","level":"warning",)x"
        R"x("message":"job s2: partition 07 offset 5: skipped: x","job":"s2","partition":7})x");
  CHECK(server::json_log_line(t, "info", "job trades-1: assigned s2-in [0,1]") ==
        R"x({"time":"2023-11-14T22:13:20.123Z","level":"info",)x"
        R"x("message":"job trades-1: assigned s2-in [0,1]","job":"trades-1"})x");
}

TEST_CASE("log format: lines not about a job, escaping", "[cli]") {
  auto t = at_ms(5);
  CHECK(server::json_log_line(t, "info", "http: listening on 127.0.0.1:9464") ==
        R"x({"time":"1970-01-01T00:00:00.005Z","level":"info",)x"
        R"x("message":"http: listening on 127.0.0.1:9464"})x");
  CHECK(server::json_log_line(t, "error", "job x y: \"quoted\"\n\ttab\x01") ==
        R"x({"time":"1970-01-01T00:00:00.005Z","level":"error",)x"
        R"x("message":"job x y: \"quoted\"\n\ttab\u0001"})x");
  // `partition` inside a word or without a number is not a partition.
  CHECK(server::json_log_line(t, "info", "job a: repartition 4; partition none") ==
        R"x({"time":"1970-01-01T00:00:00.005Z","level":"info",)x"
        R"x("message":"job a: repartition 4; partition none","job":"a"})x");
}

TEST_CASE("log format: bytes that are not UTF-8 become U+FFFD", "[cli]") {
  auto t = at_ms(0);
  CHECK(server::json_log_line(t, "info", "bad \xff\xc3( ok \xc3\xa9 \xe2\x82\xac \xed\xa0\x80") ==
        "{\"time\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"message\":"
        "\"bad \xEF\xBF\xBD\xEF\xBF\xBD( ok \xc3\xa9 \xe2\x82\xac "
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}");
}
