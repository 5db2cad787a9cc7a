#include "sql/parser.hpp"

#include "common/ascii.hpp"
#include "sql/parser_impl.hpp"

#include <algorithm>
#include <array>

namespace sluice::sql {
namespace {

// Words that never name a column or alias unless quoted. Kept small: every word here is one a
// user cannot use bare, and words like OFFSET, PARTITION, TIMESTAMP stay usable as column names.
constexpr std::string_view kReserved[] = {
    "ALL",       "AND",      "AS",     "BETWEEN", "BY",     "CASE",   "CAST",    "CROSS",
    "DISTINCT",  "ELSE",     "EMIT",   "END",     "ESCAPE", "EXCEPT", "EXISTS",  "EXTRACT",
    "FALSE",     "FETCH",    "FROM",   "FULL",    "GROUP",  "HAVING", "IN",      "INNER",
    "INTERSECT", "INTERVAL", "IS",     "JOIN",    "LEFT",   "LIKE",   "LIMIT",   "NATURAL",
    "NOT",       "NULL",     "ON",     "OR",      "ORDER",  "OVER",   "QUALIFY", "REGEXP",
    "RIGHT",     "RLIKE",    "SELECT", "THEN",    "TRUE",   "UNION",  "USING",   "WHEN",
    "WHERE",     "WINDOW",   "WITH"};

// Clauses after FROM, in order; parse_end reports what may still come.
constexpr std::array<std::string_view, 5> kClausesLeft = {
    "WHERE, GROUP BY, HAVING, EMIT or end of query", "GROUP BY, HAVING, EMIT or end of query",
    "HAVING, EMIT or end of query", "EMIT or end of query", "end of query"};
constexpr std::array<std::string_view, 4> kClauseKeywords = {"WHERE", "GROUP", "HAVING", "EMIT"};

// Optimal string alignment distance, case-insensitive; for "did you mean" only.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::string x = to_upper(a), y = to_upper(b);
  std::vector<std::vector<size_t>> d(x.size() + 1, std::vector<size_t>(y.size() + 1));
  for (size_t i = 0; i <= x.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= y.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= x.size(); ++i) {
    for (size_t j = 1; j <= y.size(); ++j) {
      size_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[x.size()][y.size()];
}

// True when `t` is an unquoted word that looks like a misspelling of `keyword`.
bool looks_like(const Token& t, std::string_view keyword) {
  if (t.kind != TokenKind::kIdentifier || t.value.size() < 3 || t.value.size() > 12) return false;
  size_t limit = t.value.size() >= 6 ? 2 : 1;
  size_t d = edit_distance(t.value, keyword);
  return d > 0 && d <= limit;
}

// The token as quoted in messages: 'FORM', string 'abc', with long text cut and control bytes
// escaped so a message stays one readable line.
std::string quote(const Token& t) {
  std::string_view raw = t.raw;
  bool cut = raw.size() > 40;
  if (cut) {
    size_t n = 37;
    while (n > 0 && (static_cast<unsigned char>(raw[n]) & 0xC0) == 0x80)
      --n;
    raw = raw.substr(0, n);
  }
  std::string out = t.kind == TokenKind::kString ? "string " : "'";
  for (char c : raw) {
    auto b = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (b < 0x20 || b == 0x7F) {
      const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 0xF];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  if (t.kind != TokenKind::kString) out += "'";
  return out;
}

}  // namespace

std::string location_text(Location loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

bool is_reserved(const Token& t) {
  if (t.kind != TokenKind::kIdentifier || t.value.size() > 9) return false;
  return std::any_of(std::begin(kReserved), std::end(kReserved),
                     [&](std::string_view kw) { return t.is_keyword(kw); });
}

// ---- tokens

const Token& Parser::peek(size_t k) const {
  return tokens_[std::min(pos_ + k, tokens_.size() - 1)];
}

const Token& Parser::next() {
  const Token& t = tokens_[pos_];
  if (t.kind != TokenKind::kEnd) ++pos_;
  return t;
}

bool Parser::accept_keyword(std::string_view kw) {
  if (!peek().is_keyword(kw)) return false;
  next();
  return true;
}

bool Parser::accept_symbol(std::string_view s) {
  if (!peek().is_symbol(s)) return false;
  next();
  return true;
}

const Token& Parser::expect_keyword(std::string_view kw) {
  if (!peek().is_keyword(kw)) fail_expected(peek(), kw);
  return next();
}

const Token& Parser::expect_symbol(std::string_view s, std::string_view what) {
  if (!peek().is_symbol(s)) fail_expected(peek(), what);
  return next();
}

void Parser::expect_close(const Token& open) {
  if (accept_symbol(")")) return;
  fail_expected(peek(), "')' to close '(' at " + location_text(open.loc));
}

void Parser::expect_close_bracket(const Token& open) {
  if (accept_symbol("]")) return;
  fail_expected(peek(), "']' to close '[' at " + location_text(open.loc));
}

// ---- errors

void Parser::fail(Location at, std::string message) const {
  throw Error(ErrorCode::kSqlSyntax, std::move(message), at);
}

void Parser::unsupported(const Token& at, std::string message) const {
  throw Error(ErrorCode::kSqlUnsupported, std::move(message), at.loc);
}

void Parser::fail_expected(const Token& at, std::string_view what) const {
  if (at.kind == TokenKind::kEnd)
    fail(at, "unexpected end of query, expected " + std::string(what));
  fail(at, "expected " + std::string(what) + ", found " + quote(at));
}

void Parser::fail_expected_clause(const Token& at, std::string_view what,
                                  const std::vector<std::string_view>& keywords) const {
  for (std::string_view kw : keywords) {
    if (looks_like(at, kw)) {
      fail(at, "expected " + std::string(what) + ", found " + quote(at) + " (did you mean " +
                   std::string(kw) + "?)");
    }
  }
  fail_expected(at, what);
}

void Parser::check_unsupported_clause(const Token& t) const {
  for (std::string_view kw : {"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL"}) {
    if (t.is_keyword(kw)) unsupported(t, "a JOIN goes right after FROM's source");
  }
  if (t.is_keyword("OVER")) unsupported(t, "windows are not supported yet");
  if (t.is_keyword("ORDER")) unsupported(t, "ORDER BY is not supported");
  for (std::string_view kw :
       {"LIMIT", "OFFSET", "FETCH", "UNION", "INTERSECT", "EXCEPT", "QUALIFY"}) {
    if (t.is_keyword(kw)) unsupported(t, std::string(kw) + " is not supported");
  }
}

// ---- statement

SelectStatement Parser::parse_statement() {
  SelectStatement stmt;
  const Token& first = peek();
  if (first.kind == TokenKind::kEnd) fail(first, "empty query, expected SELECT");
  if (first.is_keyword("WITH")) unsupported(first, "WITH is not supported");
  for (std::string_view kw : {"INSERT", "CREATE", "UPDATE", "DELETE", "DROP", "ALTER"}) {
    if (first.is_keyword(kw)) unsupported(first, "only SELECT queries are supported");
  }
  expect_keyword("SELECT");
  stmt.distinct = accept_keyword("DISTINCT");
  if (!stmt.distinct) accept_keyword("ALL");
  parse_select_list(stmt);
  parse_from(stmt);
  size_t done = 0;
  if (peek().is_keyword("WINDOW")) parse_window_clause(stmt, true);  // ksqlDB: before WHERE
  if (accept_keyword("WHERE")) {
    stmt.where = parse_expr();
    done = 1;
  }
  if (peek().is_keyword("WINDOW")) parse_window_clause(stmt, true);
  if (peek().is_keyword("GROUP")) {
    parse_group_by(stmt);
    done = 2;
  }
  if (accept_keyword("HAVING")) {
    stmt.having = parse_expr();
    done = 3;
  }
  if (peek().is_keyword("WINDOW")) parse_window_clause(stmt, false);  // named windows only
  if (peek().is_keyword("EMIT")) {
    parse_emit(stmt);
    done = 4;
  }
  parse_end(done);
  resolve_qualifiers(stmt);
  return stmt;
}

namespace {

// The names a qualifier may give a source: each source's alias, or its name when it has none.
std::vector<std::string_view> source_names(const SelectStatement& stmt) {
  auto name = [](const TableRef& t) -> std::string_view {
    return t.alias.empty() ? t.name : t.alias;
  };
  std::vector<std::string_view> names{name(stmt.from)};
  for (const JoinClause& j : stmt.joins)
    names.push_back(name(j.right));
  return names;
}

// `q.name` where q is no source: field `name` of column q (see Expr::from_qualifier).
void resolve_qualifiers(ExprPtr& e, const std::vector<std::string_view>& sources) {
  if (!e) return;
  for (ExprPtr& a : e->args)
    resolve_qualifiers(a, sources);
  if (e->over) {
    for (ExprPtr& p : e->over->partition_by)
      resolve_qualifiers(p, sources);
    resolve_qualifiers(e->over->order_by, sources);
  }
  if (e->kind != ExprKind::kColumnRef || e->qualifier.empty()) return;
  for (std::string_view source : sources) {
    if (iequals(e->qualifier, source)) return;
  }
  auto column = std::make_unique<Expr>();
  column->kind = ExprKind::kColumnRef;
  column->loc = e->loc;
  column->span = {e->span.begin, e->span.begin + static_cast<uint32_t>(e->qualifier.size())};
  column->name = std::move(e->qualifier);
  e->kind = ExprKind::kField;
  e->qualifier.clear();
  e->from_qualifier = true;
  e->args.push_back(std::move(column));
}

}  // namespace

void Parser::resolve_qualifiers(SelectStatement& stmt) {
  std::vector<std::string_view> sources = source_names(stmt);
  for (SelectItem& item : stmt.items)
    sql::resolve_qualifiers(item.expr, sources);
  for (JoinClause& j : stmt.joins)
    sql::resolve_qualifiers(j.on, sources);
  sql::resolve_qualifiers(stmt.where, sources);
  for (ExprPtr& g : stmt.group_by)
    sql::resolve_qualifiers(g, sources);
  sql::resolve_qualifiers(stmt.having, sources);
  if (stmt.window) sql::resolve_qualifiers(stmt.window->time_column, sources);
  for (NamedWindow& w : stmt.named_windows) {
    for (ExprPtr& p : w.spec.partition_by)
      sql::resolve_qualifiers(p, sources);
    sql::resolve_qualifiers(w.spec.order_by, sources);
  }
}

void Parser::parse_select_list(SelectStatement& stmt) {
  stmt.items.push_back(parse_select_item());
  while (peek().is_symbol(",")) {
    const Token& comma = next();
    if (peek().is_keyword("FROM")) fail(comma, "unexpected ',' before FROM");
    stmt.items.push_back(parse_select_item());
  }
}

SelectItem Parser::parse_select_item() {
  implicit_alias_ = nullptr;
  const Token& start = peek();
  SelectItem item;
  item.loc = start.loc;
  item.span.begin = start.begin;
  bool name = start.kind == TokenKind::kQuotedIdentifier ||
              (start.kind == TokenKind::kIdentifier && !is_reserved(start));
  if (start.is_symbol("*")) {
    next();
    item.star = true;
  } else if (name && peek(1).is_symbol(".") && peek(2).is_symbol("*")) {
    item.qualifier = next().value;
    next();
    next();
    item.star = true;
  } else {
    item.expr = parse_expr();
    item.alias = parse_alias();
  }
  item.span.end = prev_end();
  return item;
}

std::string Parser::parse_alias() {
  implicit_alias_ = nullptr;
  bool explicit_as = accept_keyword("AS");
  const Token& t = peek();
  if (t.kind == TokenKind::kQuotedIdentifier ||
      (t.kind == TokenKind::kIdentifier && !is_reserved(t))) {
    if (!explicit_as) implicit_alias_ = &t;
    return next().value;
  }
  if (!explicit_as) return {};
  if (is_reserved(t)) {
    fail(t, "expected alias, found " + quote(t) +
                ", a reserved word; quote it to use it as a name: \"" + t.value + "\"");
  }
  fail_expected(t, "alias");
}

void Parser::parse_from(SelectStatement& stmt) {
  if (!peek().is_keyword("FROM")) {
    if (implicit_alias_ != nullptr && looks_like(*implicit_alias_, "FROM")) {
      fail_expected(*implicit_alias_, "FROM");
    }
    fail_expected(peek(), "FROM");
  }
  next();
  stmt.from = parse_table_ref();
  if (peek().is_symbol(",")) {
    unsupported(peek(), "FROM takes one source; read a second one with JOIN ... ON");
  }
  parse_joins(stmt);
  check_unsupported_clause(peek());
  // `FROM t WHRE x > 1`: the typo was taken for an alias; point at it, not at `x`.
  const Token& after = peek();
  bool follows_ok = after.kind == TokenKind::kEnd || after.is_symbol(";") ||
                    std::any_of(kClauseKeywords.begin(), kClauseKeywords.end(),
                                [&](std::string_view kw) { return after.is_keyword(kw); });
  if (implicit_alias_ != nullptr && !follows_ok) {
    for (std::string_view kw : kClauseKeywords) {
      if (looks_like(*implicit_alias_, kw)) {
        fail_expected_clause(*implicit_alias_, kClausesLeft[0], {kw});
      }
    }
  }
}

void Parser::parse_group_by(SelectStatement& stmt) {
  next();
  if (!accept_keyword("BY")) fail_expected(peek(), "BY after GROUP");
  do {
    stmt.group_by.push_back(parse_expr());
  } while (accept_symbol(","));
  if (peek().is_keyword("WINDOW")) parse_window_clause(stmt, true);
}

void Parser::parse_emit(SelectStatement& stmt) {
  stmt.emit_loc = next().loc;
  if (accept_keyword("CHANGES")) {
    stmt.emit = EmitMode::kChanges;
  } else if (accept_keyword("FINAL")) {
    stmt.emit = EmitMode::kFinal;
  } else {
    fail_expected_clause(peek(), "CHANGES or FINAL after EMIT", {"CHANGES", "FINAL"});
  }
}

void Parser::parse_end(size_t clauses_done) {
  if (accept_symbol(";")) {
    while (accept_symbol(";")) {
    }
    const Token& t = peek();
    if (t.kind != TokenKind::kEnd) fail(t, "only one statement is allowed, found " + quote(t));
    return;
  }
  const Token& t = peek();
  if (t.kind == TokenKind::kEnd) return;
  check_unsupported_clause(t);
  for (std::string_view kw : {"FROM", "WHERE", "GROUP", "HAVING", "EMIT"}) {
    if (t.is_keyword(kw)) {
      fail(t, std::string(kw) +
                  " is out of place; clauses go in the order SELECT, FROM, WHERE, GROUP BY, "
                  "HAVING, EMIT");
    }
  }
  std::vector<std::string_view> keywords(kClauseKeywords.begin() + clauses_done,
                                         kClauseKeywords.end());
  fail_expected_clause(t, kClausesLeft[clauses_done], keywords);
}

// ---- public API

SelectStatement parse_select(std::string_view sql) {
  return Parser(sql).parse_statement();
}

Location location_of(std::string_view text, uint32_t offset) {
  Location loc{1, 1};
  size_t end = std::min<size_t>(offset, text.size());
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

}  // namespace sluice::sql
