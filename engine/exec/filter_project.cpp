// Stateless operators: filter and project.

#include "exec/expressions.hpp"
#include "exec/operators.hpp"

#include <algorithm>

namespace sluice::exec {
namespace {

class Filter final : public Operator {
 public:
  Filter(ExpressionPtr predicate, size_t width, bool is_having)
      : Operator(width), predicate_(std::move(predicate)), is_having_(is_having) {}

  void process(OperatorState*, Batch& in, Batch& out, ExecContext& ctx) const override {
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
      out.append_row_copy(row, in.position(r));
    }
  }

 private:
  ExpressionPtr predicate_;
  bool is_having_;
};

class Project final : public Operator {
 public:
  explicit Project(std::vector<ExpressionPtr> columns)
      : Operator(columns.size()), columns_(std::move(columns)) {
    for (const auto& c : columns_) {
      identity_ = identity_ && column_index_of(*c) == static_cast<int64_t>(sources_.size());
      sources_.push_back(column_index_of(*c));
    }
  }

  void process(OperatorState*, Batch& in, Batch& out, ExecContext& ctx) const override {
    ctx.eval.arena = &out.arena();
    if (identity_ && in.width() == columns_.size()) {
      // The whole row, in order (e.g. the projection after an aggregate): copy rows as they are.
      for (size_t r = 0; r < in.size(); ++r)
        out.append_row_copy(in.row(r), in.position(r));
      return;
    }
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      Value* dst = out.append_row(in.position(r));
      for (size_t c = 0; c < columns_.size(); ++c) {
        // Plain column references (most select lists) are copied without a virtual call.
        dst[c] = sources_[c] >= 0 ? row[sources_[c]] : columns_[c]->eval(row, ctx.eval);
      }
      if (ctx.eval.failed) {
        out.pop_row();
        ctx.reject(in.position(r));
      }
    }
  }

 private:
  std::vector<ExpressionPtr> columns_;
  std::vector<int64_t> sources_;  // column_index_of each column: -1 when it must be evaluated
  bool identity_ = true;          // column c is input column c, for every c
};

}  // namespace

OperatorPtr make_filter(ExpressionPtr predicate, size_t width, bool is_having) {
  return std::make_unique<Filter>(std::move(predicate), width, is_having);
}

OperatorPtr make_project(std::vector<ExpressionPtr> columns) {
  return std::make_unique<Project>(std::move(columns));
}

}  // namespace sluice::exec
