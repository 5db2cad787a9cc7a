// DATE and BYTES conversions: FROM_DAYS, UNIX_DATE, CURRENT_DATE, TO_BYTES, FROM_BYTES.
// Encodings (any case): 'utf8', 'ascii', 'hex', 'base64'. A constant encoding is checked when the
// query is bound; one from a column is checked per row.

#include "common/ascii.hpp"
#include "functions/registry_impl.hpp"
#include "types/bytes_text.hpp"
#include "types/time.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>

namespace sluice::functions::detail {

namespace {

Value from_days_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  if (!types::time::valid_date(a[0].i)) {
    ctx.fail(ErrorCode::kOverflow,
             fmt::format("FROM_DAYS: {} days is out of the DATE range", a[0].i));
    return Value::make_null(TypeId::kDate);
  }
  return Value::date(a[0].i);
}

Value unix_date_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::bigint(a[0].i);
}

Value current_date_fn(const Value*, size_t, exec::EvalContext&, const void*) {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  return Value::date(
      types::time::day_of(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

std::optional<BoundScalar> bind_from_days(const CallSite& c) {
  if (c.size() != 1 || !is_integer(c.id(0))) return std::nullopt;
  return make_bound(DataType::date(), {DataType::bigint()}, from_days_fn);
}

std::optional<BoundScalar> bind_unix_date(const CallSite& c) {
  if (c.size() != 1 || (c.id(0) != TypeId::kDate && !is_null_type(c.id(0)))) return std::nullopt;
  return make_bound(DataType::bigint(), {DataType::date()}, unix_date_fn);
}

std::optional<BoundScalar> bind_current_date(const CallSite& c) {
  if (c.size() != 0) return std::nullopt;
  return make_bound(DataType::date(), {}, current_date_fn);
}

enum class Encoding : uint8_t { kUtf8, kAscii, kHex, kBase64 };
struct EncodingName {
  std::string_view name;
  Encoding encoding;
};
constexpr EncodingName kEncodings[] = {
    {"utf8", Encoding::kUtf8},
    {"ascii", Encoding::kAscii},
    {"hex", Encoding::kHex},
    {"base64", Encoding::kBase64},
};

const EncodingName* find_encoding(std::string_view name) {
  for (const EncodingName& e : kEncodings) {
    if (iequals(e.name, name)) return &e;
  }
  return nullptr;
}

std::string unknown_encoding(std::string_view fn, std::string_view name) {
  return fmt::format("{}: unknown encoding '{}'; expected utf8, ascii, hex or base64", fn, name);
}

const EncodingName* encoding_of(const Value* a, const void* state, exec::EvalContext& ctx,
                                std::string_view fn) {
  if (state != nullptr) return static_cast<const EncodingName*>(state);
  const EncodingName* e = find_encoding(a[1].str());
  if (e == nullptr) ctx.fail(ErrorCode::kInvalidArgument, unknown_encoding(fn, a[1].str()));
  return e;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

Value bad_text(exec::EvalContext& ctx, std::string_view fn, const EncodingName& e, TypeId result) {
  ctx.fail(ErrorCode::kInvalidArgument, fmt::format("{}: the value is not valid {}", fn, e.name));
  return Value::make_null(result);
}

// TO_BYTES(string, encoding) -> BYTES.
Value to_bytes_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const EncodingName* e = encoding_of(a, state, ctx, "TO_BYTES");
  if (e == nullptr) return Value::make_null(TypeId::kBytes);
  std::string_view s = a[0].str();
  thread_local std::string decoded;
  switch (e->encoding) {
    case Encoding::kAscii:
      if (!is_ascii(s)) return bad_text(ctx, "TO_BYTES", *e, TypeId::kBytes);
      [[fallthrough]];
    case Encoding::kUtf8:
      return Value::bytes(arena_string(ctx, s).str());
    case Encoding::kHex:
      if (!types::decode_hex(s, decoded)) return bad_text(ctx, "TO_BYTES", *e, TypeId::kBytes);
      break;
    case Encoding::kBase64:
      if (!types::decode_base64(s, decoded)) return bad_text(ctx, "TO_BYTES", *e, TypeId::kBytes);
      break;
  }
  return Value::bytes(arena_string(ctx, decoded).str());
}

// FROM_BYTES(bytes, encoding) -> STRING.
Value from_bytes_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const EncodingName* e = encoding_of(a, state, ctx, "FROM_BYTES");
  if (e == nullptr) return Value::make_null(TypeId::kString);
  std::string_view b = a[0].str();
  thread_local std::string text;
  text.clear();
  switch (e->encoding) {
    case Encoding::kAscii:
      if (!is_ascii(b)) return bad_text(ctx, "FROM_BYTES", *e, TypeId::kString);
      return arena_string(ctx, b);
    case Encoding::kUtf8:
      if (!simdjson::validate_utf8(b.data(), b.size()))
        return bad_text(ctx, "FROM_BYTES", *e, TypeId::kString);
      return arena_string(ctx, b);
    case Encoding::kHex:
      if (!check_result_size(ctx, "FROM_BYTES", b.size() * 2))
        return Value::make_null(TypeId::kString);
      types::append_hex(b, text);
      break;
    case Encoding::kBase64:
      if (!check_result_size(ctx, "FROM_BYTES", types::base64_size(b.size())))
        return Value::make_null(TypeId::kString);
      types::append_base64(b, text);
      break;
  }
  return arena_string(ctx, text);
}

template <ScalarFn kFn, TypeId kIn, TypeId kOut>
std::optional<BoundScalar> bind_encoding_fn(const CallSite& c) {
  if (c.size() != 2 || (c.id(0) != kIn && !is_null_type(c.id(0))) || !is_text(c.id(1)))
    return std::nullopt;
  auto b = make_bound(DataType{kOut, 0, 0}, {DataType{kIn, 0, 0}, DataType::string()}, kFn);
  if (const Value* name = c.constant(1)) {
    const EncodingName* e = find_encoding(name->str());
    if (e == nullptr) throw Error(ErrorCode::kSqlType, unknown_encoding(c.name, name->str()));
    b.state = std::shared_ptr<const void>(e, [](const void*) {});  // static table entry
  }
  return b;
}

const ScalarDef kDefs[] = {
    {"CURRENT_DATE", "()", bind_current_date},
    {"FROM_BYTES", "(bytes, encoding)",
     bind_encoding_fn<from_bytes_fn, TypeId::kBytes, TypeId::kString>},
    {"FROM_DAYS", "(integer)", bind_from_days},
    {"TO_BYTES", "(string, encoding)",
     bind_encoding_fn<to_bytes_fn, TypeId::kString, TypeId::kBytes>},
    {"UNIX_DATE", "(date)", bind_unix_date},
};

}  // namespace

std::span<const ScalarDef> date_bytes_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
