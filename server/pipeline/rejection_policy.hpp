#pragma once
// RejectionPolicy: what happens to a record the data plane rejected, for `sluice run` and the
// daemon alike.
// - A late record (LATE, only rejected under `late_records: dead_letter`) is written to the
//   dead-letter sink and counted as late only (the engine counted it).
// - Any other rejection counts as rejected, then: with `on_error: fail` the job fails on it; with
//   `on_error: dead_letter` and a dead-letter sink it is written there (dead-lettered); otherwise
//   it is skipped.
// So every input record is counted once: in = accepted + filtered + late + replayed + rejected,
// and rejected = dead_lettered + skipped (+ the record that failed the job).
// Immutable; any thread.

#include "config/job_config.hpp"
#include "exec/operator.hpp"

#include <cstdint>

namespace sluice::server::pipeline {

enum class RejectionAction { kDeadLetter, kSkip, kFail, kLateDeadLetter };

// The counts a RejectionAction moves.
struct RejectionCounts {
  uint64_t rejected = 0;
  uint64_t dead_lettered = 0;
  uint64_t skipped = 0;
  void count(RejectionAction a) {
    if (a == RejectionAction::kLateDeadLetter) return;
    ++rejected;
    if (a == RejectionAction::kDeadLetter) ++dead_lettered;
    if (a == RejectionAction::kSkip) ++skipped;
  }
};

class RejectionPolicy {
 public:
  // `has_dead_letter_sink`: the job has a dead-letter sink this runtime can write to.
  RejectionPolicy(const config::JobConfig& job, bool has_dead_letter_sink)
      : on_error_(job.on_error), dead_letter_(has_dead_letter_sink) {}

  RejectionAction decide(const exec::Rejection& r) const {
    if (r.error.code == ErrorCode::kLate) return RejectionAction::kLateDeadLetter;
    if (on_error_ == config::OnError::kFail) return RejectionAction::kFail;
    if (on_error_ == config::OnError::kDeadLetter && dead_letter_)
      return RejectionAction::kDeadLetter;
    return RejectionAction::kSkip;
  }
  bool has_dead_letter_sink() const { return dead_letter_; }

 private:
  config::OnError on_error_;
  bool dead_letter_;
};

}  // namespace sluice::server::pipeline
