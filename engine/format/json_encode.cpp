#include "format/json.hpp"
#include "types/bytes_text.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"
#include "types/value_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sluice::format {

namespace {

using types::TypeId;
using types::Value;

// Length of the valid UTF-8 sequence starting at s[i] (lead byte >= 0x80), 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  auto cont = [&](size_t k) { return (at(k) & 0xC0) == 0x80; };
  unsigned char c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char c1 = at(1);
    if (c == 0xE0 && c1 < 0xA0) return 0;
    if (c == 0xED && c1 > 0x9F) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char c1 = at(1);
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Writes the escape of an ASCII control character, quote or backslash; returns the end.
char* write_escape(unsigned char c, char* p) {
  char short_form = 0;
  switch (c) {
    case '"':
      short_form = '"';
      break;
    case '\\':
      short_form = '\\';
      break;
    case '\b':
      short_form = 'b';
      break;
    case '\f':
      short_form = 'f';
      break;
    case '\n':
      short_form = 'n';
      break;
    case '\r':
      short_form = 'r';
      break;
    case '\t':
      short_form = 't';
      break;
    default:
      break;
  }
  *p++ = '\\';
  if (short_form != 0) {
    *p++ = short_form;
    return p;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const char tail[5] = {'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  std::memcpy(p, tail, sizeof(tail));
  return p + sizeof(tail);
}

// Bytes write_json_string may write for `s`: quotes plus at most 6 per input byte.
size_t json_string_bound(std::string_view s) {
  return 2 + 6 * s.size();
}

// Writes `s` as a JSON string literal at `p` (json_string_bound(s) bytes available); returns the
// end. Valid UTF-8 is copied as it is; an invalid byte becomes U+FFFD.
char* write_json_string(std::string_view s, char* p) {
  *p++ = '"';
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) continue;
    if (c >= 0x80) {
      size_t n = utf8_sequence(s, i);
      if (n > 0) {
        i += n - 1;
        continue;
      }
    }
    std::memcpy(p, s.data() + run, i - run);
    p += i - run;
    if (c >= 0x80) {
      std::memcpy(p, "\\ufffd", 6);  // invalid UTF-8 byte: JSON text must be valid UTF-8
      p += 6;
    } else {
      p = write_escape(c, p);
    }
    run = i + 1;
  }
  if (s.size() > run) std::memcpy(p, s.data() + run, s.size() - run);
  p += s.size() - run;
  *p++ = '"';
  return p;
}

// DECIMAL text exactly as decimal::format writes it ("-0.05", "123.4500", "7"). Values below 2^63
// with scale <= 18 (nearly all) take two 64-bit to_chars calls instead of a digit loop.
char* write_decimal(types::int128 v, uint8_t scale, char* p) {
  constexpr types::int128 kLimit = types::int128{1} << 63;
  if (v >= kLimit || v <= -kLimit || scale > 18) return p + types::decimal::format(v, scale, p);
  uint64_t mag = static_cast<uint64_t>(v < 0 ? -v : v);
  if (v < 0) *p++ = '-';
  p = std::to_chars(p, p + 20, mag / types::decimal::kPow10U64[scale]).ptr;
  if (scale == 0) return p;
  *p++ = '.';
  char frac[20];
  char* frac_end =
      std::to_chars(frac, frac + sizeof(frac), mag % types::decimal::kPow10U64[scale]).ptr;
  auto len = static_cast<size_t>(frac_end - frac);
  std::memset(p, '0', scale - len);  // leading zeros of the fraction
  std::memcpy(p + (scale - len), frac, len);
  return p + scale;
}

}  // namespace

void append_json_string(std::string_view s, std::string& out) {
  size_t start = out.size();
  out.resize(start + json_string_bound(s));
  char* end = write_json_string(s, out.data() + start);
  out.resize(static_cast<size_t>(end - out.data()));
}

JsonEncoder::JsonEncoder(std::vector<Column> columns, TimestampOutput ts)
    : columns_(std::move(columns)), ts_(ts) {
  keys_.reserve(columns_.size());
  for (const Column& c : columns_) {
    std::string key;
    append_json_string(c.name, key);
    key.push_back(':');
    keys_bytes_ += key.size() + 1;  // the key and a comma
    keys_.push_back(std::move(key));
    has_nested_ = has_nested_ || c.type.is_nested();
  }
}

namespace {
char* write_value(const Value& v, TimestampOutput ts, char* p);
}  // namespace

// Bytes value `v` may take: JSON text of any non-string scalar fits 48 (DECIMAL needs 42).
size_t value_bound(const Value& v) {
  constexpr size_t kMaxScalar = 48;
  if (v.null) return kMaxScalar;
  if (v.type == TypeId::kString) return json_string_bound(v.str());
  if (v.type == TypeId::kBytes) return types::base64_size(v.s.size) + 2;
  return kMaxScalar;
}

