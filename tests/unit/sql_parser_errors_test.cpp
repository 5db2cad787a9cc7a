// SQL lexer and parser errors: every message with its line:column, unsupported constructs,
// nesting limits, and random inputs that must never crash.

#include "common/error.hpp"
#include "sql/parser.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "sql_parser_test_util.hpp"

using namespace sluice;
using namespace sluice::sql;
using namespace sluice::sql::testing;

TEST_CASE("syntax errors: message and line:column", "[sql]") {
  auto e = [](const std::string& sql) { return error_of(sql); };
  // Lexer.
  CHECK(e("SELECT 'abc FROM t") == "SQL_SYNTAX 1:8: unterminated string literal");
  CHECK(e("SELECT \"abc FROM t") == "SQL_SYNTAX 1:8: unterminated quoted identifier");
  CHECK(e("SELECT `` FROM t") == "SQL_SYNTAX 1:8: empty quoted identifier");
  CHECK(e("SELECT a /* never\n closed") == "SQL_SYNTAX 1:10: unterminated block comment");
  CHECK(e("SELECT # FROM t") == "SQL_SYNTAX 1:8: unexpected character '#'");
  CHECK(e("SELECT a\n  ?") == "SQL_SYNTAX 2:3: unexpected character '?'");
  CHECK(e(std::string("SELECT \x01")) == "SQL_SYNTAX 1:8: unexpected character '\\x01'");
  CHECK(e("SELECT \xC3\xA9 FROM t") == "SQL_SYNTAX 1:8: unexpected character '\xC3\xA9'");
  CHECK(e("SELECT 12abc FROM t") == "SQL_SYNTAX 1:8: invalid number '12abc'");
  CHECK(e("SELECT 1.2.3 FROM t") == "SQL_SYNTAX 1:8: invalid number '1.2.3'");
  CHECK(e("SELECT 1e FROM t") ==
        "SQL_SYNTAX 1:8: invalid number '1e': expected digits after the exponent");
  // Statement structure.
  CHECK(e("") == "SQL_SYNTAX 1:1: empty query, expected SELECT");
  CHECK(e(" -- nothing\n") == "SQL_SYNTAX 1:1: empty query, expected SELECT");
  CHECK(e("SELCT a FROM t") == "SQL_SYNTAX 1:1: expected SELECT, found 'SELCT'");
  CHECK(e("SELECT a, b, c FORM t") == "SQL_SYNTAX 1:16: expected FROM, found 'FORM'");
  CHECK(e("SELECT a FROM") == "SQL_SYNTAX 1:14: unexpected end of query, expected source name");
  CHECK(e("SELECT a FROM t WHERE") ==
        "SQL_SYNTAX 1:22: unexpected end of query, expected expression");
  CHECK(e("SELECT") == "SQL_SYNTAX 1:7: unexpected end of query, expected expression");
  CHECK(e("SELECT a b c FROM t") == "SQL_SYNTAX 1:12: expected FROM, found 'c'");
  CHECK(e("SELECT a, FROM t") == "SQL_SYNTAX 1:9: unexpected ',' before FROM");
  CHECK(e("SELECT a FROM t WHRE a > 1") ==
        "SQL_SYNTAX 1:17: expected WHERE, GROUP BY, HAVING, EMIT or end of query, found 'WHRE' "
        "(did you mean WHERE?)");
  CHECK(e("SELECT a FROM t WHERE a > 1 GROPU BY a") ==
        "SQL_SYNTAX 1:29: expected GROUP BY, HAVING, EMIT or end of query, found 'GROPU' (did "
        "you mean GROUP?)");
  CHECK(e("SELECT a FROM t WHERE a = 1 b = 2") ==
        "SQL_SYNTAX 1:29: expected GROUP BY, HAVING, EMIT or end of query, found 'b'");
  CHECK(e("SELECT a FROM t GROUP a") == "SQL_SYNTAX 1:23: expected BY after GROUP, found 'a'");
  CHECK(e("SELECT a FROM t GROUP BY a WHERE b") ==
        "SQL_SYNTAX 1:28: WHERE is out of place; clauses go in the order SELECT, FROM, WHERE, "
        "GROUP BY, HAVING, EMIT");
  CHECK(e("SELECT a FROM t EMIT") ==
        "SQL_SYNTAX 1:21: unexpected end of query, expected CHANGES or FINAL after EMIT");
  CHECK(e("SELECT a FROM t EMIT FINL") ==
        "SQL_SYNTAX 1:22: expected CHANGES or FINAL after EMIT, found 'FINL' (did you mean "
        "FINAL?)");
  CHECK(e("SELECT a FROM t EMIT CHANGES x") == "SQL_SYNTAX 1:30: expected end of query, found 'x'");
  CHECK(e("SELECT a FROM t; SELECT b FROM t") ==
        "SQL_SYNTAX 1:18: only one statement is allowed, found 'SELECT'");
  CHECK(e("SELECT a FROM x.y") ==
        "SQL_SYNTAX 1:16: source names have one part; quote a name that contains '.', e.g. "
        "\"orders.v1\"");
  CHECK(e("SELECT a AS FROM t") ==
        "SQL_SYNTAX 1:13: expected alias, found 'FROM', a reserved word; quote it to use it as "
        "a name: \"FROM\"");
  CHECK(e("SELECT a AS 'x' FROM t") == "SQL_SYNTAX 1:13: expected alias, found string 'x'");
  CHECK(e("SELECT * AS x FROM t") == "SQL_SYNTAX 1:10: expected FROM, found 'AS'");
}

