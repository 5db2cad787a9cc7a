#pragma once
// Helpers shared by the SQL parser tests: an S-expression printer for ASTs, error capture and
// position checks.

#include "common/error.hpp"
#include "sql/parser.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace sluice::sql::testing {

// Compact S-expression of an expression tree, e.g. "(+ a (* b c))".
inline std::string sx(const Expr& e) {
  std::string head;
  switch (e.kind) {
    case ExprKind::kLiteral:
      switch (e.literal_kind) {
        case LiteralKind::kString:
          return "'" + e.text + "'";
        case LiteralKind::kInteger:
          return "int:" + e.text;
        case LiteralKind::kDecimal:
          return "dec:" + e.text;
        case LiteralKind::kDouble:
          return "dbl:" + e.text;
        case LiteralKind::kBoolean:
          return "bool:" + e.text;
        case LiteralKind::kNull:
          return "NULL";
      }
      return "?";
    case ExprKind::kColumnRef:
      return e.qualifier.empty() ? e.name : e.qualifier + "." + e.name;
    case ExprKind::kInterval:
      return "(INTERVAL " + e.text + " " + e.name + ")";
    case ExprKind::kUnary:
    case ExprKind::kBinary:
      head = e.op;
      break;
    case ExprKind::kFunction:
      head = e.name + "()" + (e.distinct ? " DISTINCT" : "") + (e.star ? " *" : "") +
             (e.pairs ? " :=" : "");
      break;
    case ExprKind::kCase:
      head = std::string("CASE") + (e.has_operand ? " operand" : "") + (e.has_else ? " else" : "");
      break;
    case ExprKind::kCast:
      head = "CAST " + e.type_name;
      break;
    case ExprKind::kBetween:
      head = e.negated ? "NOT BETWEEN" : "BETWEEN";
      break;
    case ExprKind::kInList:
      head = e.negated ? "NOT IN" : "IN";
      break;
    case ExprKind::kLike:
      head = e.negated ? "NOT LIKE" : "LIKE";
      break;
    case ExprKind::kIsNull:
      head = e.negated ? "IS NOT NULL" : "IS NULL";
      break;
    case ExprKind::kExtract:
      head = "EXTRACT " + e.name;
      break;
    case ExprKind::kField:
      head = (e.from_qualifier ? "q." : ".") + e.name;
      break;
    case ExprKind::kSubscript:
      head = "[]";
      break;
  }
  std::string out = "(" + head;
  for (const ExprPtr& arg : e.args)
    out.append(" ").append(sx(*arg));
  return out + ")";
}

// The first SELECT item of `SELECT <expr> FROM t`, printed.
inline std::string sx(const std::string& expr) {
  SelectStatement s = parse_select("SELECT " + expr + " FROM t");
  REQUIRE(s.items.size() == 1);
  REQUIRE(s.items[0].expr);
  return sx(*s.items[0].expr);
}

// "CODE l:c: message" of the error `sql` raises, or "no error".
inline std::string error_of(const std::string& sql) {
  try {
    parse_select(sql);
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + " " + e.what();
  }
  return "no error";
}

inline std::string text_of(const std::string& sql, Span span) {
  return sql.substr(span.begin, span.end - span.begin);
}

inline bool same(Location a, Location b) {
  return a.line == b.line && a.column == b.column;
}

// Every node's loc is where its span begins, and spans nest inside the text.
inline void check_positions(const std::string& sql, const Expr& e, int& nodes) {
  ++nodes;
  REQUIRE(e.span.begin < e.span.end);
  REQUIRE(e.span.end <= sql.size());
  REQUIRE(same(e.loc, location_of(sql, e.span.begin)));
  for (const ExprPtr& arg : e.args) {
    REQUIRE(arg);
    check_positions(sql, *arg, nodes);
  }
}

inline int check_positions(const std::string& sql, const SelectStatement& s) {
  int nodes = 0;
  for (const SelectItem& item : s.items) {
    REQUIRE(same(item.loc, location_of(sql, item.span.begin)));
    REQUIRE(item.span.end <= sql.size());
    if (item.expr) check_positions(sql, *item.expr, nodes);
  }
  REQUIRE(same(s.from.loc, location_of(sql, s.from.span.begin)));
  if (s.where) check_positions(sql, *s.where, nodes);
  for (const ExprPtr& g : s.group_by)
    check_positions(sql, *g, nodes);
  if (s.having) check_positions(sql, *s.having, nodes);
  return nodes;
}

}  // namespace sluice::sql::testing
