#pragma once
// Per-record evaluation context of the data plane. Evaluation never throws: a failing expression
// calls `fail` and returns NULL; the operator then rejects the record with `error`.
// Owned by one partition pipeline (one strand); never shared between threads.

#include "common/arena.hpp"
#include "common/error.hpp"

#include <string>

namespace sluice::exec {

struct EvalContext {
  Arena* arena = nullptr;  // where evaluation puts the strings it creates
  bool failed = false;
  RecordError error;

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
