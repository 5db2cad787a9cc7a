#pragma once
// Private to engine/functions: aggregate state types. Each state is a plain struct placement-
// constructed in the group's state block (init), updated per row, finalized on demand and
// destroyed with the group. A state belongs to one pipeline (one strand): no synchronisation.
// update never fails and never allocates, except to own a string or grow a DISTINCT set.

#include "exec/state_codec.hpp"
#include "functions/aggregate.hpp"
#include "types/value_ops.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <unordered_set>
#include <variant>

namespace sluice::functions::agg {

using types::int128;
using types::TypeId;

// Wraps a state type S (update(const Value*), finalize(Arena&, EvalContext&) const) into the
// function pointers of a BoundAggregate.
template <class S>
BoundAggregate make_aggregate(DataType result, DataType arg) {
  BoundAggregate b;
  b.result = result;
  b.arg_type = arg;
  b.state_size = sizeof(S);
  b.state_align = alignof(S);
  b.init = [](void* p) { new (p) S(); };
  b.update = [](void* p, const Value* v) { std::launder(static_cast<S*>(p))->update(v); };
  b.finalize = [](const void* p, Arena& arena, exec::EvalContext& ctx) {
    return std::launder(static_cast<const S*>(p))->finalize(arena, ctx);
  };
  b.save = [](const void* p, exec::StateWriter& w) {
    std::launder(static_cast<const S*>(p))->save(w);
  };
  b.load = [](void* p, exec::StateReader& r) { std::launder(static_cast<S*>(p))->load(r); };
  if constexpr (!std::is_trivially_destructible_v<S>) {
    b.destroy = [](void* p) { std::launder(static_cast<S*>(p))->~S(); };
  }
  return b;
}

// A string copy owned by a state; its buffer only grows, so a MIN/MAX that keeps changing among
// short strings stops allocating once it has seen the longest.
class OwnedString {
 public:
  OwnedString() = default;
  OwnedString(const OwnedString&) = delete;
  OwnedString& operator=(const OwnedString&) = delete;
  ~OwnedString() { delete[] data_; }

  std::string_view assign(std::string_view s) {
    if (s.size() > cap_) {
      size_t cap = std::max(s.size(), size_t{2} * cap_);
      delete[] data_;
      data_ = new char[cap];
      cap_ = cap;
    }
    if (!s.empty()) std::memcpy(data_, s.data(), s.size());
    return {data_, s.size()};
  }

 private:
  char* data_ = nullptr;
  size_t cap_ = 0;
};

// A value a state keeps across rows; strings are copied into the state's own buffer.
template <TypeId kType>
struct HeldValue {
  Value value;
  bool has = false;
  static constexpr bool kOwnsBytes = kType == TypeId::kString || kType == TypeId::kBytes ||
                                     kType == TypeId::kStruct || kType == TypeId::kArray ||
                                     kType == TypeId::kMap;
  [[no_unique_address]] std::conditional_t<kOwnsBytes, OwnedString, std::monostate> owned;

  void take(const Value& v) {
    value = v;
    has = true;
    if constexpr (kOwnsBytes) value = v.with_bytes(owned.assign(v.str()));
  }
  Value result(Arena& arena) const {
    if (!has) return Value::make_null(kType);
    if constexpr (kOwnsBytes) return value.with_bytes(arena.copy(value.str()));
    return value;
  }
  void save(exec::StateWriter& w) const {
    w.boolean(has);
    if (has) w.value(value);
  }
  void load(exec::StateReader& r) {
    if (!r.boolean()) return;
    Arena scratch;
    Value v = r.value(scratch);
    if (v.null || v.type != kType) r.fail("a kept value of another type");
    take(v);  // copies a string into the state's own buffer
  }
};

// <0, 0, >0 between two non-NULL values of kType.
template <TypeId kType>
int compare_as(const Value& a, const Value& b) {
  if constexpr (kType == TypeId::kBigInt || kType == TypeId::kTimestamp ||
                kType == TypeId::kInterval || kType == TypeId::kDate || kType == TypeId::kTime) {
    return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  } else if constexpr (kType == TypeId::kString || kType == TypeId::kBytes) {
    return a.str().compare(b.str());
  } else if constexpr (kType == TypeId::kDecimal) {
    if (a.scale == b.scale) return a.dec < b.dec ? -1 : (a.dec > b.dec ? 1 : 0);
    return types::compare(a, b);  // scales differ: compare by value
  } else {
    return types::compare(a, b);
  }
}

// Values seen by F(DISTINCT x); strings are copied into an arena owned by the set.
class DistinctSet {
 public:
  // True when `v` was not seen before (it is then remembered).
  bool insert(const Value& v);
  void save(exec::StateWriter& w) const;
  void load(exec::StateReader& r);

