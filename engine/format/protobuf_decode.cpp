#include "format/name_match.hpp"
#include "format/protobuf.hpp"
#include "format/protobuf_wire.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"
#include "types/time.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace sluice::format {

namespace {

using protobuf::entry_field;
using protobuf::Field;
using protobuf::Kind;
using protobuf::Message;
using protobuf::readable;
using Cursor = protobuf::WireCursor;
using protobuf::integer_of;
using protobuf::is_integer;
using protobuf::kEndGroup;
using protobuf::kI32;
using protobuf::kI64;
using protobuf::kLen;
using protobuf::kStartGroup;
using protobuf::kVarint;
using protobuf::wire_of;

// Message indexes a value may give (deeper paths name no message of any sane schema).
constexpr int64_t kMaxPath = 64;
using types::DataType;
using types::TypeId;
using types::Value;

// Scratch reused record to record, per depth: a message's slots, a repeated field's elements and
// a map's entries.
std::vector<Value>& slot_scratch(int depth) {
  thread_local std::array<std::vector<Value>, protobuf::kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}
std::vector<Value>& list_scratch(int depth) {
  thread_local std::array<std::vector<Value>, protobuf::kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}
std::vector<int32_t>& oneof_scratch(int depth) {
  thread_local std::array<std::vector<int32_t>, protobuf::kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}
types::nested::MapBuilder& map_scratch(int depth) {
  thread_local std::array<types::nested::MapBuilder, protobuf::kMaxDepth + 2> levels;
  return levels[static_cast<size_t>(depth)];
}

// The layout of an empty ARRAY or MAP (shared: values may point at it).
std::string_view empty_layout() {
  static const std::string kEmpty = types::nested::build_string({});
  return kEmpty;
}

struct Reader {
  std::string_view column;  // the column being read (empty before the first)
  Arena& arena;
  RecordError* err;
  const ProtobufDecoder::FieldMaps& maps;
  int depth = 0;

  bool fail(std::string message) {
    if (err) {
      err->code = ErrorCode::kDecode;
      err->message =
          column.empty() ? std::move(message) : fmt::format("column '{}': {}", column, message);
    }
    return false;
  }
  bool cursor_failed(const Cursor& c) { return fail(fmt::format("Protobuf data: {}", c.error)); }

  bool integer(types::int128 v, DataType t, Value* out) {
    bool in_long = v >= INT64_MIN && v <= INT64_MAX;
    switch (t.id) {
      case TypeId::kDouble:
        *out = Value::float64(static_cast<double>(v));
        return true;
      case TypeId::kDecimal: {
        types::int128 r = 0;
        if (!types::decimal::rescale(v, 0, t.scale, &r) || !types::decimal::fits(r, t.precision))
          return fail(
              fmt::format("{} does not fit {}", types::decimal::to_string(v, 0), t.to_string()));
        *out = Value::decimal(r, t.scale);
        return true;
      }
      case TypeId::kDate:  // days since 1970-01-01, as sluice writes DATE
        if (v < INT32_MIN || v > INT32_MAX)
          return fail(fmt::format("{} days are out of range", types::decimal::to_string(v, 0)));
        *out = Value::date(static_cast<int64_t>(v));
        return true;
      case TypeId::kTime:  // milliseconds of the day
        if (!in_long || !types::time::valid_time(static_cast<int64_t>(v)))
          return fail(fmt::format("time {} is out of range", types::decimal::to_string(v, 0)));
        *out = Value::time(static_cast<int64_t>(v));
        return true;
      default:
        if (!in_long)
          return fail(
              fmt::format("{} does not fit {}", types::decimal::to_string(v, 0), t.to_string()));
        *out = t.id == TypeId::kInterval    ? Value::interval(static_cast<int64_t>(v))
               : t.id == TypeId::kTimestamp ? Value::timestamp(static_cast<int64_t>(v))
                                            : Value::bigint(static_cast<int64_t>(v));
        return true;
    }
  }

  // Decimal text (as sluice writes DECIMAL) into DECIMAL `t`.
  bool decimal(std::string_view text, DataType t, Value* out) {
    types::int128 v = 0;
    switch (types::decimal::parse_status(text, t.precision, t.scale, &v)) {
      case types::decimal::ParseStatus::kOk:
        *out = Value::decimal(v, t.scale);
        return true;
      case types::decimal::ParseStatus::kOverflow:
        return fail(fmt::format("{} does not fit {}", text.substr(0, 64), t.to_string()));
      default:
        return fail(fmt::format("'{}' is not a decimal number", text.substr(0, 64)));
    }
  }