TEST_CASE("expression errors: message and line:column", "[sql]") {
  auto e = [](const std::string& sql) { return error_of(sql); };
  CHECK(e("SELECT (a + b FROM t") ==
        "SQL_SYNTAX 1:15: expected ')' to close '(' at 1:8, found 'FROM'");
  CHECK(e("SELECT a FROM t WHERE f(a, (b) > 1") ==
        "SQL_SYNTAX 1:35: unexpected end of query, expected ')' to close '(' at 1:24");
  CHECK(e("SELECT a + FROM t") == "SQL_SYNTAX 1:12: expected expression, found 'FROM'");
  CHECK(e("SELECT a + * FROM t") == "SQL_SYNTAX 1:12: expected expression, found '*'");
  CHECK(e("SELECT order FROM t") ==
        "SQL_SYNTAX 1:8: expected expression, found 'order', a reserved word; quote it to use it "
        "as a name: \"order\"");
  CHECK(e("SELECT a.b. FROM t") == "SQL_SYNTAX 1:13: expected field name after '.', found 'FROM'");
  CHECK(e("SELECT a->1 FROM t") == "SQL_SYNTAX 1:11: expected field name after '->', found '1'");
  CHECK(e("SELECT a. FROM t") == "SQL_SYNTAX 1:11: expected column name after '.', found 'FROM'");
  CHECK(e("SELECT count(t.*) FROM t") == "SQL_SYNTAX 1:16: 't.*' is only allowed as a SELECT item");
  CHECK(e("SELECT f(*, x) FROM t") ==
        "SQL_SYNTAX 1:11: expected ')' to close '(' at 1:9, found ','");
  CHECK(e("SELECT a FROM t WHERE a IS 5") ==
        "SQL_SYNTAX 1:28: expected NULL or NOT NULL after IS, found '5'");
  CHECK(e("SELECT a FROM t WHERE a IS NOT 5") ==
        "SQL_SYNTAX 1:32: expected NULL after IS NOT, found '5'");
  CHECK(e("SELECT a FROM t WHERE a BETWEEN 1 OR 2") ==
        "SQL_SYNTAX 1:35: expected AND after the lower bound of BETWEEN, found 'OR'");
  CHECK(e("SELECT a FROM t WHERE a IN 1") == "SQL_SYNTAX 1:28: expected '(' after IN, found '1'");
  CHECK(e("SELECT a FROM t WHERE a IN ()") == "SQL_SYNTAX 1:29: expected expression, found ')'");
  CHECK(e("SELECT CASE END FROM t") == "SQL_SYNTAX 1:13: expected WHEN, found 'END'");
  CHECK(e("SELECT CASE a ELSE 1 END FROM t") == "SQL_SYNTAX 1:15: expected WHEN, found 'ELSE'");
  CHECK(e("SELECT CASE WHEN a 1 END FROM t") == "SQL_SYNTAX 1:20: expected THEN, found '1'");
  CHECK(e("SELECT CASE WHEN a THEN 1 FROM t") ==
        "SQL_SYNTAX 1:27: expected END to close CASE at 1:8, found 'FROM'");
  CHECK(e("SELECT CAST a FROM t") == "SQL_SYNTAX 1:13: expected '(' after CAST, found 'a'");
  CHECK(e("SELECT CAST(a, INT) FROM t") ==
        "SQL_SYNTAX 1:14: expected AS in CAST(expression AS type), found ','");
  CHECK(e("SELECT CAST(a AS) FROM t") == "SQL_SYNTAX 1:17: expected type name, found ')'");
  CHECK(e("SELECT CAST(a AS DECIMAL(x)) FROM t") ==
        "SQL_SYNTAX 1:26: expected type length or precision, found 'x'");
  CHECK(e("SELECT CAST(a AS DECIMAL(1,2,3)) FROM t") ==
        "SQL_SYNTAX 1:29: expected ')' to close '(' at 1:25, found ','");
  CHECK(e("SELECT EXTRACT(fortnight FROM ts) FROM t") ==
        "SQL_SYNTAX 1:16: unknown EXTRACT field 'fortnight'; expected YEAR, MONTH, DAY, HOUR, "
        "MINUTE, SECOND, MILLISECOND, DOW, DOY, WEEK, QUARTER or EPOCH");
  CHECK(e("SELECT EXTRACT(YEAR ts) FROM t") ==
        "SQL_SYNTAX 1:21: expected FROM in EXTRACT(field FROM expression), found 'ts'");
  CHECK(e("SELECT INTERVAL x MINUTE FROM t") ==
        "SQL_SYNTAX 1:17: expected interval quantity, e.g. '5' or 5, found 'x'");
  CHECK(e("SELECT INTERVAL '5' FROM t") ==
        "SQL_SYNTAX 1:21: expected interval unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY), "
        "found 'FROM'");
  CHECK(e("SELECT INTERVAL '5' FORTNIGHT FROM t") ==
        "SQL_SYNTAX 1:21: expected interval unit (MILLISECOND, SECOND, MINUTE, HOUR or DAY), "
        "found 'FORTNIGHT'");
  CHECK(e("SELECT TRIM(LEADING 'x' s) FROM t") ==
        "SQL_SYNTAX 1:25: expected FROM in TRIM(LEADING ... FROM string), found 's'");
  // Long tokens are cut in messages.
  CHECK(e("SELECT a FROM t WHERE x = 1 '" + std::string(59, 'y') + "'") ==
        "SQL_SYNTAX 1:29: expected GROUP BY, HAVING, EMIT or end of query, found string '" +
            std::string(36, 'y') + "...");
}

