#pragma once
// Internal to exec/analytic*.cpp: the per-partition building blocks of OVER frames. Each object
// belongs to one partition key of one pipeline's AnalyticState (one strand); no synchronisation.
// Buffers grow to their frame size and are then reused, so steady state allocates nothing.

#include "types/value.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::exec::analytic {

class PartitionCodec;  // saves and restores these (exec/analytic_state.cpp)

using types::int128;
using types::Value;

// A value kept across batches; a string's bytes are copied into a buffer that only grows.
class HeldValue {
 public:
  void take(const Value& v) {
    value_ = v;
    has_ = true;
    if (v.has_bytes()) bytes_.assign(v.str());
  }
  bool has() const { return has_; }
  // Valid until the next take(); strings point into this object.
  Value get() const {
    if (value_.has_bytes()) return value_.with_bytes(bytes_);
    return value_;
  }

 private:
  friend class PartitionCodec;
  Value value_;
  bool has_ = false;
  std::string bytes_;
};

// The last `cap` values of one argument in one partition, by the partition's row sequence number
// (0, 1, 2, ...; each row pushes exactly once). It grows to `cap` slots, then wraps.
class ValueRing {
 public:
  explicit ValueRing(size_t cap = 1) : cap_(cap == 0 ? 1 : cap) {}

  void push(int64_t seq, const Value& v) {
    auto slot = static_cast<size_t>(seq) % cap_;
    if (slot == slots_.size()) slots_.emplace_back();
    slots_[slot].take(v);
  }
  // `seq` must be one of the last `cap` pushed; strings stay valid until that slot is reused.
  Value at(int64_t seq) const { return slots_[static_cast<size_t>(seq) % cap_].get(); }

 private:
  friend class PartitionCodec;
  size_t cap_;
  std::vector<HeldValue> slots_;
};

// Signed 192-bit accumulator: an exact sum of DECIMAL values (|v| < 10^38) over any number of
// rows, with values entering and leaving in any order.
class WideSum {
 public:
  void add(int128 v) {
    auto u = static_cast<unsigned __int128>(v);
    unsigned __int128 old = lo_;
    lo_ += u;
    hi_ += (lo_ < old ? 1 : 0) - (v < 0 ? 1 : 0);
  }
  void sub(int128 v) { add(-v); }
  // False when the sum does not fit in 128 bits.
  bool get(int128* out) const {
    bool negative = (lo_ >> 127) != 0;
    if (hi_ != (negative ? -1 : 0)) return false;
    *out = static_cast<int128>(lo_);
    return true;
  }

 private:
  friend class PartitionCodec;
  unsigned __int128 lo_ = 0;
  int64_t hi_ = 0;
};

// DOUBLE sum of a sliding frame. Finite values go into a Neumaier-compensated sum, so adding and
// later subtracting a large value does not wipe out small ones; infinities and NaN are counted
// apart, so one leaving the frame leaves no NaN behind. The caller recomputes the sum from the
// frame each time the frame has turned over, which bounds any remaining drift.
class DoubleSum {
 public:
  void add(double x) {
    if (!count_special(x, 1)) add_finite(x);
  }
  void sub(double x) {
    if (!count_special(x, -1)) add_finite(-x);
  }
  void reset() { *this = DoubleSum(); }
  // The finite values' sum overflowed (or drifted into NaN): recompute it from the frame.
  bool needs_recompute() const { return !std::isfinite(sum_ + compensation_); }
  double value() const {
    if (nan_ > 0 || (pos_inf_ > 0 && neg_inf_ > 0)) return std::nan("");
    if (pos_inf_ > 0) return HUGE_VAL;
    if (neg_inf_ > 0) return -HUGE_VAL;
    return sum_ + compensation_;
  }

 private:
  friend class PartitionCodec;
  bool count_special(double x, int64_t d) {
    if (std::isfinite(x)) return false;
    if (std::isnan(x)) {
      nan_ += d;
    } else if (x > 0) {
      pos_inf_ += d;
    } else {
      neg_inf_ += d;
    }
    return true;
  }
  void add_finite(double x) {
    double t = sum_ + x;
    compensation_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }

  double sum_ = 0;
  double compensation_ = 0;
  int64_t nan_ = 0, pos_inf_ = 0, neg_inf_ = 0;
};

// Row sequence numbers in a ring buffer (power-of-two capacity, doubling when full): the monotonic
// deque of a sliding MIN or MAX. The front is the frame's extreme.
class SeqDeque {
 public:
  bool empty() const { return size_ == 0; }
  int64_t front() const { return buf_[head_]; }
  int64_t back() const { return buf_[(head_ + size_ - 1) & (buf_.size() - 1)]; }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }
  void pop_back() { --size_; }
  void push_back(int64_t seq) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = seq;
    ++size_;
  }

 private:
  friend class PartitionCodec;
  void grow() {
    std::vector<int64_t> bigger(buf_.empty() ? 8 : buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i)
      bigger[i] = buf_[(head_ + i) & (buf_.size() - 1)];
    buf_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<int64_t> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace sluice::exec::analytic
