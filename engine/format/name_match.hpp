#pragma once
// Matching a writer schema's field names (Avro, Protobuf) to a reader's columns or STRUCT fields.

#include "common/ascii.hpp"

#include <cstdint>
#include <vector>

namespace sluice::format {

// For each of `writers` writer fields (`writer_name(w)`), the index among `readers` reader names
// (`reader_name(i)`) it fills, or -1: exact names first, then names that differ only in ASCII
// case; each reader name once.
template <class WriterName, class ReaderName>
std::vector<int32_t> match_names(size_t writers, WriterName writer_name, size_t readers,
                                 ReaderName reader_name) {
  std::vector<int32_t> out(writers, -1);
  std::vector<bool> taken(readers, false);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t w = 0; w < writers; ++w) {
      if (out[w] >= 0) continue;
      const auto& name = writer_name(w);
      for (size_t i = 0; i < readers; ++i) {
        if (taken[i]) continue;
        if (pass == 0 ? name == reader_name(i) : iequals(name, reader_name(i))) {
          out[w] = static_cast<int32_t>(i);
          taken[i] = true;
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace sluice::format
