// Per-call frame math of OVER analytics: what enters and leaves each frame, and each call's result
// for the current row. O(1) amortised per call and row: nothing rescans a frame, except the
// DOUBLE sums, which are recomputed once per frame turnover (O(1) amortised) to bound drift.

#include "exec/analytic_impl.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <algorithm>

namespace sluice::exec::analytic {
namespace {

using types::TypeId;

bool is_additive(AnalyticKind k) {
  return k == AnalyticKind::kCount || k == AnalyticKind::kSum || k == AnalyticKind::kAvg;
}

// The call's frame holds rows that later leave it.
bool slides(const AnalyticCall& c) {
  return !c.unbounded && c.input >= 0 && is_additive(c.kind);
}

Value null_of(const AnalyticCall& c) {
  return Value::make_null(c.result.id);
}

Value overflow(EvalContext& ctx, const char* fn, const char* type, TypeId result) {
  ctx.fail(ErrorCode::kOverflow, std::string(fn) + ": result overflows " + type);
  return Value::make_null(result);
}

}  // namespace

void FrameMath::add(const AnalyticCall& c, CallState& s, const Value& v) const {
  ++s.count;
  if (c.kind == AnalyticKind::kCount) return;
  switch (v.type) {
    case TypeId::kDecimal:
      s.decimal_sum.add(v.dec);
      break;
    case TypeId::kDouble:
      s.double_sum.add(v.d);
      break;
    default:
      s.int_sum += v.i;
  }
}

void FrameMath::remove(const AnalyticCall& c, CallState& s, const Value& v) const {
  --s.count;
  if (c.kind == AnalyticKind::kCount) return;
  switch (v.type) {
    case TypeId::kDecimal:
      s.decimal_sum.sub(v.dec);
      break;
    case TypeId::kDouble:
      s.double_sum.sub(v.d);
      break;
    default:
      s.int_sum -= v.i;
  }
}

void FrameMath::retire(Partition& p, int64_t seq) const {
  for (size_t i = 0; i < spec_.calls.size(); ++i) {
    const AnalyticCall& c = spec_.calls[i];
    if (!slides(c) || seq <= c.preceding) continue;
    Value leaving = p.rings[c.input].at(seq - c.preceding - 1);
    if (!leaving.null) remove(c, p.calls[i], leaving);
  }
}

Value FrameMath::sum_result(const AnalyticCall& c, const CallState& s, EvalContext& ctx) const {
  if (s.count == 0) return null_of(c);
  switch (c.result.id) {
    case TypeId::kDecimal: {
      int128 sum = 0;
      if (!s.decimal_sum.get(&sum) || !types::decimal::fits(sum, types::kMaxDecimalPrecision)) {
        return overflow(ctx, "SUM", "DECIMAL(38)", TypeId::kDecimal);
      }
      return Value::decimal(sum, c.result.scale);
    }
    case TypeId::kDouble:
      return Value::float64(s.double_sum.value());
    default: {
      if (s.int_sum > INT64_MAX || s.int_sum < INT64_MIN) {
        return overflow(ctx, "SUM", c.result.id == TypeId::kBigInt ? "BIGINT" : "INTERVAL",
                        c.result.id);
      }
      Value out = Value::bigint(static_cast<int64_t>(s.int_sum));
      out.type = c.result.id;
      return out;
    }
  }
}

Value FrameMath::avg_result(const AnalyticCall& c, const CallState& s, EvalContext& ctx) const {
  if (s.count == 0) return null_of(c);
  auto n = static_cast<double>(s.count);
  switch (spec_.inputs[c.input]->type().id) {
    case TypeId::kDecimal: {
      int128 sum = 0, out = 0;
      uint8_t in_scale = spec_.inputs[c.input]->type().scale;
      if (!s.decimal_sum.get(&sum) ||
          !types::decimal::div(sum, in_scale, s.count, 0, c.result.scale, &out) ||
          !types::decimal::fits(out, types::kMaxDecimalPrecision)) {
        return overflow(ctx, "AVG", "DECIMAL(38)", TypeId::kDecimal);
      }
      return Value::decimal(out, c.result.scale);
    }
    case TypeId::kDouble:
      return Value::float64(s.double_sum.value() / n);
    default:
      return Value::float64(static_cast<double>(s.int_sum) / n);
  }
}

Value FrameMath::aggregate(const AnalyticCall& c, CallState& s, int64_t seq, const Partition& p,
                           const Value& arg, EvalContext& ctx) const {
  if (c.input < 0) return Value::bigint((c.unbounded ? seq : std::min(seq, c.preceding)) + 1);
  if (!arg.null) add(c, s, arg);
  bool turned_over = (seq + 1) % (c.preceding + 1) == 0 || s.double_sum.needs_recompute();
  bool is_double = spec_.inputs[c.input]->type().id == TypeId::kDouble;
  if (!c.unbounded && turned_over && c.kind != AnalyticKind::kCount && is_double) {
    // Recompute the DOUBLE sum from the frame: drift cannot outlive one turnover, and a sum that
    // overflowed recovers once the large values have left. A frame not yet full starts at row 0.
    s.double_sum.reset();
    for (int64_t q = std::max<int64_t>(0, seq - c.preceding); q <= seq; ++q) {
      Value v = p.rings[c.input].at(q);
      if (!v.null) s.double_sum.add(v.d);
    }
  }
  switch (c.kind) {
    case AnalyticKind::kCount:
      return Value::bigint(s.count);
    case AnalyticKind::kSum:
      return sum_result(c, s, ctx);
    default:
      return avg_result(c, s, ctx);
  }
}

Value FrameMath::extreme(const AnalyticCall& c, CallState& s, int64_t seq, const ValueRing& ring,
                         const Value& arg) const {
  bool is_max = c.kind == AnalyticKind::kMax;
  // True when `a` beats `b` or ties with it.
  auto at_least = [is_max](const Value& a, const Value& b) {
    int cmp = types::compare(a, b);
    return is_max ? cmp >= 0 : cmp <= 0;
  };
  if (c.unbounded) {
    if (!arg.null && (!s.held.has() || !at_least(s.held.get(), arg))) s.held.take(arg);
    return s.held.has() ? s.held.get() : null_of(c);
  }
  SeqDeque& dq = s.extremes;
  while (!dq.empty() && dq.front() < seq - c.preceding)
    dq.pop_front();
  if (!arg.null) {
    while (!dq.empty() && at_least(arg, ring.at(dq.back())))
      dq.pop_back();
    dq.push_back(seq);
  }
  return dq.empty() ? null_of(c) : ring.at(dq.front());
}

void FrameMath::advance(Partition& p, int64_t seq, const Value* args, const Value* fallbacks,
                        Value* results, EvalContext& ctx) const {
  for (size_t i = 0; i < spec_.calls.size(); ++i) {
    const AnalyticCall& c = spec_.calls[i];
    CallState& s = p.calls[i];
    const Value& arg = c.input >= 0 ? args[c.input] : fallbacks[i];  // unused when input < 0
    auto fallback = [&] { return c.fallback ? fallbacks[i] : null_of(c); };
    switch (c.kind) {
      case AnalyticKind::kRowNumber:
        results[i] = Value::bigint(seq + 1);
        break;
      case AnalyticKind::kRank:
        results[i] = Value::bigint(p.rank);
        break;
      case AnalyticKind::kDenseRank:
        results[i] = Value::bigint(p.dense_rank);
        break;
      case AnalyticKind::kLastValue:
        results[i] = arg;
        break;
      case AnalyticKind::kLag:
        results[i] = seq >= c.offset ? p.rings[c.input].at(seq - c.offset) : fallback();
        break;
      case AnalyticKind::kLead:
        results[i] = c.offset == 0 ? arg : fallback();
        break;
      case AnalyticKind::kFirstValue:
        if (c.unbounded) {
          if (seq == 0) s.held.take(arg);
          results[i] = s.held.get();
        } else {
          results[i] = p.rings[c.input].at(std::max<int64_t>(0, seq - c.preceding));
        }
        break;
      case AnalyticKind::kMin:
      case AnalyticKind::kMax:
        results[i] = extreme(c, s, seq, p.rings[c.input], arg);
        break;
      default:
        results[i] = aggregate(c, s, seq, p, arg, ctx);
    }
  }
}

}  // namespace sluice::exec::analytic
