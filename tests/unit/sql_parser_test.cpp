// SQL lexer and parser on valid input: structure (printed as S-expressions), locations, spans.
// Errors are in sql_parser_errors_test.cpp.

#include "sql/lexer.hpp"
#include "sql/parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sql_parser_test_util.hpp"

using namespace sluice;
using namespace sluice::sql;
using namespace sluice::sql::testing;

TEST_CASE("statement clauses", "[sql]") {
  SelectStatement s = parse_select(
      "select distinct a, count(*) AS n FROM orders o WHERE a > 1 GROUP BY a, b HAVING n > 2 "
      "EMIT CHANGES;");
  CHECK(s.distinct);
  REQUIRE(s.items.size() == 2);
  CHECK(sx(*s.items[0].expr) == "a");
  CHECK(s.items[1].alias == "n");
  CHECK(sx(*s.items[1].expr) == "(COUNT() *)");
  CHECK(s.from.name == "orders");
  CHECK(s.from.alias == "o");
  CHECK(sx(*s.where) == "(> a int:1)");
  REQUIRE(s.group_by.size() == 2);
  CHECK(sx(*s.group_by[1]) == "b");
  CHECK(sx(*s.having) == "(> n int:2)");
  CHECK(s.emit == EmitMode::kChanges);
  CHECK(same(s.emit_loc, {1, 87}));

  SelectStatement m = parse_select("SELECT a FROM t");
  CHECK_FALSE(m.distinct);
  CHECK(m.where == nullptr);
  CHECK(m.group_by.empty());
  CHECK(m.having == nullptr);
  CHECK(m.emit == EmitMode::kDefault);
  CHECK(m.from.alias.empty());
  CHECK(parse_select("SeLeCt a fRoM t eMiT fInAl").emit == EmitMode::kFinal);
  CHECK(parse_select("SELECT a FROM t AS x").from.alias == "x");
  CHECK(parse_select("SELECT a FROM \"My.Topic\" `Q`").from.name == "My.Topic");
  CHECK(parse_select("SELECT a FROM t;;").items.size() == 1);
}

TEST_CASE("select items: star, qualified star, aliases", "[sql]") {
  SelectStatement s =
      parse_select("SELECT *, t.*, a b, c AS \"Mixed Case\", d AS `x``y`, \"Col\" FROM t");
  REQUIRE(s.items.size() == 6);
  CHECK(s.items[0].star);
  CHECK(s.items[0].qualifier.empty());
  CHECK(s.items[0].expr == nullptr);
  CHECK(s.items[1].star);
  CHECK(s.items[1].qualifier == "t");
  CHECK(s.items[2].alias == "b");
  CHECK(s.items[3].alias == "Mixed Case");
  CHECK(s.items[4].alias == "x`y");
  CHECK(s.items[5].expr->name == "Col");
  CHECK(s.items[5].alias.empty());
}

TEST_CASE("identifiers and column references", "[sql]") {
  CHECK(sx("MyCol") == "MyCol");
  CHECK(sx("t.col") == "t.col");
  CHECK(sx("\"T\".\"a\"\"b\"") == "T.a\"b");
  CHECK(sx("`select`") == "select");
  CHECK(sx("_key + _timestamp + _partition + _offset") ==
        "(+ (+ (+ _key _timestamp) _partition) _offset)");
  CHECK(sx("timestamp + date") == "(+ timestamp date)");  // not typed literals without a string
  CHECK(sx("t.\"order\"") == "t.order");
  CHECK(sx("offset") == "offset");
}

TEST_CASE("literals", "[sql]") {
  CHECK(sx("42") == "int:42");
  CHECK(sx("1.5") == "dec:1.5");
  CHECK(sx(".5") == "dec:.5");
  CHECK(sx("5.") == "dec:5.");
  CHECK(sx("0.10") == "dec:0.10");
  CHECK(sx("1e3") == "dbl:1e3");
  CHECK(sx("1.5E-2") == "dbl:1.5E-2");
  CHECK(sx("2e+4") == "dbl:2e+4");
  CHECK(sx("'it''s'") == "'it's'");
  CHECK(sx("''") == "''");
  CHECK(sx("true") == "bool:TRUE");
  CHECK(sx("FALSE") == "bool:FALSE");
  CHECK(sx("null") == "NULL");
  CHECK(sx("TIMESTAMP '2024-01-15 10:00:00'") == "(CAST TIMESTAMP '2024-01-15 10:00:00')");
  CHECK(sx("date '2024-01-15'") == "(CAST DATE '2024-01-15')");
}

