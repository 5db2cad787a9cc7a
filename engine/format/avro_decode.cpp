#include "format/avro.hpp"
#include "format/name_match.hpp"
#include "format/varint.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cstring>
#include <vector>

namespace sluice::format {

namespace {

using avro::Kind;
using avro::Logical;
using avro::Node;
using types::DataType;
using types::TypeId;
using types::Value;

// Nesting of the data a skip follows (recursive record types make it data-driven).
constexpr int kMaxDepth = 64;

// A position in one record's bytes, with Avro's reads.
struct Cursor : ByteCursor {
  using ByteCursor::ByteCursor;

  bool read_long(int64_t* out) { return zigzag_varint(out); }
  bool read_int(int64_t* out) {
    if (!read_long(out)) return false;
    if (*out < INT32_MIN || *out > INT32_MAX) return fail("an int out of the 32-bit range");
    return true;
  }
  // A length-prefixed run of bytes (bytes, string).
  bool read_bytes(std::string_view* out) {
    int64_t n = 0;
    if (!read_long(&n)) return false;
    if (n < 0) return fail("a negative length");
    return take(static_cast<uint64_t>(n), out);
  }
  bool read_fixed(size_t n, std::string_view* out) { return take(n, out); }
  bool skip(size_t n) {
    std::string_view ignored;
    return take(n, &ignored);
  }
  // The branch index of a union.
  bool read_branch(const Node& u, const Node** out) {
    int64_t i = 0;
    if (!read_long(&i)) return false;
    if (i < 0 || static_cast<uint64_t>(i) >= u.branches.size())
      return fail("a union branch index out of range");
    *out = u.branches[static_cast<size_t>(i)];
    return true;
  }
};

bool skip_value(const Node& n, Cursor& c, int depth);

// Arrays and maps: blocks of `count` items, a negative count followed by the block's byte size,
// until a zero count.
bool skip_blocks(const Node& n, Cursor& c, int depth) {
  for (;;) {
    int64_t count = 0;
    if (!c.read_long(&count)) return false;
    if (count == 0) return true;
    if (count < 0) {
      int64_t size = 0;
      if (count == INT64_MIN || !c.read_long(&size)) return c.fail("a bad block count");
      if (size < 0) return c.fail("a negative block size");
      if (!c.skip(static_cast<size_t>(size))) return false;
      continue;
    }
    bool map = n.kind == Kind::kMap;
    // Every item takes at least a byte unless its type takes none (so a huge count of empty items
    // is skipped at once, and a huge count of others is refused as truncated).
    if (n.items->empty && !map) continue;
    if (static_cast<uint64_t>(count) > c.left()) return c.fail("truncated");
    for (int64_t i = 0; i < count; ++i) {
      std::string_view key;
      if (map && !c.read_bytes(&key)) return false;
      if (!skip_value(*n.items, c, depth + 1)) return false;
    }
  }
}

bool skip_value(const Node& n, Cursor& c, int depth) {
  if (n.empty) return true;
  if (depth > kMaxDepth) return c.fail("nested too deeply");
  int64_t v = 0;
  std::string_view s;
  switch (n.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBoolean:
      return c.skip(1);
    case Kind::kInt:
    case Kind::kLong:
    case Kind::kEnum:
      return c.read_long(&v);
    case Kind::kFloat:
      return c.skip(4);
    case Kind::kDouble:
      return c.skip(8);
    case Kind::kBytes:
    case Kind::kString:
      return c.read_bytes(&s);
    case Kind::kFixed:
      return c.skip(static_cast<size_t>(n.size));
    case Kind::kRecord:
      for (const Node* f : n.data_fields) {
        if (!skip_value(*f, c, depth + 1)) return false;
      }
      return true;
    case Kind::kArray:
    case Kind::kMap:
      return skip_blocks(n, c, depth);
    case Kind::kUnion: {
      const Node* b = nullptr;
      return c.read_branch(n, &b) && skip_value(*b, c, depth + 1);
    }
  }
  return c.fail("unknown type");
}

}  // namespace

namespace {

// For each field of writer record `record`, the index among `n` reader names (`name_of(i)`).
template <class NameOf>
std::vector<int32_t> match_names(const Node& record, size_t n, NameOf name_of) {
  return format::match_names(
      record.fields.size(), [&](size_t w) -> const std::string& { return record.fields[w].name; },
      n, name_of);
}

}  // namespace

std::vector<int32_t> AvroDecoder::struct_fields(const Node& record, DataType t) {
  const auto& fields = t.fields();
  return match_names(record, fields.size(),
                     [&](size_t i) -> const std::string& { return fields[i].name; });
}

namespace {

// Whether a value of Avro type `n` (not a union) can be read into a column of type `t`.
bool readable(const Node& n, DataType t) {
  TypeId id = t.id;
  switch (n.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBoolean:
      return id == TypeId::kBoolean;
    case Kind::kInt:
    case Kind::kLong:
      switch (n.logical) {
        case Logical::kDate:
          return id == TypeId::kDate || id == TypeId::kTimestamp;
        case Logical::kTimeMillis:
        case Logical::kTimeMicros:
          return id == TypeId::kTime;
        case Logical::kTimestampMillis:
        case Logical::kTimestampMicros:
          return id == TypeId::kTimestamp;
        default:
          return id == TypeId::kBigInt || id == TypeId::kInterval || id == TypeId::kTimestamp ||
                 id == TypeId::kDouble || id == TypeId::kDecimal;
      }
    case Kind::kFloat:
    case Kind::kDouble:
      return id == TypeId::kDouble;
    case Kind::kString:
    case Kind::kEnum:
      return id == TypeId::kString;
    case Kind::kBytes:
    case Kind::kFixed:
      return n.logical == Logical::kDecimal ? id == TypeId::kDecimal : id == TypeId::kBytes;
    case Kind::kUnion:
      for (const Node* b : n.branches) {
        if (b->kind != Kind::kNull && readable(*b, t)) return true;
      }
      return n.branches.size() == 1;  // a union of null alone
    case Kind::kRecord:
      // Fields by name as columns are; a writer field the STRUCT has not is skipped, a STRUCT
      // field the writer has not is NULL. (t's depth is finite, so recursive records end here.)
      if (id != TypeId::kStruct) return false;
      {
        std::vector<int32_t> to = AvroDecoder::struct_fields(n, t);
        for (size_t w = 0; w < n.fields.size(); ++w) {
          if (to[w] >= 0 &&
              !readable(*n.fields[w].type, t.fields()[static_cast<size_t>(to[w])].type))
            return false;
        }
      }
      return true;
    case Kind::kArray:
      return id == TypeId::kArray && readable(*n.items, t.element());
    case Kind::kMap:
      return id == TypeId::kMap && readable(*n.items, t.element());
    default:
      return false;
  }
}

// Elements of the nested value being read at each depth, reused record to record.
std::vector<Value>& item_scratch(int depth) {
  thread_local std::array<std::vector<Value>, kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}
types::nested::MapBuilder& map_scratch(int depth) {
  thread_local std::array<types::nested::MapBuilder, kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}

struct Reader {
  const Column& column;
  Arena& arena;
  RecordError* err;
  const AvroDecoder::FieldMaps& maps;  // writer record fields -> STRUCT fields
  DataType type = column.type;         // a nested element's type inside the column
  int depth = 0;