  // The value of field `f` (not repeated) when the record leaves it out.
  Value absent(const Field& f, DataType t) {
    if (f.map || f.repeated) return Value::nested(t.id, empty_layout());
    if (f.presence) return Value::null_of(t);
    Value v = Value::null_of(t);
    switch (f.kind) {
      case Kind::kDouble:
      case Kind::kFloat:
        return Value::float64(0);
      case Kind::kBool:
        return Value::boolean(false);
      case Kind::kString:
        return t.id == TypeId::kDecimal ? v : Value::string("");
      case Kind::kBytes:
        return Value::bytes("");
      case Kind::kEnum:
        if (f.enumeration->values.empty()) return v;
        return t.id == TypeId::kString ? Value::string(arena.copy(f.enumeration->values[0].second))
                                       : Value::bigint(f.enumeration->values[0].first);
      case Kind::kMessage:
      case Kind::kGroup:
        return v;
      default:
        integer(0, t, &v);
        return v;
    }
  }

  // One value of field `f` (an element, for a repeated one) with wire type `wire`, as `t`.
  bool value(const Field& f, uint32_t wire, Cursor& c, DataType t, Value* out) {
    uint32_t want = wire_of(f.kind);
    if (wire != want) {
      return fail(fmt::format("field '{}' ({}) has wire type {}, not {}", f.name, f.describe(),
                              wire, want));
    }
    uint64_t raw = 0;
    std::string_view s;
    switch (want) {
      case kVarint:
        if (!c.varint(&raw)) return cursor_failed(c);
        break;
      case kI64:
        if (!c.fixed(8, &raw)) return cursor_failed(c);
        break;
      case kI32:
        if (!c.fixed(4, &raw)) return cursor_failed(c);
        break;
      default:
        if (!c.bytes(&s)) return cursor_failed(c);
        break;
    }
    switch (f.kind) {
      case Kind::kDouble: {
        double d;
        std::memcpy(&d, &raw, 8);
        *out = Value::float64(d);
        return true;
      }
      case Kind::kFloat: {
        float x;
        auto bits = static_cast<uint32_t>(raw);
        std::memcpy(&x, &bits, 4);
        *out = Value::float64(x);
        return true;
      }
      case Kind::kBool:
        *out = Value::boolean(raw != 0);
        return true;
      case Kind::kEnum: {
        auto n = static_cast<int32_t>(static_cast<uint32_t>(raw));
        if (t.id != TypeId::kString) {
          *out = Value::bigint(n);
          return true;
        }
        const std::string* name = f.enumeration->name_of(n);
        // A number the schema does not declare (a newer writer's) reads as its digits.
        *out = Value::string(arena.copy(name ? *name : std::to_string(n)));
        return true;
      }
      case Kind::kString:
        if (!simdjson::validate_utf8(s.data(), s.size()))
          return fail(fmt::format("field '{}': a string that is not UTF-8", f.name));
        if (t.id == TypeId::kDecimal) return decimal(s, t, out);
        *out = Value::string(arena.copy(s));
        return true;
      case Kind::kBytes:
        *out = Value::bytes(arena.copy(s));
        return true;
      case Kind::kMessage:
        return message(*f.message, s, t, out);
      case Kind::kGroup:  // never readable (protobuf::readable)
        return fail(fmt::format("field '{}' is a group", f.name));
      default:
        return integer(integer_of(f.kind, raw), t, out);
    }
  }

  bool too_large(size_t* bytes, const Value& v) {
    *bytes += types::nested::element_bytes(v);
    return *bytes > types::nested::kMaxBytes &&
           !fail(fmt::format("a nested value over {} MiB once laid out",
                             types::nested::kMaxBytes >> 20));
  }

  // Message `m` (its bytes `body`) as `t`: a STRUCT, or what a well-known type reads as.
  bool message(const Message& m, std::string_view body, DataType t, Value* out) {
    if (depth >= protobuf::kMaxDepth) return fail("messages nested too deeply");
    Reader r{column, arena, err, maps, depth + 1};
    return r.message_here(m, body, t, out);
  }

