#include "server/pipeline/query_stage.hpp"

#include <algorithm>
#include <iterator>

namespace sluice::server::pipeline {

void QueryStage::restore_watermark(int64_t watermark) {
  if (!query_.event_time() || watermark <= watermark_) return;
  exec::ExecContext ctx;
  query_.on_watermark(*state_, watermark, ctx);  // nothing is open yet: emits nothing
  watermark_ = watermark;
}

void QueryStage::settle(exec::ExecContext& ctx, std::vector<exec::Rejection>& rejections) {
  rejections.insert(rejections.end(), std::make_move_iterator(ctx.rejections.begin()),
                    std::make_move_iterator(ctx.rejections.end()));
  ctx.rejections.clear();
  std::stable_sort(rejections.begin(), rejections.end(), [](const auto& a, const auto& b) {
    return a.position.offset < b.position.offset;
  });
}

}  // namespace sluice::server::pipeline