  bool fail(std::string message) {
    if (err) {
      err->code = ErrorCode::kDecode;
      err->message = "column '" + column.name + "': " + std::move(message);
    }
    return false;
  }

  // Big-endian two's complement unscaled value of `scale`, rescaled to the column's DECIMAL.
  bool decimal(std::string_view b, uint8_t scale, Value* out) {
    // Bytes that only repeat the sign (a wide fixed) carry nothing.
    while (b.size() > 16 && (b[0] == 0 || b[0] == '\xff') && (b[0] & 0x80) == (b[1] & 0x80))
      b.remove_prefix(1);
    if (b.size() > 16) return fail("a decimal beyond 128 bits");
    types::int128 v = b.empty() || static_cast<int8_t>(b[0]) >= 0 ? 0 : -1;
    for (char ch : b)
      v = static_cast<types::int128>((static_cast<unsigned __int128>(v) << 8) |
                                     static_cast<uint8_t>(ch));
    types::int128 r = 0;
    DataType t = type;
    if (!types::decimal::rescale(v, scale, t.scale, &r) || !types::decimal::fits(r, t.precision))
      return fail(
          fmt::format("{} does not fit {}", types::decimal::to_string(v, scale), t.to_string()));
    *out = Value::decimal(r, t.scale);
    return true;
  }

