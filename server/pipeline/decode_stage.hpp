#pragma once
// DecodeStage: the first stage of every pipeline (`sluice run` and the daemon's partition
// pipelines). It decodes input records into the engine's row format with the system columns
// (_key, _timestamp, _partition, _offset; _headers when the query reads them), reads each record's
// event time into the watermark tracker and collects the records it rejects, in input order:
// - DECODE: the value does not decode, is missing (a tombstone) or has no event time;
//   a table source's value `null` is a tombstone, a row flagged as one (exec/join.hpp);
// - EVENT_TIME: the event time is more than `source.watermark.max_future_skew` ahead of both the
//   record's own timestamp (when it has one) and the processing (wall-clock) time. Such a record
//   would move the watermark for good and make every later record late.
// Owned by one pipeline (one strand); not thread-safe.

#include "config/job_config.hpp"
#include "exec/operator.hpp"
#include "exec/query.hpp"
#include "exec/watermark.hpp"
#include "format/debezium.hpp"
#include "format/json.hpp"
#include "server/pipeline/record.hpp"
#include "server/pipeline/value_format.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sluice::server::pipeline {

// The system columns of one input record.
struct RecordMeta {
  std::optional<std::string_view> key;    // nullopt: no key
  std::optional<int64_t> timestamp_ms;    // the record's own timestamp (Kafka CreateTime/LogAppend)
  std::span<const RecordHeader> headers;  // read only by a query that reads the headers column
  exec::RecordPosition position;
};

class DecodeStage {
 public:
  // One input (a file, or one Kafka partition) feeds the watermark. `now_ms`: steady time.
  // `schemas`: where an Avro source's writer schemas come from (null for JSON).
  DecodeStage(const config::JobConfig& job, const exec::Query& query, int64_t now_ms,
              std::shared_ptr<SchemaSource> schemas = nullptr);
  // One source of a join: rows `width` wide (plan::decoded_width: a table's end with the
  // tombstone flag, exec/join.hpp); `event_time` (may be null) over them.
  DecodeStage(const config::SourceConfig& source, size_t width, const exec::Expression* event_time,
              int64_t now_ms, std::shared_ptr<SchemaSource> schemas = nullptr);

  // True when every record of `records` can be decoded now; false when some need a writer schema
  // not at hand yet, which is being fetched: `ready` is called (from any thread) when one arrives.
  bool prepare(std::span<const InputRecord> records, const std::function<void()>& ready) {
    // Both asked, so every missing id of the batch is fetched at once.
    bool values = !framed_ || framed_->prepare(records, ready);
    bool keys = !key_registry_ || key_registry_->prepare(records, ready);
    return values && keys;
  }

  // Starts a batch: clears the rows and the rejections. `now_ms` is the batch's processing time on
  // the steady clock (idleness), `wall_ms` on the wall clock (the future-skew bound).
  void begin(int64_t now_ms, int64_t wall_ms);
  // Decodes one record into the batch, or rejects it.
  void add(std::string_view value, const RecordMeta& meta);
  // A record that cannot be decoded at all (e.g. a Kafka record without a value).
  void reject(exec::RecordPosition position, RecordError error) {
    rejections_.push_back({position, std::move(error)});
  }

  exec::Batch& batch() { return rows_; }
  // The merged watermark when the batch moved it; nullopt otherwise (see exec::WatermarkTracker).
  std::optional<int64_t> advance_watermark() { return watermarks_.advance(now_ms_); }
  // The watermark in force before each record of the batch, as steps (exec::ExecContext): for the
  // query's operators to judge every record against its own watermark.
  std::span<const exec::WatermarkStep> watermark_steps() const { return steps_; }
  // The batch's rejections so far, in input order.
  std::vector<exec::Rejection>& rejections() { return rejections_; }

 private:
  // Fills the headers column at `out` (ARRAY<STRUCT<key, value>>); false (the row popped and
  // rejected) when it would not fit a nested value.
  bool add_headers(std::span<const RecordHeader> headers, types::Value* out,
                   exec::RecordPosition position);

  const config::SourceConfig& source_;
  const exec::Expression* event_time_;
  format::JsonDecoder decoder_;
  std::unique_ptr<RegistryValueDecoder> framed_;      // format avro or json_sr
  bool json_sr_ = false;                              // format json_sr: decoder_ reads the payload
  std::unique_ptr<format::DebeziumReader> debezium_;  // format debezium_json: the envelope
  exec::Batch rows_;
  bool headers_;           // the query reads the headers column (plan::reads_headers)
  bool plain_key_ = true;  // key_format kafka, STRING: the bytes
  std::unique_ptr<format::JsonValueDecoder> key_json_;  // key_format json
  std::unique_ptr<RegistryValueDecoder> key_registry_;  // key_format avro, protobuf
  std::vector<types::Value> header_items_;
  exec::WatermarkTracker watermarks_;
  int64_t now_ms_ = 0;
  int64_t wall_ms_ = 0;
  std::vector<exec::Rejection> rejections_;
  std::vector<exec::WatermarkStep> steps_;
};

}  // namespace sluice::server::pipeline
