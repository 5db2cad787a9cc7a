#pragma once
// The identity of a query's state: a 64-bit hash of the SQL's tokens (whitespace, comments and the
// case of unquoted identifiers aside) and the source's columns and types. A state snapshot carries
// it, and a query restores only snapshots with its own: state saved by another query or over
// another schema would be read as something it is not. Stable across runs and builds (FNV-1a).

#include "plan/source_schema.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace sluice::plan {

// Throws sluice::Error (kSqlSyntax) when `sql` does not tokenize.
uint64_t state_fingerprint(std::string_view sql, const SourceSchema& source);
// A query over several sources: every source's columns and types, in order (one source: the
// same as above).
uint64_t state_fingerprint(std::string_view sql, const std::vector<SourceSchema>& sources);

}  // namespace sluice::plan
