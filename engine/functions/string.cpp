// UPPER, LOWER, LENGTH, SUBSTRING, TRIM family, CONCAT, CONCAT_WS, REPLACE.
// Positions and lengths count UTF-8 characters. Results that are a piece of an argument point into
// that argument (no copy); new strings go into the evaluation arena.

#include "functions/registry_impl.hpp"
#include "functions/utf8_impl.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <cstring>
#include <string>

namespace sluice::functions::detail {

namespace {

using P = Param;
constexpr TypeId kStr = TypeId::kString;

Value slice(std::string_view s, size_t begin, size_t end) {
  return Value::string(s.substr(begin, end - begin));
}

template <bool kUpper>
Value change_case(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str();
  char* out = arena_alloc(ctx, s.size());
  constexpr unsigned kFrom = kUpper ? 'a' : 'A';
  size_t pos = 0;
  while (pos < s.size()) {
    for (size_t end = pos + utf8::ascii_run(s, pos); pos < end; ++pos) {
      auto c = static_cast<unsigned char>(s[pos]);
      out[pos] = static_cast<char>(c ^ ((c - kFrom < 26u) << 5));
    }
    if (pos == s.size()) break;
    size_t start = pos;
    uint32_t cp = utf8::decode(s, pos);
    uint32_t mapped = kUpper ? utf8::to_upper(cp) : utf8::to_lower(cp);
    // Mappings only exist between 2-byte characters, so the length never changes.
    if (mapped != cp && pos - start == 2) {
      utf8::encode(mapped, out + start);
    } else {
      std::memcpy(out + start, s.data() + start, pos - start);
    }
  }
  return Value::string({out, s.size()});
}

Value length_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::bigint(static_cast<int64_t>(utf8::char_count(a[0].str())));
}

// SQL-standard SUBSTRING: characters [start, start + len) intersected with the string, so a
// start before 1 eats into the length (SUBSTRING('abc', 0, 2) = 'a').
Value substring_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str();
  __int128 first = a[1].i;
  __int128 end = s.size() + static_cast<__int128>(2);  // past any character position
  if (n > 2) {
    if (a[2].i < 0) {
      ctx.fail(ErrorCode::kInvalidArgument,
               fmt::format("SUBSTRING: length must not be negative, got {}", a[2].i));
      return Value::make_null(kStr);
    }
    end = std::min(end, first + a[2].i);
  }
  if (first < 1) first = 1;
  if (end <= first || first > static_cast<__int128>(s.size())) return Value::string({});
  size_t b = utf8::skip_chars(s, 0, static_cast<uint64_t>(first - 1));
  size_t e = utf8::skip_chars(s, b, static_cast<uint64_t>(end - first));
  return slice(s, b, e);
}

// Start of the character that ends at `end` (> 0), consistent with forward walking on valid text.
size_t prev_char(std::string_view s, size_t end) {
  size_t p = end - 1;
  size_t limit = end >= 4 ? end - 4 : 0;
  while (p > limit && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80)
    --p;
  return p + utf8::seq_len(s, p) == end ? p : end - 1;
}

bool in_set(std::string_view s, size_t begin, size_t end, std::string_view set) {
  std::string_view ch = s.substr(begin, end - begin);
  for (size_t pos = 0; pos < set.size();) {
    size_t len = utf8::seq_len(set, pos);
    if (set.substr(pos, len) == ch) return true;
    pos += len;
  }
  return false;
}

template <bool kLeft, bool kRight>
Value trim_fn(const Value* a, size_t n, exec::EvalContext&, const void*) {
  std::string_view s = a[0].str();
  std::string_view set = n > 1 ? a[1].str() : std::string_view(" ");
  size_t b = 0, e = s.size();
  while (kLeft && b < e) {
    size_t next = b + utf8::seq_len(s, b);
    if (!in_set(s, b, next, set)) break;
    b = next;
  }
  while (kRight && e > b) {
    size_t prev = prev_char(s, e);
    if (prev < b || !in_set(s, prev, e, set)) break;
    e = prev;
  }
  return slice(s, b, e);
}

// Text of any value as CONCAT sees it; strings are used as they are.
void append_any(const Value& v, std::string& out) {
  if (v.type == kStr) {
    out.append(v.s.data, v.s.size);
  } else {
    types::append_text(v, out);
  }
}

// The per-thread scratch buffer keeps its capacity, so steady state allocates only in the arena.
std::string& scratch() {
  thread_local std::string buf;
  buf.clear();
  return buf;
}

