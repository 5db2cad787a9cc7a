// The stream–table join operator (exec/join.hpp). The table's state holds a copy of the latest
// row per key; a row owns its string bytes, so a joined row may point at them until the table
// input changes that key, which happens in another batch.

#include "exec/join.hpp"
#include "exec/state_codec.hpp"
#include "types/value_ops.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

namespace sluice::exec {
namespace {

// The table: the latest row per key. Rows live in a pool (a freed slot is reused); an
// open-addressing index (linear probing, deletion by backward shift) maps a key's hash to its row.
// A row owns its string bytes. What a lookup reads is kept apart from the rest: the index, the
// rows' hash and key (a short key's bytes inline, one cache line a row) and their values; the
// stream side looks a batch up in passes, prefetching each pass's lines for the next.
class TableState : public OperatorState {
 public:
  explicit TableState(const StreamTableJoinSpec& spec) : spec_(spec), width_(spec.table_width) {}

  static constexpr uint32_t kNone = 0;  // an empty index slot, or no row

  // The index slot where the probe for hash `h` starts (for prefetching), and the row of `key`
  // (of the join's key type, not NULL) there or after it: its number + 1, or kNone.
  const uint32_t* home(uint64_t h) const { return index_.empty() ? nullptr : &index_[h & mask_]; }
  uint32_t find(const types::Value& key, uint64_t h) const {
    if (index_.empty()) return kNone;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint32_t slot = index_[i];
      if (slot == kNone) return kNone;
      const Hot& r = hot_[slot - 1];
      if (r.hash == h && same_key(r, key)) return slot;
    }
  }
  const void* hot(uint32_t slot) const { return &hot_[slot - 1]; }
  const types::Value* values(uint32_t slot) const { return values_.data() + (slot - 1) * width_; }

  // Sets the row of `key` to a copy of `row` (width_ values; the key's bytes copied too).
  void upsert(const types::Value& key, uint64_t h, const types::Value* row) {
    if ((live_ + 1) * 2 > index_.size()) grow();
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      uint32_t slot = index_[i];
      if (slot == kNone) break;
      const Hot& r = hot_[slot - 1];
      if (r.hash == h && same_key(r, key)) {
        store(slot - 1, key, h, row);
        return;
      }
    }
    uint32_t slot = free_.empty() ? new_row() : pop_free();
    index_[i] = slot;
    ++live_;
    store(slot - 1, key, h, row);
  }

