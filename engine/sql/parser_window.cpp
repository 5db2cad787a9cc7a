// The time-window clause: WINDOW TUMBLING / HOPPING (alias SLIDING) / SESSION, in the positional
// form `TUMBLING([time_column,] size)` and in ksqlDB's `TUMBLING (SIZE 30 SECONDS, GRACE PERIOD
// 5 SECONDS)`. Durations may be written `INTERVAL '1' MINUTE`, `1m` (a kDuration token) or, as in
// ksqlDB, `30 SECONDS`; all become kInterval nodes. The binder checks they are constant.

#include "sql/parser_impl.hpp"

namespace sluice::sql {
namespace {

// Singular upper-case unit of a ksqlDB duration word (SECONDS, minute, ...), or empty.
std::string window_unit(std::string_view word) {
  std::string u = to_upper(word);
  if (u.size() > 1 && u.back() == 'S') u.pop_back();
  for (std::string_view unit : {"MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"}) {
    if (u == unit) return u;
  }
  return {};
}

// Unit of a duration token's suffix: 500ms, 30s, 1m, 2h, 1d.
std::string suffix_unit(std::string_view raw, size_t* digits) {
  size_t n = 0;
  while (n < raw.size() && raw[n] >= '0' && raw[n] <= '9')
    ++n;
  *digits = n;
  std::string u = to_upper(raw.substr(n));
  if (u == "MS") return "MILLISECOND";
  if (u == "S") return "SECOND";
  if (u == "M") return "MINUTE";
  if (u == "H") return "HOUR";
  return "DAY";
}

bool is_window_kind(const Token& t) {
  return t.is_keyword("TUMBLING") || t.is_keyword("HOPPING") || t.is_keyword("SLIDING") ||
         t.is_keyword("SESSION");
}

}  // namespace

void Parser::parse_window_clause(SelectStatement& stmt, bool time_window_allowed) {
  const Token& kw = next();  // WINDOW
  if (is_named_window_start()) {
    parse_named_window(stmt);
    return;
  }
  const Token& kind = peek();
  if (!is_window_kind(kind)) {
    fail_expected(kind, "TUMBLING, HOPPING, SESSION or a window name (WINDOW w AS (...))");
  }
  if (!time_window_allowed) {
    fail(kw, "WINDOW " + to_upper(kind.value) +
                 " is out of place; a time window goes right after GROUP BY (or before WHERE, as "
                 "in ksqlDB)");
  }
  if (stmt.window) {
    fail(kw, "only one time window is allowed; the first is at " + location_text(stmt.window->loc));
  }
  parse_time_window(stmt, next());
}

void Parser::parse_time_window(SelectStatement& stmt, const Token& kind) {
  auto w = std::make_unique<WindowClause>();
  w->loc = kind.loc;
  w->span.begin = kind.begin;
  w->kind = kind.is_keyword("SESSION")    ? WindowKind::kSession
            : kind.is_keyword("TUMBLING") ? WindowKind::kTumbling
                                          : WindowKind::kHopping;
  std::string name = to_upper(kind.value);
  const Token& open = expect_symbol("(", "'(' after " + name);
  if (peek().is_keyword("SIZE")) {
    parse_ksql_window_args(*w, open);
  } else {
    std::vector<ExprPtr> args;
    do {
      if (peek().is_keyword("GRACE")) break;
      args.push_back(parse_window_duration("window size"));
    } while (accept_symbol(","));
    if (accept_keyword("GRACE")) {
      if (!accept_keyword("PERIOD")) fail_expected(peek(), "PERIOD after GRACE");
      w->grace = parse_window_duration("grace period");
    }
    size_t durations = w->kind == WindowKind::kHopping ? 2 : 1;
    if (args.size() == durations + 1) {
      w->time_column = std::move(args.front());
      args.erase(args.begin());
    }
    if (args.size() != durations) {
      const char* form = w->kind == WindowKind::kHopping   ? "([time_column,] size, advance)"
                         : w->kind == WindowKind::kSession ? "([time_column,] gap)"
                                                           : "([time_column,] size)";
      fail(kind, name + " takes " + form + ", e.g. " + name +
                     (w->kind == WindowKind::kHopping ? "(5m, 1m)" : "(1m)"));
    }
    w->size = std::move(args[0]);
    if (args.size() > 1) w->advance = std::move(args[1]);
    expect_close(open);
  }
  w->span.end = prev_end();
  stmt.window = std::move(w);
}

// ksqlDB: (SIZE d [, ADVANCE BY d] [, GRACE PERIOD d]); SESSION takes its gap positionally.
void Parser::parse_ksql_window_args(WindowClause& w, const Token& open) {
  next();  // SIZE
  w.size = parse_window_duration("window size");
  while (accept_symbol(",")) {
    if (accept_keyword("ADVANCE")) {
      if (!accept_keyword("BY")) fail_expected(peek(), "BY after ADVANCE");
      if (w.kind != WindowKind::kHopping) fail(peek(), "ADVANCE BY is only for HOPPING windows");
      w.advance = parse_window_duration("advance");
    } else if (accept_keyword("GRACE")) {
      if (!accept_keyword("PERIOD")) fail_expected(peek(), "PERIOD after GRACE");
      w.grace = parse_window_duration("grace period");
    } else {
      fail_expected(peek(), "ADVANCE BY or GRACE PERIOD");
    }
  }
  if (w.kind == WindowKind::kHopping && !w.advance) {
    fail_expected(peek(), "ADVANCE BY for a HOPPING window");
  }
  expect_close(open);
}

ExprPtr Parser::parse_window_duration(std::string_view what) {
  const Token& t = peek();
  if (t.kind == TokenKind::kDuration) {
    ExprPtr e = node(ExprKind::kInterval, next());
    size_t digits = 0;
    e->name = suffix_unit(t.value, &digits);
    e->text = t.value.substr(0, digits);
    return seal(std::move(e));
  }
  if (t.kind == TokenKind::kInteger && peek(1).kind == TokenKind::kIdentifier &&
      !window_unit(peek(1).value).empty()) {
    ExprPtr e = node(ExprKind::kInterval, next());
    e->text = t.value;
    e->name = window_unit(next().value);
    return seal(std::move(e));
  }
  if (t.kind == TokenKind::kEnd || t.is_symbol(")")) {
    fail_expected(t, std::string(what) + ", e.g. INTERVAL '1' MINUTE or 1m");
  }
  return parse_expr();
}

}  // namespace sluice::sql
