// Constructs with their own syntax: function calls (incl. the SQL-standard TRIM and SUBSTRING
// forms), CASE, CAST, EXTRACT, INTERVAL and typed literals (TIMESTAMP '...').

#include "sql/parser_impl.hpp"

#include <algorithm>

namespace sluice::sql {
namespace {

constexpr std::string_view kExtractFields[] = {"YEAR",   "MONTH",  "DAY",         "HOUR",
                                               "MINUTE", "SECOND", "MILLISECOND", "DOW",
                                               "DOY",    "WEEK",   "QUARTER",     "EPOCH"};

constexpr std::string_view kIntervalUnits[] = {"MILLISECOND", "SECOND", "MINUTE", "HOUR",
                                               "DAY",         "WEEK",   "MONTH",  "YEAR"};

// The singular upper-case unit for `word` (MINUTE, minutes, ...), or empty.
std::string interval_unit(std::string_view word) {
  std::string u = to_upper(word);
  if (u.size() > 1 && u.back() == 'S') u.pop_back();
  for (std::string_view unit : kIntervalUnits) {
    if (u == unit) return u;
  }
  return {};
}

bool is_trim_spec(const Token& t) {
  return t.is_keyword("BOTH") || t.is_keyword("LEADING") || t.is_keyword("TRAILING");
}

// Splits the quantity of `INTERVAL '5 minutes'` into "5" and "MINUTE"; false when not that shape.
bool split_interval_string(std::string_view s, std::string& quantity, std::string& unit) {
  auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  auto b = std::find_if(s.begin(), s.end(), not_space);
  auto e = std::find_if(s.rbegin(), s.rend(), not_space).base();
  if (b >= e) return false;
  std::string_view trimmed(&*b, static_cast<size_t>(e - b));
  size_t space = trimmed.find_first_of(" \t");
  if (space == std::string_view::npos) return false;
  std::string_view rest = trimmed.substr(space);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  unit = interval_unit(rest);
  if (unit.empty()) return false;
  quantity = std::string(trimmed.substr(0, space));
  return true;
}

}  // namespace

// ---- function calls

ExprPtr Parser::parse_function(const Token& name) {
  ExprPtr fn;
  if (name.is_keyword("TRIM")) {
    fn = parse_trim(name);
  } else if (name.is_keyword("SUBSTRING")) {
    fn = parse_substring(name);
  } else {
    fn = node(ExprKind::kFunction, name);
    fn->name = to_upper(name.value);
    parse_call_args(*fn);
    fn = seal(std::move(fn));
  }
  if (peek().is_keyword("OVER")) parse_over(*fn);
  return fn;
}

void Parser::parse_call_args(Expr& fn) {
  const Token& open = next();
  if (accept_symbol(")")) return;
  if (accept_symbol("*")) {
    fn.star = true;
  } else {
    fn.distinct = accept_keyword("DISTINCT");
    do {
      fn.args.push_back(parse_expr());
      // STRUCT(name := value, ...) and MAP(key := value, ...): all arguments paired, or none.
      bool paired = peek().is_symbol(":=");
      if (fn.args.size() == 1) fn.pairs = paired;
      if (paired != fn.pairs) {
        fail(peek(), paired ? "'" + fn.name + "' arguments are all `a := b` pairs or none are"
                            : "expected ':=' after '" + fn.name + "' argument, as in a := b");
      }
      if (paired) {
        next();
        fn.args.push_back(parse_expr());
      }
    } while (accept_symbol(","));
  }
  expect_close(open);
}

// TRIM([BOTH|LEADING|TRAILING] [chars] FROM s) -> TRIM/LTRIM/RTRIM(s[, chars]); TRIM(s[, chars]).
ExprPtr Parser::parse_trim(const Token& name) {
  ExprPtr fn = node(ExprKind::kFunction, name);
  fn->name = "TRIM";
  const Token& open = next();
  const Token& spec = peek();
  // `TRIM(leading)` with a column named leading: a spec is followed by chars or FROM.
  bool has_spec =
      is_trim_spec(spec) && (peek(1).kind != TokenKind::kSymbol || peek(1).is_symbol("("));
  if (has_spec) {
    next();
    if (spec.is_keyword("LEADING")) fn->name = "LTRIM";
    if (spec.is_keyword("TRAILING")) fn->name = "RTRIM";
  }
  if (has_spec && accept_keyword("FROM")) {
    fn->args.push_back(parse_expr());
  } else {
    ExprPtr first = parse_expr();
    if (accept_keyword("FROM")) {
      fn->args.push_back(parse_expr());
      fn->args.push_back(std::move(first));
    } else if (has_spec) {
      fail_expected(peek(), "FROM in TRIM(" + to_upper(spec.value) + " ... FROM string)");
    } else {
      fn->args.push_back(std::move(first));
      while (accept_symbol(","))
        fn->args.push_back(parse_expr());
    }
  }
  expect_close(open);
  return seal(std::move(fn));
}

// SUBSTRING(s FROM a [FOR b]) -> SUBSTRING(s, a[, b]); SUBSTRING(s, a[, b]) as is.
ExprPtr Parser::parse_substring(const Token& name) {
  ExprPtr fn = node(ExprKind::kFunction, name);
  fn->name = "SUBSTRING";
  const Token& open = next();
  fn->args.push_back(parse_expr());
  if (accept_keyword("FROM")) {
    fn->args.push_back(parse_expr());
    if (accept_keyword("FOR")) fn->args.push_back(parse_expr());
  } else {
    while (accept_symbol(","))
      fn->args.push_back(parse_expr());
  }
  expect_close(open);
  return seal(std::move(fn));
}

// ---- CASE, CAST, EXTRACT

ExprPtr Parser::parse_case() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kCase, kw);
  const Token& t = peek();
  if (t.is_keyword("THEN") || t.is_keyword("ELSE") || t.is_keyword("END")) {
    fail_expected(t, "WHEN");
  }
  if (!t.is_keyword("WHEN")) {
    e->args.push_back(parse_expr());
    e->has_operand = true;
  }
  if (!peek().is_keyword("WHEN")) fail_expected(peek(), "WHEN");
  while (accept_keyword("WHEN")) {
    e->args.push_back(parse_expr());
    if (!accept_keyword("THEN")) fail_expected(peek(), "THEN");
    e->args.push_back(parse_expr());
  }
  if (accept_keyword("ELSE")) {
    e->args.push_back(parse_expr());
    e->has_else = true;
  }
  if (!accept_keyword("END")) {
    fail_expected(peek(), "END to close CASE at " + location_text(kw.loc));
  }
  return seal(std::move(e));
}

