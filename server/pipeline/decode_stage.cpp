#include "server/pipeline/decode_stage.hpp"

#include "format/debezium.hpp"
#include "format/kafka_serde.hpp"
#include "plan/source_schema.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::server::pipeline {

DecodeStage::DecodeStage(const config::JobConfig& job, const exec::Query& query, int64_t now_ms,
                         std::shared_ptr<SchemaSource> schemas)
    : DecodeStage(job.source, query.input_width(0), query.event_time().get(), now_ms,
                  std::move(schemas)) {}

DecodeStage::DecodeStage(const config::SourceConfig& source, size_t width,
                         const exec::Expression* event_time, int64_t now_ms,
                         std::shared_ptr<SchemaSource> schemas)
    : source_(source),
      event_time_(event_time),
      decoder_(source.schema, source.timestamp_input),
      rows_(width),
      headers_(width > source.schema.size() + plan::kSystemColumns.size() + (source.table ? 1 : 0)),
      watermarks_(1, source.max_out_of_orderness_ms, source.idle_timeout_ms, now_ms) {
  plain_key_ = source.key_format == "kafka" && source.key_serde == format::KafkaSerde::kString;
  if (source.key_format == "json") {
    key_json_ = std::make_unique<format::JsonValueDecoder>(format::Column{"_key", source.key_type},
                                                           source.timestamp_input);
  }
  for (size_t c = 0; c < source.schema.size(); ++c) {
    if (source.schema[c].name == source.event_time)
      decoder_.set_timestamp_input(c, source.event_time_input);
  }
  if (source.format == "debezium_json") debezium_ = std::make_unique<format::DebeziumReader>();
  if (std::string_view type = config::registry_type(source.format); !type.empty()) {
    if (!schemas) {
      throw Error(ErrorCode::kConfig,
                  "format " + source.format + " needs a schema_registry (server config)");
    }
    framed_ = std::make_unique<RegistryValueDecoder>(schemas, source.schema, std::string(type));
    json_sr_ = source.format == "json_sr";
  }
  if (std::string_view type = config::registry_type(source.key_format); !type.empty()) {
    if (!schemas) {
      throw Error(ErrorCode::kConfig,
                  "key_format " + source.key_format + " needs a schema_registry (server config)");
    }
    key_registry_ = std::make_unique<RegistryValueDecoder>(
        schemas, std::vector<format::Column>{{"_key", source.key_type}}, std::string(type), true);
  }
}

bool DecodeStage::add_headers(std::span<const RecordHeader> headers, types::Value* out,
                              exec::RecordPosition position) {
  namespace nested = types::nested;
  Arena& arena = rows_.arena();
  header_items_.clear();
  for (const RecordHeader& h : headers) {
    types::Value pair[2] = {
        types::Value::string(h.name),
        h.value ? types::Value::bytes(*h.value) : types::Value::make_null(types::TypeId::kBytes)};
    header_items_.push_back(
        types::Value::nested(types::TypeId::kStruct, nested::build(pair, arena)));
  }
  if (nested::layout_size(header_items_) > nested::kMaxBytes) {
    rows_.pop_row();
    rejections_.push_back(
        {position, {ErrorCode::kDecode, "the record's headers take over 16 MiB"}});
    return false;
  }
  *out = types::Value::nested(types::TypeId::kArray, nested::build(header_items_, arena));
  return true;
}

void DecodeStage::begin(int64_t now_ms, int64_t wall_ms) {
  rows_.clear();
  rejections_.clear();
  steps_.clear();
  now_ms_ = now_ms;
  wall_ms_ = wall_ms;
}

namespace {

// A table's tombstone in a text input: the value `null`.
bool is_null_text(std::string_view value) {
  size_t b = value.find_first_not_of(" \t\r");
  size_t e = value.find_last_not_of(" \t\r");
  return b != std::string_view::npos && value.substr(b, e - b + 1) == "null";
}

}  // namespace

