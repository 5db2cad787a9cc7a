#include "server/status/job_status.hpp"

namespace sluice::server {

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::kStarting:
      return "starting";
    case JobState::kRunning:
      return "running";
    case JobState::kStopping:
      return "stopping";
    case JobState::kStopped:
      return "stopped";
    case JobState::kFailed:
      return "failed";
    case JobState::kInvalid:
      return "invalid";
  }
  return "unknown";
}

void JobCounts::add(const JobCounts& o) {
  records_in += o.records_in;
  records_out += o.records_out;
  filtered += o.filtered;
  rejected += o.rejected;
  dead_lettered += o.dead_lettered;
  skipped += o.skipped;
  late += o.late;
  replayed += o.replayed;
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
}

}  // namespace sluice::server
