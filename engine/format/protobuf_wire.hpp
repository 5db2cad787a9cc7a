#pragma once
// The Protobuf wire format as format/protobuf_decode.cpp and protobuf_encode.cpp read and write
// it, and which field types read into which column types (internal to format/).

#include "format/protobuf.hpp"
#include "format/varint.hpp"
#include "types/data_type.hpp"

#include <cstdint>
#include <string_view>

namespace sluice::format::protobuf {

// Nesting of messages a record may hold, and of groups a skip follows.
constexpr int kMaxDepth = 64;

enum Wire : uint32_t { kVarint = 0, kI64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kI32 = 5 };

inline uint32_t wire_of(Kind k) {
  switch (k) {
    case Kind::kDouble:
    case Kind::kFixed64:
    case Kind::kSFixed64:
      return kI64;
    case Kind::kFloat:
    case Kind::kFixed32:
    case Kind::kSFixed32:
      return kI32;
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kMessage:
      return kLen;
    case Kind::kGroup:
      return kStartGroup;
    default:
      return kVarint;
  }
}

inline bool is_integer(Kind k) {
  return k != Kind::kDouble && k != Kind::kFloat && k != Kind::kBool && k != Kind::kString &&
         k != Kind::kBytes && k != Kind::kEnum && k != Kind::kMessage && k != Kind::kGroup;
}

// The value of integer field kind `k` whose wire bits are `raw`.
inline types::int128 integer_of(Kind k, uint64_t raw) {
  switch (k) {
    case Kind::kInt32:
    case Kind::kSFixed32:
      return static_cast<int32_t>(static_cast<uint32_t>(raw));
    case Kind::kUInt32:
    case Kind::kFixed32:
      return static_cast<uint32_t>(raw);
    case Kind::kSInt32: {
      auto u = static_cast<uint32_t>(raw);
      return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
    }
    case Kind::kSInt64:
      return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
    case Kind::kUInt64:
    case Kind::kFixed64:
      return raw;
    default:  // int64, sfixed64
      return static_cast<int64_t>(raw);
  }
}

// A position in one message's bytes, with Protobuf's reads.
struct WireCursor : ByteCursor {
  using ByteCursor::ByteCursor;

  bool fixed(size_t n, uint64_t* out) {
    std::string_view b;
    if (!take(n, &b)) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
    *out = v;
    return true;
  }
  bool bytes(std::string_view* out) {
    uint64_t n = 0;
    if (!varint(&n)) return false;
    if (n > left()) return fail("a length beyond the end");
    return take(static_cast<size_t>(n), out);
  }
  // A field's tag: its number (1 .. 2^29 - 1) and wire type.
  bool tag(uint32_t* number, uint32_t* wire) {
    uint64_t t = 0;
    if (!varint(&t)) return false;
    if ((t >> 3) == 0 || (t >> 3) > 0x1fffffff) return fail("a field number out of range");
    *number = static_cast<uint32_t>(t >> 3);
    *wire = static_cast<uint32_t>(t & 7);
    return true;
  }
  // Skips the value of a field of `number` with wire type `wire`.
  bool skip(uint32_t number, uint32_t wire, int depth) {
    uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case kVarint:
        return varint(&v);
      case kI64:
        return fixed(8, &v);
      case kI32:
        return fixed(4, &v);
      case kLen:
        return bytes(&s);
      case kStartGroup:
        if (depth > kMaxDepth) return fail("groups nested too deeply");
        for (;;) {
          uint32_t n = 0, w = 0;
          if (!tag(&n, &w)) return false;
          if (w == kEndGroup) return n == number || fail("a group closed by another field");
          if (!skip(n, w, depth + 1)) return false;
        }
      default:
        return fail(wire == kEndGroup ? "a group end without its start" : "a bad wire type");
    }
  }
};

// Field `number` of map entry (or wrapper) message `entry`: 1 the key (the value), 2 the value.
inline const Field& entry_field(const Message& entry, uint32_t number) {
  return entry.fields[static_cast<size_t>(entry.find(number))];
}

// Whether values of field `f` can be read as `t` (`element`: one element of a repeated field).
bool readable(const Field& f, types::DataType t, bool element = false);
// A message whose one field is a repeated field or map numbered 1: how ARRAYs and MAPs that are
// elements or map values are written (protobuf_schema_for), read as that ARRAY or MAP.
bool list_wrapper(const Message& m);

}  // namespace sluice::format::protobuf
