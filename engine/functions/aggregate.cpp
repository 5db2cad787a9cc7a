// Aggregate registry: binds a name and argument type to a state type from aggregate_impl.hpp.

#include "functions/aggregate_impl.hpp"
#include "functions/collect.hpp"
#include "functions/registry_impl.hpp"
#include "types/decimal.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::functions {

namespace agg {

bool DistinctSet::insert(const Value& v) {
  if (!v.has_bytes() || v.s.size == 0) return seen_.insert(v).second;
  if (seen_.contains(v)) return false;
  if (!strings_) strings_ = std::make_unique<Arena>(4096);
  seen_.insert(v.with_bytes(strings_->copy(v.str())));  // the set must own what it keeps
  return true;
}

void DistinctSet::save(exec::StateWriter& w) const {
  w.u32(static_cast<uint32_t>(seen_.size()));
  for (const Value& v : seen_)
    w.value(v);
}

void DistinctSet::load(exec::StateReader& r) {
  uint32_t n = r.count(2);  // a value takes at least its tag and null flag
  Arena scratch;
  for (uint32_t i = 0; i < n; ++i) {
    if (!insert(r.value(scratch))) r.fail("a DISTINCT value twice");
  }
}

template <TypeId kType>
Value SumInt<kType>::finalize(Arena&, exec::EvalContext& ctx) const {
  if (!has) return Value::make_null(kType);
  if (sum > INT64_MAX || sum < INT64_MIN) {
    ctx.fail(ErrorCode::kOverflow, fmt::format("SUM: result overflows {}",
                                               kType == TypeId::kBigInt ? "BIGINT" : "INTERVAL"));
    return Value::make_null(kType);
  }
  Value out = Value::bigint(static_cast<int64_t>(sum));
  out.type = kType;
  return out;
}

namespace {

Value decimal_overflow(exec::EvalContext& ctx, std::string_view fn) {
  ctx.fail(ErrorCode::kOverflow, fmt::format("{}: result overflows DECIMAL(38)", fn));
  return Value::make_null(TypeId::kDecimal);
}

uint8_t avg_scale(uint8_t scale) {
  return std::max<uint8_t>(scale, 6);
}

// |v| * 10^e into *out when that fits 64 bits (0 <= e <= 19).
bool small_scaled(int128 v, int e, uint64_t* out) {
  if (e < 0 || e > 19) return false;
  int128 mag = v < 0 ? -v : v;
  if (mag > static_cast<int128>(UINT64_MAX)) return false;
  return !__builtin_mul_overflow(static_cast<uint64_t>(mag), types::decimal::kPow10U64[e], out);
}

}  // namespace

Value SumDecimal::finalize(Arena&, exec::EvalContext& ctx) const {
  if (!has) return Value::make_null(TypeId::kDecimal);
  if (overflow || !types::decimal::fits(sum, types::kMaxDecimalPrecision)) {
    return decimal_overflow(ctx, "SUM");
  }
  return Value::decimal(sum, scale);
}

Value AvgDecimal::finalize(Arena&, exec::EvalContext& ctx) const {
  if (n == 0) return Value::make_null(TypeId::kDecimal);
  uint8_t out_scale = avg_scale(sum.scale);
  int128 out = 0;
  // EMIT CHANGES finalizes per row: when sum * 10^(out_scale - scale) fits 64 bits, divide in 64
  // bits (128-bit division is a slow library call), rounding half away from zero as decimal::div.
  uint64_t scaled = 0;
  if (!sum.overflow && small_scaled(sum.sum, out_scale - sum.scale, &scaled)) {
    auto d = static_cast<uint64_t>(n);
    uint64_t q = scaled / d, r = scaled % d;
    q += r >= d - r ? 1 : 0;
    out = sum.sum < 0 ? -static_cast<int128>(q) : static_cast<int128>(q);
    return Value::decimal(out, out_scale);
  }
  if (sum.overflow || !types::decimal::div(sum.sum, sum.scale, n, 0, out_scale, &out) ||
      !types::decimal::fits(out, types::kMaxDecimalPrecision)) {
    return decimal_overflow(ctx, "AVG");
  }
  return Value::decimal(out, out_scale);
}

}  // namespace agg

