// Expressions by precedence, lowest first: OR, AND, NOT, predicates (comparison, IS, BETWEEN, IN,
// LIKE, REGEXP), ||, + -, * / %, unary - +, primary. Predicates are non-associative: `a = b = c`
// is a syntax error asking for parentheses.

#include "sql/parser_impl.hpp"

#include <algorithm>

namespace sluice::sql {
namespace {

bool is_comparison(const Token& t) {
  if (t.kind != TokenKind::kSymbol) return false;
  return t.value == "=" || t.value == "<>" || t.value == "<" || t.value == "<=" || t.value == ">" ||
         t.value == ">=";
}

bool is_negatable_predicate(const Token& t) {
  return t.is_keyword("BETWEEN") || t.is_keyword("IN") || t.is_keyword("LIKE") ||
         t.is_keyword("REGEXP") || t.is_keyword("RLIKE") || t.is_keyword("ILIKE");
}

// Reserved words a user plausibly meant as a column name; the error then says to quote them.
bool name_like_reserved(const Token& t) {
  for (std::string_view kw :
       {"END",   "ORDER",  "LEFT", "RIGHT", "FULL",      "INNER",  "CROSS",  "NATURAL",
        "LIMIT", "WINDOW", "OVER", "UNION", "INTERSECT", "EXCEPT", "ESCAPE", "REGEXP",
        "RLIKE", "JOIN",   "WITH", "FETCH", "QUALIFY",   "ALL"}) {
    if (t.is_keyword(kw)) return true;
  }
  return false;
}

// A STRUCT field after '.' or '->': a name, quoted when it is a reserved word.
bool is_field_name(const Token& t) {
  return t.kind == TokenKind::kQuotedIdentifier ||
         (t.kind == TokenKind::kIdentifier && !is_reserved(t));
}

}  // namespace

Parser::NestingGuard::NestingGuard(Parser& p, const Token& at) : p_(p) {
  if (++p_.nesting_ > kMaxNesting) {
    --p_.nesting_;
    p_.fail(at, "expression is nested too deeply (more than " + std::to_string(kMaxNesting) +
                    " levels)");
  }
}

// ---- nodes

ExprPtr Parser::node(ExprKind kind, const Token& start) const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->loc = start.loc;
  e->span = {start.begin, start.end};
  return e;
}

uint32_t Parser::height(const Expr* e) const {
  auto it = heights_.find(e);
  return it == heights_.end() ? 1 : it->second;
}

ExprPtr Parser::seal(ExprPtr e) {
  e->span.end = std::max(e->span.end, prev_end());
  if (e->args.empty()) {
    heights_.erase(e.get());  // a freed node's address may be reused
    return e;
  }
  uint32_t h = 0;
  for (const ExprPtr& arg : e->args)
    h = std::max(h, height(arg.get()));
  if (++h > kMaxHeight) {
    fail(e->loc, "expression is too deep (more than " + std::to_string(kMaxHeight) +
                     " levels); split long chains of operators, e.g. use IN (...) instead of ORs");
  }
  heights_[e.get()] = h;
  return e;
}

ExprPtr Parser::binary(std::string op, ExprPtr left, ExprPtr right, const Token& start) {
  ExprPtr e = node(ExprKind::kBinary, start);
  e->op = std::move(op);
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return seal(std::move(e));
}

// ---- boolean operators

ExprPtr Parser::parse_expr() {
  NestingGuard guard(*this, peek());
  return parse_or();
}

ExprPtr Parser::parse_or() {
  const Token& start = peek();
  ExprPtr left = parse_and();
  while (accept_keyword("OR"))
    left = binary("OR", std::move(left), parse_and(), start);
  return left;
}

ExprPtr Parser::parse_and() {
  const Token& start = peek();
  ExprPtr left = parse_not();
  while (accept_keyword("AND"))
    left = binary("AND", std::move(left), parse_not(), start);
  return left;
}

ExprPtr Parser::parse_not() {
  if (!peek().is_keyword("NOT")) return parse_predicate();
  NestingGuard guard(*this, peek());
  const Token& start = next();
  ExprPtr e = node(ExprKind::kUnary, start);
  e->op = "NOT";
  e->args.push_back(parse_not());
  return seal(std::move(e));
}

// ---- predicates

namespace {
bool at_predicate(const Token& t, const Token& after) {
  return is_comparison(t) || t.is_keyword("IS") || is_negatable_predicate(t) ||
         (t.is_keyword("NOT") && is_negatable_predicate(after));
}
}  // namespace

ExprPtr Parser::parse_predicate() {
  const Token& start = peek();
  ExprPtr left = parse_concat();
  if (!at_predicate(peek(), peek(1))) return left;
  left = parse_predicate_tail(std::move(left), start);
  if (at_predicate(peek(), peek(1))) {
    fail(peek(),
         "cannot chain '" + std::string(peek().raw) +
             "' after another comparison; add parentheses, or use AND as in a < b AND b < c");
  }
  return left;
}