  void erase(const types::Value& key, uint64_t h) {
    if (index_.empty()) return;
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      uint32_t slot = index_[i];
      if (slot == kNone) return;
      const Hot& r = hot_[slot - 1];
      if (r.hash == h && same_key(r, key)) break;
    }
    uint32_t gone = index_[i];
    bytes_ -= cold_[gone - 1].size();
    cold_[gone - 1] = std::string();
    hot_[gone - 1].live = false;
    free_.push_back(gone);
    --live_;
    // Backward shift: later entries of the probe run move up, so no lookup stops early.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; index_[j] != kNone; j = (j + 1) & mask_) {
      size_t home = hot_[index_[j] - 1].hash & mask_;
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        index_[hole] = index_[j];
        hole = j;
      }
    }
    index_[hole] = kNone;
  }

  // Durable state: a snapshot holds every row as its key and values; a changelog entry is a key
  // (its value as written by StateWriter) with the row's values, or a tombstone.
  bool save(StateWriter& w) const override {
    w.u32(static_cast<uint32_t>(live_));
    for (size_t i = 0; i < hot_.size(); ++i) {
      if (!hot_[i].live) continue;
      w.value(key_of(i));
      write_row(w, static_cast<uint32_t>(i + 1));
    }
    return true;
  }
  void load(StateReader& r) override {
    if (live_ != 0) r.fail("restoring into a table that is not empty");
    // A row takes at least a tag and a null flag per value, its key's included.
    uint32_t rows = r.count(2 * (width_ + 1));
    std::vector<types::Value> row(width_);
    for (uint32_t i = 0; i < rows; ++i) {
      Arena scratch(256);
      types::Value key = read_key(r, scratch);
      read_row(r, scratch, row);
      uint64_t h = types::hash(key);
      if (find(key, h) != kNone) r.fail("a table key twice");
      upsert(key, h, row.data());
    }
  }
  bool track_changes() override {
    tracking_ = true;
    return true;
  }
  // Remembers that the row of `key` changed (when changes are tracked).
  void changed(const types::Value& key) {
    if (!tracking_) return;
    std::string bytes;
    StateWriter w(bytes);
    w.value(key);
    changed_.insert(std::move(bytes));
  }
  void save_changes(const ChangeVisitor& out) override {
    std::string value;
    for (const std::string& k : changed_) {
      StateReader r(k, "a changed table key");
      Arena scratch(64);
      types::Value key = r.value(scratch);
      uint32_t slot = find(key, types::hash(key));
      if (slot == kNone) {
        out(k, nullptr);
        continue;
      }
      value.clear();
      StateWriter w(value);
      write_row(w, slot);
      std::string_view v = value;
      out(k, &v);
    }
    changed_.clear();
  }
  void load_change(StateReader& kr, StateReader* vr) override {
    Arena scratch(256);
    types::Value key = read_key(kr, scratch);
    kr.expect_end();
    uint64_t h = types::hash(key);
    if (vr == nullptr) {
      erase(key, h);
      return;
    }
    std::vector<types::Value> row(width_);
    read_row(*vr, scratch, row);
    vr->expect_end();
    upsert(key, h, row.data());
  }
  void touch(StateReader& kr) override {
    Arena scratch(64);
    read_key(kr, scratch);
    kr.expect_end();
    changed_.insert(std::string(kr.whole()));
  }

  StateSize size() const override {
    return {0, live_,
            bytes_ + index_.size() * sizeof(uint32_t) +
                hot_.size() * (sizeof(Hot) + sizeof(std::string) + width_ * sizeof(types::Value))};
  }

 private:
  static constexpr size_t kInlineKey = 16;
  struct alignas(64) Hot {
    uint64_t hash = 0;
    // Its bytes in `inline_key` when they fit (the value's pointer is then not used: rows move
    // when the pool grows), else in the row's cold bytes.
    types::Value key;
    bool live = false;
    bool inlined = false;
    char inline_key[kInlineKey] = {};
  };

  types::Value key_of(size_t i) const {
    const Hot& r = hot_[i];
    return r.inlined ? r.key.with_bytes(std::string_view(r.inline_key, r.key.s.size)) : r.key;
  }
  void write_row(StateWriter& w, uint32_t slot) const {
    const types::Value* v = values(slot);
    for (size_t c = 0; c < width_; ++c)
      w.value(v[c]);
  }
  // A key and a row as the operator could have stored them: of the join's key type (not NULL),
  // each value of its column's type.
  types::Value read_key(StateReader& r, Arena& arena) const {
    types::Value key = r.value(arena);
    if (key.null || !of_type(key, spec_.key_type)) r.fail("a table key of another type");
    return key;
  }
  void read_row(StateReader& r, Arena& arena, std::vector<types::Value>& row) const {
    for (size_t c = 0; c < width_; ++c) {
      row[c] = r.value(arena);
      if (!of_type(row[c], spec_.table_types[c])) r.fail("a table value of another type");
    }
  }

  static bool same_key(const Hot& r, const types::Value& key) {
    if (!r.inlined) return types::group_equal(r.key, key);
    return key.has_bytes() && r.key.type == key.type && r.key.s.size == key.s.size &&
           std::equal(key.s.data, key.s.data + key.s.size, r.inline_key);
  }

  uint32_t new_row() {
    hot_.emplace_back();
    cold_.emplace_back();
    values_.resize(hot_.size() * width_);
    return static_cast<uint32_t>(hot_.size());
  }
  uint32_t pop_free() {
    uint32_t slot = free_.back();
    free_.pop_back();
    return slot;
  }

  void store(size_t at, const types::Value& key, uint64_t h, const types::Value* row) {
    Hot& r = hot_[at];
    std::string& bytes = cold_[at];
    bytes_ -= bytes.size();
    bytes.clear();
    r.hash = h;
    r.live = true;
    for (size_t c = 0; c < width_; ++c) {
      if (row[c].has_bytes()) bytes.append(row[c].str());
    }
    bool inline_key = key.has_bytes() && key.s.size <= kInlineKey;
    if (key.has_bytes() && !inline_key) bytes.append(key.str());
    types::Value* dst = values_.data() + at * width_;
    std::copy_n(row, width_, dst);
    size_t pos = 0;
    auto rebase = [&](types::Value& v) {
      if (!v.has_bytes()) return;
      v = v.with_bytes(std::string_view(bytes.data() + pos, v.s.size));
      pos += v.s.size;
    };
    for (size_t c = 0; c < width_; ++c)
      rebase(dst[c]);
    r.key = key;
    r.inlined = inline_key;
    if (inline_key) {
      std::copy_n(key.s.data, key.s.size, r.inline_key);
    } else {
      rebase(r.key);
    }
    bytes_ += bytes.size();
  }

  void grow() {
    size_t size = std::max<size_t>(64, index_.size() * 2);
    index_.assign(size, kNone);
    mask_ = size - 1;
    for (uint32_t slot = 1; slot <= hot_.size(); ++slot) {
      if (!hot_[slot - 1].live) continue;
      size_t i = hot_[slot - 1].hash & mask_;
      while (index_[i] != kNone)
        i = (i + 1) & mask_;
      index_[i] = slot;
    }
  }

  const StreamTableJoinSpec& spec_;
  size_t width_;
  bool tracking_ = false;
  std::unordered_set<std::string> changed_;  // keys (as StateWriter writes them) changed
  std::vector<Hot> hot_;                     // per row: what a lookup compares
  // Per row: its string bytes. A deque, so that a row's std::string (whose short bytes live inside
  // it) never moves when rows are added.
  std::deque<std::string> cold_;
  std::vector<types::Value> values_;  // width_ per row
  std::vector<uint32_t> free_;        // rows whose key was deleted, for reuse
  std::vector<uint32_t> index_;       // row + 1; kNone: empty
  size_t mask_ = 0;
  uint64_t live_ = 0;
  uint64_t bytes_ = 0;
};

