#pragma once
// Short human-readable numbers for status lines and tables (`sluice serve --status-interval`,
// `sluice status`). Pure functions; any thread.

#include <string>

namespace sluice::server {

// 1234567 -> "1.23M", 12345 -> "12.3K", 123 -> "123".
std::string rate_text(double v);
// A duration in seconds as "850us", "12.5ms" or "1.25s"; negative (unknown) as "-".
std::string seconds_text(double s);

}  // namespace sluice::server
