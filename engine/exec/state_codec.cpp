#include "exec/state_codec.hpp"

#include "common/error.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"

#include <cstring>

namespace sluice::exec {

using types::TypeId;
using types::Value;

void StateWriter::fixed(uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void StateWriter::i128(types::int128 v) {
  auto u = static_cast<unsigned __int128>(v);
  u64(static_cast<uint64_t>(u));
  u64(static_cast<uint64_t>(u >> 64));
}

void StateWriter::f64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void StateWriter::bytes(std::string_view v) {
  u32(static_cast<uint32_t>(v.size()));
  out_.append(v);
}

void StateWriter::value(const Value& v) {
  u8(static_cast<uint8_t>(v.type));
  boolean(v.null);
  if (v.null) return;
  switch (v.type) {
    case TypeId::kNull:
      return;
    case TypeId::kBoolean:
      boolean(v.b);
      return;
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime:
      i64(v.i);
      return;
    case TypeId::kDouble:
      f64(v.d);
      return;
    case TypeId::kDecimal:
      u8(v.scale);
      i128(v.dec);
      return;
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      bytes(v.str());
      return;
  }
}

void StateReader::fail(const std::string& why) const {
  throw Error(ErrorCode::kState,
              std::string(what_) + ": " + why + " (at byte " + std::to_string(pos_) + ")");
}

uint64_t StateReader::fixed(int n) {
  if (left() < static_cast<size_t>(n)) fail("truncated");
  uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += n;
  return v;
}

types::int128 StateReader::i128() {
  uint64_t lo = u64();
  uint64_t hi = u64();
  return static_cast<types::int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
}

double StateReader::f64() {
  uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

bool StateReader::boolean() {
  uint8_t b = u8();
  if (b > 1) fail("a boolean is " + std::to_string(b));
  return b == 1;
}

std::string_view StateReader::bytes() {
  uint32_t n = u32();
  if (left() < n) fail("truncated: " + std::to_string(n) + " bytes announced");
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}

uint32_t StateReader::count(size_t min_item_bytes) {
  uint32_t n = u32();
  if (min_item_bytes > 0 && n > left() / min_item_bytes)
    fail("truncated: " + std::to_string(n) + " items announced");
  return n;
}

Value StateReader::value(Arena& arena) {
  uint8_t tag = u8();
  if (tag > static_cast<uint8_t>(types::kLastTypeId))
    fail("unknown type tag " + std::to_string(tag));
  auto type = static_cast<TypeId>(tag);
  if (boolean()) return Value::make_null(type);
  switch (type) {
    case TypeId::kNull:
      fail("a non-NULL value of type NULL");
    case TypeId::kBoolean:
      return Value::boolean(boolean());
    case TypeId::kBigInt:
      return Value::bigint(i64());
    case TypeId::kTimestamp:
      return Value::timestamp(i64());
    case TypeId::kInterval:
      return Value::interval(i64());
    case TypeId::kDouble:
      return Value::float64(f64());
    case TypeId::kDecimal: {
      uint8_t scale = u8();
      if (scale > types::kMaxDecimalPrecision) fail("decimal scale " + std::to_string(scale));
      return Value::decimal(i128(), scale);
    }
    case TypeId::kString:
      return Value::string(arena.copy(bytes()));
    case TypeId::kBytes:
      return Value::bytes(arena.copy(bytes()));
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap: {
      // Readers of nested values check every bound, so a damaged layout reads as NULLs.
      std::string_view layout = bytes();
      types::nested::View view;
      if (!types::nested::View::open(layout, &view)) fail("a damaged nested value");
      return Value::nested(type, arena.copy(layout));
    }
    case TypeId::kDate: {
      int64_t days = i64();
      if (!types::time::valid_date(days)) fail("a DATE of " + std::to_string(days) + " days");
      return Value::date(days);
    }
    case TypeId::kTime: {
      int64_t ms = i64();
      if (!types::time::valid_time(ms)) fail("a TIME of " + std::to_string(ms) + " ms");
      return Value::time(ms);
    }
  }
  fail("unreachable type");
}

int64_t StateReader::counter() {
  int64_t n = i64();
  if (n < 0 || n > (int64_t{1} << 62)) fail("a row count of " + std::to_string(n));
  return n;
}

types::int128 StateReader::sum128() {
  types::int128 s = i128();
  constexpr types::int128 kMax = types::int128{1} << 126;
  if (s > kMax || s < -kMax) fail("a sum beyond 2^126");
  return s;
}

void StateReader::expect_end() {
  if (left() != 0) fail(std::to_string(left()) + " bytes left over");
}

}  // namespace sluice::exec