  bool message_here(const Message& m, std::string_view body, DataType t, Value* out) {
    if (m.special != Message::Special::kNone) {
      bool timestamp = m.special == Message::Special::kTimestamp;
      Value parts[2] = {timestamp ? Value::bigint(0) : absent(entry_field(m, 1), t),
                        Value::bigint(0)};
      Cursor c(body);
      while (!c.done()) {
        uint32_t number = 0, wire = 0;
        if (!c.tag(&number, &wire)) return cursor_failed(c);
        int32_t i = m.find(number);
        if (i < 0 || number > 2 || (!timestamp && number != 1)) {
          if (!c.skip(number, wire, depth)) return cursor_failed(c);
          continue;
        }
        const Field& f = m.fields[static_cast<size_t>(i)];
        if (!value(f, wire, c, timestamp ? DataType::bigint() : t, &parts[number - 1]))
          return false;
      }
      if (!timestamp) {
        *out = parts[0];
        return true;
      }
      int64_t nanos = parts[1].i;
      types::int128 ms =
          types::int128{parts[0].i} * 1000 + nanos / 1000000 - (nanos % 1000000 < 0 ? 1 : 0);
      if (ms < INT64_MIN || ms > INT64_MAX)
        return fail(fmt::format("a Timestamp of {} seconds is out of range", parts[0].i));
      *out = Value::timestamp(static_cast<int64_t>(ms));
      return true;
    }
    if (t.id != TypeId::kStruct) {  // a list_wrapper
      *out = absent(m.fields[0], t);
      return elements(m.fields[0], body, t, out);
    }
    auto mapped = maps.find({&m, t.nested});
    if (mapped == maps.end()) return fail("internal: no field map for " + m.name);
    std::vector<Value>& slots = slot_scratch(depth);
    const auto& fields = t.fields();
    slots.assign(fields.size(), Value());
    if (!fill(m, mapped->second, body, slots.data(), [&](size_t i) { return fields[i].type; }))
      return false;
    size_t bytes = 4;
    for (const Value& v : slots) {
      if (too_large(&bytes, v)) return false;
    }
    *out = Value::nested(TypeId::kStruct, types::nested::build(slots, arena));
    return true;
  }

  // Reads the fields of message `m` (bytes `body`) into `slots` (`to`: the slot of each field,
  // -1 none; `type_of(slot)` its type). Slots no field fills keep their value. `columns`: the
  // slots are the row's, and errors name them.
  template <class TypeOf>
  bool fill(const Message& m, const std::vector<int32_t>& to, std::string_view body, Value* slots,
            TypeOf type_of, const std::vector<Column>* columns = nullptr) {
    bool repeated = false;
    for (size_t i = 0; i < m.fields.size(); ++i) {
      if (to[i] >= 0) {
        auto s = static_cast<size_t>(to[i]);
        slots[s] = absent(m.fields[i], type_of(s));
      }
    }
    // The member of each oneof met last: only it keeps its value.
    std::vector<int32_t>& last = oneof_scratch(depth);
    last.assign(m.oneofs, -1);
    Cursor c(body);
    while (!c.done()) {
      uint32_t number = 0, wire = 0;
      if (!c.tag(&number, &wire)) return cursor_failed(c);
      int32_t i = m.find(number);
      if (i >= 0 && m.fields[static_cast<size_t>(i)].oneof >= 0)
        last[static_cast<size_t>(m.fields[static_cast<size_t>(i)].oneof)] = i;
      if (i < 0 || to[static_cast<size_t>(i)] < 0 || m.fields[static_cast<size_t>(i)].repeated) {
        repeated |= i >= 0 && to[static_cast<size_t>(i)] >= 0;
        if (!c.skip(number, wire, depth)) return cursor_failed(c);
        continue;
      }
      auto s = static_cast<size_t>(to[static_cast<size_t>(i)]);
      if (columns) column = (*columns)[s].name;
      if (!value(m.fields[static_cast<size_t>(i)], wire, c, type_of(s), &slots[s])) return false;
    }
    for (size_t i = 0; i < m.fields.size() && m.oneofs > 0; ++i) {
      int32_t o = m.fields[i].oneof;
      if (o >= 0 && to[i] >= 0 && last[static_cast<size_t>(o)] >= 0 &&
          last[static_cast<size_t>(o)] != static_cast<int32_t>(i))
        slots[static_cast<size_t>(to[i])] = Value::null_of(type_of(static_cast<size_t>(to[i])));
    }
    if (!repeated) return true;
    for (size_t i = 0; i < m.fields.size(); ++i) {
      const Field& f = m.fields[i];
      if (!f.repeated || to[i] < 0) continue;
      auto s = static_cast<size_t>(to[i]);
      if (columns) column = (*columns)[s].name;
      if (!elements(f, body, type_of(s), &slots[s])) return false;
    }
    return true;
  }

