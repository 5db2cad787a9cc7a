#include "format/avro.hpp"
#include "types/nested.hpp"

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

namespace {

// Appends non-NULL `v` of type `t`; false (kOverflow in `err`) for a DATE beyond Avro's int.
bool put_value(const Value& v, types::DataType t, const std::string& column, std::string& out,
               RecordError* err);

// Appends an element as its union: branch 0 (null) or branch 1 and the value.
bool put_element(const Value& v, types::DataType t, const std::string& column, std::string& out,
                 RecordError* err) {
  if (v.null) {
    out.push_back(0);
    return true;
  }
  out.push_back(2);  // branch 1, zigzag
  return put_value(v, t, column, out, err);
}

bool put_nested(const Value& v, types::DataType t, const std::string& column, std::string& out,
                RecordError* err) {
  types::nested::View view;
  if (!types::nested::View::open(v.str(), &view)) view = {};
  if (t.id == TypeId::kStruct) {
    const auto& fields = t.fields();
    for (uint32_t i = 0; i < fields.size(); ++i) {
      if (!put_element(view.get(i, fields[i].type), fields[i].type, column, out, err)) return false;
    }
    return true;
  }
  bool map = t.id == TypeId::kMap;
  uint32_t count = map ? view.size() / 2 : view.size();
  if (count > 0) {  // one block of every item, then the zero count that ends the array or map
    put_long(count, out);
    for (uint32_t i = 0; i < count; ++i) {
      if (map) put_bytes(view.raw(2 * i), out);
      uint32_t at = map ? 2 * i + 1 : i;
      if (!put_element(view.get(at, t.element()), t.element(), column, out, err)) return false;
    }
  }
  out.push_back(0);
  return true;
}

bool put_value(const Value& v, types::DataType t, const std::string& column, std::string& out,
               RecordError* err) {
  switch (t.id) {
    case TypeId::kBoolean:
      out.push_back(v.b ? 1 : 0);
      return true;
    case TypeId::kBigInt:
    case TypeId::kInterval:
    case TypeId::kTimestamp:
    case TypeId::kTime:
      put_long(v.i, out);
      return true;
    case TypeId::kDate:
      if (v.i < INT32_MIN || v.i > INT32_MAX) {
        if (err) {
          *err = {ErrorCode::kOverflow,
                  fmt::format("column '{}': DATE {} days is beyond Avro's int", column, v.i)};
        }
        return false;
      }
      put_long(v.i, out);
      return true;
    case TypeId::kDouble: {
      char b[8];
      std::memcpy(b, &v.d, 8);
      out.append(b, 8);
      return true;
    }
    case TypeId::kDecimal:
      put_decimal(v.dec, out);
      return true;
    case TypeId::kString:
    case TypeId::kBytes:
      put_bytes(v.str(), out);
      return true;
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return put_nested(v, t, column, out, err);
    case TypeId::kNull:
      break;
  }
  return true;
}

}  // namespace

AvroKeyEncoder::AvroKeyEncoder(std::vector<Column> columns, std::string_view name)
    : columns_(std::move(columns)) {
  if (columns_.size() == 1) {
    schema_ = avro::type_schema(columns_[0].type, name);
    return;
  }
  record_ = std::make_unique<AvroEncoder>(columns_, name);
  schema_ = record_->schema();
}

bool AvroKeyEncoder::encode(const types::Value* key_row, std::string& out, RecordError* err) const {
  if (record_) return record_->encode(key_row, out, err);
  size_t start = out.size();
  if (put_value(key_row[0], columns_[0].type, columns_[0].name, out, err)) return true;
  out.resize(start);
  return false;
}

bool AvroEncoder::encode(const types::Value* row, std::string& out, RecordError* err) const {
  size_t start = out.size();
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Value& v = row[i];
    if (v.null || columns_[i].type.id == TypeId::kNull) {
      out.push_back(0);  // the union's null branch
      continue;
    }
    out.push_back(2);  // branch 1, zigzag
    if (!put_value(v, columns_[i].type, columns_[i].name, out, err)) {
      out.resize(start);
      return false;
    }
  }
  return true;
}

}  // namespace sluice::format
