#pragma once
// Factories for the physical expression nodes the binder builds. Operands arrive already cast to
// the types the node expects (the binder inserts casts); nodes follow SQL NULL semantics and report
// data-plane errors through EvalContext. All nodes are immutable and thread-compatible.

#include "exec/expression.hpp"
#include "functions/scalar.hpp"

#include <string>
#include <utility>
#include <vector>

namespace sluice::exec {

ExpressionPtr make_column(size_t index, DataType type);
// The row index `e` reads when it is a plain column reference (from make_column), else -1.
// Operators use it to copy or compare such columns without a virtual call.
int64_t column_index_of(const Expression& e);
// A constant; the node keeps its own copy of string bytes.
ExpressionPtr make_constant(const Value& value, DataType type);
ExpressionPtr make_cast(ExpressionPtr input, DataType target);

enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod };
// Numeric: both operands of the result's type class (BIGINT, DOUBLE or DECIMAL of any scale).
// Temporal: TIMESTAMP±INTERVAL, TIMESTAMP-TIMESTAMP, INTERVAL±INTERVAL, INTERVAL*BIGINT,
// INTERVAL/BIGINT (the binder checks which combinations are legal).
ExpressionPtr make_arithmetic(ArithOp op, ExpressionPtr left, ExpressionPtr right, DataType result);
ExpressionPtr make_negate(ExpressionPtr input);

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
// Both operands of one type (DECIMAL scales may differ).
ExpressionPtr make_compare(CompareOp op, ExpressionPtr left, ExpressionPtr right);

ExpressionPtr make_and(ExpressionPtr left, ExpressionPtr right);
ExpressionPtr make_or(ExpressionPtr left, ExpressionPtr right);
ExpressionPtr make_not(ExpressionPtr input);
ExpressionPtr make_is_null(ExpressionPtr input, bool negated);
// `input IN (items)`; items of input's type.
ExpressionPtr make_in_list(ExpressionPtr input, std::vector<ExpressionPtr> items, bool negated);
// SQL LIKE with % and _ (UTF-8 aware); `escape` 0 when none.
ExpressionPtr make_like(ExpressionPtr input, ExpressionPtr pattern, char escape, bool negated);
// Searched CASE: the first WHEN that is TRUE gives its THEN; else `otherwise` (may be null ->
// NULL).
ExpressionPtr make_case(std::vector<std::pair<ExpressionPtr, ExpressionPtr>> branches,
                        ExpressionPtr otherwise, DataType result);
ExpressionPtr make_function(functions::BoundScalar fn, std::vector<ExpressionPtr> args);
// `a || b`: both STRING; NULL if either is NULL.
ExpressionPtr make_concat(ExpressionPtr left, ExpressionPtr right);

// STRUCT field `index` of `input` (of type `type`); NULL when the STRUCT is NULL.
ExpressionPtr make_field(ExpressionPtr input, uint32_t index, DataType type);
// `input[key]`: an ARRAY's element at BIGINT `key` (1-based, negative from the end, NULL when out
// of range) or a MAP's value at STRING `key` (NULL when absent); `type` is the element's.
ExpressionPtr make_subscript(ExpressionPtr input, ExpressionPtr key, DataType type);
// ARRAY[...], STRUCT(...) (items are the fields in order) or MAP(...) (items alternate key and
// value; a NULL key fails the record, a repeated key keeps its last value). Items arrive cast to
// their element types.
ExpressionPtr make_construct(std::vector<ExpressionPtr> items, DataType type);
// HEADER('name'): the value (BYTES) of the last header named `name` in `headers` (the headers
// column), or NULL.
ExpressionPtr make_header_value(ExpressionPtr headers, std::string name);
// CAST(nested AS STRING): the value's JSON text, as a JSON sink writes it (make_cast uses it).
ExpressionPtr make_json_text(ExpressionPtr input);
// EXPLODE(array): element EvalContext::unnest_index of ARRAY number `k` of the projection's
// `unnest` list (make_project); NULL past its end or outside such a projection.
ExpressionPtr make_unnest(size_t k, DataType element);
// The reads behind make_subscript, for functions (ELEMENT_AT).
Value array_element(const Value& array, int64_t index, DataType element);
Value map_value(const Value& map, std::string_view key, DataType value);

// SQL LIKE matching, exposed for tests.
bool like_match(std::string_view text, std::string_view pattern, char escape);

}  // namespace sluice::exec
