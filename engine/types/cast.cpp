// CAST between every pair of value types (value_ops.hpp). Each target type has one function that
// switches on the source type; messages always name the value and the target type.

#include "types/decimal.hpp"
#include "types/number_text.hpp"
#include "types/time.hpp"
#include "types/value_ops.hpp"
#include "types/value_text.hpp"

#include <simdjson.h>

#include <cmath>
#include <limits>

namespace sluice::types {

namespace {

constexpr size_t kMaxShownBytes = 64;

// The value as a message shows it: strings quoted and cut at a UTF-8 boundary.
std::string shown(const Value& v) {
  std::string text;
  append_text(v, text);
  if (text.size() > kMaxShownBytes) {
    size_t cut = kMaxShownBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;
    text.resize(cut);
    text += "...";
  }
  return v.type == TypeId::kString ? "'" + text + "'" : text;
}

std::string type_name(TypeId t) {
  return t == TypeId::kDecimal ? std::string("DECIMAL") : DataType{t, 0, 0}.to_string();
}

bool fail(RecordError* err, ErrorCode code, std::string message) {
  if (err) {
    err->code = code;
    err->message = std::move(message);
  }
  return false;
}

bool invalid(const Value& v, DataType t, RecordError* err) {
  return fail(err, ErrorCode::kCast, "cannot cast " + shown(v) + " to " + t.to_string());
}

bool out_of_range(const Value& v, DataType t, RecordError* err) {
  return fail(err, ErrorCode::kOverflow,
              "cannot cast " + shown(v) + " to " + t.to_string() + ": out of range");
}

bool unsupported(const Value& v, DataType t, RecordError* err) {
  return fail(err, ErrorCode::kCast, "cannot cast " + type_name(v.type) + " to " + t.to_string());
}

// Maps a text-parse status to the right error.
bool number_status(NumberStatus s, const Value& v, DataType t, RecordError* err) {
  if (s == NumberStatus::kOk) return true;
  return s == NumberStatus::kOverflow ? out_of_range(v, t, err) : invalid(v, t, err);
}

bool to_boolean(const Value& v, Value* out, RecordError* err) {
  bool b = false;
  switch (v.type) {
    case TypeId::kBigInt:
      b = v.i != 0;
      break;
    case TypeId::kDouble:
      if (std::isnan(v.d)) return invalid(v, DataType::boolean(), err);
      b = v.d != 0;
      break;
    case TypeId::kDecimal:
      b = v.dec != 0;
      break;
    case TypeId::kString:
      if (!parse_bool(trim_spaces(v.str()), &b)) return invalid(v, DataType::boolean(), err);
      break;
    default:
      return unsupported(v, DataType::boolean(), err);
  }
  *out = Value::boolean(b);
  return true;
}

bool to_bigint(const Value& v, Value* out, RecordError* err) {
  const DataType t = DataType::bigint();
  int64_t i = 0;
  switch (v.type) {
    case TypeId::kBoolean:
      i = v.b ? 1 : 0;
      break;
    case TypeId::kTimestamp:
    case TypeId::kInterval:
      i = v.i;
      break;
    case TypeId::kDouble: {
      if (std::isnan(v.d)) return invalid(v, t, err);
      double truncated = std::trunc(v.d);
      // 2^63 is exact as a double; the valid range is [-2^63, 2^63).
      if (!(truncated >= -9223372036854775808.0 && truncated < 9223372036854775808.0))
        return out_of_range(v, t, err);
      i = static_cast<int64_t>(truncated);
      break;
    }
    case TypeId::kDecimal: {
      int128 r = 0;
      decimal::rescale(v.dec, v.scale, 0, &r);  // scaling down cannot overflow
      if (r > std::numeric_limits<int64_t>::max() || r < std::numeric_limits<int64_t>::min())
        return out_of_range(v, t, err);
      i = static_cast<int64_t>(r);
      break;
    }
    case TypeId::kString:
      if (!number_status(parse_int64(trim_spaces(v.str()), &i), v, t, err)) return false;
      break;
    default:
      return unsupported(v, t, err);
  }
  *out = Value::bigint(i);
  return true;
}

bool to_double(const Value& v, Value* out, RecordError* err) {
  double d = 0;
  switch (v.type) {
    case TypeId::kBoolean:
      d = v.b ? 1 : 0;
      break;
    case TypeId::kBigInt:
      d = static_cast<double>(v.i);
      break;
    case TypeId::kDecimal:
      d = decimal::to_double(v.dec, v.scale);
      break;
    case TypeId::kString: {
      NumberStatus s = parse_double(trim_spaces(v.str()), &d);
      if (!number_status(s, v, DataType::float64(), err)) return false;
      break;
    }
    default:
      return unsupported(v, DataType::float64(), err);
  }
  *out = Value::float64(d);
  return true;
}

bool to_decimal(const Value& v, DataType t, Value* out, RecordError* err) {
  int128 r = 0;
  bool ok = true;
  switch (v.type) {
    case TypeId::kBoolean:
      r = v.b ? decimal::pow10(t.scale) : 0;
      break;
    case TypeId::kBigInt:
      ok = decimal::rescale(v.i, 0, t.scale, &r);
      break;
    case TypeId::kDecimal:
      ok = decimal::rescale(v.dec, v.scale, t.scale, &r);
      break;
    case TypeId::kDouble:
      if (!std::isfinite(v.d)) return invalid(v, t, err);
      ok = decimal::from_double(v.d, t.precision, t.scale, &r);
      break;
    case TypeId::kString: {
      auto s = decimal::parse_status(trim_spaces(v.str()), t.precision, t.scale, &r);
      if (s == decimal::ParseStatus::kSyntax) return invalid(v, t, err);
      ok = s == decimal::ParseStatus::kOk;
      break;
    }
    default:
      return unsupported(v, t, err);
  }
  if (!ok || !decimal::fits(r, t.precision)) return out_of_range(v, t, err);
  *out = Value::decimal(r, t.scale);
  return true;
}

bool to_string(const Value& v, Arena& arena, Value* out, RecordError* err) {
  if (v.type == TypeId::kBytes) {
    if (!simdjson::validate_utf8(v.s.data, v.s.size)) {
      return fail(err, ErrorCode::kCast,
                  "cannot cast BYTES to STRING: not valid UTF-8 (FROM_BYTES(x, 'base64') or "
                  "FROM_BYTES(x, 'hex') give its text)");
    }
    *out = Value::string(arena.copy(v.str()));
    return true;
  }
  char buf[kMaxScalarText];
  size_t n = format_scalar(v, buf);
  *out = Value::string(arena.copy({buf, n}));
  return true;
}

bool to_timestamp(const Value& v, Value* out, RecordError* err) {
  int64_t ms = 0;
  switch (v.type) {
    case TypeId::kBigInt:
      ms = v.i;
      break;
    case TypeId::kDate:
      ms = v.i * time::kMsPerDay;  // valid dates never overflow
      break;
    case TypeId::kString:
      if (!time::parse_timestamp(trim_spaces(v.str()), &ms))
        return invalid(v, DataType::timestamp(), err);
      break;
    default:
      return unsupported(v, DataType::timestamp(), err);
  }
  *out = Value::timestamp(ms);
  return true;
}

bool to_interval(const Value& v, Value* out, RecordError* err) {
  int64_t ms = 0;
  switch (v.type) {
    case TypeId::kBigInt:
      ms = v.i;
      break;
    case TypeId::kString: {
      NumberStatus s = parse_int64(trim_spaces(v.str()), &ms);
      if (!number_status(s, v, DataType::interval(), err)) return false;
      break;
    }
    default:
      return unsupported(v, DataType::interval(), err);
  }
  *out = Value::interval(ms);
  return true;
}

bool to_date(const Value& v, Value* out, RecordError* err) {
  int64_t days = 0;
  switch (v.type) {
    case TypeId::kTimestamp:
      days = time::day_of(v.i);
      break;
    case TypeId::kString: {
      std::string_view text = trim_spaces(v.str());
      int64_t ms = 0;
      // A date, or a timestamp whose day is taken (its offset applied first).
      if (!time::parse_date(text, &days)) {
        if (!time::parse_timestamp(text, &ms)) return invalid(v, DataType::date(), err);
        days = time::day_of(ms);
      }
      break;
    }
    default:
      return unsupported(v, DataType::date(), err);
  }
  *out = Value::date(days);
  return true;
}

bool to_time(const Value& v, Value* out, RecordError* err) {
  int64_t ms = 0;
  switch (v.type) {
    case TypeId::kTimestamp:
      ms = time::time_of_day(v.i);
      break;
    case TypeId::kString:
      if (!time::parse_time(trim_spaces(v.str()), &ms)) return invalid(v, DataType::time(), err);
      break;
    default:
      return unsupported(v, DataType::time(), err);
  }
  *out = Value::time(ms);
  return true;
}

bool to_bytes(const Value& v, Arena& arena, Value* out, RecordError* err) {
  if (v.type != TypeId::kString) return unsupported(v, DataType::bytes(), err);
  *out = Value::bytes(arena.copy(v.str()));
  return true;
}

}  // namespace

bool can_cast(DataType from, DataType to) {
  TypeId f = from.id, t = to.id;
  // A nested value casts to its own type, and to STRING as its JSON text (exec::make_cast builds
  // that; cast() itself has no element types to write it with).
  if (from.is_nested() || to.is_nested())
    return f == TypeId::kNull || from == to || t == TypeId::kString;
  if (f == TypeId::kNull || f == t || t == TypeId::kString) return true;
  switch (t) {
    case TypeId::kNull:
      return false;
    case TypeId::kBoolean:
    case TypeId::kDouble:
    case TypeId::kDecimal:
      return from.is_numeric() || f == TypeId::kBoolean || f == TypeId::kString;
    case TypeId::kBigInt:
      return from.is_numeric() || f == TypeId::kBoolean || f == TypeId::kString ||
             f == TypeId::kTimestamp || f == TypeId::kInterval;
    case TypeId::kTimestamp:
      return f == TypeId::kBigInt || f == TypeId::kString || f == TypeId::kDate;
    case TypeId::kInterval:
      return f == TypeId::kBigInt || f == TypeId::kString;
    case TypeId::kDate:
    case TypeId::kTime:
      return f == TypeId::kTimestamp || f == TypeId::kString;
    case TypeId::kBytes:
      return f == TypeId::kString;
    case TypeId::kString:
      return true;
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return false;
  }
  return false;
}

bool cast(const Value& v, DataType target, Arena& arena, Value* out, RecordError* err) {
  if (v.null || v.type == TypeId::kNull) {
    *out = Value::make_null(target.id);
    if (target.id == TypeId::kDecimal) out->scale = target.scale;
    return true;
  }
  if (v.type == target.id && target.id != TypeId::kDecimal) {
    *out = v;
    return true;
  }
  switch (target.id) {
    case TypeId::kNull:
      return unsupported(v, target, err);
    case TypeId::kBoolean:
      return to_boolean(v, out, err);
    case TypeId::kBigInt:
      return to_bigint(v, out, err);
    case TypeId::kDouble:
      return to_double(v, out, err);
    case TypeId::kDecimal:
      return to_decimal(v, target, out, err);
    case TypeId::kString:
      return to_string(v, arena, out, err);
    case TypeId::kTimestamp:
      return to_timestamp(v, out, err);
    case TypeId::kInterval:
      return to_interval(v, out, err);
    case TypeId::kDate:
      return to_date(v, out, err);
    case TypeId::kTime:
      return to_time(v, out, err);
    case TypeId::kBytes:
      return to_bytes(v, arena, out, err);
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      break;
  }
  return unsupported(v, target, err);
}

}  // namespace sluice::types
