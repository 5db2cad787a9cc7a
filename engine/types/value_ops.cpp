#include "types/value_ops.hpp"

#include "types/bytes_text.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"
#include "types/value_text.hpp"

#include <charconv>
#include <cmath>

namespace sluice::types {

namespace {

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_double(double a, double b) {
  if (std::isnan(a)) return std::isnan(b) ? 0 : 1;
  if (std::isnan(b)) return -1;
  return three_way(a, b);
}

// Exact comparison across scales: if raising the smaller scale overflows, that side's magnitude
// exceeds anything the other side can hold, so its sign decides.
int compare_decimal(int128 a, uint8_t sa, int128 b, uint8_t sb) {
  if (sa == sb) return three_way(a, b);
  int128 raised;
  if (sa < sb) {
    if (!decimal::rescale(a, sa, sb, &raised)) return a < 0 ? -1 : 1;
    return three_way(raised, b);
  }
  if (!decimal::rescale(b, sb, sa, &raised)) return b < 0 ? 1 : -1;
  return three_way(a, raised);
}

int compare_strings(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  return three_way(a.size(), b.size());
}

double numeric_as_double(const Value& v) {
  switch (v.type) {
    case TypeId::kBigInt:
      return static_cast<double>(v.i);
    case TypeId::kDecimal:
      return decimal::to_double(v.dec, v.scale);
    default:
      return v.d;
  }
}

bool is_numeric(TypeId t) {
  return t == TypeId::kBigInt || t == TypeId::kDouble || t == TypeId::kDecimal;
}

// Values of different TypeIds only reach here through a binder bug; numbers still compare by value
// so the result stays meaningful.
int compare_mixed(const Value& a, const Value& b) {
  if (!is_numeric(a.type) || !is_numeric(b.type)) return three_way(a.type, b.type);
  if (a.type == TypeId::kDouble || b.type == TypeId::kDouble)
    return compare_double(numeric_as_double(a), numeric_as_double(b));
  int128 av = a.type == TypeId::kBigInt ? int128{a.i} : a.dec;
  int128 bv = b.type == TypeId::kBigInt ? int128{b.i} : b.dec;
  return compare_decimal(av, a.type == TypeId::kBigInt ? 0 : a.scale, bv,
                         b.type == TypeId::kBigInt ? 0 : b.scale);
}

constexpr uint64_t kSecret0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kSecret1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kSecret2 = 0x8ebc6af09c88c6e3ULL;

// murmur3 finalizer: full avalanche of 64 bits.
uint64_t fmix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// wyhash-style mix: two 64x64->128 multiplies (one alone leaves patterns in the low bits that
// hash tables index by). Chaining through `seed` keeps column order significant.
uint64_t hash_word(uint64_t x, uint64_t seed) {
  return mum(mum(x ^ kSecret1, seed ^ kSecret2), kSecret0);
}

uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// wyhash-style: one 64x64->128 multiply per 8 bytes.
uint64_t hash_bytes(const char* p, size_t n, uint64_t seed) {
  uint64_t h = mum(seed ^ kSecret0, n ^ kSecret1);
  for (; n >= 8; p += 8, n -= 8)
    h = mum(load64(p) ^ kSecret1, h ^ kSecret2);
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = mum(tail ^ kSecret1, h ^ kSecret2 ^ n);
  }
  return fmix(h);
}

uint64_t double_bits(double d) {
  if (d == 0) d = 0.0;                              // -0.0 equals 0.0
  if (std::isnan(d)) return 0x7ff8000000000000ULL;  // every NaN is one group
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

}  // namespace

int compare(const Value& a, const Value& b) {
  if (a.null || b.null) return a.null == b.null ? 0 : (a.null ? -1 : 1);
  if (a.type != b.type) return compare_mixed(a, b);
  switch (a.type) {
    case TypeId::kNull:
      return 0;
    case TypeId::kBoolean:
      return three_way(a.b, b.b);
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime:
      return three_way(a.i, b.i);
    case TypeId::kDouble:
      return compare_double(a.d, b.d);
    case TypeId::kDecimal:
      return compare_decimal(a.dec, a.scale, b.dec, b.scale);
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:  // by bytes: equal exactly when equal (see types/nested.hpp)
    case TypeId::kArray:
    case TypeId::kMap:
      return compare_strings(a.str(), b.str());
  }
  return 0;
}

uint64_t hash(const Value& v, uint64_t seed) {
  if (v.null) return hash_word(0x6e756c6c6e756c6cULL, seed);
  switch (v.type) {
    case TypeId::kNull:
      return hash_word(0x6e756c6c6e756c6cULL, seed);
    case TypeId::kBoolean:
      return hash_word(v.b ? 1 : 0, seed);
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime:
      return hash_word(static_cast<uint64_t>(v.i), seed);
    case TypeId::kDouble:
      return hash_word(double_bits(v.d), seed);
    case TypeId::kDecimal: {
      auto u = static_cast<unsigned __int128>(v.dec);
      return hash_word(static_cast<uint64_t>(u >> 64), hash_word(static_cast<uint64_t>(u), seed));
    }
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return hash_bytes(v.s.data, v.s.size, seed);
  }
  return seed;
}

size_t format_scalar(const Value& v, char* buf) {
  switch (v.type) {
    case TypeId::kNull:
      break;
    case TypeId::kBoolean:
      std::memcpy(buf, v.b ? "true" : "false", v.b ? 4 : 5);
      return v.b ? 4 : 5;
    case TypeId::kBigInt:
    case TypeId::kInterval:
      return static_cast<size_t>(std::to_chars(buf, buf + 32, v.i).ptr - buf);
    case TypeId::kDouble:
      return format_double(v.d, buf);
    case TypeId::kDecimal:
      return decimal::format(v.dec, v.scale, buf);
    case TypeId::kTimestamp:
      return time::format_timestamp(v.i, buf);
    case TypeId::kDate:
      return time::format_date(v.i, buf);
    case TypeId::kTime:
      return time::format_time(v.i, buf);
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      break;
  }
  std::memcpy(buf, "NULL", 4);
  return 4;
}

size_t format_double(double d, char* buf) {
  if (std::isnan(d)) {
    std::memcpy(buf, "NaN", 3);
    return 3;
  }
  if (std::isinf(d)) {
    const char* text = d < 0 ? "-Infinity" : "Infinity";
    size_t n = d < 0 ? 9 : 8;
    std::memcpy(buf, text, n);
    return n;
  }
  return static_cast<size_t>(std::to_chars(buf, buf + 32, d).ptr - buf);
}

void append_text(const Value& v, std::string& out) {
  if (v.null) {
    out.append("NULL");
  } else if (v.type == TypeId::kString) {
    out.append(v.s.data, v.s.size);
  } else if (v.type == TypeId::kBytes) {
    append_base64(v.str(), out);
  } else if (v.type == TypeId::kStruct || v.type == TypeId::kArray || v.type == TypeId::kMap) {
    // Without its DataType a nested value has no text; messages name its kind and size.
    nested::View view;
    bool ok = nested::View::open(v.str(), &view);
    out.append(v.type == TypeId::kStruct ? "STRUCT" : v.type == TypeId::kArray ? "ARRAY" : "MAP");
    out.append(" of ");
    out.append(std::to_string(ok ? (v.type == TypeId::kMap ? view.size() / 2 : view.size()) : 0));
    out.append(v.type == TypeId::kStruct ? " fields"
               : v.type == TypeId::kMap  ? " entries"
                                         : " elements");
  } else {
    char buf[kMaxScalarText];
    out.append(buf, format_scalar(v, buf));
  }
}

std::string to_text(const Value& v) {
  std::string out;
  append_text(v, out);
  return out;
}

}  // namespace sluice::types