Value finish_text(exec::EvalContext& ctx, std::string_view fn, const std::string& text) {
  if (!check_result_size(ctx, fn, text.size())) return Value::make_null(kStr);
  return arena_string(ctx, text);
}

Value concat_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  std::string& out = scratch();
  for (size_t i = 0; i < n; ++i)
    append_any(a[i], out);
  return finish_text(ctx, "CONCAT", out);
}

Value concat_ws_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  if (a[0].null) return Value::make_null(kStr);
  std::string& out = scratch();
  std::string sep_text;
  if (a[0].type != kStr) append_any(a[0], sep_text);
  std::string_view sep = a[0].type == kStr ? a[0].str() : std::string_view(sep_text);
  bool first = true;
  for (size_t i = 1; i < n; ++i) {
    if (a[i].null) continue;
    if (!first) out += sep;
    first = false;
    append_any(a[i], out);
  }
  return finish_text(ctx, "CONCAT_WS", out);
}

// Arguments keep their own types: CONCAT converts each to text itself. A STRUCT, ARRAY or MAP is
// cast to STRING first (its JSON text), which needs its element types.
std::vector<DataType> text_or_own(const CallSite& c) {
  std::vector<DataType> out;
  for (const DataType& t : c.args)
    out.push_back(t.is_nested() ? DataType::string() : concrete(t, DataType::string()));
  return out;
}

std::optional<BoundScalar> bind_concat(const CallSite& c) {
  if (c.size() < 1) return std::nullopt;
  return make_bound(DataType::string(), text_or_own(c), concat_fn);
}

std::optional<BoundScalar> bind_concat_ws(const CallSite& c) {
  if (c.size() < 1) return std::nullopt;
  return make_bound(DataType::string(), text_or_own(c), concat_ws_fn, false);
}

Value replace_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str(), from = a[1].str(), to = a[2].str();
  if (from.empty()) return a[0];
  size_t count = 0;
  for (size_t p = s.find(from); p != std::string_view::npos; p = s.find(from, p + from.size())) {
    ++count;
  }
  if (count == 0) return a[0];
  // Sizes are below 2^32 each, so this cannot wrap in 64 bits.
  size_t size = s.size() - count * from.size() + count * to.size();
  if (!check_result_size(ctx, "REPLACE", size)) return Value::make_null(kStr);
  char* out = arena_alloc(ctx, size);
  size_t w = 0, r = 0;
  for (size_t p = s.find(from); p != std::string_view::npos; p = s.find(from, r)) {
    std::memcpy(out + w, s.data() + r, p - r);
    w += p - r;
    std::memcpy(out + w, to.data(), to.size());
    w += to.size();
    r = p + from.size();
  }
  std::memcpy(out + w, s.data() + r, s.size() - r);
  return Value::string({out, size});
}

const ScalarDef kDefs[] = {
    {"CHARACTER_LENGTH", "(string)", bind_simple<length_fn, TypeId::kBigInt, 1, P::kText>},
    {"CHAR_LENGTH", "(string)", bind_simple<length_fn, TypeId::kBigInt, 1, P::kText>},
    {"CONCAT", "(value, ...)", bind_concat},
    {"CONCAT_WS", "(separator, value, ...)", bind_concat_ws},
    {"LENGTH", "(string)", bind_simple<length_fn, TypeId::kBigInt, 1, P::kText>},
    {"LOWER", "(string)", bind_simple<change_case<false>, kStr, 1, P::kText>},
    {"LTRIM", "(string[, string])", bind_simple<trim_fn<true, false>, kStr, 1, P::kText, P::kText>},
    {"REPLACE", "(string, string, string)",
     bind_simple<replace_fn, kStr, 3, P::kText, P::kText, P::kText>},
    {"RTRIM", "(string[, string])", bind_simple<trim_fn<false, true>, kStr, 1, P::kText, P::kText>},
    {"SUBSTR", "(string, integer[, integer])",
     bind_simple<substring_fn, kStr, 2, P::kText, P::kInt, P::kInt>},
    {"SUBSTRING", "(string, integer[, integer])",
     bind_simple<substring_fn, kStr, 2, P::kText, P::kInt, P::kInt>},
    {"TRIM", "(string[, string])", bind_simple<trim_fn<true, true>, kStr, 1, P::kText, P::kText>},
    {"UPPER", "(string)", bind_simple<change_case<true>, kStr, 1, P::kText>},
};

}  // namespace

std::span<const ScalarDef> string_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
