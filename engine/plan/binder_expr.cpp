// Expression binding: names, literals, operators and casts.

#include "common/ascii.hpp"
#include "functions/aggregate.hpp"
#include "plan/binder_impl.hpp"
#include "types/decimal.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::DataType;
using types::TypeId;
using types::Value;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_temporal(TypeId t) {
  return t == TypeId::kTimestamp || t == TypeId::kInterval;
}

}  // namespace

std::string_view Binder::text(const sql::Span& span) const {
  if (span.end <= span.begin || span.end > sql_.size()) return {};
  return sql_.substr(span.begin, span.end - span.begin);
}

std::string Binder::quote(const Expr& e) const {
  std::string t;
  bool space = false;
  for (char c : text(e.span)) {
    bool ws = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (ws) {
      space = !t.empty();
      continue;
    }
    if (space) t += ' ';
    space = false;
    t += c;
  }
  return "'" + t + "'";
}

void Binder::fail(ErrorCode code, const std::string& message, Location loc) const {
  throw Error(code, message, loc);
}

ExpressionPtr fold_constant(ExpressionPtr e, const std::vector<ExpressionPtr>& inputs) {
  for (const auto& in : inputs) {
    if (in->constant_value() == nullptr) return e;
  }
  Arena arena(256);
  exec::EvalContext ctx;
  ctx.arena = &arena;
  Value v = e->eval(nullptr, ctx);
  // A constant that fails (1/0) stays an expression: the error belongs to each record, as for
  // any other expression, rather than failing a job whose rows might never reach it.
  if (ctx.failed) return e;
  return exec::make_constant(v, e->type());
}

ExpressionPtr Binder::coerce(const Expr& at, ExpressionPtr e, DataType target) {
  if (e->type() == target) return e;
  const Value* c = e->constant_value();
  if (c != nullptr && e->type().is_nested()) {  // to STRING: JSON text, which cast() cannot write
    return fold_constant(exec::make_cast(e, target), {e});
  }
  if (c != nullptr) {
    Arena arena(256);
    Value out;
    RecordError err;
    if (!types::cast(*c, target, arena, &out, &err)) {
      fail(ErrorCode::kSqlType, fmt::format("{} in {}", err.message, quote(at)), at.loc);
    }
    return exec::make_constant(out, target);
  }
  return exec::make_cast(std::move(e), target);
}

DataType Binder::common_type(const Expr& at, const std::vector<ExpressionPtr>& items,
                             const char* what) {
  // String constants meet a TIMESTAMP, DATE or TIME by being parsed as one:
  // `trade_time > '2024-01-15'`.
  bool has_timestamp = std::any_of(items.begin(), items.end(), [](const ExpressionPtr& i) {
    TypeId t = i->type().id;
    return t == TypeId::kTimestamp || t == TypeId::kDate || t == TypeId::kTime;
  });
  DataType t = DataType::null();
  for (const auto& item : items) {
    DataType it = item->type();
    if (has_timestamp && it.id == TypeId::kString && item->constant_value() != nullptr) continue;
    auto st = types::common_super_type(t, it);
    if (!st) {
      fail(ErrorCode::kSqlType,
           fmt::format("{} {} and {} in {}", what, t.to_string(), it.to_string(), quote(at)),
           at.loc);
    }
    t = *st;
  }
  if (t.id == TypeId::kNull) t = DataType::boolean();  // only NULL literals: any type will do
  return t;
}

std::pair<ExpressionPtr, ExpressionPtr> Binder::unify(const Expr& at, ExpressionPtr l,
                                                      ExpressionPtr r) {
  DataType t = common_type(at, {l, r}, "cannot compare");
  return {coerce(at, std::move(l), t), coerce(at, std::move(r), t)};
}

ExpressionPtr Binder::bind_boolean(const Expr& e, const Scope& scope) {
  ExpressionPtr b = bind_expr(e, scope);
  if (b->type().id == TypeId::kNull) return coerce(e, b, DataType::boolean());
  if (b->type().id != TypeId::kBoolean) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} must be BOOLEAN, found {} in {}", scope.clause, b->type().to_string(),
                     quote(e)),
         e.loc);
  }
  return b;
}