  // A map's key as text.
  bool key(const Field& f, uint32_t wire, Cursor& c, Value* out) {
    if (f.kind == Kind::kString) return value(f, wire, c, DataType::string(), out);
    Value v;
    if (f.kind == Kind::kBool) {
      if (!value(f, wire, c, DataType::boolean(), &v)) return false;
      *out = Value::string(v.b ? "true" : "false");
      return true;
    }
    if (!value(f, wire, c, DataType::decimal(38, 0), &v)) return false;
    *out = Value::string(arena.copy(types::decimal::to_string(v.dec, 0)));
    return true;
  }

  // The elements of repeated field `f` (or the entries of map `f`) in `body`, as `t`.
  bool elements(const Field& f, std::string_view body, DataType t, Value* out) {
    std::vector<Value>& items = list_scratch(depth);
    types::nested::MapBuilder& entries = map_scratch(depth);
    items.clear();
    entries.clear();
    size_t bytes = 4;
    DataType e = t.element();
    Cursor c(body);
    while (!c.done()) {
      uint32_t number = 0, wire = 0;
      if (!c.tag(&number, &wire)) return cursor_failed(c);
      if (number != f.number) {
        if (!c.skip(number, wire, depth)) return cursor_failed(c);
        continue;
      }
      if (f.map) {
        std::string_view entry;
        if (wire != kLen) return fail(fmt::format("map '{}' has wire type {}", f.name, wire));
        if (!c.bytes(&entry)) return cursor_failed(c);
        const Field& kf = entry_field(*f.message, 1);
        const Field& vf = entry_field(*f.message, 2);
        Value k = Value::string(kf.kind == Kind::kString ? ""
                                : kf.kind == Kind::kBool ? "false"
                                                         : "0");
        // A map value left out is its type's default, with presence or not (proto2).
        Field value_field = vf;
        value_field.presence = false;
        Value v = absent(value_field, e);
        // A map value left out is its type's default: for a message, one with no field set.
        if (vf.kind == Kind::kMessage && !message(*vf.message, {}, e, &v)) return false;
        Cursor ec(entry);
        while (!ec.done()) {
          uint32_t n = 0, w = 0;
          if (!ec.tag(&n, &w)) return cursor_failed(ec);
          if (n == 1) {
            if (!key(kf, w, ec, &k)) return false;
          } else if (n == 2) {
            if (!value(vf, w, ec, e, &v)) return false;
          } else if (!ec.skip(n, w, depth)) {
            return cursor_failed(ec);
          }
        }
        if (too_large(&bytes, k) || too_large(&bytes, v)) return false;
        entries.put(k, v);
        continue;
      }
      uint32_t want = wire_of(f.kind);
      if (wire == kLen && want != kLen) {  // packed
        std::string_view packed;
        if (!c.bytes(&packed)) return cursor_failed(c);
        Cursor pc(packed);
        while (!pc.done()) {
          Value v;
          if (!value(f, want, pc, e, &v) || too_large(&bytes, v)) return false;
          items.push_back(v);
        }
        continue;
      }
      Value v;
      if (!value(f, wire, c, e, &v) || too_large(&bytes, v)) return false;
      items.push_back(v);
    }
    std::span<const Value> built = f.map ? entries.sorted() : std::span<const Value>(items);
    *out = Value::nested(t.id, types::nested::build(built, arena));
    return true;
  }
};

}  // namespace

ProtobufDecoder::ProtobufDecoder(std::shared_ptr<const protobuf::Schema> schema,
                                 std::vector<Column> columns, bool key)
    : schema_(std::move(schema)), columns_(std::move(columns)) {
  for (const Column& c : columns_)
    null_row_.push_back(Value::null_of(c.type));
  for (const auto& owned : schema_->all) {
    const Message& m = *owned;
    RowPlan& plan = rows_[&m];
    if (key && columns_.size() == 1 && columns_[0].type.id == TypeId::kStruct) {
      Field whole;
      whole.name = m.name;
      whole.kind = Kind::kMessage;
      whole.message = &m;
      plan.whole = true;
      if (!readable(whole, columns_[0].type)) {
        plan.mismatch = fmt::format("the key is {}, which message {} does not fit",
                                    columns_[0].type.to_string(), m.name);
      }
      map_message(m, columns_[0].type);
      continue;
    }
    plan.column_of =
        key ? std::vector<int32_t>(m.fields.size(), -1)
            : match_names(
                  m.fields.size(), [&](size_t w) -> const std::string& { return m.fields[w].name; },
                  columns_.size(),
                  [&](size_t c) -> const std::string& { return columns_[c].name; });
    if (key && !m.fields.empty()) plan.column_of[0] = 0;  // the first field
    for (size_t f = 0; f < m.fields.size(); ++f) {
      int32_t c = plan.column_of[f];
      if (c < 0) continue;
      const Column& col = columns_[static_cast<size_t>(c)];
      if (!readable(m.fields[f], col.type)) {
        plan.mismatch =
            fmt::format("column '{}' is {}, but field '{}' of {} is {}", col.name,
                        col.type.to_string(), m.fields[f].name, m.name, m.fields[f].describe());
        break;
      }
      map_fields(m.fields[f], col.type);
    }
  }
}

