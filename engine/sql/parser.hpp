#pragma once
// SQL text -> AST. Keywords are case-insensitive; `--` line and `/* */` block comments are skipped;
// identifiers may be double-quoted or back-quoted to keep case or use reserved words.
// Errors throw sluice::Error(kSqlSyntax) whose location is the offending token and whose message
// quotes it, e.g. `1:15: expected FROM, found 'FORM'`. Valid SQL that sluice does not run (JOIN,
// ORDER BY, LIMIT, UNION, subqueries, windows for now) throws kSqlUnsupported instead.
//
// Shape of the result: comparisons, IS, BETWEEN, IN, LIKE and REGEXP are non-associative
// (`a = b = c` is an error asking for parentheses); `-5` is a unary minus over the literal 5;
// a node's span covers its own text, not parentheses around it (`(a + b)` -> "a + b"), but
// an operator's span covers its operands' parentheses. Nesting is limited (256 levels of
// parentheses/calls/NOT, trees at most 1000 deep), so recursive walks of the AST are safe.

#include "sql/ast.hpp"

#include <string_view>

namespace sluice::sql {

SelectStatement parse_select(std::string_view sql);

// line:column (1-based) of a byte offset in `text`.
Location location_of(std::string_view text, uint32_t offset);

}  // namespace sluice::sql
