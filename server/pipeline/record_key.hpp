#pragma once
// The Kafka record key made from some columns of a row: the sink key of output records (sink.key,
// or the GROUP BY columns) and the group key of repartitioned input records. One STRING column
// is written as its bytes (so a topic keyed by `symbol` upstream hashes the same way); anything
// else as a JSON object of the columns in order, e.g. {"trader_id":"T1","symbol":"SYM1"}.
// A sink's key_format changes that: "kafka" writes its one column through Kafka's primitive
// serializer of its type (format/kafka_serde.hpp), "json" one column as its JSON value ("T1", 42)
// and several as the object, "avro" and "protobuf" (a RegisteredValueEncoder of the key columns,
// make_key_encoder) the Avro or Protobuf key framed for the Schema Registry. A NULL single column
// is no key. Owned by one pipeline (one strand); not thread-safe (it reuses a scratch row).

#include "format/json.hpp"
#include "format/kafka_serde.hpp"
#include "server/pipeline/value_format.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::server::pipeline {

class RecordKey {
 public:
  RecordKey() = default;
  // `columns`: positions in the row; `schema`: the row's columns (names and types).
  RecordKey(std::vector<size_t> columns, const std::vector<format::Column>& schema,
            format::TimestampOutput ts = format::TimestampOutput::kIso8601,
            std::string_view key_format = "",
            std::shared_ptr<const ValueEncoder> registered = nullptr);

  bool empty() const { return columns_.empty(); }
  // The key of `row` into `out` (cleared first). False when there is none: no columns, or a
  // single column that is NULL; or, with `err` set, a key that cannot be written (an Avro DATE
  // beyond int).
  bool encode(const types::Value* row, std::string& out, RecordError* err = nullptr);

 private:
  std::vector<size_t> columns_;
  bool raw_string_ = false;
  std::optional<format::KafkaSerde> serde_;  // key_format kafka
  bool json_value_ = false;                  // key_format json, one column
  types::DataType type_;                     // of the one column
  format::TimestampOutput ts_ = format::TimestampOutput::kIso8601;
  std::vector<format::JsonEncoder> json_;  // zero or one
  std::shared_ptr<const ValueEncoder> registered_;
  std::vector<types::Value> scratch_;
};

}  // namespace sluice::server::pipeline
