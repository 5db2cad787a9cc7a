#pragma once
// The Kafka record key made from some columns of a row: the sink key of output records (sink.key,
// or the GROUP BY columns) and the group key of repartitioned input records. One STRING column
// is written as its bytes (so a topic keyed by `symbol` upstream hashes the same way); anything
// else as a JSON object of the columns in order, e.g. {"trader_id":"T1","symbol":"SYM1"}.
// Owned by one pipeline (one strand); not thread-safe (it reuses a scratch row).

#include "format/json.hpp"

#include <string>
#include <vector>

namespace sluice::server::pipeline {

class RecordKey {
 public:
  RecordKey() = default;
  // `columns`: positions in the row; `schema`: the row's columns (names and types).
  RecordKey(std::vector<size_t> columns, const std::vector<format::Column>& schema,
            format::TimestampOutput ts = format::TimestampOutput::kIso8601);

  bool empty() const { return columns_.empty(); }
  // The key of `row` into `out` (cleared first). False when there is none: no columns, or a
  // single STRING column that is NULL.
  bool encode(const types::Value* row, std::string& out);

 private:
  std::vector<size_t> columns_;
  bool raw_string_ = false;
  std::vector<format::JsonEncoder> json_;  // zero or one
  std::vector<types::Value> scratch_;
};

}  // namespace sluice::server::pipeline
