// Analytic calls and named windows:
//   f(...) OVER ( spec )    f(...) OVER name    WINDOW name AS ( spec )[, name AS ( spec )]...
// where spec holds, in any order and each at most once:
//   PARTITION BY expr[, expr]...
//   ORDER BY expr [ASC]
//   ROWS UNBOUNDED PRECEDING | ROWS n PRECEDING | ROWS CURRENT ROW
//   ROWS BETWEEN {UNBOUNDED PRECEDING | n PRECEDING | CURRENT ROW} AND CURRENT ROW
//   ROWS WINDOW BUFFER n ROWS          (the original system's form: n-1 PRECEDING)
//   EXPIRE AFTER interval INACTIVITY
// Frames that end after the current row (FOLLOWING), RANGE / GROUPS frames and ORDER BY DESC are
// valid SQL that a streaming engine cannot run row by row: they fail with kSqlUnsupported.

#include "sql/parser_impl.hpp"

#include <charconv>

namespace sluice::sql {
namespace {

constexpr int64_t kMaxFrameRows = 100'000'000;

bool is_name(const Token& t) {
  return t.kind == TokenKind::kQuotedIdentifier ||
         (t.kind == TokenKind::kIdentifier && !is_reserved(t));
}

}  // namespace

void Parser::parse_over(Expr& fn) {
  const Token& over_token = next();
  auto over = std::make_shared<OverClause>();
  over->loc = over_token.loc;
  over->span.begin = over_token.begin;
  if (peek().is_symbol("(")) {
    const Token& open = next();
    parse_over_spec(*over, open);
  } else if (is_name(peek())) {
    over->window_name = next().value;
  } else {
    fail_expected(peek(), "'(' or a window name after OVER");
  }
  over->span.end = prev_end();
  fn.span.end = prev_end();  // the call's text (its output name) includes the OVER clause
  fn.over = std::move(over);
}

void Parser::parse_over_spec(OverClause& over, const Token& open) {
  bool partition = false, order = false, rows = false, expire = false;
  auto once = [&](bool& seen, const Token& t, std::string_view what) {
    if (seen) fail(t, std::string(what) + " appears twice in one window specification");
    seen = true;
  };
  while (!peek().is_symbol(")")) {
    const Token& t = peek();
    if (t.is_keyword("PARTITION")) {
      once(partition, t, "PARTITION BY");
      next();
      if (!accept_keyword("BY")) fail_expected(peek(), "BY after PARTITION");
      do {
        over.partition_by.push_back(parse_expr());
      } while (accept_symbol(","));
    } else if (t.is_keyword("ORDER")) {
      once(order, t, "ORDER BY");
      next();
      if (!accept_keyword("BY")) fail_expected(peek(), "BY after ORDER");
      over.order_by = parse_expr();
      accept_keyword("ASC");
      if (peek().is_keyword("DESC")) {
        unsupported(peek(),
                    "ORDER BY ... DESC is not supported in OVER: rows are processed as "
                    "they arrive, in ascending event order");
      }
      if (peek().is_symbol(",")) {
        unsupported(peek(), "OVER takes one ORDER BY column (the event time)");
      }
    } else if (t.is_keyword("ROWS")) {
      once(rows, t, "a ROWS frame");
      if (peek(1).is_keyword("WINDOW")) {
        parse_window_buffer(over);
      } else {
        parse_rows_frame(over);
      }
    } else if (t.is_keyword("RANGE") || t.is_keyword("GROUPS")) {
      unsupported(t, to_upper(t.value) + " frames are not supported; use ROWS");
    } else if (t.is_keyword("EXPIRE")) {
      once(expire, t, "EXPIRE AFTER");
      next();
      if (!accept_keyword("AFTER")) fail_expected(peek(), "AFTER after EXPIRE");
      over.expire_after = parse_expr();
      if (!accept_keyword("INACTIVITY")) {
        fail_expected(peek(), "INACTIVITY in EXPIRE AFTER <interval> INACTIVITY");
      }
    } else {
      if (t.kind == TokenKind::kEnd) expect_close(open);
      fail_expected(t,
                    "PARTITION BY, ORDER BY, ROWS, EXPIRE AFTER or ')' in the window "
                    "specification opened at " +
                        location_text(open.loc));
    }
  }
  expect_close(open);
}

// ROWS WINDOW BUFFER n ROWS: the current row and the n-1 rows before it.
void Parser::parse_window_buffer(OverClause& over) {
  next();  // ROWS
  next();  // WINDOW
  if (!accept_keyword("BUFFER")) fail_expected(peek(), "BUFFER in ROWS WINDOW BUFFER n ROWS");
  const Token& at = peek();
  int64_t n = parse_row_count("the buffer size in ROWS WINDOW BUFFER n ROWS");
  if (n < 1) fail(at, "ROWS WINDOW BUFFER needs at least 1 row");
  if (!accept_keyword("ROWS")) fail_expected(peek(), "ROWS in ROWS WINDOW BUFFER n ROWS");
  over.has_frame = true;
  over.preceding = n - 1;
}

void Parser::parse_rows_frame(OverClause& over) {
  next();  // ROWS
  over.has_frame = true;
  bool between = accept_keyword("BETWEEN");
  const Token& start = peek();
  if (accept_keyword("UNBOUNDED")) {
    if (!accept_keyword("PRECEDING")) {
      if (peek().is_keyword("FOLLOWING")) {
        unsupported(start, "a frame cannot start at UNBOUNDED FOLLOWING");
      }
      fail_expected(peek(), "PRECEDING after UNBOUNDED");
    }
    over.unbounded = true;
  } else if (accept_keyword("CURRENT")) {
    if (!accept_keyword("ROW")) fail_expected(peek(), "ROW after CURRENT");
  } else if (start.kind == TokenKind::kInteger) {
    over.preceding = parse_row_count("a row count");
    if (peek().is_keyword("FOLLOWING")) {
      unsupported(peek(), "FOLLOWING frames are not supported: a frame ends at the current row");
    }
    if (!accept_keyword("PRECEDING")) fail_expected(peek(), "PRECEDING after the row count");
  } else {
    fail_expected(start, "UNBOUNDED PRECEDING, n PRECEDING or CURRENT ROW");
  }
  if (!between) return;
  if (!accept_keyword("AND")) fail_expected(peek(), "AND in ROWS BETWEEN ... AND CURRENT ROW");
  const Token& end = peek();
  if (end.is_keyword("CURRENT") && peek(1).is_keyword("ROW")) {
    next();
    next();
    return;
  }
  if (end.is_keyword("UNBOUNDED") || end.kind == TokenKind::kInteger) {
    unsupported(end,
                "a frame must end at CURRENT ROW: rows after the current one have not "
                "arrived yet");
  }
  fail_expected(end, "CURRENT ROW");
}

int64_t Parser::parse_row_count(std::string_view what) {
  const Token& t = peek();
  if (t.kind != TokenKind::kInteger) fail_expected(t, what);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(t.value.data(), t.value.data() + t.value.size(), n);
  if (ec != std::errc() || end != t.value.data() + t.value.size() || n > kMaxFrameRows) {
    fail(t,
         "row count " + t.value + " is too large (at most " + std::to_string(kMaxFrameRows) + ")");
  }
  next();
  return n;
}

bool Parser::is_named_window_start() const {
  return is_name(peek()) && peek(1).is_keyword("AS");
}

void Parser::parse_named_window(SelectStatement& stmt) {
  do {
    const Token& name = peek();
    if (!is_name(name)) fail_expected(name, "a window name in WINDOW name AS (...)");
    next();
    for (const NamedWindow& w : stmt.named_windows) {
      if (to_upper(w.name) == to_upper(name.value)) {
        fail(name, "window '" + name.value + "' is defined twice");
      }
    }
    if (!accept_keyword("AS")) fail_expected(peek(), "AS in WINDOW name AS (...)");
    const Token& open = expect_symbol("(", "'(' in WINDOW name AS (...)");
    NamedWindow w;
    w.name = name.value;
    w.spec.loc = name.loc;
    w.spec.span.begin = name.begin;
    parse_over_spec(w.spec, open);
    w.spec.span.end = prev_end();
    stmt.named_windows.push_back(std::move(w));
  } while (accept_symbol(","));
}

}  // namespace sluice::sql
