#pragma once
// SQL text -> tokens, all at once (queries are small; the parser wants cheap lookahead).
// Skips whitespace, `-- line` and `/* block */` comments. Keywords are not told apart from
// identifiers here: the parser matches unquoted identifiers case-insensitively.
// Errors (unterminated string, unexpected character, ...) throw sluice::Error(kSqlSyntax) located
// at the offending character. Stateless; safe to call from any thread.

#include "common/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sql {

enum class TokenKind : uint8_t {
  kEnd,               // end of the query; `begin`/`end` sit right after the last token
  kIdentifier,        // unquoted: value == text as written (keywords are identifiers too)
  kQuotedIdentifier,  // "x" or `x`: value is the name, quotes removed, doubled quotes unescaped
  kInteger,           // 42
  kDecimal,           // 1.5  .5  5.
  kDouble,            // 1e3  1.5E-2
  kString,            // 'it''s': value is the content, unescaped
  kDuration,          // 500ms 30s 1m 2h 1d: an integer with a unit suffix (WINDOW arguments)
  kSymbol,  // ( ) [ ] , . ; * + - / % || = <> < <= > >= -> :=  ("!=" -> "<>", "==" -> "=")
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view raw;  // the token as written
  std::string value;
  uint32_t begin = 0;  // byte offsets in the query text
  uint32_t end = 0;
  Location loc;

  bool is_symbol(std::string_view s) const { return kind == TokenKind::kSymbol && value == s; }
  // Unquoted identifier equal to `upper_keyword` ignoring case.
  bool is_keyword(std::string_view upper_keyword) const;
};

// The tokens of `sql`, always ending with one kEnd token.
std::vector<Token> tokenize(std::string_view sql);

// ASCII upper-case copy.
std::string to_upper(std::string_view s);

}  // namespace sluice::sql