TEST_CASE("intervals", "[sql]") {
  CHECK(sx("INTERVAL '5' MINUTE") == "(INTERVAL 5 MINUTE)");
  CHECK(sx("INTERVAL 5 MINUTE") == "(INTERVAL 5 MINUTE)");
  CHECK(sx("interval '5' minutes") == "(INTERVAL 5 MINUTE)");
  CHECK(sx("INTERVAL '-5' SECOND") == "(INTERVAL -5 SECOND)");
  CHECK(sx("INTERVAL -5 HOURS") == "(INTERVAL -5 HOUR)");
  CHECK(sx("INTERVAL 1.5 DAY") == "(INTERVAL 1.5 DAY)");
  CHECK(sx("INTERVAL '10' MILLISECONDS") == "(INTERVAL 10 MILLISECOND)");
  CHECK(sx("INTERVAL '2' YEAR") == "(INTERVAL 2 YEAR)");
  CHECK(sx("INTERVAL '3' months") == "(INTERVAL 3 MONTH)");
  CHECK(sx("INTERVAL '1' WEEK") == "(INTERVAL 1 WEEK)");
  CHECK(sx("INTERVAL '5 minutes'") == "(INTERVAL 5 MINUTE)");
  CHECK(sx("ts + INTERVAL '1' HOUR") == "(+ ts (INTERVAL 1 HOUR))");
}

TEST_CASE("operator precedence and associativity", "[sql]") {
  CHECK(sx("a + b * c") == "(+ a (* b c))");
  CHECK(sx("(a + b) * c") == "(* (+ a b) c)");
  CHECK(sx("a - b - c") == "(- (- a b) c)");
  CHECK(sx("a / b % c * d") == "(* (% (/ a b) c) d)");
  CHECK(sx("-a * b") == "(* (- a) b)");
  CHECK(sx("- - +a") == "(- (- (+ a)))");
  CHECK(sx("a || b + c") == "(|| a (+ b c))");
  CHECK(sx("a || b || c") == "(|| (|| a b) c)");
  CHECK(sx("a = b || c") == "(= a (|| b c))");
  CHECK(sx("a OR b AND c") == "(OR a (AND b c))");
  CHECK(sx("a AND b OR c AND d") == "(OR (AND a b) (AND c d))");
  CHECK(sx("NOT a = b") == "(NOT (= a b))");
  CHECK(sx("NOT a AND b") == "(AND (NOT a) b)");
  CHECK(sx("NOT NOT a") == "(NOT (NOT a))");
  CHECK(sx("a + 1 > b * 2 AND c IS NULL") == "(AND (> (+ a int:1) (* b int:2)) (IS NULL c))");
  CHECK(sx("a BETWEEN 1 AND 2 AND b") == "(AND (BETWEEN a int:1 int:2) b)");
  CHECK(sx("a BETWEEN b + 1 AND c * 2") == "(BETWEEN a (+ b int:1) (* c int:2))");
  CHECK(sx("a + b IS NOT NULL") == "(IS NOT NULL (+ a b))");
}

TEST_CASE("comparison operators", "[sql]") {
  CHECK(sx("a = b") == "(= a b)");
  CHECK(sx("a == b") == "(= a b)");
  CHECK(sx("a <> b") == "(<> a b)");
  CHECK(sx("a != b") == "(<> a b)");
  CHECK(sx("a < b") == "(< a b)");
  CHECK(sx("a <= b") == "(<= a b)");
  CHECK(sx("a > b") == "(> a b)");
  CHECK(sx("a >= b") == "(>= a b)");
  // Non-associative: chaining needs parentheses.
  CHECK(sx("(a = b) = c") == "(= (= a b) c)");
  CHECK(error_of("SELECT a = b = c FROM t") ==
        "SQL_SYNTAX 1:14: cannot chain '=' after another comparison; add parentheses, or use AND "
        "as in a < b AND b < c");
  CHECK(error_of("SELECT a < b IS NULL FROM t").rfind("SQL_SYNTAX 1:14: cannot chain 'IS'", 0) ==
        0);
}

TEST_CASE("predicates", "[sql]") {
  CHECK(sx("a IS NULL") == "(IS NULL a)");
  CHECK(sx("a is not null") == "(IS NOT NULL a)");
  CHECK(sx("a NOT BETWEEN 1 AND 2") == "(NOT BETWEEN a int:1 int:2)");
  CHECK(sx("a IN (1, 'x', b + 1)") == "(IN a int:1 'x' (+ b int:1))");
  CHECK(sx("a NOT IN (1)") == "(NOT IN a int:1)");
  CHECK(sx("a LIKE 'x%'") == "(LIKE a 'x%')");
  CHECK(sx("a NOT LIKE 'x!%' ESCAPE '!'") == "(NOT LIKE a 'x!%' '!')");
  CHECK(sx("a REGEXP '^x'") == "(REGEXP_LIKE() a '^x')");
  CHECK(sx("a rlike b || 'x'") == "(REGEXP_LIKE() a (|| b 'x'))");
  CHECK(sx("a NOT REGEXP 'y'") == "(NOT (REGEXP_LIKE() a 'y'))");
}

