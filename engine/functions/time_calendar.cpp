// DATE_TRUNC, TIMESTAMPADD, DATEADD/DATESUB, TIMEADD/TIMESUB and the EXTRACT fields
// (extract.hpp): calendar arithmetic in UTC.

#include "common/ascii.hpp"
#include "functions/extract.hpp"
#include "functions/registry_impl.hpp"
#include "functions/time_impl.hpp"

#include <fmt/format.h>

namespace sluice::functions {

namespace {

using timeutil::floor_div;
using timeutil::floor_mod;
using timeutil::kMsPerDay;

struct FieldName {
  std::string_view name;
  ExtractField field;
};
constexpr FieldName kFields[] = {
    {"YEAR", ExtractField::kYear},     {"QUARTER", ExtractField::kQuarter},
    {"MONTH", ExtractField::kMonth},   {"WEEK", ExtractField::kWeek},
    {"DAY", ExtractField::kDay},       {"DAYOFMONTH", ExtractField::kDay},
    {"DOW", ExtractField::kDow},       {"ISODOW", ExtractField::kDow},
    {"DOY", ExtractField::kDoy},       {"DAYOFYEAR", ExtractField::kDoy},
    {"HOUR", ExtractField::kHour},     {"MINUTE", ExtractField::kMinute},
    {"SECOND", ExtractField::kSecond}, {"MILLISECOND", ExtractField::kMillisecond},
    {"EPOCH", ExtractField::kEpoch},
};

}  // namespace

std::optional<ExtractField> parse_extract_field(std::string_view field) {
  for (const FieldName& f : kFields) {
    if (iequals(f.name, field)) return f.field;
  }
  return std::nullopt;
}

int64_t extract(ExtractField field, int64_t ms) {
  int64_t in_day = floor_mod(ms, kMsPerDay);
  switch (field) {
    case ExtractField::kHour:
      return in_day / 3600000;
    case ExtractField::kMinute:
      return in_day / 60000 % 60;
    case ExtractField::kSecond:
      return in_day / 1000 % 60;
    case ExtractField::kMillisecond:
      return in_day % 1000;
    case ExtractField::kEpoch:
      return floor_div(ms, 1000);
    default:
      break;
  }
  types::time::CivilTime c = types::time::to_civil(ms);
  switch (field) {
    case ExtractField::kYear:
      return c.year;
    case ExtractField::kQuarter:
      return (c.month - 1) / 3 + 1;
    case ExtractField::kMonth:
      return c.month;
    case ExtractField::kWeek:
      return timeutil::iso_week(c);
    case ExtractField::kDay:
      return c.day;
    case ExtractField::kDow:
      return c.day_of_week;
    case ExtractField::kDoy:
      return c.day_of_year;
    default:
      return 0;
  }
}

namespace detail {

namespace {

enum class Unit : uint8_t {
  kMillisecond,
  kSecond,
  kMinute,
  kHour,
  kDay,
  kWeek,
  kMonth,
  kQuarter,
  kYear
};

struct UnitName {
  std::string_view name;
  Unit unit;
  int64_t ms;  // length of fixed units; months for calendar units
};
constexpr UnitName kUnits[] = {
    {"MILLISECOND", Unit::kMillisecond, 1},
    {"SECOND", Unit::kSecond, 1000},
    {"MINUTE", Unit::kMinute, 60000},
    {"HOUR", Unit::kHour, 3600000},
    {"DAY", Unit::kDay, kMsPerDay},
    {"WEEK", Unit::kWeek, 7 * kMsPerDay},
    {"MONTH", Unit::kMonth, 1},
    {"QUARTER", Unit::kQuarter, 3},
    {"YEAR", Unit::kYear, 12},
};
constexpr std::string_view kUnitList =
    "millisecond, second, minute, hour, day, week, month, quarter, year";

// Unit by name, any case, singular or plural.
const UnitName* find_unit(std::string_view name) {
  if (name.size() > 1 && (name.back() == 's' || name.back() == 'S')) {
    if (const UnitName* u = find_unit(name.substr(0, name.size() - 1))) return u;
  }
  for (const UnitName& u : kUnits) {
    if (iequals(u.name, name)) return &u;
  }
  return nullptr;
}

std::string unknown_unit(std::string_view fn, std::string_view unit) {
  return fmt::format("{}: unknown unit '{}'; expected one of {}", fn, unit, kUnitList);
}

// The unit of argument 0: bound at bind time when constant, else looked up on the row.
const UnitName* unit_of(const Value* a, const void* state, exec::EvalContext& ctx,
                        std::string_view fn) {
  if (state != nullptr) return static_cast<const UnitName*>(state);
  const UnitName* u = find_unit(a[0].str());
  if (u == nullptr) ctx.fail(ErrorCode::kInvalidArgument, unknown_unit(fn, a[0].str()));
  return u;
}

Value out_of_range(exec::EvalContext& ctx, std::string_view fn) {
  ctx.fail(ErrorCode::kOverflow, fmt::format("{}: result is out of the TIMESTAMP range", fn));
  return Value::make_null(TypeId::kTimestamp);
}

bool truncate(const UnitName& u, int64_t ms, int64_t* out) {
  if (u.unit == Unit::kWeek) {  // ISO weeks start on Monday; 1970-01-01 was a Thursday
    int64_t day = floor_div(ms, kMsPerDay);
    return !__builtin_mul_overflow(day - floor_mod(day + 3, 7), kMsPerDay, out);
  }
  if (u.unit <= Unit::kDay) return !__builtin_sub_overflow(ms, floor_mod(ms, u.ms), out);
  types::time::CivilTime c = types::time::to_civil(ms);
  int month = u.unit == Unit::kYear      ? 1
              : u.unit == Unit::kQuarter ? (c.month - 1) / 3 * 3 + 1
                                         : c.month;
  *out = types::time::from_civil(c.year, month, 1, 0, 0, 0, 0);
  return *out <= ms;  // else the start of the period is before the TIMESTAMP range
}

Value date_trunc_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const UnitName* u = unit_of(a, state, ctx, "DATE_TRUNC");
  int64_t out = 0;
  if (u == nullptr) return Value::make_null(TypeId::kTimestamp);
  if (!truncate(*u, a[1].i, &out)) return out_of_range(ctx, "DATE_TRUNC");
  return Value::timestamp(out);
}

constexpr int64_t kMaxYear = 200000000;  // well inside the int64 millisecond range

bool add_months(int64_t ms, int64_t months, int64_t* out) {
  types::time::CivilTime c = types::time::to_civil(ms);
  int64_t total = 0;
  if (__builtin_add_overflow(c.year * 12 + (c.month - 1), months, &total)) return false;
  int64_t year = floor_div(total, 12);
  if (year > kMaxYear || year < -kMaxYear) return false;
  int month = static_cast<int>(floor_mod(total, 12)) + 1;
  int day = std::min(c.day, timeutil::days_in_month(year, month));
  *out = types::time::from_civil(year, month, day, c.hour, c.minute, c.second, c.millisecond);
  return true;
}

// `n` units after `ms`: calendar units keep the time of day and clamp the day to the end of the
// month (Jan 31 + 1 month = Feb 28/29). False on overflow.
bool add_units(const UnitName& u, int64_t n, int64_t ms, int64_t* out) {
  int64_t delta = 0;
  if (__builtin_mul_overflow(n, u.ms, &delta)) return false;
  if (u.unit >= Unit::kMonth) return add_months(ms, delta, out);
  return !__builtin_add_overflow(ms, delta, out);
}

Value timestampadd_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  const UnitName* u = unit_of(a, state, ctx, "TIMESTAMPADD");
  if (u == nullptr) return Value::make_null(TypeId::kTimestamp);
  int64_t out = 0;
  return add_units(*u, a[1].i, a[2].i, &out) ? Value::timestamp(out)
                                             : out_of_range(ctx, "TIMESTAMPADD");
}

// DATEADD / DATESUB (kSign -1): days and longer units only.
template <int kSign>
Value dateadd_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  std::string_view fn = kSign > 0 ? "DATEADD" : "DATESUB";
  const UnitName* u = unit_of(a, state, ctx, fn);
  if (u == nullptr) return Value::make_null(TypeId::kDate);
  if (u->unit < Unit::kDay) {
    ctx.fail(ErrorCode::kInvalidArgument, fmt::format("{}: a DATE moves by days or longer", fn));
    return Value::make_null(TypeId::kDate);
  }
  int64_t out = 0, n = 0;
  if (__builtin_mul_overflow(a[1].i, kSign, &n) || !add_units(*u, n, a[2].i * kMsPerDay, &out) ||
      !types::time::valid_date(floor_div(out, kMsPerDay))) {
    ctx.fail(ErrorCode::kOverflow, fmt::format("{}: result is out of the DATE range", fn));
    return Value::make_null(TypeId::kDate);
  }
  return Value::date(floor_div(out, kMsPerDay));
}

