#include "server/pipeline/dead_letter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace sluice::server::pipeline {

void add_dead_letter(const exec::Rejection& rejection, const DeadLetterSource& source,
                     std::optional<std::string_view> key, std::string_view value, size_t max_bytes,
                     OutputBuffer& out, std::optional<size_t> full_size) {
  size_t key_size = key ? key->size() : 0;
  bool key_too_large = key_size > max_bytes / 4;  // a poison-pill key: keep the headers and value
  out.begin(OutputKind::kDeadLetter, key_too_large ? std::nullopt : key, -1,
            rejection.position.offset);
  if (key_too_large) out.add_header("sluice.key.truncated", std::to_string(key_size));
  out.add_header("sluice.error.code", error_code_name(rejection.error.code));
  out.add_header("sluice.error.message", rejection.error.message);
  out.add_header("sluice.source.topic", source.topic);
  out.add_header("sluice.source.partition", fmt::format_int(source.partition).c_str());
  out.add_header("sluice.source.offset", fmt::format_int(rejection.position.offset).c_str());
  out.add_header("sluice.job", source.job);
  size_t fixed = out.last_size();
  size_t room = max_bytes > fixed ? max_bytes - fixed : 0;
  size_t original = std::max(full_size.value_or(0), value.size());
  if (value.size() > room || original > value.size()) {
    std::string full = std::to_string(original);
    constexpr std::string_view kTruncated = "sluice.value.truncated";
    size_t header = kTruncated.size() + full.size();
    out.add_header(kTruncated, full);
    value = value.substr(0, room > header ? room - header : 0);
  }
  out.set_value(value);
}

}  // namespace sluice::server::pipeline
