#include "format/avro.hpp"

#include <fmt/format.h>

#include <cstring>

namespace sluice::format {

namespace {

using types::TypeId;
using types::Value;

void put_long(int64_t v, std::string& out) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  char buf[10];
  size_t n = 0;
  while (z >= 0x80) {
    buf[n++] = static_cast<char>((z & 0x7f) | 0x80);
    z >>= 7;
  }
  buf[n++] = static_cast<char>(z);
  out.append(buf, n);
}

void put_bytes(std::string_view s, std::string& out) {
  put_long(static_cast<int64_t>(s.size()), out);
  out.append(s);
}

// The shortest big-endian two's complement form of `v`.
void put_decimal(types::int128 v, std::string& out) {
  char buf[16];
  int n = 16;
  auto u = static_cast<unsigned __int128>(v);
  for (int i = 15; i >= 0; --i, u >>= 8)
    buf[i] = static_cast<char>(u & 0xff);
  int start = 0;
  // Drop leading bytes that only repeat the sign of the next one.
  while (start < n - 1 && ((buf[start] == 0 && (buf[start + 1] & 0x80) == 0) ||
                           (buf[start] == '\xff' && (buf[start + 1] & 0x80) != 0)))
    ++start;
  put_bytes(std::string_view(buf + start, static_cast<size_t>(n - start)), out);
}

}  // namespace

AvroEncoder::AvroEncoder(std::vector<Column> columns, std::string_view record_name)
    : columns_(std::move(columns)), schema_(avro::schema_for(columns_, record_name)) {}

bool AvroEncoder::encode(const types::Value* row, std::string& out, RecordError* err) const {
  size_t start = out.size();
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Value& v = row[i];
    if (v.null) {
      out.push_back(0);  // the union's null branch
      continue;
    }
    out.push_back(2);  // branch 1, zigzag
    switch (columns_[i].type.id) {
      case TypeId::kBoolean:
        out.push_back(v.b ? 1 : 0);
        break;
      case TypeId::kBigInt:
      case TypeId::kInterval:
      case TypeId::kTimestamp:
      case TypeId::kTime:
        put_long(v.i, out);
        break;
      case TypeId::kDate:
        if (v.i < INT32_MIN || v.i > INT32_MAX) {
          out.resize(start);
          if (err) {
            *err = {ErrorCode::kOverflow,
                    fmt::format("column '{}': DATE {} days is beyond Avro's int", columns_[i].name,
                                v.i)};
          }
          return false;
        }
        put_long(v.i, out);
        break;
      case TypeId::kDouble: {
        char b[8];
        std::memcpy(b, &v.d, 8);
        out.append(b, 8);
        break;
      }
      case TypeId::kDecimal:
        put_decimal(v.dec, out);
        break;
      case TypeId::kString:
      case TypeId::kBytes:
        put_bytes(v.str(), out);
        break;
      case TypeId::kNull:
      case TypeId::kStruct:  // refused by schema_for
      case TypeId::kArray:
      case TypeId::kMap:
        out.back() = 0;
        break;
    }
  }
  return true;
}

}  // namespace sluice::format
