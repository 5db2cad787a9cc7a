// Session windows: per group, a list of sessions sorted by start. Aggregates have no merge
// function, so a session also keeps the arguments of its records (in arrival order, with their
// strings); when a record bridges two sessions, the merged session's state is rebuilt by
// replaying both argument lists in arrival order. Closed sessions are freed, and the key table is
// rebuilt when most of its groups have no session left, so memory follows the open sessions.
//
// Replay after a restart (ExecContext::replay_before): the records re-read start at the oldest
// record of any open session, and the restored watermark is the one the emitted output covers.
// A session's extent depends on the records after its first, so a re-read record is never judged
// alone: it joins (or starts) its session, which counts as emitted before the restart (`silent`:
// fired, no output) while the restored watermark closes it, and opens again when a later re-read
// record extends it past that. When the replay ends (the first record past it, or the watermark
// moving on), the silent sessions are settled: their records count as replayed and they are
// freed like any fired session (or kept for `update`, whole: kept sessions are re-read too).

#include "exec/window_impl.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <tuple>

namespace sluice::exec {
namespace {

struct Session {
  int64_t start = 0;  // first record's event time
  int64_t end = 0;    // last record's event time
  bool fired = false;
  bool silent = false;  // fired by the replay (emitted before the restart); see the top
  int64_t min_offset = std::numeric_limits<int64_t>::max();  // of the records it holds
  std::unique_ptr<char[]> storage;  // the aggregate state block, aligned inside
  char* block = nullptr;
  std::vector<Value> args;    // one Value per aggregate per record
  std::vector<uint64_t> seq;  // arrival number of each record
  std::vector<std::unique_ptr<Arena>> strings;
};

// Gives `s` its aggregate state block, initialised.
void init_block(Session& s, const AggregateSet& set) {
  if (set.aggregate_count() == 0) return;
  size_t align = set.state_align();
  s.storage.reset(new char[set.state_size() + align]);
  auto raw = reinterpret_cast<uintptr_t>(s.storage.get());
  s.block = reinterpret_cast<char*>((raw + align - 1) / align * align);
  set.init(s.block);
}

class SessionState final : public OperatorState {
 public:
  explicit SessionState(const AggregateSet& set)
      : set_(set),
        keys(std::make_unique<GroupTable>(set.key_count(), 0, 1)),
        scratch(set.scratch_width()) {}
  ~SessionState() override {
    for (auto& list : sessions) {
      for (auto& s : list)
        if (s.block != nullptr) set_.destroy(s.block);
    }
  }

  const AggregateSet& set_;
  std::unique_ptr<GroupTable> keys;            // group key -> group number
  std::vector<std::vector<Session>> sessions;  // per group, sorted by start
  size_t empty_groups = 0;
  int64_t watermark = kNoWatermark;
  // No session closes or is freed before the watermark reaches this (a lower bound: sessions only
  // grow); exact after every fire.
  int64_t next_due = std::numeric_limits<int64_t>::max();
  uint64_t next_seq = 0;
  bool replay_pending = false;  // silent sessions may exist (not saved: a replay is transient)
  std::vector<Value> scratch;
  std::vector<std::unique_ptr<GroupTable>> retired;  // see WindowOperatorShell

  // Open windows: unfired sessions; groups: keys with a session; bytes: the key table, the
  // session records and their per-record buffers (capacity; string arenas not counted).
  StateSize size() const override {
    StateSize st;
    st.groups = keys->size() - empty_groups;
    st.bytes = keys->memory_bytes() + sessions.capacity() * sizeof(sessions[0]);
    for (const auto& list : sessions) {
      st.bytes += list.capacity() * sizeof(Session);
      for (const Session& s : list) {
        if (!s.fired) ++st.open_windows;
        st.bytes += set_.state_size() + s.args.capacity() * sizeof(Value) +
                    s.seq.capacity() * sizeof(uint64_t);
      }
    }
    return st;
  }

  std::optional<int64_t> retained_offset() const override {
    std::optional<int64_t> min;
    for (const auto& list : sessions) {
      for (const Session& s : list)
        if (!min || s.min_offset < *min) min = s.min_offset;
    }
    return min;
  }

