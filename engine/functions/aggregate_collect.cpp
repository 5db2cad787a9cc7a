// COLLECT_LIST(x) and COLLECT_SET(x): the non-NULL values of a group as an ARRAY, in arrival
// order (COLLECT_SET without repeats). As in ksqlDB, a group keeps at most kMaxCollected values;
// later ones are left out of the array (the limit bounds a group's memory).

#include "functions/aggregate_impl.hpp"
#include "functions/collect.hpp"
#include "functions/registry_impl.hpp"
#include "types/nested.hpp"

#include <vector>

namespace sluice::functions::agg {

namespace {

template <bool kSet>
struct Collect {
  std::vector<Value> items;  // bytes in `bytes`
  std::unique_ptr<Arena> bytes;
  DistinctSet seen;  // COLLECT_SET only

  void update(const Value* v) {
    if (items.size() >= kMaxCollected) return;
    if constexpr (kSet) {
      if (!seen.insert(*v)) return;
    }
    Value kept = *v;
    if (kept.has_bytes()) {
      if (!bytes) bytes = std::make_unique<Arena>(4096);
      kept = kept.with_bytes(bytes->copy(kept.str()));
    }
    items.push_back(kept);
  }
  Value finalize(Arena& arena, exec::EvalContext& ctx) const {
    if (types::nested::layout_size(items) > types::nested::kMaxBytes) {
      ctx.fail(ErrorCode::kInvalidArgument,
               kSet ? "COLLECT_SET result over 16 MiB" : "COLLECT_LIST result over 16 MiB");
      return Value::make_null(TypeId::kArray);
    }
    return Value::nested(TypeId::kArray, types::nested::build(items, arena));
  }
  void save(exec::StateWriter& w) const {
    w.u32(static_cast<uint32_t>(items.size()));
    for (const Value& v : items)
      w.value(v);
  }
  void load(exec::StateReader& r) {
    uint32_t n = r.count(2);  // a value takes at least its tag and null flag
    if (n > kMaxCollected) r.fail(std::to_string(n) + " collected values");
    Arena scratch;
    for (uint32_t i = 0; i < n; ++i) {
      Value v = r.value(scratch);
      if (v.null) r.fail("a NULL collected value");
      size_t before = items.size();
      update(&v);
      if (items.size() == before) r.fail("a collected value twice");
    }
  }
};

}  // namespace

std::optional<BoundAggregate> bind_collect(DataType arg, bool distinct, bool set) {
  DataType t = detail::concrete(arg, DataType::string());
  DataType result = DataType::array(t);
  if (set || distinct) return make_aggregate<Collect<true>>(result, t);
  return make_aggregate<Collect<false>>(result, t);
}

}  // namespace sluice::functions::agg
