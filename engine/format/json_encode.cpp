#include "format/json.hpp"
#include "types/decimal.hpp"
#include "types/time.hpp"

#include <charconv>
#include <cmath>

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

void append_escape(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default:
      break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(buf, sizeof(buf));
}

template <typename T>
void append_number(T v, std::string& out) {
  char buf[32];
  out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr - buf));
}

}  // namespace

void append_json_string(std::string_view s, std::string& out) {
  out.push_back('"');
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
    out.append(s.data() + run, i - run);
    if (c >= 0x80) {
      out.append("\\ufffd");  // invalid UTF-8 byte: JSON text must be valid UTF-8
    } else {
      append_escape(c, out);
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

JsonEncoder::JsonEncoder(std::vector<Column> columns, TimestampOutput ts)
    : columns_(std::move(columns)), ts_(ts) {
  keys_.reserve(columns_.size());
  for (const Column& c : columns_) {
    std::string key;
    append_json_string(c.name, key);
    key.push_back(':');
    keys_.push_back(std::move(key));
  }
}

void JsonEncoder::encode(const Value* row, std::string& out) const {
  out.push_back('{');
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(keys_[i]);
    const Value& v = row[i];
    if (v.null) {
      out.append("null");
      continue;
    }
    switch (v.type) {
      case TypeId::kNull:
        out.append("null");
        break;
      case TypeId::kBoolean:
        out.append(v.b ? "true" : "false");
        break;
      case TypeId::kBigInt:
      case TypeId::kInterval:
        append_number(v.i, out);
        break;
      case TypeId::kDouble:
        if (std::isfinite(v.d)) {
          append_number(v.d, out);
        } else {
          out.append("null");
        }
        break;
      case TypeId::kDecimal: {
        char buf[48];
        out.append(buf, types::decimal::format(v.dec, v.scale, buf));
        break;
      }
      case TypeId::kString:
        append_json_string(v.str(), out);
        break;
      case TypeId::kTimestamp:
        if (ts_ == TimestampOutput::kEpochMillis) {
          append_number(v.i, out);
        } else {
          char buf[34];
          buf[0] = '"';
          size_t n = types::time::format_timestamp(v.i, buf + 1);
          buf[n + 1] = '"';
          out.append(buf, n + 2);
        }
        break;
    }
  }
  out.push_back('}');
}

}  // namespace sluice::format
