#pragma once
// Per-record evaluation context of the data plane. Evaluation never throws: a failing expression
// calls `fail` and returns NULL; the operator then rejects the record with `error`.
// Owned by one partition pipeline (one strand); never shared between threads.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "types/value.hpp"

#include <string>

namespace sluice::exec {

struct EvalContext {
  Arena* arena = nullptr;  // where evaluation puts the strings it creates
  bool failed = false;
  RecordError error;
  // While a projection with EXPLODE emits the rows of one input row: the exploded ARRAYs (one per
  // EXPLODE call of the query) and the element being emitted (0-based).
  const types::Value* unnest = nullptr;
  int64_t unnest_index = 0;

  void fail(ErrorCode code, std::string message) {
    if (failed) return;  // keep the first error: it is the cause
    failed = true;
    error.code = code;
    error.message = std::move(message);
  }
  void clear() {
    failed = false;
    error.message.clear();
  }
};

}  // namespace sluice::exec