namespace {

using types::TypeId;

template <class S>
BoundAggregate make(DataType result, DataType arg, bool distinct) {
  return distinct ? agg::make_aggregate<agg::Distinct<S>>(result, arg)
                  : agg::make_aggregate<S>(result, arg);
}

// Instantiates S<type> for the argument's type; the result has the argument's type.
template <template <TypeId> class S>
BoundAggregate by_type(DataType arg, bool distinct) {
  DataType t = detail::concrete(arg, DataType::bigint());
  switch (t.id) {
    case TypeId::kBoolean:
      return make<S<TypeId::kBoolean>>(t, t, distinct);
    case TypeId::kBigInt:
      return make<S<TypeId::kBigInt>>(t, t, distinct);
    case TypeId::kDouble:
      return make<S<TypeId::kDouble>>(t, t, distinct);
    case TypeId::kDecimal:
      return make<S<TypeId::kDecimal>>(t, t, distinct);
    case TypeId::kString:
      return make<S<TypeId::kString>>(t, t, distinct);
    case TypeId::kTimestamp:
      return make<S<TypeId::kTimestamp>>(t, t, distinct);
    case TypeId::kInterval:
      return make<S<TypeId::kInterval>>(t, t, distinct);
    case TypeId::kDate:
      return make<S<TypeId::kDate>>(t, t, distinct);
    case TypeId::kTime:
      return make<S<TypeId::kTime>>(t, t, distinct);
    case TypeId::kBytes:
      return make<S<TypeId::kBytes>>(t, t, distinct);
    case TypeId::kStruct:
      return make<S<TypeId::kStruct>>(t, t, distinct);
    case TypeId::kArray:
      return make<S<TypeId::kArray>>(t, t, distinct);
    case TypeId::kMap:
      return make<S<TypeId::kMap>>(t, t, distinct);
    case TypeId::kNull:
      break;
  }
  return make<S<TypeId::kBigInt>>(t, t, distinct);
}

using AggBinder = std::optional<BoundAggregate> (*)(DataType arg, bool distinct);

std::optional<BoundAggregate> bind_count(DataType arg, bool distinct) {
  return make<agg::Count>(DataType::bigint(), detail::concrete(arg, DataType::bigint()), distinct);
}

std::optional<BoundAggregate> bind_sum(DataType arg, bool distinct) {
  DataType t = detail::concrete(arg, DataType::bigint());
  switch (t.id) {
    case TypeId::kBigInt:
      return make<agg::SumInt<TypeId::kBigInt>>(t, t, distinct);
    case TypeId::kInterval:
      return make<agg::SumInt<TypeId::kInterval>>(t, t, distinct);
    case TypeId::kDouble:
      return make<agg::SumDouble>(t, t, distinct);
    case TypeId::kDecimal:
      return make<agg::SumDecimal>(DataType::decimal(types::kMaxDecimalPrecision, t.scale), t,
                                   distinct);
    default:
      return std::nullopt;
  }
}

std::optional<BoundAggregate> bind_avg(DataType arg, bool distinct) {
  DataType t = detail::concrete(arg, DataType::bigint());
  switch (t.id) {
    case TypeId::kBigInt:
      return make<agg::AvgInt>(DataType::float64(), t, distinct);
    case TypeId::kDouble:
      return make<agg::AvgDouble>(t, t, distinct);
    case TypeId::kDecimal:
      return make<agg::AvgDecimal>(
          DataType::decimal(types::kMaxDecimalPrecision, agg::avg_scale(t.scale)), t, distinct);
    default:
      return std::nullopt;
  }
}

// MIN/MAX of a set equal those of the bag, so DISTINCT is ignored.
template <template <TypeId> class S>
std::optional<BoundAggregate> bind_any_type(DataType arg, bool distinct) {
  return by_type<S>(arg, distinct);
}
template <template <TypeId> class S>
std::optional<BoundAggregate> bind_extreme(DataType arg, bool) {
  if (arg.is_nested()) return std::nullopt;  // STRUCT, ARRAY and MAP have no order
  return by_type<S>(arg, false);
}

template <agg::Spread kKind>
std::optional<BoundAggregate> bind_spread(DataType arg, bool distinct) {
  if (!detail::is_number(arg.id)) return std::nullopt;
  return make<agg::Variance<kKind>>(DataType::float64(), DataType::float64(), distinct);
}

std::optional<BoundAggregate> bind_collect_list(DataType arg, bool distinct) {
  return agg::bind_collect(arg, distinct, false);
}
std::optional<BoundAggregate> bind_collect_set(DataType arg, bool distinct) {
  return agg::bind_collect(arg, distinct, true);
}

struct AggregateDef {
  std::string_view name;
  std::string_view signature;
  AggBinder bind;
};

constexpr std::string_view kNumber = "(number)";
constexpr std::string_view kValue = "(value)";
using agg::Spread;

const AggregateDef kAggregates[] = {
    {"AVG", kNumber, bind_avg},
    {"COLLECT_LIST", kValue, bind_collect_list},
    {"COLLECT_SET", kValue, bind_collect_set},
    {"COUNT", "(*) or (value)", bind_count},
    {"FIRST_VALUE", kValue, bind_any_type<agg::FirstValue>},
    {"LAST_VALUE", kValue, bind_any_type<agg::LastValue>},
    {"MAX", kValue, bind_extreme<agg::Max>},
    {"MIN", kValue, bind_extreme<agg::Min>},
    {"STDDEV", kNumber, bind_spread<Spread::kStddevSamp>},
    {"STDDEV_POP", kNumber, bind_spread<Spread::kStddevPop>},
    {"STDDEV_SAMP", kNumber, bind_spread<Spread::kStddevSamp>},
    {"SUM", kNumber, bind_sum},
    {"VARIANCE", kNumber, bind_spread<Spread::kVarSamp>},
    {"VAR_POP", kNumber, bind_spread<Spread::kVarPop>},
    {"VAR_SAMP", kNumber, bind_spread<Spread::kVarSamp>},
};

const AggregateDef* find_aggregate(std::string_view upper) {
  for (const AggregateDef& d : kAggregates) {
    if (d.name == upper) return &d;
  }
  return nullptr;
}

[[noreturn]] void type_error(const AggregateDef& def, std::string got) {
  throw Error(ErrorCode::kSqlType,
              fmt::format("{} takes {}, got {}", def.name, def.signature, got));
}

}  // namespace

BoundAggregate bind_aggregate(std::string_view name, std::span<const DataType> args, bool distinct,
                              bool star) {
  const AggregateDef* def = find_aggregate(detail::to_upper_ascii(name));
  if (def == nullptr) detail::throw_unknown_function(name);
  if (star) {
    if (def->name != "COUNT" || !args.empty()) type_error(*def, "(*)");
    if (distinct) throw Error(ErrorCode::kSqlType, "COUNT(DISTINCT *) is not valid");
    return make<agg::Count>(DataType::bigint(), DataType::null(), false);
  }
  if (args.size() != 1) type_error(*def, detail::type_list(args));
  std::optional<BoundAggregate> b = def->bind(args[0], distinct);
  if (!b) type_error(*def, detail::type_list(args));
  return std::move(*b);
}

bool is_aggregate_function(std::string_view name) {
  return find_aggregate(detail::to_upper_ascii(name)) != nullptr;
}

std::vector<std::string> aggregate_function_names() {
  std::vector<std::string> out;
  for (const AggregateDef& d : kAggregates)
    out.emplace_back(d.name);
  return out;
}

}  // namespace sluice::functions