ExprPtr Parser::parse_predicate_tail(ExprPtr left, const Token& start) {
  const Token& op = next();
  if (is_comparison(op)) return binary(op.value, std::move(left), parse_concat(), start);
  if (op.is_keyword("IS")) {
    ExprPtr e = node(ExprKind::kIsNull, start);
    e->negated = accept_keyword("NOT");
    if (!accept_keyword("NULL")) {
      fail_expected(peek(), e->negated ? "NULL after IS NOT" : "NULL or NOT NULL after IS");
    }
    e->args.push_back(std::move(left));
    return seal(std::move(e));
  }
  bool negated = op.is_keyword("NOT");
  const Token& kw = negated ? next() : op;
  if (kw.is_keyword("ILIKE"))
    unsupported(kw, "ILIKE is not supported; use LOWER(x) LIKE 'pattern'");
  if (kw.is_keyword("IN")) return parse_in_list(std::move(left), start, negated);
  if (kw.is_keyword("REGEXP") || kw.is_keyword("RLIKE")) {
    ExprPtr fn = node(ExprKind::kFunction, start);
    fn->name = "REGEXP_LIKE";
    fn->args.push_back(std::move(left));
    fn->args.push_back(parse_concat());
    fn = seal(std::move(fn));
    if (!negated) return fn;
    ExprPtr e = node(ExprKind::kUnary, start);
    e->op = "NOT";
    e->args.push_back(std::move(fn));
    return seal(std::move(e));
  }
  bool between = kw.is_keyword("BETWEEN");
  ExprPtr e = node(between ? ExprKind::kBetween : ExprKind::kLike, start);
  e->negated = negated;
  e->args.push_back(std::move(left));
  e->args.push_back(parse_concat());
  if (between) {
    if (!accept_keyword("AND")) fail_expected(peek(), "AND after the lower bound of BETWEEN");
    e->args.push_back(parse_concat());
  } else if (accept_keyword("ESCAPE")) {
    e->args.push_back(parse_concat());
  }
  return seal(std::move(e));
}

ExprPtr Parser::parse_in_list(ExprPtr left, const Token& start, bool negated) {
  const Token& open = expect_symbol("(", "'(' after IN");
  if (peek().is_keyword("SELECT") || peek().is_keyword("WITH")) {
    unsupported(peek(), "subqueries are not supported");
  }
  ExprPtr e = node(ExprKind::kInList, start);
  e->negated = negated;
  e->args.push_back(std::move(left));
  do {
    e->args.push_back(parse_expr());
  } while (accept_symbol(","));
  expect_close(open);
  return seal(std::move(e));
}

// ---- arithmetic

ExprPtr Parser::parse_concat() {
  const Token& start = peek();
  ExprPtr left = parse_additive();
  while (accept_symbol("||"))
    left = binary("||", std::move(left), parse_additive(), start);
  return left;
}

ExprPtr Parser::parse_additive() {
  const Token& start = peek();
  ExprPtr left = parse_multiplicative();
  while (peek().is_symbol("+") || peek().is_symbol("-")) {
    std::string op = next().value;
    left = binary(std::move(op), std::move(left), parse_multiplicative(), start);
  }
  return left;
}

ExprPtr Parser::parse_multiplicative() {
  const Token& start = peek();
  ExprPtr left = parse_unary();
  while (peek().is_symbol("*") || peek().is_symbol("/") || peek().is_symbol("%")) {
    std::string op = next().value;
    left = binary(std::move(op), std::move(left), parse_unary(), start);
  }
  return left;
}

ExprPtr Parser::parse_unary() {
  if (!peek().is_symbol("-") && !peek().is_symbol("+")) return parse_postfix();
  NestingGuard guard(*this, peek());
  const Token& start = next();
  ExprPtr e = node(ExprKind::kUnary, start);
  e->op = start.value;
  e->args.push_back(parse_unary());
  return seal(std::move(e));
}

// ---- postfix: x[i], x['key'], x->field, x.field (after a subscript or a parenthesis)

ExprPtr Parser::parse_postfix() {
  const Token& start = peek();
  ExprPtr e = parse_primary();  // a column reference has taken its own `.field` parts
  for (;;) {
    if (peek().is_symbol("[")) {
      NestingGuard guard(*this, peek());
      const Token& open = next();
      ExprPtr s = node(ExprKind::kSubscript, start);
      s->args.push_back(std::move(e));
      s->args.push_back(parse_expr());
      expect_close_bracket(open);
      e = seal(std::move(s));
    } else if (peek().is_symbol("->") || peek().is_symbol(".")) {
      NestingGuard guard(*this, peek());
      const Token& arrow = next();
      const Token& name = peek();
      if (!is_field_name(name)) fail_expected(name, "field name after '" + arrow.value + "'");
      ExprPtr f = node(ExprKind::kField, start);
      f->name = next().value;
      f->args.push_back(std::move(e));
      e = seal(std::move(f));
    } else {
      return e;
    }
  }
}