// Encoding runs once per output row: the row's size is bounded first, the string grown once, and
// every field written through a pointer rather than by many small appends.
void JsonEncoder::encode(const Value* row, std::string& out) const {
  if (has_nested_) return encode_appending(row, out);
  size_t bound = keys_bytes_;
  for (size_t i = 0; i < columns_.size(); ++i)
    bound += value_bound(row[i]);
  size_t start = out.size();
  out.resize(start + bound);
  char* p = out.data() + start;
  *p++ = '{';
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) *p++ = ',';
    std::memcpy(p, keys_[i].data(), keys_[i].size());
    p = write_value(row[i], ts_, p + keys_[i].size());
  }
  *p++ = '}';
  out.resize(static_cast<size_t>(p - out.data()));
}

namespace {

char* write_value(const Value& v, TimestampOutput ts, char* p) {
  constexpr size_t kRoom = 48;
  if (v.null) {
    std::memcpy(p, "null", 4);
    return p + 4;
  }
  switch (v.type) {
    case TypeId::kNull:
      std::memcpy(p, "null", 4);
      return p + 4;
    case TypeId::kBoolean:
      std::memcpy(p, v.b ? "true" : "false", v.b ? 4 : 5);
      return p + (v.b ? 4 : 5);
    case TypeId::kBigInt:
    case TypeId::kInterval:
      return std::to_chars(p, p + kRoom, v.i).ptr;
    case TypeId::kDouble:
      if (!std::isfinite(v.d)) {
        std::memcpy(p, "null", 4);
        return p + 4;
      }
      return std::to_chars(p, p + kRoom, v.d).ptr;
    case TypeId::kDecimal:
      return write_decimal(v.dec, v.scale, p);
    case TypeId::kString:
      return write_json_string(v.str(), p);
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime:
      // Epoch form: milliseconds, days since 1970-01-01, milliseconds since midnight.
      if (ts == TimestampOutput::kEpochMillis) return std::to_chars(p, p + kRoom, v.i).ptr;
      *p = '"';
      p += 1 + types::format_scalar(v, p + 1);
      *p = '"';
      return p + 1;
    case TypeId::kBytes:
      *p = '"';
      p = types::write_base64(v.str(), p + 1);
      *p = '"';
      return p + 1;
    case TypeId::kStruct:  // rendered by append_nested
    case TypeId::kArray:
    case TypeId::kMap:
      std::memcpy(p, "null", 4);
      return p + 4;
  }
  return p;
}

bool append_nested(std::string_view layout, types::DataType type, TimestampOutput ts,
                   std::string& out, size_t limit) {
  types::nested::View view;
  if (!types::nested::View::open(layout, &view)) {
    out.append("null");
    return out.size() <= limit;
  }
  bool array = type.id == TypeId::kArray;
  out.push_back(array ? '[' : '{');
  if (type.id == TypeId::kMap) {
    for (uint32_t i = 0; i + 1 < view.size(); i += 2) {
      if (i > 0) out.push_back(',');
      append_json_string(view.raw(i), out);
      out.push_back(':');
      if (!append_json_value(view.get(i + 1, type.element()), type.element(), ts, out, limit))
        return false;
    }
  } else {
    const auto& fields = type.fields();
    uint32_t n = array ? view.size() : std::min<uint32_t>(view.size(), fields.size());
    for (uint32_t i = 0; i < n; ++i) {
      if (i > 0) out.push_back(',');
      if (!array) {
        append_json_string(fields[i].name, out);
        out.push_back(':');
      }
      types::DataType element = array ? type.element() : fields[i].type;
      if (!append_json_value(view.get(i, element), element, ts, out, limit)) return false;
    }
  }
  out.push_back(array ? ']' : '}');
  return out.size() <= limit;
}

}  // namespace

bool append_json_value(const Value& v, types::DataType type, TimestampOutput ts, std::string& out,
                       size_t limit) {
  if (!v.null && type.is_nested()) return append_nested(v.str(), type, ts, out, limit);
  if (!v.null && v.type == TypeId::kString) {
    append_json_string(v.str(), out);
  } else {
    size_t start = out.size();
    out.resize(start + value_bound(v));
    char* end = write_value(v, ts, out.data() + start);
    out.resize(static_cast<size_t>(end - out.data()));
  }
  return out.size() <= limit;
}

void JsonEncoder::encode_appending(const Value* row, std::string& out) const {
  out.push_back('{');
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(keys_[i]);
    append_json_value(row[i], columns_[i].type, ts_, out);
  }
  out.push_back('}');
}

}  // namespace sluice::format
