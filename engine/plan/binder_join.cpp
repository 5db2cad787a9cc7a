// FROM and JOIN: which sources a query reads, and the join between them.
//
// A query without JOIN reads the job's one source. A query with JOIN reads two: a stream joined
// with a table (`FROM orders o [LEFT] JOIN customers c ON o.customer_id = c._key`), the table
// looked up by its key. Its rows are the joined rows, every input's columns side by side, and the
// rest of the query binds against them.

#include "common/ascii.hpp"
#include "plan/binder_impl.hpp"

#include <fmt/format.h>

namespace sluice::plan {

using exec::ExpressionPtr;
using sql::Expr;
using sql::ExprKind;
using types::TypeId;

namespace {

// The AND-ed conditions of `e`.
void conjuncts(const Expr& e, std::vector<const Expr*>& out) {
  if (e.kind == ExprKind::kBinary && e.op == "AND") {
    conjuncts(*e.args[0], out);
    conjuncts(*e.args[1], out);
    return;
  }
  out.push_back(&e);
}

const char* kind_name(const SourceSchema& s) {
  return s.table ? "table" : "stream";
}

}  // namespace

ExpressionPtr Binder::bind_on_conditions(const std::vector<const Expr*>& parts) {
  ExpressionPtr all;
  for (const Expr* p : parts) {
    ExpressionPtr c = bind_boolean(*p, {Scope::Kind::kRow, "ON condition"});
    all = all ? exec::make_and(std::move(all), std::move(c)) : std::move(c);
  }
  return all;
}

bool Binder::reads_only_column(const Expr& e, size_t input, size_t index) const {
  if (e.kind == ExprKind::kColumnRef) {
    ResolvedColumn c = resolve_column(e);
    return c.input == input && c.index == index;
  }
  if (e.kind == ExprKind::kLiteral || e.kind == ExprKind::kInterval || e.args.empty()) return false;
  for (size_t i = 0; i < e.args.size(); ++i) {
    const sql::ExprPtr& a = e.args[i];
    if (e.pairs && i % 2 == 0) continue;  // STRUCT(name := value): names are no columns
    if (a && a->kind != ExprKind::kLiteral && !reads_only_column(*a, input, index)) return false;
  }
  return true;
}

uint32_t Binder::inputs_read(const Expr& e) const {
  uint32_t mask = 0;
  if (e.kind == ExprKind::kColumnRef) {
    mask |= 1u << resolve_column(e).input;
  } else if (e.kind == ExprKind::kField && e.from_qualifier && !e.args.empty() &&
             e.args[0]->kind == ExprKind::kColumnRef && !has_column(e.args[0]->name)) {
    return mask;  // the binder reports `q.x` with an unknown q when it binds it
  }
  for (size_t i = 0; i < e.args.size(); ++i) {
    if (e.pairs && i % 2 == 0) continue;  // STRUCT(name := value): names are no columns
    if (e.args[i]) mask |= inputs_read(*e.args[i]);
  }
  return mask;
}

void Binder::bind_inputs(const sql::SelectStatement& stmt, LogicalPlan& plan) {
  auto find = [&](const sql::TableRef& ref, const char* clause) -> const SourceSchema& {
    for (const SourceSchema& s : sources_) {
      if (iequals(s.name, ref.name)) return s;
    }
    std::string names;
    for (const SourceSchema& s : sources_)
      names += fmt::format("{}'{}'", names.empty() ? "" : ", ", s.name);
    fail(ErrorCode::kSqlUnknownSource,
         sources_.size() == 1 ? fmt::format("unknown source '{}' in {} (this job's source is {})",
                                            ref.name, clause, names)
                              : fmt::format("unknown source '{}' in {} (this job's sources are {})",
                                            ref.name, clause, names),
         ref.loc);
  };
  auto add = [&](const sql::TableRef& ref, const char* clause) {
    const SourceSchema& s = find(ref, clause);
    std::string name = ref.alias.empty() ? ref.name : ref.alias;
    for (const BoundInput& in : inputs_) {
      if (in.schema == &s) {
        fail(ErrorCode::kSqlUnsupported,
             fmt::format("source '{}' is read twice; a self-join is not supported", s.name),
             ref.loc);
      }
      if (iequals(in.name, name)) {
        fail(ErrorCode::kSqlDuplicateName,
             fmt::format("two sources are named '{}'; give one another alias", name), ref.loc);
      }
    }
    size_t offset =
        inputs_.empty() ? 0 : inputs_.back().offset + input_width(*inputs_.back().schema);
    inputs_.push_back({&s, std::move(name), offset, static_cast<size_t>(&s - sources_.data())});
  };
  add(stmt.from, "FROM");
  for (const sql::JoinClause& j : stmt.joins)
    add(j.right, "JOIN");
  if (inputs_.size() < sources_.size()) {
    for (const SourceSchema& s : sources_) {
      bool read = false;
      for (const BoundInput& in : inputs_)
        read = read || in.schema == &s;
      if (!read) {
        fail(ErrorCode::kSqlUnknownSource,
             fmt::format("the job's source '{}' is not read by the query; join it (JOIN {} ON ...) "
                         "or remove it from the job's sources",
                         s.name, s.name),
             stmt.from.loc);
      }
    }
  }
  if (stmt.joins.empty()) {
    if (source_.table) {
      fail(ErrorCode::kSqlUnsupported,
           fmt::format("'{}' is a table (kind: table); a query reads a table only through a JOIN "
                       "with a stream for now",
                       source_.name),
           stmt.from.loc);
    }
    plan.input_width = input_width(source_, headers_);
    return;
  }
  bind_join(stmt, plan);
}

void Binder::bind_join(const sql::SelectStatement& stmt, LogicalPlan& plan) {
  const sql::JoinClause& join = stmt.joins.front();
  if (stmt.joins.size() > 1) {
    fail(ErrorCode::kSqlUnsupported,
         "a query joins two sources; a second JOIN is not supported yet", stmt.joins[1].loc);
  }
  if (headers_) {
    fail(ErrorCode::kSqlUnsupported,
         "a join query cannot read the record headers (_headers, HEADER()) yet", join.loc);
  }
  if (stmt.window) {
    fail(ErrorCode::kSqlUnsupported, "a join query cannot have a time window yet",
         stmt.window->loc);
  }
  const SourceSchema& left = *inputs_[0].schema;
  const SourceSchema& right = *inputs_[1].schema;
  if (left.table && right.table) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("'{}' and '{}' are both tables: table–table joins are not supported yet",
                     left.name, right.name),
         join.loc);
  }
  if (!left.table && !right.table) return bind_interval_join(join, plan);
  if (join.within_before) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("WITHIN bounds a join of two streams; '{}' is a {} and '{}' a {}", left.name,
                     kind_name(left), right.name, kind_name(right)),
         join.within_loc);
  }
  size_t stream = left.table ? 1 : 0;
  size_t table = 1 - stream;
  if (join.kind == sql::JoinKind::kFull) {
    fail(ErrorCode::kSqlUnsupported,
         "a stream–table join is INNER or LEFT: a table row without a stream row emits nothing",
         join.loc);
  }
  if (join.kind == sql::JoinKind::kLeft && stream != 0) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("LEFT JOIN keeps every row of its left side, which must be the stream: write "
                     "FROM {} LEFT JOIN {}",
                     right.name, left.name),
         join.loc);
  }
  if (contains_aggregate_call(*join.on)) {
    fail(ErrorCode::kSqlAggregate, "aggregate functions are not allowed in ON", join.on->loc);
  }
  const SourceSchema& ts = *inputs_[table].schema;
  const BoundInput& tin = inputs_[table];
  size_t key_index = system_column_index(ts, 0);
  // ON: `<stream expression> = <table>._key` (either way round), and any other conditions.
  std::vector<const Expr*> parts;
  conjuncts(*join.on, parts);
  const Expr* key_eq = nullptr;
  const Expr* stream_side = nullptr;
  const Expr* table_side = nullptr;
  std::vector<const Expr*> rest;
  for (const Expr* p : parts) {
    if (key_eq == nullptr && p->kind == ExprKind::kBinary && p->op == "=") {
      for (int side = 0; side < 2; ++side) {
        const Expr& k = *p->args[side];
        const Expr& other = *p->args[1 - side];
        if (!reads_only_column(k, table, key_index)) continue;
        if (inputs_read(other) != (1u << stream)) continue;
        key_eq = p;
        stream_side = &other;
        table_side = &k;
        break;
      }
      if (key_eq == p) continue;
    }
    rest.push_back(p);
  }
  if (key_eq == nullptr) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("a stream–table join looks the table up by its key: ON needs "
                     "<{} expression> = {}._key (or an expression of _key alone)",
                     inputs_[stream].name, tin.name),
         join.on->loc);
  }
  exec::StreamTableJoinSpec spec;
  spec.type = join.kind == sql::JoinKind::kLeft ? exec::JoinType::kLeft : exec::JoinType::kInner;
  spec.stream_input = inputs_[stream].source;
  spec.table_input = tin.source;
  spec.stream_width = input_width(*inputs_[stream].schema);
  spec.table_width = input_width(ts);
  spec.stream_offset = inputs_[stream].offset;
  spec.table_offset = tin.offset;
  for (const auto& c : ts.columns)
    spec.table_types.push_back(c.type);
  for (size_t i = 0; i < kSystemColumns.size(); ++i)
    spec.table_types.push_back(system_column_type(ts, i));
  spec.table_key = key_index;
  Scope on{Scope::Kind::kRow, "ON"};
  auto [sk, tk] = unify(*key_eq, bind_expr(*stream_side, on), bind_expr(*table_side, on));
  spec.key_type = tk->type();
  spec.stream_key = std::move(sk);
  // The table is keyed by `_key` itself, or by what ON computes from it (`c._key.id`).
  if (exec::column_index_of(*tk) != static_cast<int64_t>(tin.offset + key_index))
    spec.table_key_expr = std::move(tk);
  spec.condition = bind_on_conditions(rest);
  plan.input_widths.resize(2);
  plan.input_widths[spec.stream_input] = spec.stream_width;
  plan.input_widths[spec.table_input] = spec.table_width + 1;
  plan.input_width = spec.stream_width + spec.table_width;
  plan.join = std::move(spec);
}

