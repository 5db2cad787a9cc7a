// REGEXP_LIKE, REGEXP_EXTRACT, REGEXP_REPLACE on the engine in regex_impl.hpp.
// A constant pattern is compiled once at bind (invalid -> kSqlType naming the pattern) and kept in
// BoundScalar::state. A pattern from a column is compiled on the row; a one-entry per-thread cache
// keeps the last compiled pattern, so a column holding one pattern compiles it once per thread.

#include "functions/regex_impl.hpp"
#include "functions/registry_impl.hpp"
#include "functions/utf8_impl.hpp"

#include <fmt/format.h>

namespace sluice::functions::detail {

namespace {

using regex::Regex;
using P = Param;
constexpr size_t kNone = std::string_view::npos;
constexpr TypeId kStr = TypeId::kString;

std::string invalid_pattern(std::string_view fn, std::string_view pattern, std::string_view why) {
  return fmt::format("{}: invalid regular expression '{}': {}", fn, pattern, why);
}

// The compiled pattern of argument 1: from the bound state, else compiled (and cached) here.
const Regex* regex_of(const Value* a, const void* state, exec::EvalContext& ctx,
                      std::string_view fn) {
  if (state != nullptr) return static_cast<const Regex*>(state);
  thread_local std::unique_ptr<const Regex> cached;
  std::string_view pattern = a[1].str();
  if (cached && cached->pattern() == pattern) return cached.get();
  std::string error;
  auto re = Regex::compile(pattern, &error);
  if (!re) {
    ctx.fail(ErrorCode::kInvalidArgument, invalid_pattern(fn, pattern, error));
    return nullptr;
  }
  cached = std::move(re);
  return cached.get();
}

// Per-thread capture buffer with room for `groups` + 1 groups.
std::span<size_t> caps_buffer(size_t groups) {
  thread_local std::vector<size_t> caps;
  if (caps.size() < 2 * (groups + 1)) caps.resize(2 * (groups + 1));
  return {caps.data(), 2 * (groups + 1)};
}

Value regexp_like_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const Regex* re = regex_of(a, state, ctx, "REGEXP_LIKE");
  if (re == nullptr) return Value::make_null(TypeId::kBoolean);
  return Value::boolean(re->matches(a[0].str()));
}

std::string group_range_error(int64_t group, size_t groups) {
  return fmt::format("REGEXP_EXTRACT: group {} is out of range, the pattern has {} group(s)", group,
                     groups);
}

Value regexp_extract_fn(const Value* a, size_t n, exec::EvalContext& ctx, const void* state) {
  const Regex* re = regex_of(a, state, ctx, "REGEXP_EXTRACT");
  if (re == nullptr) return Value::make_null(kStr);
  int64_t group = n > 2 ? a[2].i : 0;
  if (group < 0 || static_cast<uint64_t>(group) > re->group_count()) {
    ctx.fail(ErrorCode::kInvalidArgument, group_range_error(group, re->group_count()));
    return Value::make_null(kStr);
  }
  auto g = static_cast<size_t>(group);
  std::span<size_t> caps = caps_buffer(g);
  std::string_view s = a[0].str();
  if (!re->search(s, 0, caps) || caps[2 * g] == kNone) return Value::make_null(kStr);
  return Value::string(s.substr(caps[2 * g], caps[2 * g + 1] - caps[2 * g]));
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Java replacement syntax: $n inserts group n (digits are taken while the number stays a valid
// group), \x inserts x literally, anything else is literal. Returns the highest group used, or
// -1 with `error` set when a reference names a missing group.
int64_t scan_replacement(std::string_view rep, size_t groups, std::string* error) {
  int64_t max_group = 0;
  for (size_t i = 0; i < rep.size(); ++i) {
    if (rep[i] == '\\') {
      ++i;
    } else if (rep[i] == '$' && i + 1 < rep.size() && is_digit(rep[i + 1])) {
      size_t g = static_cast<size_t>(rep[++i] - '0');
      while (i + 1 < rep.size() && is_digit(rep[i + 1]) &&
             g * 10 + static_cast<size_t>(rep[i + 1] - '0') <= groups) {
        g = g * 10 + static_cast<size_t>(rep[++i] - '0');
      }
      if (g > groups) {
        *error = fmt::format(
            "REGEXP_REPLACE: replacement refers to group {}, the pattern has {} "
            "group(s)",
            g, groups);
        return -1;
      }
      max_group = std::max(max_group, static_cast<int64_t>(g));
    }
  }
  return max_group;
}

void append_replacement(std::string& out, std::string_view rep, std::string_view s,
                        std::span<const size_t> caps, size_t groups) {
  for (size_t i = 0; i < rep.size(); ++i) {
    if (rep[i] == '\\') {
      if (++i < rep.size()) out += rep[i];
    } else if (rep[i] == '$' && i + 1 < rep.size() && is_digit(rep[i + 1])) {
      size_t g = static_cast<size_t>(rep[++i] - '0');
      while (i + 1 < rep.size() && is_digit(rep[i + 1]) &&
             g * 10 + static_cast<size_t>(rep[i + 1] - '0') <= groups) {
        g = g * 10 + static_cast<size_t>(rep[++i] - '0');
      }
      if (caps[2 * g] != kNone) out.append(s.substr(caps[2 * g], caps[2 * g + 1] - caps[2 * g]));
    } else {
      out += rep[i];
    }
  }
}

Value regexp_replace_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const Regex* re = regex_of(a, state, ctx, "REGEXP_REPLACE");
  if (re == nullptr) return Value::make_null(kStr);
  std::string_view s = a[0].str(), rep = a[2].str();
  std::string error;
  int64_t max_group = scan_replacement(rep, re->group_count(), &error);
  if (max_group < 0) {
    ctx.fail(ErrorCode::kInvalidArgument, std::move(error));
    return Value::make_null(kStr);
  }
  std::span<size_t> caps = caps_buffer(static_cast<size_t>(max_group));
  thread_local std::string out;
  out.clear();
  size_t last = 0;
  bool replaced = false;
  for (size_t pos = 0; pos <= s.size() && re->search(s, pos, caps);) {
    replaced = true;
    out.append(s.substr(last, caps[0] - last));
    append_replacement(out, rep, s, caps, re->group_count());
    last = pos = caps[1];
    if (caps[1] == caps[0]) {  // empty match: keep the next character and move past it
      if (pos >= s.size()) break;
      size_t len = utf8::seq_len(s, pos);
      out.append(s.substr(pos, len));
      last = pos = pos + len;
    }
    if (!check_result_size(ctx, "REGEXP_REPLACE", out.size())) return Value::make_null(kStr);
  }
  if (!replaced) return a[0];
  out.append(s.substr(last));
  if (!check_result_size(ctx, "REGEXP_REPLACE", out.size())) return Value::make_null(kStr);
  return arena_string(ctx, out);
}

// Compiles a constant pattern into the bound state; throws kSqlType when it is invalid.
void compile_constant(const CallSite& c, BoundScalar& b) {
  const Value* pattern = c.constant(1);
  if (pattern == nullptr) return;
  std::string error;
  std::shared_ptr<const Regex> re = Regex::compile(pattern->str(), &error);
  if (!re) throw Error(ErrorCode::kSqlType, invalid_pattern(c.name, pattern->str(), error));
  b.state = std::move(re);
}

const Regex* constant_regex(const BoundScalar& b) {
  return static_cast<const Regex*>(b.state.get());
}

template <ScalarFn kFn, TypeId kResult, size_t kMin, Param... kParams>
std::optional<BoundScalar> bind_regex(const CallSite& c) {
  std::optional<BoundScalar> b = bind_simple<kFn, kResult, kMin, kParams...>(c);
  if (b) compile_constant(c, *b);
  return b;
}

std::optional<BoundScalar> bind_extract(const CallSite& c) {
  auto b = bind_regex<regexp_extract_fn, kStr, 2, P::kText, P::kText, P::kInt>(c);
  const Value* group = c.size() > 2 ? c.constant(2) : nullptr;
  if (b && constant_regex(*b) && group) {
    size_t groups = constant_regex(*b)->group_count();
    if (group->i < 0 || static_cast<uint64_t>(group->i) > groups) {
      throw Error(ErrorCode::kSqlType, group_range_error(group->i, groups));
    }
  }
  return b;
}

std::optional<BoundScalar> bind_replace(const CallSite& c) {
  auto b = bind_regex<regexp_replace_fn, kStr, 3, P::kText, P::kText, P::kText>(c);
  const Value* rep = c.size() > 2 ? c.constant(2) : nullptr;
  if (b && constant_regex(*b) && rep) {
    std::string error;
    if (scan_replacement(rep->str(), constant_regex(*b)->group_count(), &error) < 0) {
      throw Error(ErrorCode::kSqlType, error);
    }
  }
  return b;
}

const ScalarDef kDefs[] = {
    {"REGEXP_EXTRACT", "(string, pattern[, integer])", bind_extract},
    {"REGEXP_LIKE", "(string, pattern)",
     bind_regex<regexp_like_fn, TypeId::kBoolean, 2, P::kText, P::kText>},
    {"REGEXP_REPLACE", "(string, pattern, string)", bind_replace},
};

}  // namespace

std::span<const ScalarDef> regex_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