ExpressionPtr Binder::bind_expr(const Expr& e, const Scope& scope) {
  if (ExpressionPtr w = bind_window_ref(e, scope)) return w;
  if (scope.kind == Scope::Kind::kGrouped) {
    if (ExpressionPtr g = bind_grouped_ref(e, scope)) return g;
  }
  switch (e.kind) {
    case ExprKind::kLiteral:
      return bind_literal(e);
    case ExprKind::kColumnRef:
      return bind_column(e);
    case ExprKind::kInterval:
      return bind_interval(e);
    case ExprKind::kUnary:
      return bind_unary(e, scope);
    case ExprKind::kBinary:
      return bind_binary(e, scope);
    case ExprKind::kFunction:
      return bind_function(e, scope);
    case ExprKind::kCase:
      return bind_case(e, scope);
    case ExprKind::kCast:
      return bind_cast(e, scope);
    case ExprKind::kBetween:
      return bind_between(e, scope);
    case ExprKind::kInList:
      return bind_in(e, scope);
    case ExprKind::kLike:
      return bind_like(e, scope);
    case ExprKind::kIsNull: {
      ExpressionPtr in = bind_expr(*e.args.at(0), scope);
      return fold_constant(exec::make_is_null(in, e.negated), {in});
    }
    case ExprKind::kExtract:
      return bind_extract(e, scope);
    case ExprKind::kField:
      return bind_field(e, scope);
    case ExprKind::kSubscript:
      return bind_subscript(e, scope);
  }
  fail(ErrorCode::kInternal, "unknown expression kind", e.loc);
}

size_t Binder::check_qualifier(const std::string& qualifier, Location loc,
                               std::string_view what) const {
  if (qualifier.empty()) return inputs_.size();
  // With an alias, only the alias names the source (as in standard SQL).
  std::string names;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (iequals(qualifier, inputs_[i].name)) return i;
    names += fmt::format("{}'{}'", names.empty() ? "" : ", ", inputs_[i].name);
  }
  fail(ErrorCode::kSqlUnknownColumn,
       fmt::format("unknown source '{}' in '{}' (the query reads {})", qualifier, what, names),
       loc);
}

bool Binder::has_column(const std::string& name) const {
  for (const BoundInput& in : inputs_) {
    for (const auto& c : in.schema->columns) {
      if (iequals(c.name, name)) return true;
    }
  }
  for (const auto& c : kSystemColumns) {
    if (iequals(c.name, name)) return true;
  }
  return iequals(kHeadersColumn, name);
}

ResolvedColumn Binder::resolve_column(const Expr& e) const {
  size_t only = check_qualifier(e.qualifier, e.loc, text(e.span));
  size_t first = only == inputs_.size() ? 0 : only;
  size_t last = only == inputs_.size() ? inputs_.size() : only + 1;
  // A schema column matched exactly, then ignoring case, then a system column; a name more than
  // one input has at the first of those levels is ambiguous.
  std::vector<ResolvedColumn> found;
  for (int level = 0; level < 3 && found.empty(); ++level) {
    for (size_t i = first; i < last; ++i) {
      const SourceSchema& s = *inputs_[i].schema;
      if (level < 2) {
        for (size_t c = 0; c < s.columns.size(); ++c) {
          bool same = level == 0 ? s.columns[c].name == e.name : iequals(s.columns[c].name, e.name);
          if (same) {
            found.push_back({i, c, s.columns[c].type});
            break;
          }
        }
        continue;
      }
      for (size_t c = 0; c < kSystemColumns.size(); ++c) {
        if (iequals(kSystemColumns[c].name, e.name))
          found.push_back({i, system_column_index(s, c), system_column_type(s, c)});
      }
      if (headers_ && iequals(kHeadersColumn, e.name))
        found.push_back({i, system_column_index(s, kSystemColumns.size()), headers_type()});
    }
  }
  if (found.size() == 1) return found.front();
  if (found.size() > 1) {
    fail(ErrorCode::kSqlAmbiguousColumn,
         fmt::format("column '{}' is ambiguous: both '{}' and '{}' have it; write {}.{} or {}.{}",
                     e.name, inputs_[found[0].input].name, inputs_[found[1].input].name,
                     inputs_[found[0].input].name, e.name, inputs_[found[1].input].name, e.name),
         e.loc);
  }
  std::string known;
  for (size_t i = first; i < last; ++i) {
    for (const auto& c : inputs_[i].schema->columns)
      known += (known.empty() ? "" : ", ") + c.name;
  }
  std::string where = last - first == 1 ? fmt::format("source '{}'", inputs_[first].schema->name)
                                        : std::string("the joined sources");
  fail(ErrorCode::kSqlUnknownColumn,
       fmt::format("unknown column '{}' in {} (columns: {})", e.name, where, known), e.loc);
}

