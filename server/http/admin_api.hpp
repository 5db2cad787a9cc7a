#pragma once
// The daemon's read-only admin API and metrics on an HttpServer:
//   GET /healthz      200 {"status":"ok"} while the process serves requests
//   GET /readyz       200 when the jobs directory was scanned and every valid job is running
//                     and reaches Kafka, else 503 with the reason ("starting" before the scan)
//   GET /jobs         {"jobs":[...]}: every job file's status (an invalid one with its error)
//   GET /jobs/{name}  one job; 404 {"error":"no job named 'x'"}
//   GET /metrics      the Prometheus exposition (server/http/metrics.hpp)
// The data comes from a status source (JobManager::status()), called once per request.
//
// Threading: the handlers run on the connections' strands, possibly at once; the status source
// must be callable from any thread. The JSON helpers are pure functions.

#include "server/http/http_server.hpp"
#include "server/status/job_status.hpp"

#include <functional>
#include <string>
#include <vector>

namespace sluice::server::http {

using StatusSource = std::function<std::vector<JobStatus>()>;

// `scanned` (may be empty: always true): whether the job manager's first scan completed.
void add_admin_routes(HttpServer& server, StatusSource status, std::function<bool()> scanned = {});

// A job as JSON: name, file, state, error, generation, counts, commits, rebalances, latency
// quantiles, partitions (offsets, lag, watermark, backpressure). `now_ms` (Unix epoch) is the
// reference for the watermark lag.
std::string job_json(const JobStatus& job, int64_t now_ms);

struct Readiness {
  bool ready = true;
  std::string reason;  // why not ready
};
// Ready when the first scan completed (`scanned`; else the reason is "starting") and every job
// whose file is valid is running and can reach Kafka (invalid files do not count).
Readiness readiness(const std::vector<JobStatus>& jobs, bool scanned = true);

}  // namespace sluice::server::http
