#pragma once
// The environment the config fuzz targets substitute `${VAR}` from: a fixed table, never the
// process environment, so an input behaves the same on every machine. Its values cover what a
// substitution can meet: an empty value, one that looks like a reference itself, a number, a
// host:port list.

#include <optional>
#include <string>
#include <string_view>

namespace sluice::fuzz {

inline std::optional<std::string> fixed_env(const std::string& name) {
  static constexpr std::pair<std::string_view, std::string_view> kVars[] = {
      {"KAFKA_BROKERS", "127.0.0.1:9092,127.0.0.1:9093"},
      {"TOPIC", "trades"},
      {"HOST", "localhost"},
      {"PORT", "9464"},
      {"N", "4"},
      {"EMPTY", ""},
      {"REF", "${TOPIC}"},
      {"DOLLARS", "$$x$"},
      {"SQL", "SELECT * FROM t"},
      {"SLUICE_TOKEN", "secret-token"},
  };
  for (const auto& [k, v] : kVars)
    if (name == k) return std::string(v);
  return std::nullopt;
}

}  // namespace sluice::fuzz