  bool integer(const Node& n, int64_t v, Value* out) {
    TypeId id = type.id;
    switch (n.logical) {
      case Logical::kDate:
        *out = id == TypeId::kDate ? Value::date(v) : Value::timestamp(v * types::time::kMsPerDay);
        return true;
      case Logical::kTimeMillis:
      case Logical::kTimeMicros: {
        int64_t ms = n.logical == Logical::kTimeMicros ? v / 1000 : v;
        if (v < 0 || !types::time::valid_time(ms))
          return fail(fmt::format("time {} is out of range", v));
        *out = Value::time(ms);
        return true;
      }
      case Logical::kTimestampMicros:
        *out = Value::timestamp(v / 1000 - (v % 1000 < 0 ? 1 : 0));
        return true;
      case Logical::kTimestampMillis:
        *out = Value::timestamp(v);
        return true;
      default:
        break;
    }
    switch (id) {
      case TypeId::kBigInt:
        *out = Value::bigint(v);
        return true;
      case TypeId::kInterval:
        *out = Value::interval(v);
        return true;
      case TypeId::kTimestamp:
        *out = Value::timestamp(v);  // epoch milliseconds, as JSON numbers read
        return true;
      case TypeId::kDouble:
        *out = Value::float64(static_cast<double>(v));
        return true;
      default: {
        types::int128 r = 0;
        DataType t = type;
        if (!types::decimal::rescale(v, 0, t.scale, &r) || !types::decimal::fits(r, t.precision))
          return fail(fmt::format("{} does not fit {}", v, t.to_string()));
        *out = Value::decimal(r, t.scale);
        return true;
      }
    }
  }

  bool value(const Node& n, Cursor& c, Value* out) {
    int64_t v = 0;
    std::string_view s;
    switch (n.kind) {
      case Kind::kNull:
        return true;
      case Kind::kBoolean:
        if (!c.read_fixed(1, &s)) return false;
        if (static_cast<uint8_t>(s[0]) > 1) return fail("a boolean byte other than 0 or 1");
        *out = Value::boolean(s[0] == 1);
        return true;
      case Kind::kInt:
        return c.read_int(&v) && integer(n, v, out);
      case Kind::kLong:
        return c.read_long(&v) && integer(n, v, out);
      case Kind::kFloat: {
        if (!c.read_fixed(4, &s)) return false;
        float f;
        std::memcpy(&f, s.data(), 4);
        *out = Value::float64(f);
        return true;
      }
      case Kind::kDouble: {
        if (!c.read_fixed(8, &s)) return false;
        double d;
        std::memcpy(&d, s.data(), 8);
        *out = Value::float64(d);
        return true;
      }
      case Kind::kString:
        if (!c.read_bytes(&s)) return false;
        if (!simdjson::validate_utf8(s.data(), s.size())) return fail("a string that is not UTF-8");
        *out = Value::string(arena.copy(s));
        return true;
      case Kind::kBytes:
        if (!c.read_bytes(&s)) return false;
        if (n.logical == Logical::kDecimal) return decimal(s, n.scale, out);
        *out = Value::bytes(arena.copy(s));
        return true;
      case Kind::kFixed:
        if (!c.read_fixed(static_cast<size_t>(n.size), &s)) return false;
        if (n.logical == Logical::kDecimal) return decimal(s, n.scale, out);
        *out = Value::bytes(arena.copy(s));
        return true;
      case Kind::kEnum:
        if (!c.read_int(&v)) return false;
        if (v < 0 || static_cast<uint64_t>(v) >= n.symbols.size())
          return fail(fmt::format("enum index {} out of range", v));
        *out = Value::string(arena.copy(n.symbols[static_cast<size_t>(v)]));
        return true;
      case Kind::kUnion: {
        const Node* b = nullptr;
        if (!c.read_branch(n, &b)) return false;
        if (b->kind != Kind::kNull && !readable(*b, type))
          return fail(fmt::format("the record holds {}, which is not read as {}", b->describe(),
                                  type.to_string()));
        return value(*b, c, out);
      }
      case Kind::kRecord:
        return record(n, c, out);
      case Kind::kArray:
      case Kind::kMap:
        return blocks(n, c, out);
      default:
        return fail(n.describe() + " values are not read yet");
    }
  }

