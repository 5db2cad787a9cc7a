// COALESCE, IFNULL, NULLIF, IF, LEAST, GREATEST. Arguments are cast to their common super type,
// and NULLs are handled here (null_if_any_null = false). COALESCE, IFNULL and IF are only typed
// here: the binder evaluates them lazily as CASE (see Conditional in scalar.hpp).

#include "functions/registry_impl.hpp"
#include "types/value_ops.hpp"

namespace sluice::functions::detail {

namespace {

Value nullif_fn(const Value* a, size_t, exec::EvalContext&, const void*) {
  if (a[0].null || a[1].null) return a[0];
  return types::compare(a[0], a[1]) == 0 ? Value::make_null(a[0].type) : a[0];
}

// Postgres semantics: NULLs are skipped; NULL only when every argument is NULL.
template <bool kGreatest>
Value extreme_fn(const Value* a, size_t n, exec::EvalContext&, const void*) {
  const Value* best = &a[0];
  for (size_t i = 1; i < n; ++i) {
    if (a[i].null) continue;
    if (best->null) {
      best = &a[i];
      continue;
    }
    int c = types::compare(a[i], *best);
    if (kGreatest ? c > 0 : c < 0) best = &a[i];
  }
  return *best;
}

// All arguments from `first` on share their common type; nullopt when they have none.
std::optional<BoundScalar> bind_common(const CallSite& c, size_t first, size_t min_args,
                                       size_t max_args, ScalarFn fn) {
  if (c.size() < min_args || c.size() > max_args) return std::nullopt;
  auto t = common_type(c.args.subspan(first));
  if (!t) return std::nullopt;
  std::vector<DataType> at(c.size(), *t);
  for (size_t i = 0; i < first; ++i)
    at[i] = DataType::boolean();
  return make_bound(*t, std::move(at), fn, false);
}

std::optional<BoundScalar> lazy(std::optional<BoundScalar> b, Conditional kind) {
  if (b) b->conditional = kind;
  return b;
}

std::optional<BoundScalar> bind_coalesce(const CallSite& c) {
  return lazy(bind_common(c, 0, 1, SIZE_MAX, nullptr), Conditional::kCoalesce);
}
std::optional<BoundScalar> bind_ifnull(const CallSite& c) {
  return lazy(bind_common(c, 0, 2, 2, nullptr), Conditional::kCoalesce);
}
std::optional<BoundScalar> bind_nullif(const CallSite& c) {
  return bind_common(c, 0, 2, 2, nullif_fn);
}
std::optional<BoundScalar> bind_if(const CallSite& c) {
  if (c.size() != 3 || !is_bool(c.id(0))) return std::nullopt;
  return lazy(bind_common(c, 1, 3, 3, nullptr), Conditional::kIf);
}
template <bool kGreatest>
std::optional<BoundScalar> bind_extreme(const CallSite& c) {
  for (const DataType& t : c.args) {
    if (t.is_nested()) return std::nullopt;  // STRUCT, ARRAY and MAP have no order
  }
  return bind_common(c, 0, 1, SIZE_MAX, extreme_fn<kGreatest>);
}

const ScalarDef kDefs[] = {
    {"COALESCE", "(value, ...) of one common type", bind_coalesce},
    {"GREATEST", "(value, ...) of one common ordered type", bind_extreme<true>},
    {"IF", "(boolean, value, value)", bind_if},
    {"IFNULL", "(value, value) of one common type", bind_ifnull},
    {"LEAST", "(value, ...) of one common ordered type", bind_extreme<false>},
    {"NULLIF", "(value, value) of one common type", bind_nullif},
};

}  // namespace

std::span<const ScalarDef> conditional_functions() {
  return kDefs;
}

}  // namespace sluice::functions::detail
