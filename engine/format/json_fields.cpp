#include "format/json_fields.hpp"

#include "types/bytes_text.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"
#include "types/number_text.hpp"
#include "types/time.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace sluice::format::detail {

namespace {

namespace ondemand = simdjson::ondemand;
using ondemand::json_type;
using types::DataType;
using types::int128;
using types::NumberStatus;
using types::TypeId;
using types::Value;

constexpr size_t kMaxShownBytes = 48;
constexpr size_t kMaxNesting = 1024;

bool fail(const FieldContext& ctx, std::string message) {
  if (ctx.err) {
    ctx.err->code = ErrorCode::kDecode;
    ctx.err->message =
        "column '" + ctx.column.name + (ctx.path ? *ctx.path : std::string()) + "': " + message;
  }
  return false;
}

// The value's JSON text (strings keep their quotes); raw tokens may carry trailing whitespace.
std::string_view token(ondemand::value& json) {
  return types::trim_spaces(json.raw_json_token());
}

// Shortened for messages, cut at a UTF-8 boundary.
std::string clip(std::string_view s) {
  if (s.size() <= kMaxShownBytes) return std::string(s);
  size_t cut = kMaxShownBytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string found(ondemand::value& json, json_type type) {
  switch (type) {
    case json_type::string:
      return "string " + clip(token(json));
    case json_type::number:
      return "number " + clip(token(json));
    case json_type::boolean:
      return clip(token(json));
    case json_type::object:
      return "object";
    case json_type::array:
      return "array";
    case json_type::null:
      return "null";
  }
  return "unknown value";
}

bool expected(const FieldContext& ctx, ondemand::value& json, json_type type,
              std::string_view what) {
  return fail(ctx, "expected " + std::string(what) + " for " + ctx.type.to_string() + ", found " +
                       found(json, type));
}

bool string_of(ondemand::value& json, const FieldContext& ctx, std::string_view* out) {
  if (auto e = json.get_string().get(*out)) return invalid_json(ctx.err, e);
  return true;
}

// The exact text of a JSON number. simdjson's first stage only delimits scalars, so the grammar
// is checked here ("01", "1.", "1.2.3" are not JSON).
bool number_of(ondemand::value& json, const FieldContext& ctx, std::string_view* out) {
  *out = token(json);
  if (!types::is_json_number(*out)) return fail(ctx, "invalid JSON number " + clip(*out));
  return true;
}

// Text of a number, or of a string holding one (spaces around it tolerated). False + err when the
// value is neither.
bool numeric_text(ondemand::value& json, json_type type, const FieldContext& ctx,
                  std::string_view what, std::string_view* text) {
  if (type == json_type::number) return number_of(json, ctx, text);
  if (type != json_type::string) return expected(ctx, json, type, what);
  if (!string_of(json, ctx, text)) return false;
  *text = types::trim_spaces(*text);
  return true;
}

bool decode_boolean(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  bool b = false;
  if (type == json_type::boolean) {
    if (json.get_bool().get(b)) return fail(ctx, "invalid JSON value " + clip(token(json)));
  } else if (type == json_type::string) {
    std::string_view s;
    if (!string_of(json, ctx, &s)) return false;
    if (s != "true" && s != "false" && s != "TRUE" && s != "FALSE" && s != "True" && s != "False")
      return expected(ctx, json, type, "true or false");
    b = s[0] == 't' || s[0] == 'T';
  } else {
    return expected(ctx, json, type, "true or false");
  }
  *out = Value::boolean(b);
  return true;
}

// BIGINT and INTERVAL (milliseconds): integral numbers or strings holding one.
bool decode_integer(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  std::string_view text;
  if (!numeric_text(json, type, ctx, "a number", &text)) return false;
  int64_t i = 0;
  switch (types::parse_int64(text, &i)) {
    case NumberStatus::kOk:
      break;
    case NumberStatus::kSyntax:
      return expected(ctx, json, type, "a number");
    case NumberStatus::kNotInteger:
      return fail(ctx, clip(token(json)) + " is not an integer");
    case NumberStatus::kOverflow:
      return fail(ctx, clip(token(json)) + " does not fit " + ctx.type.to_string());
  }
  *out = ctx.type.id == TypeId::kInterval ? Value::interval(i) : Value::bigint(i);
  return true;
}

bool decode_double(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  std::string_view text;
  if (!numeric_text(json, type, ctx, "a number", &text)) return false;
  double d = 0;
  switch (types::parse_double(text, &d)) {
    case NumberStatus::kOk:
      break;
    case NumberStatus::kOverflow:
      return fail(ctx, clip(token(json)) + " does not fit DOUBLE");
    default:
      return expected(ctx, json, type, "a number");
  }
  *out = Value::float64(d);
  return true;
}

bool decode_decimal(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  const DataType t = ctx.type;
  std::string_view text;
  if (!numeric_text(json, type, ctx, "a number", &text)) return false;
  int128 v = 0;
  switch (types::decimal::parse_status(text, t.precision, t.scale, &v)) {
    case types::decimal::ParseStatus::kOk:
      break;
    case types::decimal::ParseStatus::kSyntax:
      return expected(ctx, json, type, "a number");
    case types::decimal::ParseStatus::kOverflow:
      return fail(ctx, clip(token(json)) + " does not fit " + t.to_string());
  }
  *out = Value::decimal(v, t.scale);
  return true;
}

// Brackets of a nested value balance (simdjson skips nested values without checking that).
bool balanced(std::string_view raw) {
  char closers[kMaxNesting];
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (depth == kMaxNesting) return false;
      closers[depth++] = c == '{' ? '}' : ']';
    } else if (c == '}' || c == ']') {
      if (depth == 0 || closers[--depth] != c) return false;
      if (depth == 0 && i + 1 != raw.size()) return false;
    }
  }
  return depth == 0 && !in_string;
}