TEST_CASE("unsupported constructs", "[sql]") {
  auto e = [](const std::string& sql) { return error_of(sql); };
  CHECK(e("SELECT a FROM t RIGHT JOIN u ON 1") ==
        "SQL_UNSUPPORTED 1:17: RIGHT JOIN is not supported; write it as a LEFT JOIN with the "
        "sources swapped");
  CHECK(e("SELECT a FROM t CROSS JOIN u") ==
        "SQL_UNSUPPORTED 1:17: CROSS JOIN is not supported; join with ... JOIN b ON a.k = b.k");
  CHECK(e("SELECT a FROM t JOIN u ON 1 WHERE a JOIN v ON 1") ==
        "SQL_UNSUPPORTED 1:37: a JOIN goes right after FROM's source");
  CHECK(e("SELECT a FROM t, u") ==
        "SQL_UNSUPPORTED 1:16: FROM takes one source; read a second one with JOIN ... ON");
  CHECK(e("SELECT a FROM t ORDER BY a") == "SQL_UNSUPPORTED 1:17: ORDER BY is not supported");
  CHECK(e("SELECT a FROM t WHERE b LIMIT 10") == "SQL_UNSUPPORTED 1:25: LIMIT is not supported");
  CHECK(e("SELECT a FROM t UNION SELECT b FROM u") ==
        "SQL_UNSUPPORTED 1:17: UNION is not supported");
  CHECK(e("SELECT a FROM (SELECT b FROM t)") ==
        "SQL_UNSUPPORTED 1:15: subqueries are not supported");
  CHECK(e("SELECT a FROM t WHERE a IN (SELECT b FROM u)") ==
        "SQL_UNSUPPORTED 1:29: subqueries are not supported");
  CHECK(e("SELECT (SELECT 1) FROM t") == "SQL_UNSUPPORTED 1:9: subqueries are not supported");
  CHECK(e("SELECT a FROM t WHERE EXISTS (SELECT 1)") ==
        "SQL_UNSUPPORTED 1:23: subqueries are not supported");
  CHECK(e("WITH x AS (SELECT 1) SELECT a FROM x") == "SQL_UNSUPPORTED 1:1: WITH is not supported");
  CHECK(e("INSERT INTO t VALUES (1)") == "SQL_UNSUPPORTED 1:1: only SELECT queries are supported");
  CHECK(e("SELECT a FROM t WHERE a ILIKE 'x'") ==
        "SQL_UNSUPPORTED 1:25: ILIKE is not supported; use LOWER(x) LIKE 'pattern'");
}

