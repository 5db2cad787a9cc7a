#include "exec/query.hpp"

#include "common/error.hpp"
#include "exec/state_codec.hpp"

namespace sluice::exec {

Query::Query(size_t input_width, std::vector<OperatorPtr> ops, std::vector<OutputColumn> output,
             ExpressionPtr event_time, QueryKeys keys, uint64_t state_fingerprint)
    : input_width_(input_width),
      ops_(std::move(ops)),
      output_(std::move(output)),
      event_time_(std::move(event_time)),
      keys_(std::move(keys)),
      state_fingerprint_(state_fingerprint) {
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

StateSize Query::state_size(const QueryState& st) const {
  StateSize total;
  for (const auto& s : st.states) {
    if (s != nullptr) total += s->size();
  }
  return total;
}

std::optional<int64_t> Query::retained_offset(const QueryState& st) const {
  std::optional<int64_t> min;
  for (const auto& s : st.states) {
    if (s == nullptr) continue;
    std::optional<int64_t> o = s->retained_offset();
    if (o && (!min || *o < *min)) min = o;
  }
  return min;
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

template <typename Flush>
Batch& Query::flush_all(QueryState& st, std::deque<Batch>& batches, ExecContext& ctx,
                        Flush flush) const {
  // Operator i's rows flow through operators i+1.. before those flush in turn.
  while (batches.size() < ops_.size())
    batches.emplace_back(0);
  Batch* pending = nullptr;
  for (size_t i = 0; i < ops_.size(); ++i) {
    Batch& out = batches[i];
    out.reset(ops_[i]->output_width());
    if (pending != nullptr) ops_[i]->process(st.states[i].get(), *pending, out, ctx);
    flush(*ops_[i], st.states[i].get(), out);
    pending = &out;
  }
  return *pending;
}

Batch& Query::on_watermark(QueryState& st, int64_t watermark, ExecContext& ctx) const {
  return flush_all(st, st.flushing, ctx, [&](const Operator& op, OperatorState* s, Batch& out) {
    op.on_watermark(s, watermark, out, ctx);
  });
}

Batch& Query::close(QueryState& st, ExecContext& ctx) const {
  return flush_all(st, st.closing, ctx, [&](const Operator& op, OperatorState* s, Batch& out) {
    op.on_close(s, out, ctx);
  });
}

namespace {

constexpr uint32_t kSnapshotMagic = 0x51534c53;  // "SLSQ"
constexpr uint32_t kSnapshotVersion = 1;

}  // namespace

bool Query::snapshot(const QueryState& st, std::string& out) const {
  size_t start = out.size();
  StateWriter w(out);
  w.u32(kSnapshotMagic);
  w.u32(kSnapshotVersion);
  w.u64(state_fingerprint_);
  w.u32(static_cast<uint32_t>(ops_.size()));
  std::string part;
  for (const auto& s : st.states) {
    w.boolean(s != nullptr);
    if (s == nullptr) continue;
    part.clear();
    StateWriter pw(part);
    if (!s->save(pw)) {
      out.resize(start);
      return false;
    }
    w.bytes(part);
  }
  return true;
}

bool Query::can_snapshot() const {
  std::string out;
  return snapshot(*make_state(), out);
}

void Query::restore(QueryState& st, std::string_view snapshot, const std::string& what) const {
  StateReader r(snapshot, what);
  if (r.u32() != kSnapshotMagic) r.fail("not a sluice state snapshot");
  uint32_t version = r.u32();
  if (version != kSnapshotVersion) r.fail("snapshot version " + std::to_string(version));
  if (r.u64() != state_fingerprint_) {
    r.fail("the snapshot is of another query or source schema (its SQL or columns changed)");
  }
  if (r.u32() != ops_.size()) r.fail("the snapshot has another number of operators");
  for (auto& s : st.states) {
    if (r.boolean() != (s != nullptr)) r.fail("the snapshot has another chain of operators");
    if (s == nullptr) continue;
    StateReader part(r.bytes(), what);
    s->load(part);
    part.expect_end();
  }
  r.expect_end();
}

void OperatorState::load(StateReader& r) {
  r.fail("this operator's state cannot be restored");
}

}  // namespace sluice::exec