bool nested_text(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  std::string_view raw;
  simdjson::error_code e;
  if (type == json_type::object) {
    ondemand::object obj;
    e = json.get_object().get(obj);
    if (!e) e = obj.raw_json().get(raw);
  } else {
    ondemand::array arr;
    e = json.get_array().get(arr);
    if (!e) e = arr.raw_json().get(raw);
  }
  if (e) return invalid_json(ctx.err, e);
  raw = types::trim_spaces(raw);
  if (!balanced(raw)) return fail(ctx, "invalid nested JSON " + clip(raw));
  *out = Value::string(ctx.arena.copy(raw));
  return true;
}

bool decode_string(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  std::string_view text;
  switch (type) {
    case json_type::string:
      if (!string_of(json, ctx, &text)) return false;
      break;
    case json_type::number:
      if (!number_of(json, ctx, &text)) return false;
      break;
    case json_type::boolean: {
      bool b = false;
      if (json.get_bool().get(b)) return fail(ctx, "invalid JSON value " + clip(token(json)));
      *out = Value::string(b ? "true" : "false");  // static storage: no copy needed
      return true;
    }
    case json_type::object:
    case json_type::array:
      return nested_text(json, type, ctx, out);
    case json_type::null:
      return true;
  }
  *out = Value::string(ctx.arena.copy(text));
  return true;
}

// Epoch number text -> ms, flooring below the millisecond. Parsed exactly (as a decimal of
// microseconds) so large epochs do not lose digits through a double.
NumberStatus epoch_to_ms(std::string_view text, bool seconds, int64_t* ms) {
  int128 micros = 0;
  auto status =
      types::decimal::parse_status(text, types::kMaxDecimalPrecision, seconds ? 6 : 3, &micros);
  if (status == types::decimal::ParseStatus::kSyntax) return NumberStatus::kSyntax;
  if (status == types::decimal::ParseStatus::kOverflow) return NumberStatus::kOverflow;
  int128 q = micros / 1000;
  if (micros % 1000 < 0) --q;
  if (q > std::numeric_limits<int64_t>::max() || q < std::numeric_limits<int64_t>::min())
    return NumberStatus::kOverflow;
  *ms = static_cast<int64_t>(q);
  return NumberStatus::kOk;
}

