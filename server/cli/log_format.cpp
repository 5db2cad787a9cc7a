#include "server/cli/log_format.hpp"

#include "format/json.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>

namespace sluice::server {
namespace {

// `job NAME: ...` -> NAME (job names have no spaces or colons).
std::string_view job_of(std::string_view m) {
  if (!m.starts_with("job ")) return {};
  size_t colon = m.find(':', 4);
  if (colon == std::string_view::npos || colon == 4) return {};
  std::string_view name = m.substr(4, colon - 4);
  return name.find(' ') == std::string_view::npos ? name : std::string_view{};
}

// The N of the first `partition N` (N digits, then not a letter or digit).
std::string_view partition_of(std::string_view m) {
  for (size_t at = m.find("partition "); at != std::string_view::npos;
       at = m.find("partition ", at + 1)) {
    if (at > 0 && std::isalnum(static_cast<unsigned char>(m[at - 1]))) continue;
    size_t begin = at + 10, end = begin;
    while (end < m.size() && std::isdigit(static_cast<unsigned char>(m[end])))
      ++end;
    if (end == begin || end - begin > 9) continue;
    if (end < m.size() && std::isalpha(static_cast<unsigned char>(m[end]))) continue;
    return m.substr(begin, end - begin);
  }
  return {};
}

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs, surrogates or
// code points above U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80                 ? 1
             : c >= 0xC2 && c <= 0xDF ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n >= 3) {
    unsigned char c1 = byte(i + 1);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 >= 0x90))
      return 0;
  }
  return n;
}

// `m` with every byte that is not part of valid UTF-8 replaced by U+FFFD: log messages may quote
// record bytes, and a JSON line must be UTF-8.
std::string valid_utf8(std::string_view m) {
  std::string out;
  out.reserve(m.size());
  for (size_t i = 0; i < m.size();) {
    size_t n = utf8_length(m, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(m.substr(i, n));
      i += n;
    }
  }
  return out;
}

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = json_log_line(msg.time, std::string_view(level.data(), level.size()),
                                     std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string json_log_line(std::chrono::system_clock::time_point time, std::string_view level,
                          std::string_view message) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out = fmt::format(
      "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":", tm.tm_year + 1900,
      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ((ms % 1000) + 1000) % 1000);
  format::append_json_string(level, out);
  out += ",\"message\":";
  format::append_json_string(valid_utf8(message), out);
  std::string_view job = job_of(message);
  if (!job.empty()) {
    out += ",\"job\":";
    format::append_json_string(job, out);
    std::string_view partition = partition_of(message);
    if (!partition.empty()) {
      out += ",\"partition\":";
      out += std::to_string(std::stol(std::string(partition)));  // no leading zeros
    }
  }
  out += '}';
  return out;
}

std::unique_ptr<spdlog::formatter> make_json_log_formatter() {
  return std::make_unique<JsonFormatter>();
}

}  // namespace sluice::server