  // Element `element` of the value being read, into `out` (its typed NULL first).
  bool child(const Node& n, DataType element, Cursor& c, Value* out) {
    *out = Value::null_of(element);
    Reader r{column, arena, err, maps, element, depth + 1};
    return r.value(n, c, out);
  }

  bool too_large(size_t* bytes, const Value& v) {
    *bytes += types::nested::element_bytes(v);
    return *bytes > types::nested::kMaxBytes &&
           !fail(fmt::format("a nested value over {} MiB once laid out",
                             types::nested::kMaxBytes >> 20));
  }

  bool record(const Node& n, Cursor& c, Value* out) {
    if (depth > kMaxDepth) return c.fail("nested too deeply");
    std::vector<Value>& items = item_scratch(depth);
    const auto& fields = type.fields();
    items.assign(fields.size(), Value());
    size_t bytes = 4;
    for (size_t i = 0; i < fields.size(); ++i) {
      items[i] = Value::null_of(fields[i].type);
    }
    auto mapped = maps.find({&n, type.nested});
    if (mapped == maps.end()) return fail("internal: no field map for " + n.describe());
    const std::vector<int32_t>& to = mapped->second;
    for (size_t w = 0; w < n.fields.size(); ++w) {
      const Node& wt = *n.fields[w].type;
      if (to[w] < 0) {
        if (!skip_value(wt, c, depth + 1)) return false;
        continue;
      }
      auto at = static_cast<size_t>(to[w]);
      if (!child(wt, fields[at].type, c, &items[at]) || too_large(&bytes, items[at])) return false;
    }
    *out = Value::nested(TypeId::kStruct, types::nested::build(items, arena));
    return true;
  }

