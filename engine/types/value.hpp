#pragma once
// One SQL value: a tag, a NULL flag and an 16-byte payload. Strings are not owned: they point into
// the Arena of the batch or state that holds the row. Rows are contiguous arrays of Value.

#include "types/data_type.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::types {

using int128 = __int128;

struct StringRef {
  const char* data;
  uint32_t size;
};

struct Value {
  TypeId type = TypeId::kNull;
  bool null = true;
  uint8_t scale = 0;  // DECIMAL only: digits after the point
  union {
    bool b;
    int64_t i;  // BIGINT, TIMESTAMP (ms), INTERVAL (ms), DATE (days), TIME (ms of the day)
    double d;
    int128 dec;   // DECIMAL unscaled value
    StringRef s;  // STRING, BYTES; STRUCT, ARRAY, MAP in the layout of types/nested.hpp
  };

  Value() : dec(0) {}

  static Value make_null(TypeId t = TypeId::kNull) {
    Value v;
    v.type = t;
    return v;
  }
  // The NULL of `t` (a DECIMAL's carries its scale).
  static Value null_of(DataType t) {
    Value v = make_null(t.id);
    if (t.id == TypeId::kDecimal) v.scale = t.scale;
    return v;
  }
  static Value boolean(bool x) {
    Value v = of(TypeId::kBoolean);
    v.b = x;
    return v;
  }
  static Value bigint(int64_t x) {
    Value v = of(TypeId::kBigInt);
    v.i = x;
    return v;
  }
  static Value float64(double x) {
    Value v = of(TypeId::kDouble);
    v.d = x;
    return v;
  }
  static Value decimal(int128 unscaled, uint8_t scale) {
    Value v = of(TypeId::kDecimal);
    v.dec = unscaled;
    v.scale = scale;
    return v;
  }
  // Does not copy: `x` must outlive the value (copy into an Arena first when needed).
  static Value string(std::string_view x) {
    Value v = of(TypeId::kString);
    v.s = {x.data(), static_cast<uint32_t>(x.size())};
    return v;
  }
  static Value timestamp(int64_t ms) {
    Value v = of(TypeId::kTimestamp);
    v.i = ms;
    return v;
  }
  static Value interval(int64_t ms) {
    Value v = of(TypeId::kInterval);
    v.i = ms;
    return v;
  }
  static Value date(int64_t days) {
    Value v = of(TypeId::kDate);
    v.i = days;
    return v;
  }
  static Value time(int64_t ms_of_day) {
    Value v = of(TypeId::kTime);
    v.i = ms_of_day;
    return v;
  }
  // Does not copy, as string().
  static Value bytes(std::string_view x) {
    Value v = of(TypeId::kBytes);
    v.s = {x.data(), static_cast<uint32_t>(x.size())};
    return v;
  }

  // A STRUCT, ARRAY or MAP laid out as types/nested.hpp says. Does not copy, as string().
  static Value nested(TypeId t, std::string_view layout) {
    Value v = of(t);
    v.s = {layout.data(), static_cast<uint32_t>(layout.size())};
    return v;
  }

  std::string_view str() const { return {s.data, s.size}; }
  bool is_null() const { return null; }
  // A non-NULL STRING, BYTES, STRUCT, ARRAY or MAP: its bytes live outside the value and are
  // copied with it.
  bool has_bytes() const {
    static_assert(TypeId::kBytes < TypeId::kStruct && TypeId::kStruct < TypeId::kArray &&
                  TypeId::kArray < TypeId::kMap && TypeId::kMap == kLastTypeId);
    return !null && (type == TypeId::kString || type >= TypeId::kBytes);
  }
  // The same value with its bytes at `at` (a copy the caller made of str()).
  Value with_bytes(std::string_view at) const {
    Value v = *this;
    v.s = {at.data(), static_cast<uint32_t>(at.size())};
    return v;
  }

 private:
  static Value of(TypeId t) {
    Value v;
    v.type = t;
    v.null = false;
    return v;
  }
};

}  // namespace sluice::types