class StreamTableJoin : public Operator {
 public:
  explicit StreamTableJoin(StreamTableJoinSpec spec)
      : Operator(spec.stream_width + spec.table_width), spec_(std::move(spec)) {
    for (const auto& t : spec_.table_types)
      null_table_.push_back(types::Value::null_of(t));
  }

  std::unique_ptr<OperatorState> make_state() const override {
    return std::make_unique<TableState>(spec_);
  }

  void process(OperatorState* state, Batch& in, Batch& out, ExecContext& ctx) const override {
    auto& table = static_cast<TableState&>(*state);
    if (ctx.input == spec_.table_input) {
      update(table, in, ctx);
    } else {
      lookup(table, in, out, ctx);
    }
  }

 private:
  // `key` as the join's key type into `out`; false when it is NULL or does not convert (`err`
  // then says why).
  bool to_key(const types::Value& key, Arena& arena, types::Value* out, RecordError* err) const {
    if (key.null) return false;
    if (key.type == spec_.key_type.id && key.type != types::TypeId::kDecimal) {
      *out = key;
      return true;
    }
    return types::cast(key, spec_.key_type, arena, out, err) && !out->null;
  }

  void update(TableState& table, Batch& in, ExecContext& ctx) const {
    std::vector<types::Value> joined;
    if (spec_.table_key_expr) joined.resize(output_width());
    ctx.eval.arena = &in.arena();
    for (size_t r = 0; r < in.size(); ++r) {
      const types::Value* row = in.row(r);
      types::Value key = row[spec_.table_key];
      if (spec_.table_key_expr) {
        std::copy_n(row, spec_.table_width, joined.begin() + spec_.table_offset);
        key = spec_.table_key_expr->eval(joined.data(), ctx.eval);
        if (ctx.eval.failed) {
          ctx.reject(in.position(r));
          continue;
        }
      }
      RecordError err;
      if (!to_key(key, in.arena(), &key, &err)) {
        if (err.message.empty()) {
          err.code = ErrorCode::kDecode;
          err.message = spec_.table_key_expr
                            ? "a table record needs a key: ON's key of this one is NULL"
                            : "a table record needs a key: this one has none (NULL)";
        }
        ctx.rejections.push_back({in.position(r), std::move(err)});
        continue;
      }
      uint64_t h = types::hash(key);
      if (row[spec_.table_width].b) {  // a tombstone
        table.erase(key, h);
      } else {
        table.upsert(key, h, row);
      }
      table.changed(key);
    }
  }

