// SPLIT_PART, LEFT, RIGHT, REVERSE, LPAD, RPAD, POSITION/INSTR, STARTS_WITH, ENDS_WITH.
// Counts are UTF-8 characters; Postgres semantics for negative counts and empty fills.

#include "functions/registry_impl.hpp"
#include "functions/utf8_impl.hpp"

#include <fmt/format.h>

#include <cstring>

namespace sluice::functions::detail {

namespace {

using P = Param;
constexpr TypeId kStr = TypeId::kString;

uint64_t magnitude(int64_t v) {
  return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

Value split_part_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str(), delim = a[1].str();
  int64_t n = a[2].i;
  if (n <= 0) {
    ctx.fail(ErrorCode::kInvalidArgument,
             fmt::format("SPLIT_PART: field position must be greater than zero, got {}", n));
    return Value::make_null(kStr);
  }
  if (delim.empty()) return n == 1 ? a[0] : Value::string({});
  size_t begin = 0;
  for (int64_t field = 1; field < n; ++field) {
    size_t p = s.find(delim, begin);
    if (p == std::string_view::npos) return Value::string({});
    begin = p + delim.size();
  }
  size_t end = s.find(delim, begin);
  return Value::string(
      s.substr(begin, end == std::string_view::npos ? s.size() - begin : end - begin));
}

// First `keep` characters.
Value prefix_chars(std::string_view s, uint64_t keep) {
  return Value::string(s.substr(0, utf8::skip_chars(s, 0, keep)));
}

// LEFT(s, n): first n characters; a negative n drops the last |n| instead.
Value left_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  std::string_view s = a[0].str();
  if (a[1].i >= 0) return prefix_chars(s, static_cast<uint64_t>(a[1].i));
  uint64_t total = utf8::char_count(s), drop = magnitude(a[1].i);
  return prefix_chars(s, drop >= total ? 0 : total - drop);
}

// RIGHT(s, n): last n characters; a negative n drops the first |n| instead.
Value right_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  std::string_view s = a[0].str();
  uint64_t skip = magnitude(a[1].i);
  if (a[1].i >= 0) {
    uint64_t total = utf8::char_count(s);
    skip = skip >= total ? 0 : total - skip;
  }
  return Value::string(s.substr(utf8::skip_chars(s, 0, skip)));
}

Value reverse_fn(const Value* a, size_t, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str();
  char* out = arena_alloc(ctx, s.size());
  for (size_t pos = 0; pos < s.size();) {
    size_t len = utf8::seq_len(s, pos);
    std::memcpy(out + s.size() - pos - len, s.data() + pos, len);
    pos += len;
  }
  return Value::string({out, s.size()});
}

// LPAD/RPAD(s, len[, fill]): pads with `fill` (default ' ') repeated to `len` characters, or cuts
// s to `len` characters when it is longer. Negative len gives ''; an empty fill leaves s as is.
template <bool kLeft>
Value pad_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void*) {
  std::string_view s = a[0].str();
  std::string_view fill = n > 2 ? a[2].str() : std::string_view(" ");
  if (a[1].i <= 0) return Value::string({});
  auto len = static_cast<uint64_t>(a[1].i);
  uint64_t have = utf8::char_count(s);
  if (len <= have) return prefix_chars(s, len);
  if (fill.empty()) return a[0];
  uint64_t need = len - have;
  const char* fn = kLeft ? "LPAD" : "RPAD";
  if (!check_result_size(ctx, fn, need)) return Value::make_null(kStr);  // >= 1 byte per char
  uint64_t fill_chars = utf8::char_count(fill);
  uint64_t tail = utf8::skip_chars(fill, 0, need % fill_chars);
  uint64_t pad_bytes = need / fill_chars * fill.size() + tail;
  if (!check_result_size(ctx, fn, s.size() + pad_bytes)) return Value::make_null(kStr);
  char* out = arena_alloc(ctx, s.size() + pad_bytes);
  char* pad = kLeft ? out : out + s.size();
  std::memcpy(kLeft ? out + pad_bytes : out, s.data(), s.size());
  for (uint64_t w = 0; w + fill.size() <= pad_bytes - tail; w += fill.size()) {
    std::memcpy(pad + w, fill.data(), fill.size());
  }
  std::memcpy(pad + pad_bytes - tail, fill.data(), tail);
  return Value::string({out, s.size() + pad_bytes});
}

// 1-based character position of the first occurrence, 0 when absent.
Value position_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  std::string_view s = a[0].str(), sub = a[1].str();
  size_t p = s.find(sub);
  if (p == std::string_view::npos) return Value::bigint(0);
  return Value::bigint(static_cast<int64_t>(utf8::char_count(s.substr(0, p))) + 1);
}

Value starts_with_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::boolean(a[0].str().starts_with(a[1].str()));
}
Value ends_with_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  return Value::boolean(a[0].str().ends_with(a[1].str()));
}

constexpr TypeId kBool = TypeId::kBoolean;
constexpr TypeId kInt = TypeId::kBigInt;

const ScalarDef kDefs[] = {
    {"ENDS_WITH", "(string, string)", bind_simple<ends_with_fn, kBool, 2, P::kText, P::kText>},
    {"INSTR", "(string, string)", bind_simple<position_fn, kInt, 2, P::kText, P::kText>},
    {"LEFT", "(string, integer)", bind_simple<left_fn, kStr, 2, P::kText, P::kInt>},
    {"LPAD", "(string, integer[, string])",
     bind_simple<pad_fn<true>, kStr, 2, P::kText, P::kInt, P::kText>},
    {"POSITION", "(string, string)", bind_simple<position_fn, kInt, 2, P::kText, P::kText>},
    {"REVERSE", "(string)", bind_simple<reverse_fn, kStr, 1, P::kText>},
    {"RIGHT", "(string, integer)", bind_simple<right_fn, kStr, 2, P::kText, P::kInt>},
    {"RPAD", "(string, integer[, string])",
     bind_simple<pad_fn<false>, kStr, 2, P::kText, P::kInt, P::kText>},
    {"SPLIT_PART", "(string, string, integer)",
     bind_simple<split_part_fn, kStr, 3, P::kText, P::kText, P::kInt>},
    {"STARTS_WITH", "(string, string)", bind_simple<starts_with_fn, kBool, 2, P::kText, P::kText>},
};

}  // namespace

std::span<const ScalarDef> string_functions_more() {
  return kDefs;
}

}  // namespace sluice::functions::detail