ExpressionPtr Binder::bind_column(const Expr& e) {
  ResolvedColumn c = resolve_column(e);
  return exec::make_column(inputs_[c.input].offset + c.index, c.type);
}

ExpressionPtr Binder::bind_literal(const Expr& e) {
  switch (e.literal_kind) {
    case sql::LiteralKind::kNull:
      return exec::make_constant(Value::make_null(), DataType::null());
    case sql::LiteralKind::kBoolean:
      return exec::make_constant(Value::boolean(upper(e.text) == "TRUE"), DataType::boolean());
    case sql::LiteralKind::kString:
      return exec::make_constant(Value::string(e.text), DataType::string());
    case sql::LiteralKind::kInteger: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
      if (ec == std::errc() && p == e.text.data() + e.text.size()) {
        return exec::make_constant(Value::bigint(v), DataType::bigint());
      }
      [[fallthrough]];  // too large for BIGINT: an exact DECIMAL
    }
    case sql::LiteralKind::kDecimal: {
      size_t point = e.text.find('.');
      size_t digits = 0;
      for (char c : e.text)
        digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
      auto scale = static_cast<uint8_t>(point == std::string::npos ? 0 : e.text.size() - point - 1);
      auto precision = static_cast<uint8_t>(std::max<size_t>({digits, scale, 1}));
      types::int128 v = 0;
      if (precision > types::kMaxDecimalPrecision ||
          !types::decimal::parse(e.text, precision, scale, &v)) {
        fail(ErrorCode::kSqlType, fmt::format("number {} does not fit DECIMAL(38)", quote(e)),
             e.loc);
      }
      return exec::make_constant(Value::decimal(v, scale), DataType::decimal(precision, scale));
    }
    case sql::LiteralKind::kDouble:
      return exec::make_constant(Value::float64(std::strtod(e.text.c_str(), nullptr)),
                                 DataType::float64());
  }
  fail(ErrorCode::kInternal, "unknown literal", e.loc);
}

ExpressionPtr Binder::bind_interval(const Expr& e) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"MILLISECOND", 1},  {"SECOND", 1000},    {"MINUTE", 60'000},
      {"HOUR", 3'600'000}, {"DAY", 86'400'000}, {"WEEK", 7 * 86'400'000LL}};
  int64_t qty = 0;
  const char* b = e.text.data();
  if (!e.text.empty() && e.text[0] == '+') ++b;
  auto [p, ec] = std::from_chars(b, e.text.data() + e.text.size(), qty);
  if (ec != std::errc() || p != e.text.data() + e.text.size()) {
    fail(ErrorCode::kSqlType, fmt::format("interval quantity '{}' is not a whole number", e.text),
         e.loc);
  }
  for (const auto& [unit, ms] : kUnits) {
    if (e.name == unit) {
      int64_t total = 0;
      if (__builtin_mul_overflow(qty, ms, &total)) {
        fail(ErrorCode::kSqlType, fmt::format("interval {} is too large", quote(e)), e.loc);
      }
      return exec::make_constant(Value::interval(total), DataType::interval());
    }
  }
  fail(ErrorCode::kSqlUnsupported,
       fmt::format("interval unit {} is not supported: use MILLISECOND, SECOND, MINUTE, HOUR, DAY "
                   "or WEEK (months and years have no fixed length)",
                   e.name),
       e.loc);
}

