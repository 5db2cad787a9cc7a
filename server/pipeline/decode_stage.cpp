#include "server/pipeline/decode_stage.hpp"

#include "types/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::server::pipeline {

DecodeStage::DecodeStage(const config::JobConfig& job, const exec::Query& query, int64_t now_ms,
                         std::shared_ptr<SchemaSource> schemas)
    : job_(job),
      query_(query),
      decoder_(job.source.schema, job.source.timestamp_input),
      rows_(query.input_width()),
      watermarks_(1, job.source.max_out_of_orderness_ms, job.source.idle_timeout_ms, now_ms) {
  for (size_t c = 0; c < job.source.schema.size(); ++c) {
    if (job.source.schema[c].name == job.source.event_time)
      decoder_.set_timestamp_input(c, job.source.event_time_input);
  }
  if (job.source.format == "avro") {
    if (!schemas)
      throw Error(ErrorCode::kConfig, "format avro needs a schema_registry (server config)");
    avro_ = std::make_unique<AvroValueDecoder>(std::move(schemas), job.source.schema);
  }
}

void DecodeStage::begin(int64_t now_ms, int64_t wall_ms) {
  rows_.clear();
  rejections_.clear();
  steps_.clear();
  now_ms_ = now_ms;
  wall_ms_ = wall_ms;
}

void DecodeStage::add(std::string_view value, const RecordMeta& meta) {
  types::Value* row = rows_.append_row(meta.position);
  RecordError err;
  bool ok = avro_ ? avro_->decode(value, row, rows_.arena(), &err)
                  : decoder_.decode(value, row, rows_.arena(), &err);
  if (!ok) {
    rows_.pop_row();
    rejections_.push_back({meta.position, std::move(err)});
    return;
  }
  size_t sys = job_.source.schema.size();
  row[sys] = meta.key ? types::Value::string(rows_.arena().copy(*meta.key))
                      : types::Value::make_null(types::TypeId::kString);
  row[sys + 1] = meta.timestamp_ms ? types::Value::timestamp(*meta.timestamp_ms)
                                   : types::Value::make_null(types::TypeId::kTimestamp);
  row[sys + 2] = types::Value::bigint(meta.position.partition);
  row[sys + 3] = types::Value::bigint(meta.position.offset);
  if (!query_.event_time()) return;
  // A record without an event time cannot be placed in any window: rejected (DECODE).
  exec::EvalContext ev;
  types::Value t = query_.event_time()->eval(row, ev);
  if (t.null) {
    rows_.pop_row();
    rejections_.push_back(
        {meta.position, {ErrorCode::kDecode, "the event time (the window's time column) is NULL"}});
    return;
  }
  int64_t reference = std::max(wall_ms_, meta.timestamp_ms.value_or(wall_ms_));
  int64_t skew = job_.source.max_future_skew_ms;
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