 private:
  struct Hash {
    size_t operator()(const Value& v) const { return types::hash(v); }
  };
  struct Eq {
    bool operator()(const Value& a, const Value& b) const { return types::group_equal(a, b); }
  };
  std::unordered_set<Value, Hash, Eq> seen_;
  std::unique_ptr<Arena> strings_;
};

template <class S>
struct Distinct {
  DistinctSet set;
  S inner;
  void update(const Value* v) {
    if (set.insert(*v)) inner.update(v);
  }
  Value finalize(Arena& arena, exec::EvalContext& ctx) const { return inner.finalize(arena, ctx); }
  void save(exec::StateWriter& w) const {
    set.save(w);
    inner.save(w);
  }
  void load(exec::StateReader& r) {
    set.load(r);
    inner.load(r);
  }
};

// ---- COUNT ----

struct Count {
  int64_t n = 0;
  void update(const Value*) { ++n; }
  Value finalize(Arena&, exec::EvalContext&) const { return Value::bigint(n); }
  void save(exec::StateWriter& w) const { w.i64(n); }
  void load(exec::StateReader& r) { n = r.counter(); }
};

// ---- SUM / AVG ----

// BIGINT or INTERVAL sum, exact in 128 bits; overflow of the result type shows at finalize.
template <TypeId kType>
struct SumInt {
  int128 sum = 0;
  bool has = false;
  void update(const Value* v) {
    sum += v->i;
    has = true;
  }
  Value finalize(Arena&, exec::EvalContext& ctx) const;
  void save(exec::StateWriter& w) const {
    w.i128(sum);
    w.boolean(has);
  }
  void load(exec::StateReader& r) {
    sum = r.sum128();
    has = r.boolean();
  }
};

struct SumDecimal {
  int128 sum = 0;
  bool has = false;
  bool overflow = false;
  uint8_t scale = 0;
  void update(const Value* v) {
    overflow |= __builtin_add_overflow(sum, v->dec, &sum);
    scale = v->scale;
    has = true;
  }
  Value finalize(Arena&, exec::EvalContext& ctx) const;
  void save(exec::StateWriter& w) const {
    w.i128(sum);
    w.boolean(has);
    w.boolean(overflow);
    w.u8(scale);
  }
  void load(exec::StateReader& r) {
    sum = r.i128();
    has = r.boolean();
    overflow = r.boolean();
    scale = r.u8();
    if (scale > types::kMaxDecimalPrecision) r.fail("decimal scale " + std::to_string(scale));
  }
};

struct SumDouble {
  double sum = 0;
  bool has = false;
  void update(const Value* v) {
    sum += v->d;
    has = true;
  }
  Value finalize(Arena&, exec::EvalContext&) const {
    return has ? Value::float64(sum) : Value::make_null(TypeId::kDouble);
  }
  void save(exec::StateWriter& w) const {
    w.f64(sum);
    w.boolean(has);
  }
  void load(exec::StateReader& r) {
    sum = r.f64();
    has = r.boolean();
  }
};

struct AvgInt {
  int128 sum = 0;
  int64_t n = 0;
  void update(const Value* v) {
    sum += v->i;
    ++n;
  }
  Value finalize(Arena&, exec::EvalContext&) const {
    if (n == 0) return Value::make_null(TypeId::kDouble);
    return Value::float64(static_cast<double>(sum) / static_cast<double>(n));
  }
  void save(exec::StateWriter& w) const {
    w.i128(sum);
    w.i64(n);
  }
  void load(exec::StateReader& r) {
    sum = r.sum128();
    n = r.counter();
  }
};

struct AvgDecimal {
  SumDecimal sum;
  int64_t n = 0;
  void update(const Value* v) {
    sum.update(v);
    ++n;
  }
  Value finalize(Arena&, exec::EvalContext& ctx) const;
  void save(exec::StateWriter& w) const {
    sum.save(w);
    w.i64(n);
  }
  void load(exec::StateReader& r) {
    sum.load(r);
    n = r.counter();
  }
};

struct AvgDouble {
  double sum = 0;
  int64_t n = 0;
  void update(const Value* v) {
    sum += v->d;
    ++n;
  }
  Value finalize(Arena&, exec::EvalContext&) const {
    if (n == 0) return Value::make_null(TypeId::kDouble);
    return Value::float64(sum / static_cast<double>(n));
  }
  void save(exec::StateWriter& w) const {
    w.f64(sum);
    w.i64(n);
  }
  void load(exec::StateReader& r) {
    sum = r.f64();
    n = r.counter();
  }
};

// ---- MIN / MAX / FIRST_VALUE / LAST_VALUE ----

template <TypeId kType, bool kMax>
struct Extreme {
  HeldValue<kType> held;
  void update(const Value* v) {
    if (held.has) {
      int c = compare_as<kType>(*v, held.value);
      if (kMax ? c <= 0 : c >= 0) return;
    }
    held.take(*v);
  }
  Value finalize(Arena& arena, exec::EvalContext&) const { return held.result(arena); }
  void save(exec::StateWriter& w) const { held.save(w); }
  void load(exec::StateReader& r) { held.load(r); }
};
template <TypeId kType>
using Min = Extreme<kType, false>;
template <TypeId kType>
using Max = Extreme<kType, true>;

template <TypeId kType, bool kLast>
struct Pick {
  HeldValue<kType> held;
  void update(const Value* v) {
    if (kLast || !held.has) held.take(*v);
  }
  Value finalize(Arena& arena, exec::EvalContext&) const { return held.result(arena); }
  void save(exec::StateWriter& w) const { held.save(w); }
  void load(exec::StateReader& r) { held.load(r); }
};
template <TypeId kType>
using FirstValue = Pick<kType, false>;
template <TypeId kType>
using LastValue = Pick<kType, true>;

// ---- variance family (Welford's online algorithm) ----

enum class Spread : uint8_t { kVarSamp, kVarPop, kStddevSamp, kStddevPop };

template <Spread kKind>
struct Variance {
  int64_t n = 0;
  double mean = 0;
  double m2 = 0;
  void update(const Value* v) {
    ++n;
    double delta = v->d - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (v->d - mean);
  }
  Value finalize(Arena&, exec::EvalContext&) const {
    constexpr bool kSample = kKind == Spread::kVarSamp || kKind == Spread::kStddevSamp;
    if (n < (kSample ? 2 : 1)) return Value::make_null(TypeId::kDouble);
    double var = m2 / static_cast<double>(kSample ? n - 1 : n);
    if (var < 0) var = 0;  // rounding can leave -0.0000001 for constant input
    bool root = kKind == Spread::kStddevSamp || kKind == Spread::kStddevPop;
    return Value::float64(root ? std::sqrt(var) : var);
  }
  void save(exec::StateWriter& w) const {
    w.i64(n);
    w.f64(mean);
    w.f64(m2);
  }
  void load(exec::StateReader& r) {
    n = r.counter();
    mean = r.f64();
    m2 = r.f64();
  }
};

}  // namespace sluice::functions::agg
