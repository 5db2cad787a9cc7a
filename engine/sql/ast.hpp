#pragma once
// Abstract syntax tree of one streaming SELECT, as written. Produced by `parse_select`
// (sql/parser.hpp), consumed by the binder (plan/binder.hpp). Every node keeps its position:
// `loc` (line:column of its first character) and `span` (byte offsets in the query text), so errors
// can point at the text and quote it.

#include "common/error.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::sql {

struct Span {
  uint32_t begin = 0;  // byte offset of the first character
  uint32_t end = 0;    // byte offset one past the last character
};

enum class ExprKind {
  kLiteral,    // literal_kind + text
  kColumnRef,  // qualifier (may be empty) + name
  kUnary,      // op ("-", "+", "NOT") + args[0]
  kBinary,     // op + args[0], args[1]; ops: + - * / % || = <> < <= > >= AND OR
  kFunction,   // name (upper-case) + args; distinct for F(DISTINCT x); star for COUNT(*);
               // ARRAY[a, b] is the function ARRAY
  kCase,       // args: [operand if has_operand] then WHEN,THEN pairs, then ELSE if has_else
  kCast,       // args[0] + type_name (as written, e.g. "DECIMAL(18,4)")
  kBetween,    // args: x, low, high; negated for NOT BETWEEN
  kInList,     // args: x, item... ; negated for NOT IN
  kLike,       // args: x, pattern[, escape]; negated for NOT LIKE
  kIsNull,     // args[0]; negated for IS NOT NULL
  kExtract,    // EXTRACT(field FROM args[0]); field upper-case in `name`
  kInterval,   // INTERVAL '5' MINUTE: text = "5", name = unit upper-case singular ("MINUTE")
  kField,      // args[0].name or args[0]->name: a STRUCT field (name as written)
  kSubscript,  // args[0][args[1]]: an ARRAY element (1-based) or a MAP value
};

enum class LiteralKind {
  kNull,
  kBoolean,  // text "TRUE" / "FALSE"
  kInteger,  // text: digits
  kDecimal,  // text: digits with a point, e.g. "0.10"
  kDouble,   // text: with exponent, e.g. "1e3"
  kString,   // text: the value, quotes removed and '' unescaped
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
struct OverClause;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Location loc;
  Span span;

  LiteralKind literal_kind = LiteralKind::kNull;
  std::string text;       // literal text, interval quantity
  std::string qualifier;  // column ref qualifier: `t` in t.col
  std::string name;       // column name (case as written), function name / EXTRACT field / unit
  std::string op;         // operator, upper-case for keywords
  std::string type_name;  // CAST target
  std::vector<ExprPtr> args;
  bool distinct = false;
  bool star = false;
  bool negated = false;
  bool has_operand = false;  // CASE x WHEN ...
  bool has_else = false;
  bool pairs = false;  // kFunction written `F(a := b, ...)`: args alternate a, b (STRUCT, MAP)
  // kField written `q.name` where q is not the FROM source (nor its alias): the parser takes it
  // as field `name` of column q; if q is no column either, the binder says the source is unknown.
  bool from_qualifier = false;
  std::shared_ptr<OverClause> over;  // kFunction with OVER: an analytic call; null otherwise
};

// `f(...) OVER (...)` or `f(...) OVER w` (parser_over.cpp). With no ROWS frame the frame is
// ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW; every frame ends at the current row.
struct OverClause {
  std::string window_name;            // `OVER w`: a WINDOW w AS (...); nothing else is set
  std::vector<ExprPtr> partition_by;  // may be empty
  ExprPtr order_by;                   // the event order; may be null
  bool has_frame = false;             // ROWS ... or ROWS WINDOW BUFFER n ROWS was written
  bool unbounded = false;             // ROWS [BETWEEN] UNBOUNDED PRECEDING [AND CURRENT ROW]
  int64_t preceding = 0;              // ROWS [BETWEEN] n PRECEDING: n rows plus the current one
  ExprPtr expire_after;               // EXPIRE AFTER <interval> INACTIVITY; may be null
  Location loc;                       // of OVER, or of the name in WINDOW name AS (...)
  Span span;
};

struct NamedWindow {  // WINDOW name AS (...)
  std::string name;
  OverClause spec;
};

struct SelectItem {
  ExprPtr expr;           // null when star
  bool star = false;      // `*` (or `t.*`)
  std::string qualifier;  // `t` in `t.*`; empty otherwise
  std::string alias;      // empty when none
  Location loc;
  Span span;
};

struct TableRef {
  std::string name;
  std::string alias;
  Location loc;
  Span span;
};

// `[INNER | LEFT [OUTER] | FULL [OUTER]] JOIN right [alias] ON on` after FROM's source
// (parser_join.cpp). Which joins run depends on the sources' kinds (stream or table); the binder
// decides (plan/binder_join.cpp).
enum class JoinKind { kInner, kLeft, kFull };

struct JoinClause {
  JoinKind kind = JoinKind::kInner;
  TableRef right;
  // ksqlDB's `WITHIN d` or `WITHIN (before, after)` and `GRACE PERIOD g` of a stream–stream join
  // (between ON's source and JOIN's, written before ON); null when not written.
  ExprPtr within_before, within_after, grace;
  Location within_loc;
  ExprPtr on;
  Location loc;  // of the first join keyword
  Span span;     // the join keywords through the end of ON's condition
};

enum class EmitMode { kDefault, kChanges, kFinal };

enum class WindowKind { kTumbling, kHopping, kSession };

// `WINDOW TUMBLING(size)`, `HOPPING(size, advance)` (alias SLIDING), `SESSION(gap)`, each with an
// optional time column first, or ksqlDB's `TUMBLING (SIZE 30 SECONDS, GRACE PERIOD 5 SECONDS)`
// (parser_window.cpp). Durations are kInterval nodes (`1m` is parsed as INTERVAL '1' MINUTE).
struct WindowClause {
  WindowKind kind = WindowKind::kTumbling;
  ExprPtr time_column;  // may be null: the source's event time
  ExprPtr size;         // tumbling/hopping size, session gap
  ExprPtr advance;      // hopping only
  ExprPtr grace;        // GRACE PERIOD; may be null
  Location loc;         // of the kind word (TUMBLING, ...)
  Span span;
};

struct SelectStatement {
  bool distinct = false;
  std::vector<SelectItem> items;
  TableRef from;
  std::vector<JoinClause> joins;  // in query order; empty when FROM reads one source
  ExprPtr where;                  // may be null
  std::vector<ExprPtr> group_by;  // empty when none
  ExprPtr having;                 // may be null
  EmitMode emit = EmitMode::kDefault;
  Location emit_loc;
  std::unique_ptr<WindowClause> window;    // WINDOW TUMBLING(...) etc.; may be null
  std::vector<NamedWindow> named_windows;  // WINDOW w AS (...), referenced by OVER w
};

}  // namespace sluice::sql
