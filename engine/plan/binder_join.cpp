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

uint32_t Binder::inputs_read(const Expr& e) const {
  uint32_t mask = 0;
  if (e.kind == ExprKind::kColumnRef) {
    mask |= 1u << resolve_column(e).input;
  } else if (e.kind == ExprKind::kField && e.from_qualifier && !e.args.empty() &&
             e.args[0]->kind == ExprKind::kColumnRef && !has_column(e.args[0]->name)) {
    return mask;  // the binder reports `q.x` with an unknown q when it binds it
  }
  for (const auto& a : e.args) {
    if (a) mask |= inputs_read(*a);
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
  if (left.table == right.table) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("'{}' and '{}' are both {}s: a join reads a stream and a table (kind: table) "
                     "for now; stream–stream and table–table joins are not supported yet",
                     left.name, right.name, kind_name(left)),
         join.loc);
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
  std::vector<const Expr*> rest;
  for (const Expr* p : parts) {
    if (key_eq == nullptr && p->kind == ExprKind::kBinary && p->op == "=") {
      for (int side = 0; side < 2; ++side) {
        const Expr& k = *p->args[side];
        const Expr& other = *p->args[1 - side];
        if (k.kind != ExprKind::kColumnRef) continue;
        ResolvedColumn c = resolve_column(k);
        if (c.input != table || c.index != key_index) continue;
        if (inputs_read(other) != (1u << stream)) continue;
        key_eq = p;
        stream_side = &other;
        break;
      }
      if (key_eq == p) continue;
    }
    rest.push_back(p);
  }
  if (key_eq == nullptr) {
    fail(ErrorCode::kSqlUnsupported,
         fmt::format("a stream–table join looks the table up by its key: ON needs "
                     "<{} expression> = {}._key",
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
  auto [sk, tk] = unify(*key_eq, bind_expr(*stream_side, on),
                        exec::make_column(tin.offset + key_index, ts.key_type));
  spec.key_type = tk->type();
  spec.stream_key = std::move(sk);
  for (const Expr* p : rest) {
    ExpressionPtr c = bind_boolean(*p, {Scope::Kind::kRow, "ON condition"});
    spec.condition =
        spec.condition ? exec::make_and(std::move(spec.condition), std::move(c)) : std::move(c);
  }
  plan.input_widths.resize(2);
  plan.input_widths[spec.stream_input] = spec.stream_width;
  plan.input_widths[spec.table_input] = spec.table_width + 1;
  plan.input_width = spec.stream_width + spec.table_width;
  plan.join = std::move(spec);
}

}  // namespace sluice::plan