  // The watermark and arrival counter, then per group its key and sessions: bounds, fired, oldest
  // offset and each record's arrival number and arguments. The aggregate state is not written:
  // `load` rebuilds it by replaying the arguments, as a merge does.
  bool save(StateWriter& w) const override {
    w.i64(watermark);
    w.u64(next_seq);
    w.u32(static_cast<uint32_t>(keys->key_width()));
    w.u32(static_cast<uint32_t>(set_.aggregate_count()));
    w.u32(static_cast<uint32_t>(sessions.size()));
    for (uint32_t g = 0; g < sessions.size(); ++g) {
      for (size_t k = 0; k < keys->key_width(); ++k)
        w.value(keys->key(g)[k]);
      w.u32(static_cast<uint32_t>(sessions[g].size()));
      for (const Session& s : sessions[g]) {
        w.i64(s.start);
        w.i64(s.end);
        w.boolean(s.fired);
        w.i64(s.min_offset);
        w.u32(static_cast<uint32_t>(s.seq.size()));
        for (size_t r = 0; r < s.seq.size(); ++r) {
          w.u64(s.seq[r]);
          for (size_t a = 0; a < set_.aggregate_count(); ++a)
            w.value(s.args[r * set_.aggregate_count() + a]);
        }
      }
    }
    return true;
  }

  void load(StateReader& r) override;
};

void SessionState::load(StateReader& r) {
  watermark = r.i64();
  next_seq = r.u64();
  size_t width = set_.aggregate_count();
  if (r.u32() != keys->key_width() || r.u32() != width)
    r.fail("the state has other group keys or aggregates than the query");
  uint32_t groups = r.count(std::max<size_t>(4, 2 * keys->key_width()));
  std::vector<Value> key(keys->key_width());
  next_due = std::numeric_limits<int64_t>::min();  // the next fire computes it
  for (uint32_t i = 0; i < groups; ++i) {
    Arena scratch(256);
    for (auto& k : key)
      k = r.value(scratch);
    set_.check_key(key.data(), r);
    bool inserted = false;
    keys->find_or_insert(key.data(), keys->hash_key(key.data()), &inserted);
    if (!inserted) r.fail("a group twice");
    auto& list = sessions.emplace_back();
    uint32_t n = r.count(8 + 8 + 1 + 8 + 4);
    if (n == 0) ++empty_groups;
    for (uint32_t j = 0; j < n; ++j) {
      Session& s = list.emplace_back();
      s.start = r.i64();
      s.end = r.i64();
      check_restored_time(s.start, r);
      check_restored_time(s.end, r);
      if (s.end < s.start || (j > 0 && s.start <= list[j - 1].end)) r.fail("sessions out of order");
      s.fired = r.boolean();
      s.min_offset = r.i64();
      uint32_t records = r.count(8 + 2 * width);
      if (records == 0) r.fail("a session without records");
      s.strings.push_back(std::make_unique<Arena>(1024));
      for (uint32_t k = 0; k < records; ++k) {
        s.seq.push_back(r.u64());
        for (size_t a = 0; a < width; ++a)
          s.args.push_back(r.value(*s.strings.back()));
        set_.check_args(s.args.data() + k * width, r);
      }
      init_block(s, set_);
      for (size_t k = 0; s.block != nullptr && k < records; ++k)
        set_.update(s.block, s.args.data() + k * width);
    }
  }
}

class SessionWindow final : public WindowOperatorShell<SessionWindow, SessionState> {
 public:
  using WindowOperatorShell::WindowOperatorShell;

 private:
  friend class WindowOperatorShell<SessionWindow, SessionState>;

  int64_t close_at(const Session& s) const {
    return add_clamped(add_clamped(s.end, spec_.size_ms), spec_.lateness_ms);
  }
  // When a fired session kept for `update` is freed (at once without `update`).
  int64_t drop_at(const Session& s) const {
    return spec_.late == LatePolicy::kUpdate ? add_clamped(close_at(s), spec_.lateness_ms)
                                             : close_at(s);
  }
  int64_t due(const SessionState& st) const { return st.next_due; }

  uint32_t group_of(SessionState& st) const {
    bool inserted = false;
    const Value* key = st.scratch.data();
    uint32_t g = st.keys->find_or_insert(key, st.keys->hash_key(key), &inserted);
    if (inserted) {
      st.sessions.emplace_back();
    } else if (st.sessions[g].empty()) {
      --st.empty_groups;  // counted again below if the record is late
    }
    return g;
  }

