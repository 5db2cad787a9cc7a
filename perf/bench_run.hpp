#pragma once
// One measured run of a scenario over records 0..n-1, in the calling thread.
// Engine-only: rows are generated straight into exec::Batch (1024 rows each) and only
// Query::process / on_watermark / close are timed. Full path: JSON Lines are generated into memory
// and decode -> query -> encode (to an in-memory buffer) is timed. Avro: the same with Avro records
// in the Schema Registry wire format in and out (the framing read and written per record). In all
// modes, input is generated a chunk of 16 batches at a time outside the timed region, so the input
// never sits in memory whole.

#include "server/devtools/scenarios.hpp"

#include <cstdint>

namespace sluice::perf {

// The scenarios live in server/devtools/ (one copy, shared with `sluice gen` and the demo).
using Scenario = server::devtools::Scenario;

enum class Mode { kEngine, kFull, kAvro };

struct Measurement {
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  uint64_t rejected = 0;   // must stay 0: the generators produce only valid records
  uint64_t bytes_in = 0;   // input bytes (full path, Avro)
  uint64_t bytes_out = 0;  // output bytes (full path, Avro)
  double cpu_seconds = 0;  // thread CPU time of the timed region
  double wall_seconds = 0;
  uint64_t minor_faults = 0;  // page faults in the timed region (first touch of new memory)
  long rss_before_kb = 0;     // resident set before the first timed chunk (input buffers filled)
};

// Throws sluice::Error when the scenario's SQL does not compile.
Measurement run_scenario(const Scenario& s, Mode mode, int64_t n);

// Resident set size of this process now, in KiB (from /proc/self/statm).
long current_rss_kb();

}  // namespace sluice::perf