void ProtobufDecoder::map_fields(const Field& f, DataType t) {
  if (!t.is_nested()) return;
  if (f.map) {
    map_fields(entry_field(*f.message, 2), t.element());
  } else if (f.repeated) {
    Field one = f;
    one.repeated = false;
    map_fields(one, t.element());
  } else if (f.kind == Kind::kMessage) {
    map_message(*f.message, t);
  }
}

void ProtobufDecoder::map_message(const Message& m, DataType t) {
  if (m.special == Message::Special::kWrapper) return map_fields(entry_field(m, 1), t);
  if (t.id == TypeId::kArray || t.id == TypeId::kMap) return map_fields(m.fields[0], t);
  if (m.special != Message::Special::kNone || t.id != TypeId::kStruct ||
      field_maps_.count({&m, t.nested}))
    return;
  const auto& fields = t.fields();
  std::vector<int32_t> to = match_names(
      m.fields.size(), [&](size_t w) -> const std::string& { return m.fields[w].name; },
      fields.size(), [&](size_t i) -> const std::string& { return fields[i].name; });
  field_maps_.emplace(std::make_pair(&m, t.nested), to);
  for (size_t w = 0; w < m.fields.size(); ++w) {
    if (to[w] >= 0) map_fields(m.fields[w], fields[static_cast<size_t>(to[w])].type);
  }
}

const std::string& ProtobufDecoder::mismatch(const Message& message) const {
  static const std::string kNone;
  auto it = rows_.find(&message);
  return it == rows_.end() ? kNone : it->second.mismatch;
}

bool ProtobufDecoder::decode(std::string_view bytes, types::Value* row, Arena& arena,
                             RecordError* err) const {
  std::copy(null_row_.begin(), null_row_.end(), row);
  auto refuse = [&](std::string why) {
    if (err) *err = {ErrorCode::kDecode, std::move(why)};
    return false;
  };
  Cursor c(bytes);
  uint64_t raw = 0;
  std::array<int32_t, kMaxPath> path{};
  std::array<int64_t, kMaxPath> given{};  // as the record gives them, for the error
  size_t depth = 1;
  if (!c.varint(&raw)) return refuse("truncated Protobuf message indexes");
  auto count = unzigzag(raw);
  if (count < 0 || count > kMaxPath)
    return refuse(fmt::format("{} Protobuf message indexes", count));
  if (count > 0) depth = static_cast<size_t>(count);
  for (int64_t i = 0; i < count; ++i) {
    if (!c.varint(&raw)) return refuse("truncated Protobuf message indexes");
    auto index = unzigzag(raw);
    given[static_cast<size_t>(i)] = index;
    path[static_cast<size_t>(i)] =
        index < 0 || index > INT32_MAX ? -1 : static_cast<int32_t>(index);
  }
  const Message* m = schema_->at(std::span<const int32_t>(path.data(), depth));
  if (m == nullptr) {
    std::string list;
    for (size_t i = 0; i < depth; ++i)
      list += (i ? ", " : "") + std::to_string(given[i]);
    return refuse(fmt::format("message indexes [{}] name no message of the schema", list));
  }
  const RowPlan& plan = rows_.at(m);
  if (!plan.mismatch.empty()) return refuse(plan.mismatch);
  std::string_view body(reinterpret_cast<const char*>(c.p), static_cast<size_t>(c.end - c.p));
  Reader r{{}, arena, err, field_maps_};
  if (plan.whole) return r.message_here(*m, body, columns_[0].type, &row[0]);
  return r.fill(
      *m, plan.column_of, body, row, [&](size_t s) { return columns_[s].type; }, &columns_);
}

}  // namespace sluice::format
