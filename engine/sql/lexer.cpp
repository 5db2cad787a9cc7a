#include "sql/lexer.hpp"

#include <cstdio>
#include <limits>

namespace sluice::sql {
namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Length of the UTF-8 sequence starting at `s[0]`, or 0 when it is not valid UTF-8.
size_t utf8_length(std::string_view s) {
  auto b = static_cast<unsigned char>(s[0]);
  size_t n = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
  if (n == 0 || n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// The character at `s[0]` as it can be quoted in a message: itself, or \xNN when not printable.
std::string describe_char(std::string_view s) {
  auto b = static_cast<unsigned char>(s[0]);
  if (b >= 0x20 && b < 0x7F) return std::string(1, s[0]);
  if (size_t n = utf8_length(s); n > 0) return std::string(s.substr(0, n));
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", b);
  return buf;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    uint32_t last_end = 0;
    Location last_loc{1, 1};
    while (skip_space_and_comments()) {
      out.push_back(next_token());
      last_end = out.back().end;
      last_loc = here();
    }
    Token end;
    end.begin = end.end = last_end;
    end.loc = last_loc;
    out.push_back(std::move(end));
    return out;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }
  Location here() const { return {line_, pos_ - line_start_ + 1}; }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  [[noreturn]] void fail(Location loc, std::string message) const {
    throw Error(ErrorCode::kSqlSyntax, std::move(message), loc);
  }

  // Returns false at the end of the text.
  bool skip_space_and_comments() {
    while (!at_end()) {
      char c = peek();
      if (is_space(c)) {
        advance();
      } else if (c == '-' && peek(1) == '-') {
        while (!at_end() && peek() != '\n')
          advance();
      } else if (c == '/' && peek(1) == '*') {
        skip_block_comment();
      } else {
        return true;
      }
    }
    return false;
  }

  void skip_block_comment() {
    Location start = here();
    advance();
    advance();
    while (!(peek() == '*' && peek(1) == '/')) {
      if (at_end()) fail(start, "unterminated block comment");
      advance();
    }
    advance();
    advance();
  }

  Token next_token() {
    Token t;
    t.begin = pos_;
    t.loc = here();
    char c = peek();
    if (is_ident_start(c)) {
      lex_identifier(t);
    } else if (is_digit(c) || (c == '.' && is_digit(peek(1)))) {
      lex_number(t);
    } else if (c == '\'') {
      lex_quoted(t, '\'', TokenKind::kString, "unterminated string literal");
    } else if (c == '"' || c == '`') {
      lex_quoted(t, c, TokenKind::kQuotedIdentifier, "unterminated quoted identifier");
      if (t.value.empty()) fail(t.loc, "empty quoted identifier");
    } else {
      lex_symbol(t);
    }
    t.end = pos_;
    t.raw = text_.substr(t.begin, t.end - t.begin);
    if (t.kind == TokenKind::kIdentifier || t.kind == TokenKind::kInteger ||
        t.kind == TokenKind::kDecimal || t.kind == TokenKind::kDouble ||
        t.kind == TokenKind::kDuration) {
      t.value = std::string(t.raw);
    }
    return t;
  }

  void lex_identifier(Token& t) {
    t.kind = TokenKind::kIdentifier;
    while (is_ident_char(peek()))
      advance();
  }

  void skip_digits() {
    while (is_digit(peek()))
      advance();
  }

  void lex_number(Token& t) {
    t.kind = TokenKind::kInteger;
    skip_digits();
    if (peek() == '.') {
      t.kind = TokenKind::kDecimal;
      advance();
      skip_digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      t.kind = TokenKind::kDouble;
      advance();
      if (peek() == '+' || peek() == '-') advance();
      if (!is_digit(peek())) bad_number(t, "expected digits after the exponent");
      skip_digits();
    }
    if (t.kind == TokenKind::kInteger && lex_duration_suffix()) {
      t.kind = TokenKind::kDuration;
      return;
    }
    // `123abc` or `1.2.3` is a typo, not a number followed by an alias.
    if (is_ident_char(peek()) || peek() == '.') bad_number(t, "");
  }

  // `ms`, `s`, `m`, `h` or `d` (any case) right after an integer and ending the word: consumed.
  bool lex_duration_suffix() {
    size_t n = 0;
    while (is_ident_char(peek(n)))
      ++n;
    std::string unit = to_upper(text_.substr(pos_, n));
    if (unit != "MS" && unit != "S" && unit != "M" && unit != "H" && unit != "D") return false;
    for (size_t i = 0; i < n; ++i)
      advance();
    return true;
  }

  [[noreturn]] void bad_number(const Token& t, std::string_view why) {
    while (is_ident_char(peek()) || peek() == '.')
      advance();
    std::string msg = "invalid number '" + std::string(text_.substr(t.begin, pos_ - t.begin)) + "'";
    if (!why.empty()) msg += ": " + std::string(why);
    fail(t.loc, std::move(msg));
  }

  // '...' strings and "..." / `...` identifiers: the quote doubled inside stands for itself.
  void lex_quoted(Token& t, char quote, TokenKind kind, const char* unterminated) {
    t.kind = kind;
    advance();
    for (;;) {
      if (at_end()) fail(t.loc, unterminated);
      char c = peek();
      advance();
      if (c == quote) {
        if (peek() != quote) return;
        advance();
      }
      t.value.push_back(c);
    }
  }

  void lex_symbol(Token& t) {
    t.kind = TokenKind::kSymbol;
    char c = peek();
    char d = peek(1);
    auto two = [&](const char* value) {
      advance();
      advance();
      t.value = value;
    };
    if (c == '|' && d == '|') return two("||");
    if (c == '<' && d == '>') return two("<>");
    if (c == '!' && d == '=') return two("<>");
    if (c == '<' && d == '=') return two("<=");
    if (c == '>' && d == '=') return two(">=");
    if (c == '=' && d == '=') return two("=");
    if (c == '-' && d == '>') return two("->");
    if (c == ':' && d == '=') return two(":=");
    switch (c) {
      case '[':
      case ']':
      case '(':
      case ')':
      case ',':
      case '.':
      case ';':
      case '*':
      case '+':
      case '-':
      case '/':
      case '%':
      case '=':
      case '<':
      case '>':
        advance();
        t.value = std::string(1, c);
        return;
      default:
        fail(t.loc, "unexpected character '" + describe_char(text_.substr(pos_)) + "'");
    }
  }

  std::string_view text_;
  uint32_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t line_start_ = 0;
};

}  // namespace

bool Token::is_keyword(std::string_view upper_keyword) const {
  if (kind != TokenKind::kIdentifier || value.size() != upper_keyword.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper_keyword[i]) return false;
  }
  return true;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::vector<Token> tokenize(std::string_view sql) {
  if (sql.size() >= std::numeric_limits<uint32_t>::max()) {
    throw Error(ErrorCode::kSqlSyntax, "query is too long");
  }
  return Lexer(sql).run();
}

}  // namespace sluice::sql