// `text` is the number's text (or the string's content, already unescaped: on-demand strings
// must not be unescaped twice).
bool epoch_value(ondemand::value& json, json_type type, const FieldContext& ctx,
                 std::string_view text, Value* out) {
  bool seconds = ctx.timestamps == TimestampInput::kEpochSeconds;
  int64_t ms = 0;
  switch (epoch_to_ms(text, seconds, &ms)) {
    case NumberStatus::kOk:
      break;
    case NumberStatus::kOverflow:
      return fail(ctx, clip(token(json)) + " is out of range for TIMESTAMP");
    default:
      return expected(ctx, json, type, seconds ? "epoch seconds" : "epoch milliseconds");
  }
  *out = Value::timestamp(ms);
  return true;
}

bool decode_epoch(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  bool seconds = ctx.timestamps == TimestampInput::kEpochSeconds;
  std::string_view text;
  if (!numeric_text(json, type, ctx, seconds ? "epoch seconds" : "epoch milliseconds", &text))
    return false;
  return epoch_value(json, type, ctx, text, out);
}

bool decode_timestamp(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  TimestampInput mode = ctx.timestamps;
  bool epoch_mode = mode == TimestampInput::kEpochMillis || mode == TimestampInput::kEpochSeconds;
  if (epoch_mode || (mode == TimestampInput::kAuto && type == json_type::number))
    return decode_epoch(json, type, ctx, out);
  if (type != json_type::string) {
    return expected(ctx, json, type,
                    mode == TimestampInput::kAuto ? "epoch milliseconds or an ISO-8601 string"
                                                  : "an ISO-8601 string");
  }
  std::string_view text;
  if (!string_of(json, ctx, &text)) return false;
  text = types::trim_spaces(text);
  int64_t ms = 0;
  if (types::time::parse_timestamp(text, &ms)) {
    *out = Value::timestamp(ms);
    return true;
  }
  // kAuto: a numeric string cannot be ISO-8601, so it is read as epoch milliseconds.
  if (mode == TimestampInput::kAuto && types::is_json_number(text))
    return epoch_value(json, type, ctx, text, out);
  return fail(ctx, "cannot parse " + clip(token(json)) + " as TIMESTAMP");
}

// An integral number (or a string holding one) within [lo, hi]; `what` names the unit.
bool integral_in(ondemand::value& json, json_type type, const FieldContext& ctx, int64_t lo,
                 int64_t hi, std::string_view what, int64_t* out) {
  std::string_view text;
  if (!number_of(json, ctx, &text)) return false;
  if (types::parse_int64(text, out) != NumberStatus::kOk)
    return expected(ctx, json, type, std::string("an integral number of ") + std::string(what));
  if (*out < lo || *out > hi)
    return fail(ctx, clip(text) + " " + std::string(what) + " is out of range");
  return true;
}

// DATE: "2024-01-15" (or an ISO-8601 timestamp, whose day is taken), or a number of days since
// 1970-01-01 (how Avro, Kafka Connect and ksqlDB's JSON write dates).
bool decode_date(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  int64_t days = 0;
  if (type == json_type::number) {
    if (!integral_in(json, type, ctx, -types::time::kMaxDateDays, types::time::kMaxDateDays, "days",
                     &days))
      return false;
  } else if (type == json_type::string) {
    std::string_view text;
    if (!string_of(json, ctx, &text)) return false;
    text = types::trim_spaces(text);
    int64_t ms = 0;
    if (types::time::parse_date(text, &days)) {
    } else if (types::time::parse_timestamp(text, &ms)) {
      days = types::time::day_of(ms);
    } else {
      return fail(ctx, "cannot parse " + clip(token(json)) + " as DATE");
    }
  } else {
    return expected(ctx, json, type, "a date string or a number of days");
  }
  *out = Value::date(days);
  return true;
}

// TIME: "10:00:05.123", or a number of milliseconds since midnight.
bool decode_time(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  int64_t ms = 0;
  if (type == json_type::number) {
    if (!integral_in(json, type, ctx, 0, types::time::kMsPerDay - 1, "milliseconds", &ms))
      return false;
  } else if (type == json_type::string) {
    std::string_view text;
    if (!string_of(json, ctx, &text)) return false;
    if (!types::time::parse_time(types::trim_spaces(text), &ms))
      return fail(ctx, "cannot parse " + clip(token(json)) + " as TIME");
  } else {
    return expected(ctx, json, type, "a time string or a number of milliseconds");
  }
  *out = Value::time(ms);
  return true;
}

