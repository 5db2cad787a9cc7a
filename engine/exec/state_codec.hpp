#pragma once
// The binary encoding of operator state, for snapshots and changelog records: StateWriter appends
// to a byte string, StateReader reads it back. Fixed-width little-endian integers, IEEE doubles by
// their bits, length-prefixed bytes, and Values as a type tag, a null flag and the payload. The
// reader checks every length against what is left and every tag against what it may be: a
// truncated or corrupt input throws sluice::Error (kState) and is never read past its end. The
// layout of each state is versioned by its owner (see Query::snapshot); this file only encodes.
// Not thread-safe; a writer or reader belongs to the caller.

#include "common/arena.hpp"
#include "types/data_type.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::exec {

// NULL, or a value of type `t` (a DECIMAL of its scale, below 10^38 in magnitude): what a restored
// value must be before anything compares or computes with it (negating -2^127 is undefined).
inline bool of_type(const types::Value& v, const types::DataType& t) {
  if (v.null) return true;
  if (v.type != t.id) return false;
  if (t.id != types::TypeId::kDecimal) return true;
  constexpr types::int128 kLimit = static_cast<types::int128>(1'000'000'000'000'000'000ULL) *
                                   1'000'000'000'000'000'000ULL * 100;  // 10^38
  return v.scale == t.scale && v.dec < kLimit && v.dec > -kLimit;
}

class StateWriter {
 public:
  explicit StateWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void i128(types::int128 v);
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(std::string_view v);
  void value(const types::Value& v);

 private:
  void fixed(uint64_t v, int n);
  std::string& out_;
};

class StateReader {
 public:
  // `what` names the input in errors ("snapshot of job x partition 3"); it must outlive the
  // reader (readers are made per changelog record: no copy).
  StateReader(std::string_view in, std::string_view what) : in_(in), what_(what) {}

  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  int64_t i64() { return static_cast<int64_t>(fixed(8)); }
  types::int128 i128();
  double f64();
  bool boolean();
  // A view into the input: valid as long as the input is.
  std::string_view bytes();
  // A value; its string bytes are copied into `arena`.
  types::Value value(Arena& arena);
  // A count of items that each take at least `min_item_bytes` of what is left: rejects counts a
  // truncated input cannot hold before anything is allocated for them.
  uint32_t count(size_t min_item_bytes);
  // A count of rows a state has seen: refuses negative ones and ones above 2^62, which no input
  // reaches, so a restored counter cannot overflow as it goes on counting.
  int64_t counter();
  // An exact sum of 64-bit values: refuses magnitudes above 2^126 (2^62 values of 2^63), so a
  // restored sum cannot overflow 128 bits as it goes on adding.
  types::int128 sum128();

  size_t left() const { return in_.size() - pos_; }
  // Everything the reader reads from.
  std::string_view whole() const { return in_; }
  // Throws unless everything was read.
  void expect_end();
  [[noreturn]] void fail(const std::string& why) const;

 private:
  uint64_t fixed(int n);
  std::string_view in_;
  size_t pos_ = 0;
  std::string_view what_;
};

}  // namespace sluice::exec
