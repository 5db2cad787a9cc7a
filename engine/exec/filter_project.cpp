// Stateless operators: filter and project.

#include "exec/operators.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

class Filter final : public Operator {
 public:
  Filter(ExpressionPtr predicate, size_t width, bool is_having)
      : Operator(width), predicate_(std::move(predicate)), is_having_(is_having) {}

  void process(OperatorState*, Batch& in, Batch& out, ExecContext& ctx) const override {
    const size_t width = in.width();
    ctx.eval.arena = &out.arena();
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      Value keep = predicate_->eval(row, ctx.eval);
      if (ctx.eval.failed) {
        ctx.reject(in.position(r));
        continue;
      }
      if (keep.null || !keep.b) {
        ++(is_having_ ? ctx.having_dropped : ctx.filtered);
        continue;
      }
      std::copy(row, row + width, out.append_row(in.position(r)));
    }
  }

 private:
  ExpressionPtr predicate_;
  bool is_having_;
};

class Project final : public Operator {
 public:
  explicit Project(std::vector<ExpressionPtr> columns)
      : Operator(columns.size()), columns_(std::move(columns)) {}

  void process(OperatorState*, Batch& in, Batch& out, ExecContext& ctx) const override {
    ctx.eval.arena = &out.arena();
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      Value* dst = out.append_row(in.position(r));
      for (size_t c = 0; c < columns_.size(); ++c)
        dst[c] = columns_[c]->eval(row, ctx.eval);
      if (ctx.eval.failed) {
        out.pop_row();
        ctx.reject(in.position(r));
      }
    }
  }

 private:
  std::vector<ExpressionPtr> columns_;
};

}  // namespace

OperatorPtr make_filter(ExpressionPtr predicate, size_t width, bool is_having) {
  return std::make_unique<Filter>(std::move(predicate), width, is_having);
}

OperatorPtr make_project(std::vector<ExpressionPtr> columns) {
  return std::make_unique<Project>(std::move(columns));
}

}  // namespace sluice::exec
