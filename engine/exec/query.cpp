#include "exec/query.hpp"

#include "common/error.hpp"

namespace sluice::exec {

Query::Query(size_t input_width, std::vector<OperatorPtr> ops, std::vector<OutputColumn> output)
    : input_width_(input_width), ops_(std::move(ops)), output_(std::move(output)) {
  SLUICE_ASSERT(!ops_.empty());
}

std::unique_ptr<QueryState> Query::make_state() const {
  auto st = std::make_unique<QueryState>();
  for (const auto& op : ops_) {
    st->states.push_back(op->make_state());
    st->stages.emplace_back(op->output_width());
  }
  return st;
}

Batch& Query::run_from(size_t first, QueryState& st, Batch& input, ExecContext& ctx) const {
  Batch* in = &input;
  for (size_t i = first; i < ops_.size(); ++i) {
    Batch& out = st.stages[i];
    out.clear();
    ops_[i]->process(st.states[i].get(), *in, out, ctx);
    in = &out;
  }
  return *in;
}

Batch& Query::process(QueryState& st, Batch& input, ExecContext& ctx) const {
  return run_from(0, st, input, ctx);
}

Batch& Query::close(QueryState& st, ExecContext& ctx) const {
  // Operator i's final rows flow through operators i+1.. before those close in turn.
  Batch* pending = nullptr;
  for (size_t i = 0; i < ops_.size(); ++i) {
    Batch& out = st.closing.emplace_back(ops_[i]->output_width());
    if (pending != nullptr) ops_[i]->process(st.states[i].get(), *pending, out, ctx);
    ops_[i]->on_close(st.states[i].get(), out, ctx);
    pending = &out;
  }
  return *pending;
}

}  // namespace sluice::exec
