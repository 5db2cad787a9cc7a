#pragma once
// Runs one job over a bounded source (a JSON Lines file) to its end: read -> decode -> execute ->
// encode -> write, in batches, then flushes what is still open (EMIT FINAL groups) and returns the
// counts. This is `sluice run`; the daemon's per-partition pipelines reuse the same stages.
// Runs on the calling thread.

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "format/json.hpp"

#include <cstdint>
#include <ostream>

namespace sluice::server {

struct RunStats {
  uint64_t records_in = 0;     // input records read
  uint64_t records_out = 0;    // rows written to the sink
  uint64_t filtered = 0;       // input records dropped by WHERE
  uint64_t rejected = 0;       // input records that failed to decode or evaluate
  uint64_t dead_lettered = 0;  // rejected records written to the dead-letter sink
  uint64_t accepted = 0;       // input records that reached projection / aggregation
  uint64_t late = 0;           // input records that arrived after their window closed
  double seconds = 0;          // wall time of the run
  double cpu_seconds = 0;      // CPU time of the process during the run
};

struct RunOptions {
  // Records per batch. The watermark advances after each batch, so tests use 1 to make it move
  // record by record.
  size_t batch_rows = 1024;
};

// Binds the job's SQL against its source (throws sluice::Error with SQL-relative locations on a bad
// query) and runs it. With on_error=fail the first rejected record throws sluice::Error naming the
// record. `stdout_sink` receives output when the sink type is stdout. A job with a kafka source or
// sink is refused (Error kConfig): those run under the daemon.
// Every input record is counted once: in = accepted + filtered + rejected + late.
RunStats run_job(const config::JobConfig& job, std::ostream& stdout_sink,
                 const RunOptions& options = {});

}  // namespace sluice::server