// TIMEADD / TIMESUB (kSign -1): hours and shorter units, wrapping around midnight.
template <int kSign>
Value timeadd_fn(const Value* a, size_t, exec::EvalContext& ctx, const void* state) {
  std::string_view fn = kSign > 0 ? "TIMEADD" : "TIMESUB";
  const UnitName* u = unit_of(a, state, ctx, fn);
  if (u == nullptr) return Value::make_null(TypeId::kTime);
  if (u->unit > Unit::kHour) {
    ctx.fail(ErrorCode::kInvalidArgument, fmt::format("{}: a TIME moves by hours or shorter", fn));
    return Value::make_null(TypeId::kTime);
  }
  // (n mod a day) first, so the product cannot overflow.
  int64_t delta = floor_mod(a[1].i, kMsPerDay) * u->ms % kMsPerDay * kSign;
  return Value::time(floor_mod(a[2].i + delta, kMsPerDay));
}

// Binds (unit, ...) with result `result`; a constant unit is resolved (and checked) here.
std::optional<BoundScalar> with_unit(const CallSite& c, std::optional<BoundScalar> b) {
  if (!b) return b;
  if (const Value* unit = c.constant(0)) {
    const UnitName* u = find_unit(unit->str());
    if (u == nullptr) throw Error(ErrorCode::kSqlType, unknown_unit(c.name, unit->str()));
    b->state = std::shared_ptr<const void>(u, [](const void*) {});  // static table entry
  }
  return b;
}