ExprPtr Parser::parse_cast() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kCast, kw);
  const Token& open = expect_symbol("(", "'(' after CAST");
  e->args.push_back(parse_expr());
  if (!accept_keyword("AS")) fail_expected(peek(), "AS in CAST(expression AS type)");
  e->type_name = parse_type_name();
  expect_close(open);
  return seal(std::move(e));
}

// Words, upper-cased and joined by one space, with at most one `(p[,s])`: "DECIMAL(18,4)",
// "DOUBLE PRECISION", "TIMESTAMP(3)"; or a word and `<...>` as written ("ARRAY < BIGINT >").
// The binder decides whether it names a type.
std::string Parser::parse_type_name() {
  if (peek().kind != TokenKind::kIdentifier) fail_expected(peek(), "type name");
  std::string out = to_upper(next().value);
  bool params = false;
  if (peek().is_symbol("<")) {  // ARRAY<...>, MAP<...>, STRUCT<...>: the text up to the match
    int depth = 0;
    do {
      const Token& t = next();
      if (t.kind == TokenKind::kEnd) fail_expected(t, "'>' to close '" + out + "<'");
      if (t.is_symbol("<")) ++depth;
      if (t.is_symbol(">")) --depth;
      out += ' ';
      out += t.raw;
    } while (depth > 0);
    return out;
  }
  for (;;) {
    if (!params && peek().is_symbol("(")) {
      params = true;
      const Token& open = next();
      auto integer = [&]() -> const std::string& {
        if (peek().kind != TokenKind::kInteger) fail_expected(peek(), "type length or precision");
        return next().value;
      };
      out += '(' + integer();
      if (accept_symbol(",")) out += ',' + integer();
      expect_close(open);
      out += ')';
    } else if (peek().kind == TokenKind::kIdentifier && !is_reserved(peek())) {
      out += ' ';
      out += to_upper(next().value);
    } else {
      return out;
    }
  }
}

ExprPtr Parser::parse_extract() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kExtract, kw);
  const Token& open = expect_symbol("(", "'(' after EXTRACT");
  const Token& field = peek();
  if (field.kind != TokenKind::kIdentifier) fail_expected(field, "field (YEAR, MONTH, DAY, ...)");
  std::string name = to_upper(field.value);
  if (std::find(std::begin(kExtractFields), std::end(kExtractFields), name) ==
      std::end(kExtractFields)) {
    fail(field, "unknown EXTRACT field '" + field.value +
                    "'; expected YEAR, MONTH, DAY, HOUR, MINUTE, SECOND, MILLISECOND, DOW, DOY, "
                    "WEEK, QUARTER or EPOCH");
  }
  next();
  e->name = std::move(name);
  if (!accept_keyword("FROM")) fail_expected(peek(), "FROM in EXTRACT(field FROM expression)");
  e->args.push_back(parse_expr());
  expect_close(open);
  return seal(std::move(e));
}

// ---- INTERVAL and typed literals

ExprPtr Parser::parse_interval() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kInterval, kw);
  const Token& q = peek();
  bool number = q.kind == TokenKind::kInteger || q.kind == TokenKind::kDecimal;
  bool signed_number = (q.is_symbol("-") || q.is_symbol("+")) &&
                       (peek(1).kind == TokenKind::kInteger || peek(1).kind == TokenKind::kDecimal);
  if (q.kind == TokenKind::kString || number) {
    e->text = next().value;
  } else if (signed_number) {
    next();
    e->text = (q.value == "-" ? "-" : "") + next().value;
  } else if (q.kind == TokenKind::kEnd || q.kind == TokenKind::kSymbol || is_reserved(q)) {
    // Most likely a column named interval.
    fail_expected(
        q, "interval quantity, e.g. '5' or 5 (quote \"" + kw.value + "\" to use it as a name)");
  } else {
    fail_expected(q, "interval quantity, e.g. '5' or 5");
  }
  const Token& u = peek();
  std::string unit = u.kind == TokenKind::kIdentifier ? interval_unit(u.value) : std::string();
  if (!unit.empty()) {
    next();
    e->name = std::move(unit);
  } else if (q.kind != TokenKind::kString || !split_interval_string(q.value, e->text, e->name)) {
    fail_expected(u, "interval unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY)");
  }
  return seal(std::move(e));
}

ExprPtr Parser::parse_typed_literal() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kCast, kw);
  e->type_name = to_upper(kw.value);
  const Token& s = next();
  ExprPtr lit = node(ExprKind::kLiteral, s);
  lit->literal_kind = LiteralKind::kString;
  lit->text = s.value;
  e->args.push_back(seal(std::move(lit)));
  return seal(std::move(e));
}

}  // namespace sluice::sql
