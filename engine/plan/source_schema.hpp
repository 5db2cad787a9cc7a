#pragma once
// What a query's FROM can refer to: one named source with typed columns. Every input row holds the
// schema's columns, then the system columns `_key`, `_timestamp`, `_partition`, `_offset`, and,
// only in a query that reads the record's headers (`_headers` or HEADER('name')), `_headers`.
// The headers column is left out of other queries' rows so that their width, which their state
// snapshots depend on, does not change.

#include "format/json.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::plan {

struct SourceSchema {
  SourceSchema() = default;
  SourceSchema(std::string n, std::vector<format::Column> c,
               types::DataType key = types::DataType::string())
      : name(std::move(n)), columns(std::move(c)), key_type(key) {}

  std::string name;
  std::vector<format::Column> columns;
  types::DataType key_type = types::DataType::string();  // `_key`'s (the source's key_type)
  // How `_key` is read (the source's key_format: "kafka", "json", "avro"; "" as "kafka"), for the
  // state fingerprint.
  std::string key_format;
  // A table (kind: table): a changelog, the latest row per `_key`. Only a JOIN reads one.
  bool table = false;
  // The event-time column (source.event_time; empty: the record timestamp `_timestamp`), which
  // a stream–stream join's WITHIN compares.
  std::string event_time;
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

// The headers column: every header of the record, in order, as ksqlDB's HEADERS column has them.
inline constexpr std::string_view kHeadersColumn = "_headers";
// ARRAY<STRUCT<key STRING, value BYTES>>.
types::DataType headers_type();

// The type of system column i of `s`'s rows (`_key` has the source's key type).
inline types::DataType system_column_type(const SourceSchema& s, size_t i) {
  return i == 0 ? s.key_type : kSystemColumns[i].type;
}

// Index of a system column in the input row (kSystemColumns.size(): the headers column).
inline size_t system_column_index(const SourceSchema& s, size_t i) {
  return s.columns.size() + i;
}
inline size_t input_width(const SourceSchema& s, bool headers = false) {
  return s.columns.size() + kSystemColumns.size() + (headers ? 1 : 0);
}
// The width of a source's rows as its decoder writes them: a table's have one more column, a
// BOOLEAN that is TRUE for a tombstone (exec/join.hpp).
inline size_t decoded_width(const SourceSchema& s, bool headers = false) {
  return input_width(s, headers) + (s.table ? 1 : 0);
}

// True when `sql` reads the record's headers: it names `_headers`, or calls HEADER(...).
bool reads_headers(std::string_view sql);

}  // namespace sluice::plan