bool Binder::time_offset(const Expr& e, ResolvedColumn& column, int64_t& offset_ms) {
  const Expr* col = &e;
  offset_ms = 0;
  if (e.kind == ExprKind::kBinary && (e.op == "+" || e.op == "-")) {
    ExpressionPtr d = bind_expr(*e.args[1], {Scope::Kind::kRow, "ON"});
    const types::Value* v = d->constant_value();
    if (v == nullptr || v->null || d->type().id != TypeId::kInterval) return false;
    offset_ms = e.op == "+" ? v->i : -v->i;
    col = e.args[0].get();
  }
  if (col->kind != ExprKind::kColumnRef) return false;
  column = resolve_column(*col);
  return column.type.id == TypeId::kTimestamp;
}

int64_t Binder::bind_join_duration(const Expr& e, const char* what) {
  ExpressionPtr d = bind_expr(e, {Scope::Kind::kRow, "JOIN"});
  const types::Value* v = d->constant_value();
  if (v == nullptr || v->null || d->type().id != TypeId::kInterval || v->i < 0 ||
      v->i > exec::kMaxWindowDurationMs) {
    fail(ErrorCode::kSqlType,
         fmt::format("the {} must be a constant INTERVAL from 0 to 1000 years, such as 10 SECONDS "
                     "or INTERVAL '1' HOUR; found {}",
                     what, quote(e)),
         e.loc);
  }
  return v->i;
}

