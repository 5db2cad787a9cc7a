#include "exec/query.hpp"

#include "common/error.hpp"
#include "exec/state_codec.hpp"

namespace sluice::exec {

Query::Query(size_t input_width, std::vector<OperatorPtr> ops, std::vector<OutputColumn> output,
             ExpressionPtr event_time, QueryKeys keys, uint64_t state_fingerprint,
             std::vector<size_t> input_widths)
    : input_width_(input_width),
      input_widths_(input_widths.empty() ? std::vector<size_t>{input_width}
                                         : std::move(input_widths)),
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

namespace {

constexpr uint8_t kChangelogVersion = 1;
constexpr size_t kChangelogPrefix = 1 + 8 + 1;  // version, fingerprint, part

}  // namespace

bool Query::track_changes(QueryState& st) const {
  bool all = true;
  for (auto& s : st.states) {
    if (s != nullptr && !s->track_changes()) all = false;
  }
  return all;
}

bool Query::can_changelog() const {
  return track_changes(*make_state());
}

std::string Query::changelog_key(uint8_t part, std::string_view key) const {
  std::string out;
  out.reserve(kChangelogPrefix + key.size());
  StateWriter w(out);
  w.u8(kChangelogVersion);
  w.u64(state_fingerprint_);
  w.u8(part);
  out.append(key);
  return out;
}

void Query::save_changes(QueryState& st, const ChangeVisitor& out) const {
  std::string full;
  for (size_t i = 0; i < st.states.size(); ++i) {
    if (st.states[i] == nullptr) continue;
    st.states[i]->save_changes([&](std::string_view key, const std::string_view* value) {
      full = changelog_key(static_cast<uint8_t>(i), key);
      out(full, value);
    });
  }
}

OperatorState* Query::change_target(QueryState& st, std::string_view key, const std::string& what,
                                    std::string_view* runtime_key, ChangeOwner& owner,
                                    std::string_view& part_key) const {
  StateReader r(key, what);
  if (r.u8() != kChangelogVersion || r.u64() != state_fingerprint_) {
    owner = ChangeOwner::kForeign;  // another query's (or version's) entry
    return nullptr;
  }
  uint8_t part = r.u8();
  part_key = key.substr(kChangelogPrefix);
  if (part == kRuntimePart) {
    owner = ChangeOwner::kRuntime;
    if (runtime_key != nullptr) *runtime_key = part_key;
    return nullptr;
  }
  if (part >= st.states.size() || st.states[part] == nullptr)
    r.fail("a changelog entry of an operator without state");
  owner = ChangeOwner::kOperator;
  return st.states[part].get();
}

Query::ChangeOwner Query::apply_change(QueryState& st, std::string_view key,
                                       const std::string_view* value, const std::string& what,
                                       std::string_view* runtime_key) const {
  ChangeOwner owner;
  std::string_view part_key;
  OperatorState* target = change_target(st, key, what, runtime_key, owner, part_key);
  if (target == nullptr) return owner;
  StateReader kr(part_key, what);
  if (value == nullptr) {
    target->load_change(kr, nullptr);
    return owner;
  }
  StateReader vr(*value, what);
  target->load_change(kr, &vr);
  vr.expect_end();
  return owner;
}

void Query::finish_changes(QueryState& st) const {
  for (auto& s : st.states) {
    if (s != nullptr) s->finish_changes();
  }
}

Query::ChangeOwner Query::touch_change(QueryState& st, std::string_view key,
                                       const std::string& what,
                                       std::string_view* runtime_key) const {
  ChangeOwner owner;
  std::string_view part_key;
  OperatorState* target = change_target(st, key, what, runtime_key, owner, part_key);
  if (target == nullptr) return owner;
  StateReader kr(part_key, what);
  target->touch(kr);
  return owner;
}

void OperatorState::load(StateReader& r) {
  r.fail("this operator's state cannot be restored");
}

void OperatorState::load_change(StateReader& key, StateReader*) {
  key.fail("this operator's state has no changelog");
}

void OperatorState::touch(StateReader& key) {
  key.fail("this operator's state has no changelog");
}

}  // namespace sluice::exec
