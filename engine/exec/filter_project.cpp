// Stateless operators: filter and project.

#include "exec/expressions.hpp"
#include "exec/operators.hpp"
#include "types/nested.hpp"

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
  Project(std::vector<ExpressionPtr> columns, std::vector<ExpressionPtr> unnest)
      : Operator(columns.size()), columns_(std::move(columns)), unnest_(std::move(unnest)) {
    for (const auto& c : columns_) {
      identity_ = identity_ && column_index_of(*c) == static_cast<int64_t>(sources_.size());
      sources_.push_back(column_index_of(*c));
    }
  }

  void process(OperatorState*, Batch& in, Batch& out, ExecContext& ctx) const override {
    ctx.eval.arena = &out.arena();
    if (!unnest_.empty()) return process_unnest(in, out, ctx);
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
  // EXPLODE: one output row per element of the row's longest exploded ARRAY.
  void process_unnest(Batch& in, Batch& out, ExecContext& ctx) const {
    thread_local std::vector<Value> arrays;
    arrays.resize(unnest_.size());
    for (size_t r = 0; r < in.size(); ++r) {
      const Value* row = in.row(r);
      int64_t n = 0;
      for (size_t k = 0; k < unnest_.size(); ++k) {
        arrays[k] = unnest_[k]->eval(row, ctx.eval);
        types::nested::View view;
        if (!arrays[k].null && types::nested::View::open(arrays[k].str(), &view))
          n = std::max<int64_t>(n, view.size());
      }
      if (ctx.eval.failed) {
        ctx.reject(in.position(r));
        continue;
      }
      if (n == 0) {
        ++ctx.filtered;  // nothing to explode: the row gives no output
        continue;
      }
      ctx.eval.unnest = arrays.data();
      size_t first = out.size();
      for (int64_t i = 0; i < n && !ctx.eval.failed; ++i) {
        ctx.eval.unnest_index = i;
        Value* dst = out.append_row(in.position(r));
        for (size_t c = 0; c < columns_.size(); ++c)
          dst[c] = columns_[c]->eval(row, ctx.eval);
      }
      ctx.eval.unnest = nullptr;
      if (ctx.eval.failed) {  // the input row is rejected: none of its rows goes out
        while (out.size() > first)
          out.pop_row();
        ctx.reject(in.position(r));
      }
    }
  }

  std::vector<ExpressionPtr> columns_;
  std::vector<ExpressionPtr> unnest_;
  std::vector<int64_t> sources_;  // column_index_of each column: -1 when it must be evaluated
  bool identity_ = true;          // column c is input column c, for every c
};

}  // namespace

OperatorPtr make_filter(ExpressionPtr predicate, size_t width, bool is_having) {
  return std::make_unique<Filter>(std::move(predicate), width, is_having);
}

OperatorPtr make_project(std::vector<ExpressionPtr> columns, std::vector<ExpressionPtr> unnest) {
  return std::make_unique<Project>(std::move(columns), std::move(unnest));
}

}  // namespace sluice::exec
