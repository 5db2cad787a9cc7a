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
  ExpressionPtr stream_key;  // over a joined row whose table part is NULL; of key_type
  ExpressionPtr condition;   // the rest of ON, over a joined row; may be null
};

OperatorPtr make_stream_table_join(StreamTableJoinSpec spec);

}  // namespace sluice::exec