ExpressionPtr Binder::bind_unary(const Expr& e, const Scope& scope) {
  if (e.op == "NOT") {
    Scope s = scope;
    s.clause = "NOT operand";
    ExpressionPtr in = bind_boolean(*e.args.at(0), s);
    return fold_constant(exec::make_not(in), {in});
  }
  ExpressionPtr in = bind_expr(*e.args.at(0), scope);
  TypeId t = in->type().id;
  if (!in->type().is_numeric() && t != TypeId::kInterval && t != TypeId::kNull) {
    fail(ErrorCode::kSqlType,
         fmt::format("cannot apply unary '{}' to {} in {}", e.op, in->type().to_string(), quote(e)),
         e.loc);
  }
  if (e.op == "+") return in;
  if (t == TypeId::kNull) in = coerce(e, in, DataType::bigint());
  return fold_constant(exec::make_negate(in), {in});
}

ExpressionPtr Binder::bind_binary(const Expr& e, const Scope& scope) {
  if (e.op == "AND" || e.op == "OR") {
    Scope s = scope;
    s.clause = e.op == "AND" ? "AND operand" : "OR operand";
    ExpressionPtr l = bind_boolean(*e.args.at(0), s);
    ExpressionPtr r = bind_boolean(*e.args.at(1), s);
    auto node = e.op == "AND" ? exec::make_and(l, r) : exec::make_or(l, r);
    return fold_constant(node, {l, r});
  }
  ExpressionPtr l = bind_expr(*e.args.at(0), scope);
  ExpressionPtr r = bind_expr(*e.args.at(1), scope);
  static constexpr std::pair<std::string_view, exec::CompareOp> kCompare[] = {
      {"=", exec::CompareOp::kEq},  {"<>", exec::CompareOp::kNe}, {"<", exec::CompareOp::kLt},
      {"<=", exec::CompareOp::kLe}, {">", exec::CompareOp::kGt},  {">=", exec::CompareOp::kGe}};
  for (const auto& [sym, op] : kCompare) {
    if (e.op == sym) return bind_comparison(e, op, l, r);
  }
  if (e.op == "||") {
    l = coerce(e, l, DataType::string());
    r = coerce(e, r, DataType::string());
    return fold_constant(exec::make_concat(l, r), {l, r});
  }
  return bind_arithmetic(e, l, r);
}

ExpressionPtr Binder::bind_comparison(const Expr& e, exec::CompareOp op, ExpressionPtr l,
                                      ExpressionPtr r) {
  auto [a, b] = unify(e, l, r);
  if (a->type().is_nested() && op != exec::CompareOp::kEq && op != exec::CompareOp::kNe) {
    fail(ErrorCode::kSqlType,
         fmt::format("{} values have no order: only = and <> compare them, in {}",
                     a->type().to_string(), quote(e)),
         e.loc);
  }
  return fold_constant(exec::make_compare(op, a, b), {a, b});
}

