// FROM's source and the joins after it:
//   FROM a [AS x] { [INNER | LEFT [OUTER] | FULL [OUTER]] JOIN b [AS y]
//                   [WITHIN d | WITHIN (before, after) [GRACE PERIOD g]] ON condition }
// The parser takes every join written; which ones run is the binder's decision, since it depends
// on the sources' kinds (plan/binder_join.cpp).

#include "sql/parser_impl.hpp"

namespace sluice::sql {

TableRef Parser::parse_table_ref() {
  const Token& name = peek();
  if (name.is_symbol("(") && (peek(1).is_keyword("SELECT") || peek(1).is_keyword("WITH"))) {
    unsupported(name, "subqueries are not supported");
  }
  if (name.kind != TokenKind::kQuotedIdentifier &&
      (name.kind != TokenKind::kIdentifier || is_reserved(name))) {
    fail_expected(name, "source name");
  }
  next();
  TableRef ref;
  ref.name = name.value;
  ref.loc = name.loc;
  ref.span.begin = name.begin;
  if (peek().is_symbol(".")) {
    fail(peek(), "source names have one part; quote a name that contains '.', e.g. \"orders.v1\"");
  }
  // `JOIN b WITHIN 1 HOUR`: WITHIN starts the join window, it is no alias.
  if (!peek().is_keyword("WITHIN")) ref.alias = parse_alias();
  ref.span.end = prev_end();
  return ref;
}

void Parser::parse_joins(SelectStatement& stmt) {
  while (true) {
    const Token& first = peek();
    JoinClause join;
    if (first.is_keyword("JOIN")) {
      next();
    } else if (first.is_keyword("INNER")) {
      next();
      expect_keyword("JOIN");
    } else if (first.is_keyword("LEFT") || first.is_keyword("FULL")) {
      join.kind = first.is_keyword("LEFT") ? JoinKind::kLeft : JoinKind::kFull;
      next();
      accept_keyword("OUTER");
      expect_keyword("JOIN");
    } else if (first.is_keyword("RIGHT")) {
      unsupported(first,
                  "RIGHT JOIN is not supported; write it as a LEFT JOIN with the sources "
                  "swapped");
    } else if (first.is_keyword("CROSS") || first.is_keyword("NATURAL")) {
      unsupported(first, first.value + " JOIN is not supported; join with ... JOIN b ON a.k = b.k");
    } else {
      return;
    }
    join.loc = first.loc;
    join.span.begin = first.begin;
    join.right = parse_table_ref();
    if (peek().is_keyword("WITHIN")) {
      join.within_loc = next().loc;
      if (peek().is_symbol("(")) {
        const Token& open = next();
        join.within_before = parse_window_duration("time before");
        expect_symbol(",", "',' between the times before and after");
        join.within_after = parse_window_duration("time after");
        expect_close(open);
      } else {
        join.within_before = parse_window_duration("join window");
      }
      if (accept_keyword("GRACE")) {
        if (!accept_keyword("PERIOD")) fail_expected(peek(), "PERIOD after GRACE");
        join.grace = parse_window_duration("grace period");
      }
    }
    if (peek().is_keyword("USING")) {
      unsupported(peek(), "JOIN ... USING is not supported; write ON a.k = b.k");
    }
    if (!accept_keyword("ON")) fail_expected(peek(), "ON after the joined source");
    join.on = parse_expr();
    join.span.end = prev_end();
    stmt.joins.push_back(std::move(join));
  }
}

}  // namespace sluice::sql