void Binder::bind_interval_join(const sql::JoinClause& join, LogicalPlan& plan) {
  exec::IntervalJoinSpec spec;
  spec.left_outer = join.kind != sql::JoinKind::kInner;
  spec.right_outer = join.kind == sql::JoinKind::kFull;
  for (int s = 0; s < 2; ++s) {
    const SourceSchema& schema = *inputs_[s].schema;
    spec.inputs[s] = inputs_[s].source;
    spec.widths[s] = input_width(schema);
    spec.offsets[s] = inputs_[s].offset;
    for (const auto& c : schema.columns)
      spec.types[s].push_back(c.type);
    for (size_t i = 0; i < kSystemColumns.size(); ++i)
      spec.types[s].push_back(system_column_type(schema, i));
  }
  if (contains_aggregate_call(*join.on)) {
    fail(ErrorCode::kSqlAggregate, "aggregate functions are not allowed in ON", join.on->loc);
  }
  // ON: key equalities (an expression of each side), the time bound of Flink's form
  // `r.t BETWEEN l.t - INTERVAL .. AND l.t + INTERVAL ..` (or l.t between bounds on r.t), and the
  // rest.
  std::vector<const Expr*> parts;
  conjuncts(*join.on, parts);
  std::vector<const Expr*> rest;
  Scope on{Scope::Kind::kRow, "ON"};
  const Expr* between = nullptr;
  for (const Expr* p : parts) {
    if (p->kind == ExprKind::kBinary && p->op == "=") {
      uint32_t a = inputs_read(*p->args[0]), b = inputs_read(*p->args[1]);
      if ((a == 1 && b == 2) || (a == 2 && b == 1)) {
        const Expr& l = a == 1 ? *p->args[0] : *p->args[1];
        const Expr& r = a == 1 ? *p->args[1] : *p->args[0];
        auto [lk, rk] = unify(*p, bind_expr(l, on), bind_expr(r, on));
        spec.keys[0].push_back(std::move(lk));
        spec.keys[1].push_back(std::move(rk));
        continue;
      }
    }
    if (between == nullptr && p->kind == ExprKind::kBetween && !p->negated) {
      ResolvedColumn x, lo, hi;
      int64_t x_off = 0, lo_off = 0, hi_off = 0;
      if (time_offset(*p->args[0], x, x_off) && x_off == 0 &&
          time_offset(*p->args[1], lo, lo_off) && time_offset(*p->args[2], hi, hi_off) &&
          lo.input == hi.input && lo.index == hi.index && lo.input != x.input) {
        between = p;
        // x - other ∈ [lo_off, hi_off]; the spec's bounds are right time - left time.
        spec.time_columns[x.input] = x.index;
        spec.time_columns[lo.input] = lo.index;
        spec.lower_ms = x.input == 1 ? lo_off : -hi_off;
        spec.upper_ms = x.input == 1 ? hi_off : -lo_off;
        continue;
      }
    }
    rest.push_back(p);
  }
  if (spec.keys[0].empty()) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("a stream–stream join needs a key: ON {}.k = {}.k (an expression of each "
                     "side)",
                     inputs_[0].name, inputs_[1].name),
         join.on->loc);
  }
  if (between != nullptr && join.within_before) {
    fail(ErrorCode::kSqlUnsupported,
         "the join's time bound is given twice: WITHIN, and BETWEEN in ON; keep one",
         join.within_loc);
  }
  if (between == nullptr && !join.within_before) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("a stream–stream join needs a time bound: JOIN {} WITHIN 10 SECONDS ON ..., "
                     "or ON ... AND {}.ts BETWEEN {}.ts - INTERVAL '10' SECOND AND {}.ts + "
                     "INTERVAL '10' SECOND",
                     inputs_[1].name, inputs_[1].name, inputs_[0].name, inputs_[0].name),
         join.loc);
  }
  if (join.within_before) {
    int64_t before = bind_join_duration(*join.within_before, "time before");
    int64_t after =
        join.within_after ? bind_join_duration(*join.within_after, "time after") : before;
    spec.lower_ms = -before;
    spec.upper_ms = after;
    for (int s = 0; s < 2; ++s) {
      const SourceSchema& schema = *inputs_[s].schema;
      Expr col;
      col.kind = ExprKind::kColumnRef;
      col.loc = join.within_loc;
      col.qualifier = inputs_[s].name;
      col.name = schema.event_time.empty() ? "_timestamp" : schema.event_time;
      spec.time_columns[s] = resolve_column(col).index;
    }
  }
  if (spec.lower_ms > spec.upper_ms) {
    fail(ErrorCode::kSqlType,
         fmt::format("the join's time bound is empty: the right time minus the left must be from "
                     "{} ms to {} ms",
                     spec.lower_ms, spec.upper_ms),
         between != nullptr ? between->loc : join.within_loc);
  }
  if (join.grace) spec.grace_ms = bind_join_duration(*join.grace, "grace period");
  spec.condition = bind_on_conditions(rest);
  plan.input_widths.resize(2);
  plan.input_widths[spec.inputs[0]] = spec.widths[0];
  plan.input_widths[spec.inputs[1]] = spec.widths[1];
  plan.input_width = spec.widths[0] + spec.widths[1];
  plan.interval_join = std::move(spec);
}

}  // namespace sluice::plan