  void assign(SessionState& st, int64_t t, Batch& out, RecordPosition pos, ExecContext& ctx) const {
    bool replaying = ctx.replaying(pos);
    if (!replaying) settle_replay(st, ctx);
    uint32_t g = group_of(st);
    auto& list = st.sessions[g];
    // Sessions of one group are at least `gap` apart, so a record touches at most two.
    size_t first = 0;
    while (first < list.size() && list[first].end + spec_.size_ms <= t)
      ++first;
    size_t n = 0;
    while (first + n < list.size() && list[first + n].start - spec_.size_ms < t)
      ++n;
    if (replaying) {
      replay(st, list, first, n, t, out, st.keys->key(g), pos, ctx);
      return;
    }
    bool open = std::any_of(list.begin() + static_cast<std::ptrdiff_t>(first),
                            list.begin() + static_cast<std::ptrdiff_t>(first + n),
                            [](const Session& s) { return !s.fired; });
    if (n == 0 &&
        !closed(add_clamped(add_clamped(t, spec_.size_ms), spec_.lateness_ms), st.watermark)) {
      list.insert(list.begin() + static_cast<std::ptrdiff_t>(first), new_session(t));
      n = 1;
      open = true;
    }
    if (n == 0) {
      if (list.empty()) ++st.empty_groups;
      on_late(pos, t, st.watermark, ctx);
      return;
    }
    // `update`: a kept, closed session takes it and re-emits.
    if (!open) ++ctx.late;
    if (n == 2) merge(list, first);
    add(st, list[first], t, out, st.keys->key(g), pos, ctx, true);
  }

  // A re-read record: into its session (`n` of them from `first`), which is silent while the
  // restored watermark closes it. Emits nothing: what it adds was emitted before the restart.
  void replay(SessionState& st, std::vector<Session>& list, size_t first, size_t n, int64_t t,
              Batch& out, const Value* key, RecordPosition pos, ExecContext& ctx) const {
    st.replay_pending = true;
    if (n == 0) list.insert(list.begin() + static_cast<std::ptrdiff_t>(first), new_session(t));
    if (n == 2) merge(list, first);
    Session& s = list[first];
    add(st, s, t, out, key, pos, ctx, false);
    s.silent = s.fired = closed(close_at(s), st.watermark);
    st.next_due = std::min(st.next_due, s.fired ? drop_at(s) : close_at(s));
  }

  // The replay ended: silent sessions' records count as replayed; the sessions are freed, or
  // kept for `update` as fired ones.
  void settle_replay(SessionState& st, ExecContext& ctx) const {
    if (!st.replay_pending) return;
    st.replay_pending = false;
    for (auto& list : st.sessions) {
      for (Session& s : list) {
        if (!s.silent) continue;
        ctx.replayed += s.seq.size();
        s.silent = false;
      }
    }
    free_closed(st, st.watermark, ctx);
  }

  Session new_session(int64_t t) const {
    Session s;
    s.start = s.end = t;
    init_block(s, set_);
    return s;
  }

  void add(SessionState& st, Session& s, int64_t t, Batch& out, const Value* key,
           RecordPosition pos, ExecContext& ctx, bool may_emit) const {
    s.start = std::min(s.start, t);
    s.min_offset = std::min(s.min_offset, pos.offset);
    s.end = std::max(s.end, t);
    const Value* args = st.scratch.data() + set_.key_count();
    if (s.block != nullptr) {
      set_.update(s.block, args);
      size_t at = s.args.size();
      s.args.insert(s.args.end(), args, args + set_.aggregate_count());
      if (s.strings.empty()) s.strings.push_back(std::make_unique<Arena>(1024));
      set_.keep_args(s.args.data() + at, *s.strings.back());
    }
    s.seq.push_back(st.next_seq++);
    st.next_due = std::min(st.next_due, s.fired ? drop_at(s) : close_at(s));
    if (may_emit && (spec_.emit_changes || s.fired)) {
      emit(key, s.start, s.end, s.block, out, pos, ctx);
    }
  }