TEST_CASE("function calls", "[sql]") {
  CHECK(sx("count(*)") == "(COUNT() *)");
  CHECK(sx("Count(DISTINCT a)") == "(COUNT() DISTINCT a)");
  CHECK(sx("now()") == "(NOW())");
  CHECK(sx("f(a, b + 1, g(c))") == "(F() a (+ b int:1) (G() c))");
  CHECK(sx("left(s, 2)") == "(LEFT() s int:2)");
  CHECK(sx("RIGHT(s, 2)") == "(RIGHT() s int:2)");
  CHECK(sx("replace(s, 'a', 'b')") == "(REPLACE() s 'a' 'b')");
  CHECK(sx("mod(a, 2) + power(a, 2)") == "(+ (MOD() a int:2) (POWER() a int:2))");
  CHECK(sx("coalesce(a, nullif(b, 0))") == "(COALESCE() a (NULLIF() b int:0))");
  CHECK(sx("if(a > 0, 'p', 'n')") == "(IF() (> a int:0) 'p' 'n')");
  CHECK(sx("trim(s)") == "(TRIM() s)");
  CHECK(sx("trim(s, 'x')") == "(TRIM() s 'x')");
  CHECK(sx("TRIM('x' FROM s)") == "(TRIM() s 'x')");
  CHECK(sx("TRIM(BOTH 'x' FROM s)") == "(TRIM() s 'x')");
  CHECK(sx("TRIM(both FROM s)") == "(TRIM() s)");
  CHECK(sx("TRIM(LEADING 'x' FROM s)") == "(LTRIM() s 'x')");
  CHECK(sx("TRIM(TRAILING FROM s)") == "(RTRIM() s)");
  CHECK(sx("trim(leading)") == "(TRIM() leading)");  // a column named leading
  CHECK(sx("SUBSTRING(s FROM 2)") == "(SUBSTRING() s int:2)");
  CHECK(sx("substring(s FROM 2 FOR 3)") == "(SUBSTRING() s int:2 int:3)");
  CHECK(sx("substring(s, 2, 3)") == "(SUBSTRING() s int:2 int:3)");
  CHECK(sx("trim") == "trim");  // names of functions stay usable as columns
}

TEST_CASE("CASE, CAST and EXTRACT", "[sql]") {
  CHECK(sx("CASE WHEN a > 1 THEN 'x' WHEN b THEN 'y' ELSE 'z' END") ==
        "(CASE else (> a int:1) 'x' b 'y' 'z')");
  CHECK(sx("case a when 1 then 'one' end") == "(CASE operand a int:1 'one')");
  CHECK(sx("CAST(a AS BIGINT)") == "(CAST BIGINT a)");
  CHECK(sx("cast(a as decimal(18, 4))") == "(CAST DECIMAL(18,4) a)");
  CHECK(sx("CAST(a AS varchar(10))") == "(CAST VARCHAR(10) a)");
  CHECK(sx("CAST(a AS TIMESTAMP(3))") == "(CAST TIMESTAMP(3) a)");
  CHECK(sx("CAST(a AS double precision)") == "(CAST DOUBLE PRECISION a)");
  CHECK(sx("EXTRACT(year FROM ts)") == "(EXTRACT YEAR ts)");
  for (const char* field : {"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND",
                            "DOW", "DOY", "WEEK", "QUARTER", "EPOCH"}) {
    CHECK(sx(std::string("EXTRACT(") + field + " FROM ts)") ==
          std::string("(EXTRACT ") + field + " ts)");
  }
}

TEST_CASE("comments and whitespace", "[sql]") {
  SelectStatement s = parse_select(
      "-- leading comment\nSELECT /* inline */ a -- trailing\n,b/**/FROM\tt\r\n/* end */");
  REQUIRE(s.items.size() == 2);
  CHECK(s.items[1].expr->name == "b");
  CHECK(s.from.name == "t");
  CHECK(sx("a--b\n+c") == "(+ a c)");
  CHECK(sx("a/*x*/-/**/b") == "(- a b)");
}

