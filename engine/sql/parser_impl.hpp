#pragma once
// Internal to engine/sql: the recursive-descent parser behind `parse_select`. One object parses one
// query and is then thrown away. Split over parser.cpp (statement, clauses, errors),
// parser_expr.cpp (operators by precedence, primaries) and parser_forms.cpp (CASE, CAST, EXTRACT,
// INTERVAL, TRIM, SUBSTRING, function calls).
//
// Depth: recursion (parentheses, nested calls, NOT/unary chains) is limited to kMaxNesting levels,
// and the height of the finished tree (which also grows with long `a OR b OR ...` chains built
// without recursion) to kMaxHeight, so neither the parser nor code walking the AST recursively
// (destructors, binder) can exhaust the stack.

#include "sql/ast.hpp"
#include "sql/lexer.hpp"

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice::sql {

inline constexpr uint32_t kMaxNesting = 256;
inline constexpr uint32_t kMaxHeight = 1000;

class Parser {
 public:
  explicit Parser(std::string_view sql) : tokens_(tokenize(sql)) {}
  SelectStatement parse_statement();

 private:
  // --- tokens (parser.cpp)
  const Token& peek(size_t k = 0) const;
  const Token& next();
  uint32_t prev_end() const { return pos_ > 0 ? tokens_[pos_ - 1].end : 0; }
  bool accept_keyword(std::string_view kw);
  bool accept_symbol(std::string_view s);
  const Token& expect_keyword(std::string_view kw);
  const Token& expect_symbol(std::string_view s, std::string_view what);
  // Consumes the `)` matching `open`, or fails with "expected ')' to close '(' at l:c".
  void expect_close(const Token& open);
  void expect_close_bracket(const Token& open);
  // After parsing: `q.name` with q not the source becomes a field of column q.
  void resolve_qualifiers(SelectStatement& stmt);

  // --- errors (parser.cpp)
  [[noreturn]] void fail(Location at, std::string message) const;
  [[noreturn]] void fail(const Token& at, std::string message) const {
    fail(at.loc, std::move(message));
  }
  [[noreturn]] void unsupported(const Token& at, std::string message) const;
  // "expected <what>, found 'x'" or "unexpected end of query, expected <what>".
  [[noreturn]] void fail_expected(const Token& at, std::string_view what) const;
  // Like fail_expected, adding "(did you mean X?)" when `at` looks like one of `keywords`.
  [[noreturn]] void fail_expected_clause(const Token& at, std::string_view what,
                                         const std::vector<std::string_view>& keywords) const;
  // Fails with kSqlUnsupported if `t` starts a construct sluice does not run (JOIN, ORDER BY...).
  void check_unsupported_clause(const Token& t) const;

  // --- statement (parser.cpp)
  void parse_select_list(SelectStatement& stmt);
  SelectItem parse_select_item();
  // Alias after an item or source: `AS name`, or a bare non-reserved name. Sets
  // implicit_alias_ when the alias had no AS (to spot misspelled keywords taken for aliases).
  std::string parse_alias();
  void parse_from(SelectStatement& stmt);
  // --- joins (parser_join.cpp)
  // Source name and alias of FROM or JOIN.
  TableRef parse_table_ref();
  // Every `... JOIN source ON condition` after FROM's source.
  void parse_joins(SelectStatement& stmt);
  void parse_group_by(SelectStatement& stmt);
  // --- time windows (parser_window.cpp)
  // After WINDOW (not yet consumed): a time window into stmt.window, or, when the words after
  // WINDOW are `name AS`, the named windows of OVER (parse_named_window). `time_window_allowed`
  // is false after HAVING, where only named windows may stand.
  void parse_window_clause(SelectStatement& stmt, bool time_window_allowed);
  void parse_time_window(SelectStatement& stmt, const Token& kind);
  void parse_ksql_window_args(WindowClause& w, const Token& open);
  ExprPtr parse_window_duration(std::string_view what);
  void parse_emit(SelectStatement& stmt);
  void parse_end(size_t clauses_done);

  // --- expressions (parser_expr.cpp)
  ExprPtr parse_expr();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_predicate();
  ExprPtr parse_predicate_tail(ExprPtr left, const Token& start);
  ExprPtr parse_in_list(ExprPtr left, const Token& start, bool negated);
  ExprPtr parse_concat();
  ExprPtr parse_additive();
  ExprPtr parse_multiplicative();
  ExprPtr parse_unary();
  ExprPtr parse_postfix();
  ExprPtr parse_primary();
  ExprPtr parse_array_constructor();
  ExprPtr parse_identifier_primary();
  ExprPtr parse_column_ref();
  ExprPtr parse_literal();

  // --- special forms (parser_forms.cpp)
  ExprPtr parse_function(const Token& name);
  void parse_call_args(Expr& fn);
  void parse_over(Expr& fn);

  // --- OVER analytics and named windows (parser_over.cpp)
  void parse_over_spec(OverClause& over, const Token& open);
  void parse_rows_frame(OverClause& over);
  void parse_window_buffer(OverClause& over);
  int64_t parse_row_count(std::string_view what);
  // True when the tokens after a consumed WINDOW are `name AS`: a named window, not TUMBLING(...).
  bool is_named_window_start() const;
  // After WINDOW: `name AS (spec)[, name AS (spec)]...` into stmt.named_windows.
  void parse_named_window(SelectStatement& stmt);
  ExprPtr parse_case();
  ExprPtr parse_cast();
  std::string parse_type_name();
  ExprPtr parse_extract();
  ExprPtr parse_interval();
  ExprPtr parse_typed_literal();
  ExprPtr parse_trim(const Token& name);
  ExprPtr parse_substring(const Token& name);

  // --- nodes (parser_expr.cpp)
  // A node starting at `start`; its span ends where the last consumed token ends (see `seal`).
  ExprPtr node(ExprKind kind, const Token& start) const;
  // Ends the span of `e` at the last consumed token and checks the tree height.
  ExprPtr seal(ExprPtr e);
  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, const Token& start);
  uint32_t height(const Expr* e) const;

  // Bounds recursion; one per nested parse_expr / NOT / unary level.
  class NestingGuard {
   public:
    NestingGuard(Parser& p, const Token& at);
    ~NestingGuard() { --p_.nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& p_;
  };

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  uint32_t nesting_ = 0;
  const Token* implicit_alias_ = nullptr;
  std::unordered_map<const Expr*, uint32_t> heights_;
};

bool is_reserved(const Token& t);
// "line:column", as quoted in messages.
std::string location_text(Location loc);

}  // namespace sluice::sql
