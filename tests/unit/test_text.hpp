#pragma once
// Small helpers the unit tests share: type names parsed or refused, and bytes as hex.

#include "types/data_type.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::test {

// The type `text` names (the test fails when it names none).
inline types::DataType type_of(std::string_view text) {
  std::string error;
  auto t = types::parse_type_name(text, &error);
  INFO(std::string(text) << ": " << error);
  REQUIRE(t.has_value());
  return *t;
}

// Why `text` names no type (the check fails when it names one).
inline std::string type_error(std::string_view text) {
  std::string error;
  CHECK_FALSE(types::parse_type_name(text, &error).has_value());
  return error;
}

inline std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

inline std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

}  // namespace sluice::test
