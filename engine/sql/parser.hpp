#pragma once
// SQL text -> AST. Keywords are case-insensitive; `--` line and `/* */` block comments are skipped;
// identifiers may be double-quoted or back-quoted to keep case or use reserved words.
// Errors throw sluice::Error(kSqlSyntax) whose location is the offending token and whose message
// quotes it, e.g. `1:15: expected FROM, found 'FORM'`.

#include <string_view>

#include "sql/ast.hpp"

namespace sluice::sql {

SelectStatement parse_select(std::string_view sql);

// line:column (1-based) of a byte offset in `text`.
Location location_of(std::string_view text, uint32_t offset);

}  // namespace sluice::sql
