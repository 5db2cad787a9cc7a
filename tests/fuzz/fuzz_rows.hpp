#pragma once
// Rows as text, for the round-trip checks of the record format targets (avro, protobuf): each value
// as SQL prints it, a nested one with its layout bytes too (equal values have equal bytes).

#include "types/value_ops.hpp"

#include <string>
#include <vector>

namespace sluice::fuzz {

inline std::string row_text(const std::vector<types::Value>& row) {
  std::string out;
  for (const auto& v : row) {
    out += types::to_text(v);
    bool nested = v.type == types::TypeId::kStruct || v.type == types::TypeId::kArray ||
                  v.type == types::TypeId::kMap;
    if (nested && !v.null) {
      out += ':';
      out.append(v.str());
    }
    out += "|";
  }
  return out;
}

}  // namespace sluice::fuzz