  // In three passes over the batch, each prefetching what the next reads: the joined rows and
  // their keys (prefetching the index), the index (prefetching rows), then the lookups.
  void lookup(TableState& table, Batch& in, Batch& out, ExecContext& ctx) const {
    ctx.eval.arena = &out.arena();
    auto& keys = scratch_keys();
    auto& hashes = scratch_hashes();
    keys.clear();
    hashes.clear();
    for (size_t r = 0; r < in.size(); ++r) {
      RecordPosition pos = in.position(r);
      types::Value* row = out.append_row(pos);
      std::copy_n(in.row(r), spec_.stream_width, row + spec_.stream_offset);
      types::Value k = spec_.stream_key->eval(row, ctx.eval);
      if (ctx.eval.failed) {
        out.pop_row();
        ctx.reject(pos);
        continue;
      }
      types::Value key;
      RecordError unused;
      bool ok = to_key(k, out.arena(), &key, &unused);
      uint64_t h = ok ? types::hash(key) : 0;
      if (ok) __builtin_prefetch(table.home(h));
      keys.push_back(ok ? key : types::Value());
      hashes.push_back(h);
    }
    for (size_t r = 0; r < keys.size(); ++r) {
      const uint32_t* slot = keys[r].null ? nullptr : table.home(hashes[r]);
      if (slot != nullptr && *slot != TableState::kNone) {
        __builtin_prefetch(table.hot(*slot));
        __builtin_prefetch(table.values(*slot));
      }
    }
    // Rows are compacted as they are judged: a dropped row's place goes to the next one.
    size_t kept = 0;
    for (size_t r = 0; r < keys.size(); ++r) {
      types::Value* row = out.row(r);
      uint32_t slot = keys[r].null ? TableState::kNone : table.find(keys[r], hashes[r]);
      types::Value* table_part = row + spec_.table_offset;
      bool matched = slot != TableState::kNone;
      if (matched) {
        std::copy_n(table.values(slot), spec_.table_width, table_part);
        if (spec_.condition && !holds(row, ctx)) {
          if (ctx.eval.failed) {
            ctx.reject(out.position(r));
            continue;
          }
          matched = false;
        }
      }
      if (!matched && spec_.type == JoinType::kInner) {
        ++ctx.filtered;  // an inner join filters the rows without a match
        continue;
      }
      if (!matched) std::copy(null_table_.begin(), null_table_.end(), table_part);
      if (kept != r) out.move_row(r, kept);
      ++kept;
    }
    out.truncate(kept);
  }

  // Per-thread scratch of `lookup` (the operator is shared by every pipeline).
  static std::vector<types::Value>& scratch_keys() {
    thread_local std::vector<types::Value> v;
    return v;
  }
  static std::vector<uint64_t>& scratch_hashes() {
    thread_local std::vector<uint64_t> v;
    return v;
  }

  bool holds(const types::Value* row, ExecContext& ctx) const {
    types::Value v = spec_.condition->eval(row, ctx.eval);
    return !ctx.eval.failed && !v.null && v.b;
  }

  StreamTableJoinSpec spec_;
  std::vector<types::Value> null_table_;
};

}  // namespace

OperatorPtr make_stream_table_join(StreamTableJoinSpec spec) {
  return std::make_unique<StreamTableJoin>(std::move(spec));
}

}  // namespace sluice::exec