  // Arrays and maps: blocks of `count` items (a negative count is followed by the block's byte
  // size), until a zero count.
  bool blocks(const Node& n, Cursor& c, Value* out) {
    if (depth > kMaxDepth) return c.fail("nested too deeply");
    bool map = n.kind == Kind::kMap;
    std::vector<Value>& items = item_scratch(depth);
    types::nested::MapBuilder& entries = map_scratch(depth);
    items.clear();
    entries.clear();
    size_t bytes = 4;
    for (;;) {
      int64_t count = 0;
      if (!c.read_long(&count)) return false;
      if (count == 0) break;
      if (count < 0) {
        int64_t size = 0;
        if (count == INT64_MIN || !c.read_long(&size)) return c.fail("a bad block count");
        count = -count;
      }
      for (int64_t i = 0; i < count; ++i) {
        Value key, v;
        std::string_view k;
        if (map) {
          if (!c.read_bytes(&k)) return false;
          if (!simdjson::validate_utf8(k.data(), k.size()))
            return fail("a map key that is not UTF-8");
          key = Value::string(arena.copy(k));
          if (too_large(&bytes, key)) return false;
        }
        if (!child(*n.items, type.element(), c, &v) || too_large(&bytes, v)) return false;
        if (map) {
          entries.put(key, v);
        } else {
          items.push_back(v);
        }
      }
    }
    std::span<const Value> built = map ? entries.sorted() : std::span<const Value>(items);
    *out = Value::nested(type.id, types::nested::build(built, arena));
    return true;
  }
};

}  // namespace

bool unframe(std::string_view bytes, Framed* out, RecordError* err) {
  if (bytes.size() < 5 || bytes[0] != 0) {
    if (err) {
      err->code = ErrorCode::kDecode;
      err->message = bytes.empty() ? "an empty value, not in the Schema Registry wire format"
                     : bytes[0] != 0
                         ? fmt::format("magic byte {} where the Schema Registry wire format has 0",
                                       static_cast<uint8_t>(bytes[0]))
                         : "a value shorter than the Schema Registry wire format's 5-byte header";
    }
    return false;
  }
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  out->schema_id = uint32_t{b[1]} << 24 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 8 | b[4];
  out->payload = bytes.substr(5);
  return true;
}

void append_frame(uint32_t schema_id, std::string& out) {
  char h[5] = {0, static_cast<char>(schema_id >> 24), static_cast<char>(schema_id >> 16),
               static_cast<char>(schema_id >> 8), static_cast<char>(schema_id)};
  out.append(h, 5);
}

AvroDecoder::AvroDecoder(std::shared_ptr<const avro::Schema> writer, std::vector<Column> columns)
    : writer_(std::move(writer)), columns_(std::move(columns)) {
  for (const Column& c : columns_)
    null_row_.push_back(Value::null_of(c.type));
  const Node& root = writer_->root();
  if (root.kind != Kind::kRecord) {
    mismatch_ = "the writer schema is " + root.describe() + ", not a record";
    return;
  }
  std::vector<int32_t> column_of = match_names(
      root, columns_.size(), [&](size_t c) -> const std::string& { return columns_[c].name; });
  for (size_t f = 0; f < root.fields.size(); ++f) {
    const avro::Field& field = root.fields[f];
    int32_t c = column_of[f];
    if (c >= 0 && !readable(*field.type, columns_[static_cast<size_t>(c)].type)) {
      mismatch_ = fmt::format("column '{}' is {}, but the writer's field '{}' is {}",
                              columns_[static_cast<size_t>(c)].name,
                              columns_[static_cast<size_t>(c)].type.to_string(), field.name,
                              field.type->describe());
      return;
    }
    steps_.push_back({field.type, c});
    if (c >= 0) map_fields(*field.type, columns_[static_cast<size_t>(c)].type);
  }
}

void AvroDecoder::map_fields(const Node& n, DataType t) {
  // Recursion follows `t`, whose depth is finite, so recursive writer records end.
  if (!t.is_nested()) return;
  switch (n.kind) {
    case Kind::kUnion:
      for (const Node* b : n.branches)
        map_fields(*b, t);
      return;
    case Kind::kRecord: {
      if (t.id != TypeId::kStruct || field_maps_.count({&n, t.nested})) return;
      std::vector<int32_t> to = struct_fields(n, t);
      for (size_t w = 0; w < n.fields.size(); ++w) {
        if (to[w] >= 0) map_fields(*n.fields[w].type, t.fields()[static_cast<size_t>(to[w])].type);
      }
      field_maps_.emplace(std::make_pair(&n, t.nested), std::move(to));
      return;
    }
    case Kind::kArray:
    case Kind::kMap:
      map_fields(*n.items, t.element());
      return;
    default:
      return;
  }
}

bool AvroDecoder::decode(std::string_view bytes, types::Value* row, Arena& arena,
                         RecordError* err) const {
  std::copy(null_row_.begin(), null_row_.end(), row);
  if (!mismatch_.empty()) {
    if (err) *err = {ErrorCode::kDecode, mismatch_};
    return false;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  Cursor c{p, p + bytes.size()};
  for (const Step& s : steps_) {
    if (s.column < 0) {
      if (skip_value(*s.type, c, 0)) continue;
    } else {
      Reader r{columns_[static_cast<size_t>(s.column)], arena, err, field_maps_};
      if (r.value(*s.type, c, &row[s.column])) continue;
      if (c.error == nullptr) return false;  // the reader's own message
      return r.fail(fmt::format("{} Avro data", c.error));
    }
    if (err) *err = {ErrorCode::kDecode, fmt::format("{} Avro data", c.error)};
    return false;
  }
  if (c.left() > 0) {
    if (err) *err = {ErrorCode::kDecode, fmt::format("{} bytes after the Avro record", c.left())};
    return false;
  }
  return true;
}

}  // namespace sluice::format
