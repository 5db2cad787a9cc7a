#pragma once
// The first stage of every pipeline (`sluice run`'s file run and the daemon's partition
// pipelines): decodes input records into the engine's row format, fills the system columns
// (_key, _timestamp, _partition, _offset), reads each record's event time into the pipeline's
// watermark tracker, and collects the records that fail (DECODE) in input order. Also runs the
// query over a decoded batch, advances the watermark and settles the batch's rejections in input
// order. Owned by one pipeline (one strand); not thread-safe.

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "exec/watermark.hpp"
#include "format/json.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sluice::server {

// The system columns of one input record.
struct RecordMeta {
  std::optional<std::string_view> key;  // nullopt: no key
  std::optional<int64_t> timestamp_ms;  // the record's own timestamp (Kafka CreateTime/LogAppend)
  exec::RecordPosition position;
};

class InputStage {
 public:
  // One input (a file, or one Kafka partition) feeds the watermark.
  InputStage(const config::JobConfig& job, const exec::Query& query, int64_t now_ms);

  // Starts a batch: clears the input rows and the last batch's rejections; `now_ms` is the
  // batch's processing time.
  void begin(int64_t now_ms);
  // Decodes one record into the batch, or adds it to the failures.
  void add(std::string_view value, const RecordMeta& meta);
  // A record that cannot be decoded at all (e.g. a Kafka record without a value).
  void reject(exec::RecordPosition position, RecordError error) {
    failures_.push_back({position, std::move(error)});
  }

  // Runs the query over the batch and, when the query has an event time, advances the watermark
  // and lets the query emit what closed. `emit` receives each output batch (maybe several).
  // Afterwards `rejections()` holds the batch's decode and evaluation failures, in input order.
  template <typename Emit>
  void run(exec::ExecContext& ctx, Emit&& emit) {
    emit(query_.process(*state_, input_, ctx));
    if (query_.event_time()) {
      auto wm = watermarks_.advance(batch_now_);
      if (wm && *wm > watermark_) {  // never back past a restored watermark
        watermark_ = *wm;
        emit(query_.on_watermark(*state_, *wm, ctx));
      }
    }
    settle(ctx);
  }

  // Repartitioning: hands the decoded batch itself to `emit`, without running the query; the
  // records that failed to decode are in `rejections()` afterwards.
  template <typename Emit>
  void route(exec::ExecContext& ctx, Emit&& emit) {
    emit(input_);
    settle(ctx);
  }

  // End of a bounded input: flushes the query (EMIT FINAL groups, open windows) into `emit`.
  template <typename Emit>
  void close(exec::ExecContext& ctx, Emit&& emit) {
    failures_.clear();
    emit(query_.close(*state_, ctx));
    settle(ctx);
  }

  // Sets the watermark (after a restart: the one stored with the committed offset) without
  // emitting anything: nothing is open yet.
  void restore_watermark(int64_t watermark);

  exec::QueryState& state() { return *state_; }
  const exec::Query& query() const { return query_; }
  int64_t watermark() const { return watermark_; }
  // The decode and evaluation failures of the batch just run, in input order.
  std::vector<exec::Rejection>& rejections() { return failures_; }

 private:
  void settle(exec::ExecContext& ctx);

  const config::JobConfig& job_;
  const exec::Query& query_;
  std::unique_ptr<exec::QueryState> state_;
  format::JsonDecoder decoder_;
  exec::Batch input_;
  exec::WatermarkTracker watermarks_;
  int64_t watermark_ = exec::WatermarkTracker::kNone;  // the last one the query saw
  int64_t batch_now_ = 0;
  std::vector<exec::Rejection> failures_;
};

}  // namespace sluice::server
