#pragma once
// Private to engine/functions: COLLECT_LIST and COLLECT_SET (aggregate_collect.cpp).

#include "functions/aggregate.hpp"

#include <cstddef>
#include <optional>

namespace sluice::functions::agg {

// The most values one group's COLLECT_LIST / COLLECT_SET keeps (ksqlDB's default limit).
inline constexpr size_t kMaxCollected = 1000;

// COLLECT_LIST(x) (or COLLECT_SET(x) when `set`, or COLLECT_LIST(DISTINCT x)): ARRAY<type of x>.
std::optional<BoundAggregate> bind_collect(DataType arg, bool distinct, bool set);

}  // namespace sluice::functions::agg
