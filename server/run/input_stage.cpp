#include "server/run/input_stage.hpp"

#include <algorithm>

namespace sluice::server {

InputStage::InputStage(const config::JobConfig& job, const exec::Query& query, int64_t now_ms)
    : job_(job),
      query_(query),
      state_(query.make_state()),
      decoder_(job.source.schema, job.source.timestamp_input),
      input_(query.input_width()),
      watermarks_(1, job.source.max_out_of_orderness_ms, job.source.idle_timeout_ms, now_ms) {
  for (size_t c = 0; c < job.source.schema.size(); ++c) {
    if (job.source.schema[c].name == job.source.event_time)
      decoder_.set_timestamp_input(c, job.source.event_time_input);
  }
}

void InputStage::begin(int64_t now_ms) {
  input_.clear();
  failures_.clear();
  batch_now_ = now_ms;
}

void InputStage::add(std::string_view value, const RecordMeta& meta) {
  types::Value* row = input_.append_row(meta.position);
  RecordError err;
  if (!decoder_.decode(value, row, input_.arena(), &err)) {
    input_.pop_row();
    failures_.push_back({meta.position, std::move(err)});
    return;
  }
  size_t sys = job_.source.schema.size();
  row[sys] = meta.key ? types::Value::string(input_.arena().copy(*meta.key))
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
    input_.pop_row();
    failures_.push_back(
        {meta.position, {ErrorCode::kDecode, "the event time (the window's time column) is NULL"}});
    return;
  }
  watermarks_.observe(0, t.i, batch_now_);
}

void InputStage::restore_watermark(int64_t watermark) {
  if (!query_.event_time() || watermark <= watermark_) return;
  exec::ExecContext ctx;
  query_.on_watermark(*state_, watermark, ctx);  // nothing is open yet: emits nothing
  watermark_ = watermark;
}

void InputStage::settle(exec::ExecContext& ctx) {
  failures_.insert(failures_.end(), std::make_move_iterator(ctx.rejections.begin()),
                   std::make_move_iterator(ctx.rejections.end()));
  ctx.rejections.clear();
  std::stable_sort(failures_.begin(), failures_.end(), [](const auto& a, const auto& b) {
    return a.position.offset < b.position.offset;
  });
}

}  // namespace sluice::server