  // Merges list[i + 1] into list[i], replaying both sessions' records in arrival order.
  void merge(std::vector<Session>& list, size_t i) const {
    Session& a = list[i];
    Session& b = list[i + 1];
    size_t width = set_.aggregate_count();
    std::vector<Value> args;
    std::vector<uint64_t> seq;
    size_t x = 0, y = 0;
    while (x < a.seq.size() || y < b.seq.size()) {
      bool from_a = y == b.seq.size() || (x < a.seq.size() && a.seq[x] < b.seq[y]);
      Session& s = from_a ? a : b;
      size_t& k = from_a ? x : y;
      seq.push_back(s.seq[k]);
      if (width > 0)
        args.insert(args.end(), s.args.begin() + k * width, s.args.begin() + (k + 1) * width);
      ++k;
    }
    if (a.block != nullptr) {
      set_.destroy(a.block);
      set_.destroy(b.block);
      set_.init(a.block);
      for (size_t r = 0; r < seq.size(); ++r)
        set_.update(a.block, args.data() + r * width);
      b.block = nullptr;
    }
    a.args = std::move(args);
    a.seq = std::move(seq);
    for (auto& arena : b.strings)
      a.strings.push_back(std::move(arena));
    a.start = std::min(a.start, b.start);
    a.end = std::max(a.end, b.end);
    a.fired = a.fired && b.fired;
    a.silent = a.silent && b.silent;
    a.min_offset = std::min(a.min_offset, b.min_offset);
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(i + 1));
  }

  // Emits (EMIT FINAL) the sessions the watermark closed, by end, then by the arrival of their
  // first record (not by group: compacting the key table renumbers groups); frees those no
  // longer kept.
  void fire(SessionState& st, int64_t watermark, Batch& out, ExecContext& ctx) const {
    settle_replay(st, ctx);
    std::vector<std::tuple<int64_t, uint64_t, uint32_t, int64_t>> due;  // end, seq, group, start
    for (uint32_t g = 0; g < st.sessions.size(); ++g) {
      for (const Session& s : st.sessions[g]) {
        if (!s.fired && closed(close_at(s), watermark))
          due.emplace_back(s.end, s.seq.front(), g, s.start);
      }
    }
    std::sort(due.begin(), due.end());
    for (const auto& [end, seq, g, start] : due) {
      auto& list = st.sessions[g];
      auto it = std::find_if(list.begin(), list.end(),
                             [start = start](const Session& s) { return s.start == start; });
      if (!spec_.emit_changes)
        emit(st.keys->key(g), it->start, it->end, it->block, out, {}, ctx, true);
      it->fired = true;
    }
    free_closed(st, watermark, ctx);
    st.next_due = std::numeric_limits<int64_t>::max();
    for (const auto& list : st.sessions) {
      for (const Session& s : list)
        st.next_due = std::min(st.next_due, s.fired ? drop_at(s) : close_at(s));
    }
  }

  void free_closed(SessionState& st, int64_t watermark, ExecContext& ctx) const {
    for (auto& list : st.sessions) {
      if (list.empty()) continue;
      auto gone = [&](Session& s) {
        if (!s.fired || kept(close_at(s), watermark)) return false;
        ctx.release(s.min_offset);
        if (s.block != nullptr) set_.destroy(s.block);
        return true;
      };
      list.erase(std::remove_if(list.begin(), list.end(), gone), list.end());
      if (list.empty()) ++st.empty_groups;
    }
    if (st.empty_groups > 1024 && st.empty_groups * 2 > st.sessions.size()) compact(st);
  }

  // Rebuilds the key table with the groups that still have sessions (first-seen order kept).
  void compact(SessionState& st) const {
    auto keys = std::make_unique<GroupTable>(set_.key_count(), 0, 1);
    std::vector<std::vector<Session>> kept_sessions;
    for (uint32_t g = 0; g < st.sessions.size(); ++g) {
      if (st.sessions[g].empty()) continue;
      bool inserted = false;
      const Value* key = st.keys->key(g);
      keys->find_or_insert(key, keys->hash_key(key), &inserted);
      kept_sessions.push_back(std::move(st.sessions[g]));
    }
    st.retired.push_back(std::move(st.keys));  // `out` may hold rows with its keys
    st.keys = std::move(keys);
    st.sessions = std::move(kept_sessions);
    st.empty_groups = 0;
  }
};

}  // namespace

OperatorPtr make_session_window(WindowSpec spec, std::vector<ExpressionPtr> keys,
                                std::vector<AggregateCall> aggregates) {
  return std::make_unique<SessionWindow>(std::move(spec), std::move(keys), std::move(aggregates));
}

}  // namespace sluice::exec