TEST_CASE("nesting limits", "[sql]") {
  auto nested = [](int n) {
    return "SELECT " + std::string(n, '(') + "1" + std::string(n, ')') + " FROM t";
  };
  CHECK(error_of(nested(255)) == "no error");
  CHECK(error_of(nested(300)) ==
        "SQL_SYNTAX 1:264: expression is nested too deeply (more than 256 levels)");
  std::string nots = "SELECT ";
  for (int i = 0; i < 5000; ++i)
    nots += "NOT ";
  CHECK(error_of(nots + "a FROM t").find("nested too deeply") != std::string::npos);
  std::string minus = "SELECT ";
  for (int i = 0; i < 5000; ++i)
    minus += "- ";
  CHECK(error_of(minus + "1 FROM t").find("nested too deeply") != std::string::npos);
  std::string calls = "SELECT ";
  for (int i = 0; i < 5000; ++i)
    calls += "f(";
  CHECK(error_of(calls + "1 FROM t").find("nested too deeply") != std::string::npos);
  // Long flat chains do not recurse while parsing, but the tree they build is deep.
  auto chain = [](int n) {
    std::string sql = "SELECT a FROM t WHERE a = 0";
    for (int i = 1; i < n; ++i)
      sql += " OR a = " + std::to_string(i);
    return sql;
  };
  CHECK(error_of(chain(500)) == "no error");
  CHECK(error_of(chain(3000)) ==
        "SQL_SYNTAX 1:23: expression is too deep (more than 1000 levels); split long chains of "
        "operators, e.g. use IN (...) instead of ORs");
  std::string in_list = "SELECT a FROM t WHERE a IN (0";
  for (int i = 1; i < 20000; ++i)
    in_list.append(",").append(std::to_string(i));
  SelectStatement s = parse_select(in_list + ")");
  CHECK(s.where->args.size() == 20001);
}

TEST_CASE("garbage input never crashes", "[sql]") {
  std::mt19937 rng(20240115);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<std::string> words = {
      "SELECT",    "FROM",  "WHERE",    "GROUP",     "BY",      "HAVING",  "EMIT",     "CHANGES",
      "FINAL",     "AS",    "DISTINCT", "AND",       "OR",      "NOT",     "IS",       "NULL",
      "TRUE",      "IN",    "BETWEEN",  "LIKE",      "ESCAPE",  "REGEXP",  "CASE",     "WHEN",
      "THEN",      "ELSE",  "END",      "CAST",      "EXTRACT", "YEAR",    "INTERVAL", "MINUTE",
      "TIMESTAMP", "TRIM",  "LEADING",  "SUBSTRING", "FOR",     "LEFT",    "JOIN",     "OVER",
      "WINDOW",    "COUNT", "t",        "a",         "b",       "_key",    "\"q\"",    "`x`",
      "1",         "2.5",   ".5",       "1e3",       "'s'",     "'it''s'", "(",        ")",
      "(",         ")",     ",",        ".",         ";",       "*",       "+",        "-",
      "/",         "%",     "||",       "=",         "<>",      "!=",      "<",        "<=",
      ">",         ">=",    "--c\n",    "/*c*/",     "\n"};
  const std::string bytes = "SELECTFROMWHEREabc_19.,;()*+-/%|=<>!'\"`#?\\ \n\t\r\x01\xC3\xA9\xFF";
  std::vector<std::string> inputs;
  for (int i = 0; i < 2000; ++i) {  // token soup, mostly starting like a query
    std::string sql = pick(4) == 0 ? "" : "SELECT ";
    for (size_t n = pick(24); n > 0; --n)
      sql += words[pick(words.size())] + " ";
    inputs.push_back(sql);
  }
  for (int i = 0; i < 2000; ++i) {  // random bytes from a SQL-ish alphabet
    std::string sql;
    for (size_t n = pick(48); n > 0; --n)
      sql += bytes[pick(bytes.size())];
    inputs.push_back(sql);
  }
  const std::string valid =
      "SELECT DISTINCT a, t.*, CAST(b AS DECIMAL(18,4)) x, CASE WHEN c IN (1,2) THEN 'y' END, "
      "TRIM(LEADING 'x' FROM s), EXTRACT(HOUR FROM ts) FROM t AS q WHERE NOT a BETWEEN 1 AND 2 "
      "OR s LIKE 'a%' GROUP BY a HAVING COUNT(*) > INTERVAL '5' MINUTE EMIT FINAL;";
  for (int i = 0; i < 2000; ++i) {  // a valid query with a few bytes changed
    std::string sql = valid;
    for (size_t n = 1 + pick(3); n > 0; --n)
      sql[pick(sql.size())] = bytes[pick(bytes.size())];
    inputs.push_back(sql);
  }
  int parsed = 0;
  for (const std::string& sql : inputs) {
    try {
      SelectStatement s = parse_select(sql);
      check_positions(sql, s);
      ++parsed;
    } catch (const Error& e) {
      bool expected_code =
          e.code() == ErrorCode::kSqlSyntax || e.code() == ErrorCode::kSqlUnsupported;
      REQUIRE(expected_code);
      REQUIRE(e.location().known());
      REQUIRE(!e.detail().empty());
    }
  }
  CHECK(parsed > 0);  // the mutated queries sometimes stay valid
}
