// The stream–stream interval join operator (exec/join.hpp). Each side's rows wait in the state,
// by key for matching and by the time they leave for expiry; a row owns its string bytes (a map
// node, which never moves), so a joined row may point at them until the row leaves, which happens
// in a later call.

#include "exec/join.hpp"
#include "exec/state_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::exec {
namespace {

constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();
// Event times a join takes: within ±2^61 ms (73 million years), so that differences and bounds
// never overflow.
constexpr int64_t kMaxJoinTimeMs = int64_t{1} << 61;

int64_t minus(int64_t a, int64_t b) {  // a - b, saturating
  int64_t r = 0;
  if (!__builtin_sub_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
}

struct Waiting {
  int64_t time = 0;
  int64_t leaves = 0;  // leaves once the watermark minus the grace period is past this
  bool matched = false;
  RecordPosition position;
  std::string key;    // encoded; empty: a NULL key, which matches nothing
  std::string bytes;  // the values' string bytes
  std::vector<types::Value> values;
};

class IntervalJoin;

class IntervalState : public OperatorState {
 public:
  explicit IntervalState(const IntervalJoin& op) : op(op) {}

  // Durable state: the watermark and each side's waiting rows (their arrival number, whether they
  // matched, position and values); times, keys and when they leave are computed again from the
  // values on restore, as the operator computed them.
  bool save(StateWriter& w) const override;
  void load(StateReader& r) override;

  const IntervalJoin& op;
  std::map<uint64_t, Waiting> rows[2];  // by arrival number
  std::unordered_map<std::string, std::vector<uint64_t>> by_key[2];
  std::set<std::pair<int64_t, uint64_t>> leaving[2];  // (leaves, arrival number)
  int64_t watermark = kNoWatermark;
  uint64_t next = 0;
  uint64_t bytes = 0;

  StateSize size() const override {
    return {0, rows[0].size() + rows[1].size(),
            bytes + (rows[0].size() + rows[1].size()) * (sizeof(Waiting) + 96)};
  }
};

class IntervalJoin : public Operator {
 public:
  explicit IntervalJoin(IntervalJoinSpec spec)
      : Operator(spec.widths[0] + spec.widths[1]), spec_(std::move(spec)) {
    for (int s = 0; s < 2; ++s) {
      for (const auto& t : spec_.types[s])
        nulls_[s].push_back(types::Value::null_of(t));
    }
  }

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<IntervalState>(*this);
  }

  void process(OperatorState* state, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& st = static_cast<IntervalState&>(*state);
    int side = ctx.input == spec_.inputs[0] ? 0 : 1;
    int other = 1 - side;
    ctx.eval.arena = &out.arena();
    std::vector<types::Value> row(output_width());
    std::string key;
    for (size_t r = 0; r < in.size(); ++r) {
      RecordPosition pos = in.position(r);
      const types::Value* src = in.row(r);
      const types::Value& t = src[spec_.time_columns[side]];
      if (t.null) {
        ctx.rejections.push_back(
            {pos, {ErrorCode::kDecode, "the event time of a stream–stream join's record is NULL"}});
        continue;
      }
      if (t.i > kMaxJoinTimeMs || t.i < -kMaxJoinTimeMs) {
        ctx.rejections.push_back(
            {pos, {ErrorCode::kEventTime, "the event time is out of range for a join"}});
        continue;
      }
      if (st.watermark != kNoWatermark && t.i < minus(st.watermark, spec_.grace_ms)) {
        ++ctx.late;
        continue;
      }
      std::copy_n(src, spec_.widths[side], row.begin() + spec_.offsets[side]);
      std::copy(nulls_[other].begin(), nulls_[other].end(), row.begin() + spec_.offsets[other]);
      if (!encode_key(side, row.data(), key, ctx)) {
        ctx.reject(pos);
        continue;
      }
      bool matched = false;
      if (!key.empty()) {
        auto it = st.by_key[other].find(key);
        if (it != st.by_key[other].end()) {
          for (uint64_t id : it->second) {
            Waiting& w = st.rows[other].at(id);
            int64_t gap = side == 0 ? w.time - t.i : t.i - w.time;  // right time - left time
            if (gap < spec_.lower_ms || gap > spec_.upper_ms) continue;
            types::Value* joined = out.append_row(pos);
            std::copy(row.begin(), row.end(), joined);
            std::copy(w.values.begin(), w.values.end(), joined + spec_.offsets[other]);
            if (spec_.condition) {
              types::Value c = spec_.condition->eval(joined, ctx.eval);
              if (ctx.eval.failed) {
                out.pop_row();
                break;
              }
              if (c.null || !c.b) {
                out.pop_row();
                continue;
              }
            }
            w.matched = true;
            matched = true;
          }
        }
        if (ctx.eval.failed) {
          ctx.reject(pos);
          continue;
        }
      }
      if (key.empty() && !outer(side)) continue;  // a NULL key never matches: nothing to wait for
      hold(st, side, st.next++, src, t.i, pos, key, matched);
    }
  }

  bool outer(int side) const { return side == 0 ? spec_.left_outer : spec_.right_outer; }
  const IntervalJoinSpec& spec() const { return spec_; }

  void on_watermark(OperatorState* state, int64_t watermark, Batch& out,
                    ExecContext&) const override {
    auto& st = static_cast<IntervalState&>(*state);
    if (watermark <= st.watermark) return;
    st.watermark = watermark;
    leave(st, minus(watermark, spec_.grace_ms), out);
  }

  void on_close(OperatorState* state, Batch& out, ExecContext&) const override {
    leave(static_cast<IntervalState&>(*state), std::numeric_limits<int64_t>::max(), out);
  }

  // The key of side `side`'s row in `joined` into `key` (empty when some key value is NULL); false
  // when a key expression fails.
  bool encode_key(int side, const types::Value* joined, std::string& key, ExecContext& ctx) const {
    key.clear();
    StateWriter w(key);
    for (const auto& k : spec_.keys[side]) {
      types::Value v = k->eval(joined, ctx.eval);
      if (ctx.eval.failed) return false;
      if (v.null) {
        key.clear();
        return true;
      }
      w.value(v);
    }
    return true;
  }

  // Side `side`'s row `src`, arrival number `id`, waits.
  void hold(IntervalState& st, int side, uint64_t id, const types::Value* src, int64_t time,
            RecordPosition pos, const std::string& key, bool matched) const {
    Waiting& w = st.rows[side][id];
    w.time = time;
    // A left row can meet right rows up to upper_ms after it, a right row left rows up to
    // -lower_ms after it.
    w.leaves = side == 0 ? time + spec_.upper_ms : time - spec_.lower_ms;
    w.matched = matched;
    w.position = pos;
    w.key = key;
    for (size_t c = 0; c < spec_.widths[side]; ++c) {
      if (src[c].has_bytes()) w.bytes.append(src[c].str());
    }
    w.values.assign(src, src + spec_.widths[side]);
    size_t at = 0;
    for (auto& v : w.values) {
      if (!v.has_bytes()) continue;
      v = v.with_bytes(std::string_view(w.bytes.data() + at, v.s.size));
      at += v.s.size;
    }
    st.bytes += w.bytes.size() + key.size();
    if (!key.empty()) st.by_key[side][key].push_back(id);
    st.leaving[side].insert({w.leaves, id});
  }

 private:
  // Every row whose time to leave is before `limit` leaves, in that order (arrival on a tie); an
  // outer side's unmatched ones are emitted.
  void leave(IntervalState& st, int64_t limit, Batch& out) const {
    while (true) {
      int side = -1;
      for (int s = 0; s < 2; ++s) {
        if (st.leaving[s].empty() || st.leaving[s].begin()->first >= limit) continue;
        if (side < 0 || *st.leaving[s].begin() < *st.leaving[side].begin()) side = s;
      }
      if (side < 0) return;
      uint64_t id = st.leaving[side].begin()->second;
      st.leaving[side].erase(st.leaving[side].begin());
      auto node = st.rows[side].extract(id);
      Waiting& w = node.mapped();
      if (outer(side) && !w.matched) {
        types::Value* row = out.append_row(w.position);
        std::copy(w.values.begin(), w.values.end(), row + spec_.offsets[side]);
        std::copy(nulls_[1 - side].begin(), nulls_[1 - side].end(), row + spec_.offsets[1 - side]);
        // The row points at w.bytes: keep them with the output batch.
        std::string_view kept = out.arena().copy(w.bytes);
        size_t at = 0;
        for (size_t c = 0; c < spec_.widths[side]; ++c) {
          types::Value& v = row[spec_.offsets[side] + c];
          if (!v.has_bytes()) continue;
          v = v.with_bytes(kept.substr(at, v.s.size));
          at += v.s.size;
        }
      }
      st.bytes -= w.bytes.size() + w.key.size();
      if (!w.key.empty()) {
        auto it = st.by_key[side].find(w.key);
        auto& ids = it->second;
        ids.erase(std::find(ids.begin(), ids.end(), id));
        if (ids.empty()) st.by_key[side].erase(it);
      }
    }
  }

  IntervalJoinSpec spec_;
  std::vector<types::Value> nulls_[2];
};

bool IntervalState::save(StateWriter& w) const {
  w.i64(watermark);
  w.u64(next);
  for (int side = 0; side < 2; ++side) {
    w.u32(static_cast<uint32_t>(rows[side].size()));
    for (const auto& [id, row] : rows[side]) {
      w.u64(id);
      w.boolean(row.matched);
      w.u32(static_cast<uint32_t>(row.position.partition));
      w.i64(row.position.offset);
      for (const types::Value& v : row.values)
        w.value(v);
    }
  }
  return true;
}

void IntervalState::load(StateReader& r) {
  if (next != 0) r.fail("restoring into a join that is not empty");
  const IntervalJoinSpec& spec = op.spec();
  watermark = r.i64();
  uint64_t saved_next = r.u64();
  std::set<uint64_t> ids;
  std::vector<types::Value> joined(op.output_width());
  std::string key;
  for (int side = 0; side < 2; ++side) {
    // A row takes at least its number, flag, position and a tag and a null flag per value.
    uint32_t count = r.count(21 + 2 * spec.widths[side]);
    for (uint32_t i = 0; i < count; ++i) {
      uint64_t id = r.u64();
      bool matched = r.boolean();
      RecordPosition pos{static_cast<int32_t>(r.u32()), r.i64()};
      Arena arena(256);
      std::vector<types::Value> values(spec.widths[side]);
      for (size_t c = 0; c < values.size(); ++c) {
        values[c] = r.value(arena);
        if (!of_type(values[c], spec.types[side][c])) r.fail("a waiting value of another type");
      }
      const types::Value& t = values[spec.time_columns[side]];
      if (t.null || t.i > kMaxJoinTimeMs || t.i < -kMaxJoinTimeMs)
        r.fail("a waiting row without an event time in range");
      if (id >= saved_next || !ids.insert(id).second) r.fail("a waiting row's number out of order");
      std::copy(values.begin(), values.end(), joined.begin() + spec.offsets[side]);
      ExecContext ctx;
      ctx.eval.arena = &arena;
      if (!op.encode_key(side, joined.data(), key, ctx)) r.fail("a waiting row's key fails");
      if (key.empty() && !op.outer(side)) r.fail("a waiting row that could never match");
      op.hold(*this, side, id, values.data(), t.i, pos, key, matched);
    }
  }
  next = saved_next;
}

}  // namespace

OperatorPtr make_interval_join(IntervalJoinSpec spec) {
  return std::make_unique<IntervalJoin>(std::move(spec));
}

}  // namespace sluice::exec
