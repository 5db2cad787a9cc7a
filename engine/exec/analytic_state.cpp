// The durable state of one OVER partition key: its counters, its frame rings, each call's running
// sums and deques, and the rows held for LEAD. Read back strictly: every position, count and
// value is checked against what the operator itself could have produced, because the frame math
// indexes rings and compares values without checking them again.

#include "exec/analytic_impl.hpp"

#include <string>

namespace sluice::exec::analytic {
namespace {

using types::DataType;
using types::TypeId;

// Neither a count nor a row sequence number exceeds 2^62 (StateReader::counter); a 192-bit sum of
// at most 2^62 values below 2^127 keeps its high word within that too.
constexpr int64_t kMaxHigh = int64_t{1} << 62;

Value read_value(StateReader& r, const DataType& type, Arena& arena, const char* what) {
  Value v = r.value(arena);
  if (!of_type(v, type)) r.fail(std::string(what) + " of another type than the query's");
  return v;
}

}  // namespace

void PartitionCodec::save_held(const HeldValue& h, StateWriter& w) const {
  w.boolean(h.has_);
  if (h.has_) w.value(h.get());
}

void PartitionCodec::load_held(StateReader& r, HeldValue& h, const DataType& type,
                               Arena& arena) const {
  if (r.boolean()) h.take(read_value(r, type, arena, "a held value"));
}

void PartitionCodec::save_call(const CallState& s, StateWriter& w) const {
  w.i64(s.count);
  w.i128(s.int_sum);
  w.u64(static_cast<uint64_t>(s.decimal_sum.lo_));
  w.u64(static_cast<uint64_t>(s.decimal_sum.lo_ >> 64));
  w.i64(s.decimal_sum.hi_);
  w.f64(s.double_sum.sum_);
  w.f64(s.double_sum.compensation_);
  w.i64(s.double_sum.nan_);
  w.i64(s.double_sum.pos_inf_);
  w.i64(s.double_sum.neg_inf_);
  w.u32(static_cast<uint32_t>(s.extremes.size_));
  for (size_t i = 0; i < s.extremes.size_; ++i)
    w.i64(s.extremes.buf_[(s.extremes.head_ + i) & (s.extremes.buf_.size() - 1)]);
  save_held(s.held, w);
}

void PartitionCodec::load_call(StateReader& r, const AnalyticCall& c, const Partition& p,
                               CallState& s, Arena& arena) const {
  int64_t rows = p.rows;
  s.count = r.counter();
  if (s.count > rows) r.fail("a frame count above the partition's rows");
  s.int_sum = r.sum128();
  uint64_t lo = r.u64();
  uint64_t mid = r.u64();
  s.decimal_sum.lo_ = (static_cast<unsigned __int128>(mid) << 64) | lo;
  s.decimal_sum.hi_ = r.i64();
  if (s.decimal_sum.hi_ > kMaxHigh || s.decimal_sum.hi_ < -kMaxHigh) r.fail("a decimal sum");
  s.double_sum.sum_ = r.f64();
  s.double_sum.compensation_ = r.f64();
  s.double_sum.nan_ = r.counter();
  s.double_sum.pos_inf_ = r.counter();
  s.double_sum.neg_inf_ = r.counter();
  // A bounded MIN / MAX keeps ascending row numbers of its frame: the current row and the
  // `preceding` rows before it, all still in the ring.
  bool deque = !c.unbounded && (c.kind == AnalyticKind::kMin || c.kind == AnalyticKind::kMax);
  uint32_t n = r.count(8);
  if (n > 0 && !deque) r.fail("frame positions for a call that keeps none");
  int64_t last = -1;
  for (uint32_t i = 0; i < n; ++i) {
    int64_t seq = r.i64();
    if (seq <= last || seq >= rows || seq < rows - 1 - c.preceding || p.rings[c.input].at(seq).null)
      r.fail("a frame position outside its frame");
    s.extremes.push_back(seq);
    last = seq;
  }
  const DataType& type = c.input >= 0 ? spec_.inputs[c.input]->type() : c.result;
  load_held(r, s.held, type, arena);
  // FIRST_VALUE over every row holds the partition's first value (NULL included) from row 0 on.
  if (c.kind == AnalyticKind::kFirstValue && c.unbounded && rows > 0 && !s.held.has())
    r.fail("no first value for a partition with rows");
}

void PartitionCodec::save(const Partition& p, StateWriter& w) const {
  w.i64(p.rows);
  w.i64(p.rank);
  w.i64(p.dense_rank);
  w.value(p.last_order);
  w.i64(p.last_active);
  for (const ValueRing& ring : p.rings) {
    w.u32(static_cast<uint32_t>(ring.slots_.size()));
    for (const HeldValue& slot : ring.slots_)
      w.value(slot.get());
  }
  for (const CallState& c : p.calls)
    save_call(c, w);
  w.u32(static_cast<uint32_t>(p.pending.size()));
  for (const PendingRow& row : p.pending) {
    w.boolean(row.live);
    if (!row.live) continue;
    for (size_t i = 0; i < row.values.size(); ++i) {
      Value v = row.values[i];
      if (v.has_bytes())
        v = v.with_bytes(std::string_view(row.bytes).substr(row.offsets[i], v.s.size));
      w.value(v);
    }
    w.u32(static_cast<uint32_t>(row.position.partition));
    w.i64(row.position.offset);
    w.u64(row.arrival);
  }
}

void PartitionCodec::load(StateReader& r, Partition& p, uint64_t arrivals) const {
  Arena arena(256);  // the partition copies what it keeps
  p.rows = r.counter();
  p.rank = r.counter();
  p.dense_rank = r.counter();
  if (p.rank > p.rows || p.dense_rank > p.rank) r.fail("a rank above the partition's rows");
  DataType order_type = spec_.order_by ? spec_.order_by->type() : DataType();
  p.last_order = r.value(arena);
  if (!p.last_order.null && (!spec_.order_by || !of_type(p.last_order, order_type)))
    r.fail("an ORDER BY value of another type than the query's");
  p.last_active = r.i64();
  for (size_t i = 0; i < p.rings.size(); ++i) {
    // A ring holds one slot per row pushed, up to its capacity.
    auto want = static_cast<uint32_t>(std::min<int64_t>(p.rows, ring_caps_[i]));
    if (r.u32() != want) r.fail("a frame ring of another size than its rows");
    for (uint32_t s = 0; s < want; ++s)
      p.rings[i].push(s, read_value(r, spec_.inputs[i]->type(), arena, "a frame value"));
  }
  for (size_t c = 0; c < p.calls.size(); ++c)
    load_call(r, spec_.calls[c], p, p.calls[c], arena);
  auto slots = static_cast<uint32_t>(std::min<int64_t>(p.rows, lead_span_));
  if (r.u32() != slots) r.fail("held rows of another number than the partition's rows");
  size_t input_width = spec_.input_types.size();
  for (uint32_t s = 0; s < slots; ++s) {
    PendingRow& row = p.pending.emplace_back();
    row.live = r.boolean();
    if (!row.live) continue;
    row.values.resize(output_width_);
    row.offsets.resize(output_width_);
    for (size_t i = 0; i < output_width_; ++i) {
      const DataType& type =
          i < input_width ? spec_.input_types[i] : spec_.calls[i - input_width].result;
      row.set(i, read_value(r, type, arena, "a held row's value"));
    }
    row.position.partition = static_cast<int32_t>(r.u32());
    row.position.offset = r.i64();
    row.arrival = r.u64();
    if (row.arrival >= arrivals) r.fail("a held row that arrived after the state's last row");
  }
}

}  // namespace sluice::exec::analytic