// ---- primaries

ExprPtr Parser::parse_primary() {
  const Token& t = peek();
  switch (t.kind) {
    case TokenKind::kInteger:
    case TokenKind::kDecimal:
    case TokenKind::kDouble:
    case TokenKind::kString:
      return parse_literal();
    case TokenKind::kQuotedIdentifier:
      return parse_column_ref();
    case TokenKind::kIdentifier:
      return parse_identifier_primary();
    case TokenKind::kSymbol:
      if (t.is_symbol("(")) {
        const Token& open = next();
        if (peek().is_keyword("SELECT") || peek().is_keyword("WITH")) {
          unsupported(peek(), "subqueries are not supported");
        }
        ExprPtr e = parse_expr();
        expect_close(open);
        return e;
      }
      break;
    case TokenKind::kDuration:
      fail(t, "a duration such as '" + t.value +
                  "' is only allowed in WINDOW arguments; write INTERVAL '5' SECOND");
    case TokenKind::kEnd:
      break;
  }
  fail_expected(t, "expression");
}

ExprPtr Parser::parse_identifier_primary() {
  const Token& t = peek();
  if (t.is_keyword("NULL") || t.is_keyword("TRUE") || t.is_keyword("FALSE")) {
    return parse_literal();
  }
  if (t.is_keyword("CASE")) return parse_case();
  if (t.is_keyword("CAST")) return parse_cast();
  if (t.is_keyword("EXTRACT")) return parse_extract();
  if (t.is_keyword("INTERVAL")) return parse_interval();
  if (t.is_keyword("EXISTS")) unsupported(t, "subqueries are not supported");
  if (t.is_keyword("ARRAY") && peek(1).is_symbol("[")) return parse_array_constructor();
  bool typed = t.is_keyword("TIMESTAMP") || t.is_keyword("DATE") || t.is_keyword("TIME");
  if (typed && peek(1).kind == TokenKind::kString) return parse_typed_literal();
  bool reserved = is_reserved(t);
  if (peek(1).is_symbol("(") && (!reserved || t.is_keyword("LEFT") || t.is_keyword("RIGHT"))) {
    return parse_function(next());
  }
  if (!reserved) return parse_column_ref();
  if (t.is_keyword("OVER") || t.is_keyword("WINDOW")) {
    unsupported(t, "windows are not supported yet");
  }
  if (name_like_reserved(t)) {
    fail(t, "expected expression, found '" + t.value +
                "', a reserved word; quote it to use it as a name: \"" + t.value + "\"");
  }
  fail_expected(t, "expression");
}

ExprPtr Parser::parse_column_ref() {
  const Token& first = next();
  ExprPtr e = node(ExprKind::kColumnRef, first);
  e->name = first.value;
  if (accept_symbol(".")) {
    const Token& col = peek();
    if (col.is_symbol("*")) fail(col, "'" + first.value + ".*' is only allowed as a SELECT item");
    bool name = col.kind == TokenKind::kQuotedIdentifier ||
                (col.kind == TokenKind::kIdentifier && !is_reserved(col));
    if (!name) {
      fail_expected(col, "column name after '.'");
    }
    e->qualifier = std::move(e->name);
    e->name = next().value;
  }
  e = seal(std::move(e));
  // a.b.c...: the parts after the second are STRUCT fields.
  while (peek().is_symbol(".")) {
    next();
    const Token& name = peek();
    if (!is_field_name(name)) fail_expected(name, "field name after '.'");
    ExprPtr f = node(ExprKind::kField, first);
    f->name = next().value;
    f->args.push_back(std::move(e));
    e = seal(std::move(f));
  }
  return e;
}

// ARRAY[a, b, ...] (ARRAY[] is an empty array): the function ARRAY.
ExprPtr Parser::parse_array_constructor() {
  const Token& kw = next();
  ExprPtr e = node(ExprKind::kFunction, kw);
  e->name = "ARRAY";
  const Token& open = next();
  if (!peek().is_symbol("]")) {
    do {
      e->args.push_back(parse_expr());
    } while (accept_symbol(","));
  }
  expect_close_bracket(open);
  return seal(std::move(e));
}

ExprPtr Parser::parse_literal() {
  const Token& t = next();
  ExprPtr e = node(ExprKind::kLiteral, t);
  switch (t.kind) {
    case TokenKind::kInteger:
      e->literal_kind = LiteralKind::kInteger;
      break;
    case TokenKind::kDecimal:
      e->literal_kind = LiteralKind::kDecimal;
      break;
    case TokenKind::kDouble:
      e->literal_kind = LiteralKind::kDouble;
      break;
    case TokenKind::kString:
      e->literal_kind = LiteralKind::kString;
      break;
    default:
      e->literal_kind = t.is_keyword("NULL") ? LiteralKind::kNull : LiteralKind::kBoolean;
      e->text = to_upper(t.value);
      return seal(std::move(e));
  }
  e->text = t.value;
  return seal(std::move(e));
}

}  // namespace sluice::sql
