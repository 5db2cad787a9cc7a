#pragma once
// Base-128 varints, as Avro (zigzag longs) and Protobuf (plain and zigzag integers, tags, lengths)
// write them, and a bounds-checked cursor over one record's bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::format {

constexpr uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void append_varint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A position in one record's bytes. Every read checks the end; the first failure is kept (and
// moves the cursor to the end).
struct ByteCursor {
  const uint8_t* p;
  const uint8_t* end;
  const char* error = nullptr;

  ByteCursor(const uint8_t* begin, const uint8_t* stop) : p(begin), end(stop) {}
  explicit ByteCursor(std::string_view b)
      : p(reinterpret_cast<const uint8_t*>(b.data())), end(p + b.size()) {}

  size_t left() const { return static_cast<size_t>(end - p); }
  bool done() const { return p == end; }
  bool fail(const char* why) {
    if (error == nullptr) error = why;
    p = end;
    return false;
  }
  // A varint of at most 10 bytes and 64 bits.
  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p == end) return fail("truncated");
      uint8_t b = *p++;
      if (shift == 63 && b > 1) return fail("a varint longer than 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return fail("a varint longer than 10 bytes");
  }
  bool zigzag_varint(int64_t* out) {
    uint64_t v = 0;
    if (!varint(&v)) return false;
    *out = unzigzag(v);
    return true;
  }
  // The next `n` bytes.
  bool take(size_t n, std::string_view* out) {
    if (n > left()) return fail("truncated");
    *out = {reinterpret_cast<const char*>(p), n};
    p += n;
    return true;
  }
};

}  // namespace sluice::format
