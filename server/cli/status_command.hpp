#pragma once
// `sluice status [--url http://127.0.0.1:9464] [--watch [SECONDS]]`: reads GET /jobs from a
// running daemon (server/net/http_client.hpp) and prints one table row per job: state, records
// in and out (totals; with --watch the rates between two reads), p50/p99 end-to-end latency,
// total lag, partitions, rejected records and the first line of the error. --watch redraws every
// SECONDS (default 1) until Ctrl-C. Runs on the calling thread.

#include <iosfwd>
#include <string>
#include <vector>

namespace sluice::server {

// `args` are the arguments after `status`. 0 when printed, 1 when the daemon cannot be reached
// or answers with an error, 2 for a usage error.
int run_status_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The table for one GET /jobs body. `previous` (may be empty) and `seconds` give the rates: with
// a previous body the IN/S and OUT/S columns show (now - previous) / seconds, else IN and OUT
// show the totals. Throws Error(kIo) when `body` is not the JSON of GET /jobs.
std::string status_table(const std::string& body, const std::string& previous, double seconds);

}  // namespace sluice::server
