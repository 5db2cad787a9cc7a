#include "plan/source_schema.hpp"

#include "sql/lexer.hpp"

namespace sluice::plan {

types::DataType headers_type() {
  static const types::DataType type = types::DataType::array(types::DataType::structure(
      {{"key", types::DataType::string()}, {"value", types::DataType::bytes()}}));
  return type;
}

bool reads_headers(std::string_view sql) {
  std::vector<sql::Token> tokens = sql::tokenize(sql);
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const sql::Token& t = tokens[i];
    if ((t.kind == sql::TokenKind::kIdentifier || t.kind == sql::TokenKind::kQuotedIdentifier) &&
        sql::to_upper(t.value) == "_HEADERS")
      return true;
    if (t.is_keyword("HEADER") && tokens[i + 1].is_symbol("(")) return true;
  }
  return false;
}

}  // namespace sluice::plan
