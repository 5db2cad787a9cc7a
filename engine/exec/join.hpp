#pragma once
// Joins of several inputs. A join query's operator chain starts with a join operator that reads
// every input's rows (ExecContext::input says which one a batch came from) and emits joined rows:
// each input's columns (schema columns, then its system columns) side by side, at `offsets`.
// The operators after it read joined rows as a one-input query reads its input's rows.

#include "exec/expression.hpp"
#include "exec/operator.hpp"
#include "types/data_type.hpp"

#include <cstddef>
#include <vector>

namespace sluice::exec {

enum class JoinType { kInner, kLeft };

// A stream–table join: every stream row is looked up in the table's current state (the latest
// row per key, a tombstone removing its key) when it arrives; table rows update that state and
// emit nothing. INNER drops a stream row without a match, LEFT emits it with the table's columns
// NULL. A table input row has one more column than its joined part: a last BOOLEAN that is TRUE
// for a tombstone (the runtime's decoder sets it).
struct StreamTableJoinSpec {
  JoinType type = JoinType::kInner;
  size_t stream_input = 0;  // ExecContext::input of the stream's batches
  size_t table_input = 1;
  size_t stream_width = 0;   // the stream's columns in a joined row (its input rows' width)
  size_t table_width = 0;    // the table's columns in a joined row (its input rows have one more)
  size_t stream_offset = 0;  // where each side's columns start in a joined row
  size_t table_offset = 0;
  std::vector<types::DataType> table_types;  // of the table's joined columns (typed NULLs)
  size_t table_key = 0;                      // the key column in a table input row
  types::DataType key_type;                  // keys are compared as this type
  // What the table is keyed by when ON computes it from `_key` (`c._key.id`), over a joined row
  // holding the table's columns; null: `_key` itself.
  ExpressionPtr table_key_expr;
  ExpressionPtr stream_key;  // over a joined row whose table part is NULL; of key_type
  ExpressionPtr condition;   // the rest of ON, over a joined row; may be null
};

OperatorPtr make_stream_table_join(StreamTableJoinSpec spec);

// A stream–stream interval join: a left row (FROM's source) and a right row (JOIN's) with equal
// keys join when right time - left time is within [lower_ms, upper_ms] and `condition` holds.
// Each side's rows are held until the watermark (minus `grace_ms`) has passed every time a row of
// the other side could still match them at; a row arriving behind the watermark by more than
// grace_ms is late (counted, dropped). An outer side's rows that never matched are emitted when
// they leave, with the other side's columns NULL (LEFT: the left side; FULL: both), and at the end
// of a bounded input.
struct IntervalJoinSpec {
  bool left_outer = false;
  bool right_outer = false;
  size_t inputs[2] = {0, 1};   // ExecContext::input of the left and the right side's batches
  size_t widths[2] = {0, 0};   // each side's columns (its input rows' width)
  size_t offsets[2] = {0, 0};  // where each side's columns start in a joined row
  std::vector<types::DataType> types[2];  // each side's column types (typed NULLs)
  size_t time_columns[2] = {0, 0};        // each side's event time, in its input rows
  // Each side's key expressions, over a joined row holding that side's columns; pairwise of one
  // type.
  std::vector<ExpressionPtr> keys[2];
  ExpressionPtr condition;  // the rest of ON, over a joined row; may be null
  int64_t lower_ms = 0;
  int64_t upper_ms = 0;
  int64_t grace_ms = 0;
};

OperatorPtr make_interval_join(IntervalJoinSpec spec);

}  // namespace sluice::exec