// BYTES: a base64 string.
bool decode_bytes(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  if (type != json_type::string) return expected(ctx, json, type, "a base64 string");
  std::string_view text;
  if (!string_of(json, ctx, &text)) return false;
  char* at = ctx.arena.allocate(types::base64_max_decoded(text.size()));
  size_t n = 0;
  if (!types::decode_base64(text, at, &n)) return fail(ctx, clip(token(json)) + " is not base64");
  *out = Value::bytes({at, n});
  return true;
}

// Element values of the nested value being decoded at each depth, reused record to record.
// (Types nest at most 32 levels, so kMaxNestedDepth bounds every column.)
constexpr int kMaxNestedDepth = 40;
std::vector<Value>& scratch(int depth) {
  thread_local std::array<std::vector<Value>, kMaxNestedDepth> levels;
  return levels[static_cast<size_t>(depth)];
}

// The MAP being decoded at each depth.
types::nested::MapBuilder& map_scratch(int depth) {
  thread_local std::array<types::nested::MapBuilder, kMaxNestedDepth> levels;
  return levels[static_cast<size_t>(depth)];
}

// Decodes `json` as element `type` of the current value into `out`, with `step` and `name`
// (".", "total"; "[", "3]") added to the path for messages.
bool decode_element(ondemand::value& json, const FieldContext& ctx, types::DataType type,
                    std::string_view step, std::string_view name, Value* out) {
  thread_local std::string column_path;
  std::string* path = ctx.path;
  if (!path) {
    path = &column_path;
    path->clear();
  }
  size_t mark = path->size();
  path->append(step);
  path->append(name);
  FieldContext child{ctx.column, ctx.timestamps, ctx.arena, ctx.err, type, path, ctx.depth + 1};
  *out = Value::null_of(type);
  bool ok = decode_field(json, child, out);
  if (ok) path->resize(mark);  // kept on failure: the message has been written with it
  return ok;
}

// A STRUCT being decoded at each depth: per field, whether a key naming it exactly has been read
// in this object, and the errors of values under keys that named a field only case-insensitively.
struct StructScratch {
  std::vector<uint8_t> exact;
  std::vector<std::pair<size_t, RecordError>> deferred;
};
StructScratch& struct_scratch(int depth) {
  thread_local std::array<StructScratch, kMaxNestedDepth> levels;
  return levels[static_cast<size_t>(depth)];
}