TEST_CASE("locations and spans", "[sql]") {
  const std::string sql = "SELECT a + b AS s, f(x, (y)) FROM t WHERE (a + b) * c > 1";
  SelectStatement s = parse_select(sql);
  const Expr& sum = *s.items[0].expr;
  CHECK(text_of(sql, sum.span) == "a + b");
  CHECK(same(sum.loc, {1, 8}));
  CHECK(text_of(sql, s.items[0].span) == "a + b AS s");
  CHECK(text_of(sql, sum.args[1]->span) == "b");
  CHECK(same(sum.args[1]->loc, {1, 12}));
  const Expr& call = *s.items[1].expr;
  CHECK(text_of(sql, call.span) == "f(x, (y))");  // includes the closing paren
  CHECK(text_of(sql, call.args[1]->span) == "y");
  CHECK(text_of(sql, s.from.span) == "t");
  CHECK(same(s.from.loc, {1, 35}));
  CHECK(text_of(sql, s.where->span) == "(a + b) * c > 1");
  CHECK(text_of(sql, s.where->args[0]->span) == "(a + b) * c");
  CHECK(text_of(sql, s.where->args[0]->args[0]->span) == "a + b");

  const std::string forms =
      "SELECT CAST(a AS INT), x NOT IN (1, 2), CASE WHEN a THEN b END, INTERVAL '5' MINUTE, "
      "TIMESTAMP '2024-01-01', NOT a, -b, c IS NOT NULL, t.* FROM src AS q";
  SelectStatement f = parse_select(forms);
  std::vector<std::string> texts;
  for (const SelectItem& item : f.items)
    texts.push_back(text_of(forms, item.span));
  CHECK(texts == std::vector<std::string>{"CAST(a AS INT)", "x NOT IN (1, 2)",
                                          "CASE WHEN a THEN b END", "INTERVAL '5' MINUTE",
                                          "TIMESTAMP '2024-01-01'", "NOT a", "-b", "c IS NOT NULL",
                                          "t.*"});
  CHECK(text_of(forms, f.items[4].expr->args[0]->span) == "'2024-01-01'");
  CHECK(text_of(forms, f.from.span) == "src AS q");
  check_positions(forms, f);
}

TEST_CASE("locations in a multi-line query with comments", "[sql]") {
  const std::string sql =
      "-- header\n"
      "SELECT id,\n"
      "  /* a block\n"
      "     comment */ price * qty AS total\n"
      "FROM orders\n"
      "WHERE price > 10 -- cheap ones out\n"
      "EMIT CHANGES";
  SelectStatement s = parse_select(sql);
  CHECK(same(s.items[0].loc, {2, 8}));
  CHECK(same(s.items[1].loc, {4, 17}));
  CHECK(text_of(sql, s.items[1].expr->span) == "price * qty");
  CHECK(same(s.items[1].expr->args[1]->loc, {4, 25}));
  CHECK(same(s.from.loc, {5, 6}));
  CHECK(same(s.where->loc, {6, 7}));
  CHECK(same(s.where->args[1]->loc, {6, 15}));
  CHECK(same(s.emit_loc, {7, 1}));
  CHECK(check_positions(sql, s) == 7);

  CHECK(error_of("SELECT a,\n  b\nFORM t") == "SQL_SYNTAX 3:1: expected FROM, found 'FORM'");
  CHECK(error_of("SELECT 'multi\nline' x,\n  # FROM t") ==
        "SQL_SYNTAX 3:3: unexpected character '#'");
}

TEST_CASE("location_of", "[sql]") {
  std::string text = "ab\ncd\n\nefg";
  CHECK(same(location_of(text, 0), {1, 1}));
  CHECK(same(location_of(text, 1), {1, 2}));
  CHECK(same(location_of(text, 2), {1, 3}));  // the newline itself
  CHECK(same(location_of(text, 3), {2, 1}));
  CHECK(same(location_of(text, 6), {3, 1}));
  CHECK(same(location_of(text, 9), {4, 3}));
  CHECK(same(location_of(text, 10), {4, 4}));   // one past the end
  CHECK(same(location_of(text, 999), {4, 4}));  // clamped
  CHECK(same(location_of("", 0), {1, 1}));
}

TEST_CASE("lexer tokens", "[sql]") {
  std::vector<Token> t = tokenize("a.\"B\" != 1.5e3 || 'x''y' <= `c`");
  REQUIRE(t.size() == 10);
  CHECK(t[0].kind == TokenKind::kIdentifier);
  CHECK(t[1].is_symbol("."));
  CHECK(t[2].kind == TokenKind::kQuotedIdentifier);
  CHECK(t[2].value == "B");
  CHECK(t[3].is_symbol("<>"));
  CHECK(t[4].kind == TokenKind::kDouble);
  CHECK(t[5].is_symbol("||"));
  CHECK(t[6].kind == TokenKind::kString);
  CHECK(t[6].value == "x'y");
  CHECK(t[6].raw == "'x''y'");
  CHECK(t[7].is_symbol("<="));
  CHECK(t[8].value == "c");
  CHECK(tokenize("  ").back().kind == TokenKind::kEnd);
  std::vector<Token> end = tokenize("ab  \n ");
  CHECK(end[1].kind == TokenKind::kEnd);
  CHECK(end[1].begin == 2);
  CHECK(same(end[1].loc, {1, 3}));
}
