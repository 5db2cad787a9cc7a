#pragma once
// What a query's FROM can refer to: one named source with typed columns. Every input row holds the
// schema's columns, then the system columns `_key`, `_timestamp`, `_partition`, `_offset`.

#include "format/json.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::plan {

struct SourceSchema {
  std::string name;
  std::vector<format::Column> columns;
};

struct SystemColumn {
  std::string_view name;
  types::DataType type;
};

inline constexpr std::array<SystemColumn, 4> kSystemColumns = {{
    {"_key", types::DataType::string()},
    {"_timestamp", types::DataType::timestamp()},
    {"_partition", types::DataType::bigint()},
    {"_offset", types::DataType::bigint()},
}};

// Index of a system column in the input row.
inline size_t system_column_index(const SourceSchema& s, size_t i) {
  return s.columns.size() + i;
}
inline size_t input_width(const SourceSchema& s) {
  return s.columns.size() + kSystemColumns.size();
}

}  // namespace sluice::plan