template <ScalarFn kFn, Param... kParams>
std::optional<BoundScalar> bind_unit_fn(const CallSite& c) {
  return with_unit(c, bind_simple<kFn, TypeId::kTimestamp, sizeof...(kParams), kParams...>(c));
}

// (unit, integer, DATE or TIME) -> the same type.
template <ScalarFn kFn, TypeId kType>
std::optional<BoundScalar> bind_shift(const CallSite& c) {
  if (c.size() != 3 || !is_text(c.id(0)) || !is_integer(c.id(1)) ||
      (c.id(2) != kType && !is_null_type(c.id(2))))
    return std::nullopt;
  DataType t{kType, 0, 0};
  return with_unit(c, make_bound(t, {DataType::string(), DataType::bigint(), t}, kFn));
}

const ScalarDef kDefs[] = {
    {"DATE_TRUNC", "(unit, timestamp)", bind_unit_fn<date_trunc_fn, Param::kText, Param::kTime>},
    {"TIMESTAMPADD", "(unit, integer, timestamp)",
     bind_unit_fn<timestampadd_fn, Param::kText, Param::kInt, Param::kTime>},
    {"DATEADD", "(unit, integer, date)", bind_shift<dateadd_fn<1>, TypeId::kDate>},
    {"DATESUB", "(unit, integer, date)", bind_shift<dateadd_fn<-1>, TypeId::kDate>},
    {"TIMEADD", "(unit, integer, time)", bind_shift<timeadd_fn<1>, TypeId::kTime>},
    {"TIMESUB", "(unit, integer, time)", bind_shift<timeadd_fn<-1>, TypeId::kTime>},
};

}  // namespace

std::span<const ScalarDef> calendar_functions() {
  return kDefs;
}

}  // namespace detail

}  // namespace sluice::functions