// STRUCT from an object: fields by name as columns are (an exact key wins over keys that match
// only case-insensitively, wherever it stands; a repeated key: the last wins; other keys skipped;
// missing fields NULL). ARRAY from an array. MAP<STRING, T> from an object (a repeated key: the
// last wins). The layout's size is checked as elements arrive (nested::kMaxBytes).
bool decode_nested(ondemand::value& json, json_type type, const FieldContext& ctx, Value* out) {
  const DataType t = ctx.type;
  if (ctx.depth >= kMaxNestedDepth) return fail(ctx, "nested too deeply");
  std::vector<Value>& items = scratch(ctx.depth);
  items.clear();
  types::nested::MapBuilder& map = map_scratch(ctx.depth);
  map.clear();
  size_t bytes = 4;  // an upper bound of the layout's size so far
  auto grow = [&](const Value& v) {
    bytes += types::nested::element_bytes(v);
    return bytes <= types::nested::kMaxBytes ||
           fail(ctx, "a nested value over " + std::to_string(types::nested::kMaxBytes >> 20) +
                         " MiB once laid out");
  };
  if (t.id == TypeId::kArray) {
    if (type != json_type::array) return expected(ctx, json, type, "an array");
    ondemand::array array;
    if (auto e = json.get_array().get(array)) return invalid_json(ctx.err, e);
    size_t i = 0;
    for (auto element : array) {
      ondemand::value v;
      if (auto e = element.get(v)) return invalid_json(ctx.err, e);
      char index[24];
      int n = std::snprintf(index, sizeof index, "%zu]", ++i);
      items.emplace_back();
      if (!decode_element(v, ctx, t.element(), "[", {index, static_cast<size_t>(n)}, &items.back()))
        return false;
      if (!grow(items.back())) return false;
    }
    *out = Value::nested(t.id, types::nested::build(items, ctx.arena));
    return true;
  }
  if (type != json_type::object) return expected(ctx, json, type, "an object");
  ondemand::object object;
  if (auto e = json.get_object().get(object)) return invalid_json(ctx.err, e);
  const auto& fields = t.fields();
  StructScratch& st = struct_scratch(ctx.depth);
  if (t.id == TypeId::kStruct) {
    items.resize(fields.size());
    for (size_t f = 0; f < fields.size(); ++f) {
      items[f] = Value::null_of(fields[f].type);
    }
    st.exact.assign(fields.size(), 0);
    st.deferred.clear();
  }
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return invalid_json(ctx.err, e);
    ondemand::value v;
    if (auto e = field.value().get(v)) return invalid_json(ctx.err, e);
    if (t.id == TypeId::kMap) {
      // The key is copied (simdjson's unescaped key lives in its buffer only until the next).
      Value value;
      if (!decode_element(v, ctx, t.element(), ".", key, &value)) return false;
      Value k = Value::string(ctx.arena.copy(key));
      if (!grow(k) || !grow(value)) return false;
      map.put(k, value);
      continue;
    }
    int found = t.field_index(key);
    if (found < 0) continue;
    auto f = static_cast<size_t>(found);
    bool exact = fields[f].name == key;
    if (!exact && st.exact[f]) continue;  // an exact key already set it
    if (exact) st.exact[f] = 1;
    Value value;
    if (!decode_element(v, ctx, fields[f].type, ".", key, &value)) {
      if (exact) return false;
      // Fails the record only if no exact key follows.
      st.deferred.emplace_back(f, ctx.err ? std::move(*ctx.err) : RecordError{});
      continue;
    }
    items[f] = value;
    if (!grow(value)) return false;
  }
  if (t.id == TypeId::kMap) {
    *out = Value::nested(t.id, types::nested::build(map.sorted(), ctx.arena));
    return true;
  }
  for (auto& [f, error] : st.deferred) {
    if (st.exact[f]) continue;
    if (ctx.err) *ctx.err = std::move(error);
    return false;
  }
  *out = Value::nested(t.id, types::nested::build(items, ctx.arena));
  return true;
}

}  // namespace

bool invalid_json(RecordError* err, simdjson::error_code code) {
  if (err) {
    err->code = ErrorCode::kDecode;
    err->message = std::string("invalid JSON: ") + simdjson::error_message(code);
  }
  return false;
}

bool decode_field(ondemand::value& json, const FieldContext& ctx, Value* out) {
  json_type type;
  if (auto e = json.type().get(type)) return invalid_json(ctx.err, e);
  if (type == json_type::null) {
    bool is_null = false;
    if (json.is_null().get(is_null) || !is_null)
      return fail(ctx, "invalid JSON value " + clip(token(json)));
    return true;
  }
  switch (ctx.type.id) {
    case TypeId::kNull:
      return true;
    case TypeId::kBoolean:
      return decode_boolean(json, type, ctx, out);
    case TypeId::kBigInt:
    case TypeId::kInterval:
      return decode_integer(json, type, ctx, out);
    case TypeId::kDouble:
      return decode_double(json, type, ctx, out);
    case TypeId::kDecimal:
      return decode_decimal(json, type, ctx, out);
    case TypeId::kString:
      return decode_string(json, type, ctx, out);
    case TypeId::kTimestamp:
      return decode_timestamp(json, type, ctx, out);
    case TypeId::kDate:
      return decode_date(json, type, ctx, out);
    case TypeId::kTime:
      return decode_time(json, type, ctx, out);
    case TypeId::kBytes:
      return decode_bytes(json, type, ctx, out);
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return decode_nested(json, type, ctx, out);
  }
  return true;
}

}  // namespace sluice::format::detail
