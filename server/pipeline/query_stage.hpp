#pragma once
// QueryStage: runs the job's query over the decoded rows of a batch with the pipeline's own
// QueryState, advances the event-time watermark (never back past a restored one) and lets the
// query emit what closed. Merges the batch's decode and evaluation rejections, in input order.
// Owned by one pipeline (one strand); not thread-safe.

#include "exec/operator.hpp"
#include "exec/query.hpp"
#include "exec/watermark.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace sluice::server::pipeline {

class QueryStage {
 public:
  // `state`: a state restored from a snapshot (null: a fresh one).
  explicit QueryStage(const exec::Query& query, std::unique_ptr<exec::QueryState> state = nullptr)
      : query_(query), state_(state ? std::move(state) : query.make_state()) {}

  // Runs `rows` through the query; when the query has an event time and `watermark` moved, lets
  // it emit what the watermark closed. `emit` receives each output batch (maybe several).
  // `rejections` (the batch's decode rejections) receives the evaluation rejections, and all of
  // them end up sorted by input offset.
  template <typename Emit>
  void run(exec::Batch& rows, std::optional<int64_t> watermark, exec::ExecContext& ctx,
           std::vector<exec::Rejection>& rejections, Emit&& emit) {
    emit(query_.process(*state_, rows, ctx));
    if (query_.uses_watermark() && watermark && *watermark > watermark_) {
      watermark_ = *watermark;
      emit(query_.on_watermark(*state_, *watermark, ctx));
    }
    settle(ctx, rejections);
  }

  // End of a bounded input: flushes the query (EMIT FINAL groups, open windows) into `emit`.
  template <typename Emit>
  void close(exec::ExecContext& ctx, std::vector<exec::Rejection>& rejections, Emit&& emit) {
    emit(query_.close(*state_, ctx));
    settle(ctx, rejections);
  }

  // Sets the watermark (after a restart: the one stored with the committed offset) without
  // emitting anything: nothing is open yet.
  void restore_watermark(int64_t watermark);

  exec::QueryState& state() { return *state_; }
  const exec::QueryState& state() const { return *state_; }
  const exec::Query& query() const { return query_; }
  // The last watermark the query saw (WatermarkTracker::kNone before the first).
  int64_t watermark() const { return watermark_; }

 private:
  static void settle(exec::ExecContext& ctx, std::vector<exec::Rejection>& rejections);

  const exec::Query& query_;
  std::unique_ptr<exec::QueryState> state_;
  int64_t watermark_ = exec::WatermarkTracker::kNone;
};

}  // namespace sluice::server::pipeline