ExpressionPtr Binder::bind_arithmetic(const Expr& e, ExpressionPtr l, ExpressionPtr r) {
  static constexpr std::pair<std::string_view, exec::ArithOp> kOps[] = {{"+", exec::ArithOp::kAdd},
                                                                        {"-", exec::ArithOp::kSub},
                                                                        {"*", exec::ArithOp::kMul},
                                                                        {"/", exec::ArithOp::kDiv},
                                                                        {"%", exec::ArithOp::kMod}};
  exec::ArithOp op = exec::ArithOp::kAdd;
  bool found = false;
  for (const auto& [sym, o] : kOps) {
    if (e.op == sym) op = o, found = true;
  }
  if (!found) fail(ErrorCode::kSqlSyntax, fmt::format("unknown operator '{}'", e.op), e.loc);
  if (l->type().id == TypeId::kNull)
    l = coerce(e, l, r->type().id == TypeId::kNull ? DataType::bigint() : r->type());
  if (r->type().id == TypeId::kNull) r = coerce(e, r, l->type());
  DataType lt = l->type(), rt = r->type();
  auto bad = [&]() {
    fail(ErrorCode::kSqlType,
         fmt::format("cannot apply '{}' to {} and {} in {}", e.op, lt.to_string(), rt.to_string(),
                     quote(e)),
         e.loc);
  };
  if (is_temporal(lt.id) || is_temporal(rt.id)) {
    DataType result = DataType::interval();
    bool ts_l = lt.id == TypeId::kTimestamp, ts_r = rt.id == TypeId::kTimestamp;
    bool iv_l = lt.id == TypeId::kInterval, iv_r = rt.id == TypeId::kInterval;
    if (op == exec::ArithOp::kAdd && ((ts_l && iv_r) || (iv_l && ts_r))) {
      result = DataType::timestamp();
    } else if (op == exec::ArithOp::kSub && ts_l && iv_r) {
      result = DataType::timestamp();
    } else if (op == exec::ArithOp::kSub && ts_l && ts_r) {
    } else if ((op == exec::ArithOp::kAdd || op == exec::ArithOp::kSub) && iv_l && iv_r) {
    } else if (op == exec::ArithOp::kMul &&
               ((iv_l && rt.id == TypeId::kBigInt) || (lt.id == TypeId::kBigInt && iv_r))) {
    } else if (op == exec::ArithOp::kDiv && iv_l && rt.id == TypeId::kBigInt) {
    } else {
      bad();
    }
    return fold_constant(exec::make_arithmetic(op, l, r, result), {l, r});
  }
  if (!lt.is_numeric() || !rt.is_numeric()) bad();
  DataType result;
  if (lt.id == TypeId::kDouble || rt.id == TypeId::kDouble) {
    result = DataType::float64();
    l = coerce(e, l, result);
    r = coerce(e, r, result);
  } else if (lt.id == TypeId::kBigInt && rt.id == TypeId::kBigInt) {
    result = DataType::bigint();
  } else {
    if (lt.id == TypeId::kBigInt) l = coerce(e, l, lt = DataType::decimal(19, 0));
    if (rt.id == TypeId::kBigInt) r = coerce(e, r, rt = DataType::decimal(19, 0));
    int int_l = lt.precision - lt.scale, int_r = rt.precision - rt.scale;
    int scale = 0, precision = 0;
    switch (op) {
      case exec::ArithOp::kAdd:
      case exec::ArithOp::kSub:
        scale = std::max(lt.scale, rt.scale);
        precision = std::max(int_l, int_r) + scale + 1;
        break;
      case exec::ArithOp::kMul:
        scale = lt.scale + rt.scale;
        precision = lt.precision + rt.precision;
        break;
      case exec::ArithOp::kDiv:
        scale = std::max<int>(6, lt.scale);
        precision = types::kMaxDecimalPrecision;
        break;
      case exec::ArithOp::kMod:
        scale = std::max(lt.scale, rt.scale);
        precision = std::min(int_l, int_r) + scale;
        break;
    }
    if (scale > types::kMaxDecimalPrecision) {
      fail(ErrorCode::kSqlType,
           fmt::format("result of {} needs scale {} (more than 38 digits); CAST an operand to a "
                       "smaller scale",
                       quote(e), scale),
           e.loc);
    }
    precision = std::clamp(precision, std::max(scale, 1), int{types::kMaxDecimalPrecision});
    result = DataType::decimal(static_cast<uint8_t>(precision), static_cast<uint8_t>(scale));
  }
  return fold_constant(exec::make_arithmetic(op, l, r, result), {l, r});
}

}  // namespace sluice::plan