void DecodeStage::add(std::string_view value, const RecordMeta& meta) {
  types::Value* row = rows_.append_row(meta.position);
  RecordError err;
  std::string_view payload;
  bool tombstone = source_.table && is_null_text(value);
  if (debezium_ && !tombstone) {
    format::ChangeEvent change;
    if (!debezium_->read(value, &change, &err)) {
      rows_.pop_row();
      rejections_.push_back({meta.position, std::move(err)});
      return;
    }
    tombstone = change.deleted;
    value = change.after;
  }
  if (tombstone) {
    for (size_t c = 0; c < source_.schema.size(); ++c)
      row[c] = types::Value::null_of(source_.schema[c].type);
  }
  bool ok = tombstone  ? true
            : json_sr_ ? framed_->payload(value, &payload, &err) &&
                             decoder_.decode(payload, row, rows_.arena(), &err)
            : framed_ ? framed_->decode(value, row, rows_.arena(), &err)
                      : decoder_.decode(value, row, rows_.arena(), &err);
  if (!ok) {
    rows_.pop_row();
    rejections_.push_back({meta.position, std::move(err)});
    return;
  }
  size_t sys = source_.schema.size();
  if (!meta.key) {
    row[sys] = types::Value::null_of(source_.key_type);
  } else if (plain_key_) {
    row[sys] = types::Value::string(rows_.arena().copy(*meta.key));
  } else if (!(key_json_       ? key_json_->decode(*meta.key, &row[sys], rows_.arena(), &err)
               : key_registry_ ? key_registry_->decode(*meta.key, &row[sys], rows_.arena(), &err)
                               : format::decode_kafka(source_.key_serde, *meta.key, &row[sys],
                                                      rows_.arena(), &err))) {
    rows_.pop_row();
    err.message =
        fmt::format("the key ({} {}): {}", source_.key_format,
                    source_.key_format == "kafka" ? format::kafka_serde_name(source_.key_serde)
                                                  : source_.key_type.to_string(),
                    err.message);
    rejections_.push_back({meta.position, std::move(err)});
    return;
  }
  row[sys + 1] = meta.timestamp_ms ? types::Value::timestamp(*meta.timestamp_ms)
                                   : types::Value::make_null(types::TypeId::kTimestamp);
  row[sys + 2] = types::Value::bigint(meta.position.partition);
  row[sys + 3] = types::Value::bigint(meta.position.offset);
  if (headers_ && !add_headers(meta.headers, row + sys + 4, meta.position)) return;
  if (source_.table) row[rows_.width() - 1] = types::Value::boolean(tombstone);
  if (event_time_ == nullptr) return;
  // A record without an event time cannot be placed in any window: rejected (DECODE).
  exec::EvalContext ev;
  types::Value t = event_time_->eval(row, ev);
  if (t.null) {
    rows_.pop_row();
    rejections_.push_back(
        {meta.position, {ErrorCode::kDecode, "the event time (the window's time column) is NULL"}});
    return;
  }
  int64_t reference = std::max(wall_ms_, meta.timestamp_ms.value_or(wall_ms_));
  int64_t skew = source_.max_future_skew_ms;
  if (t.i > reference && t.i - reference > skew) {
    rows_.pop_row();
    rejections_.push_back(
        {meta.position,
         {ErrorCode::kEventTime,
          fmt::format("event time {} is more than {} ms ahead of the record's time ({}); see "
                      "source.watermark.max_future_skew",
                      types::time::timestamp_to_string(t.i), skew,
                      types::time::timestamp_to_string(reference))}});
    return;
  }
  // The watermark before this record: where it moved since the last record, a new step.
  int64_t before = watermarks_.peek(now_ms_);
  if (before != exec::WatermarkTracker::kNone &&
      (steps_.empty() || before > steps_.back().watermark))
    steps_.push_back({meta.position.offset, before});
  watermarks_.observe(0, t.i, now_ms_);
}

}  // namespace sluice::server::pipeline
