#pragma once
// The log line formats of `sluice serve` and `sluice demo` (--log-format text|json). Text: time,
// level, message. JSON lines: one object per line,
//   {"time":"2026-01-02T03:04:05.678Z","level":"info","message":"job s2: partition 3: resumed",
//    "job":"s2","partition":3}
// where `job` and `partition` are present when the message is about a job (it starts with
// `job NAME:`, as every job-related line does) or one of its partitions (`partition N`).
//
// Pure functions plus an spdlog formatter; spdlog calls the formatter under its sink's mutex.

#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::server {

enum class LogFormat { kText, kJson };

// "text" or "json"; anything else: nullopt.
std::optional<LogFormat> parse_log_format(std::string_view name);

// The JSON object of one log line, without the newline.
std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view message);

// An spdlog formatter writing json_log_line + '\n'.
std::unique_ptr<spdlog::formatter> make_json_log_formatter();

}  // namespace sluice::server
