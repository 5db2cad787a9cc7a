#pragma once
// `sluice demo`: the live demo, needing nothing but the binary. Starts the daemon with its
// embedded Kafka-protocol broker, writes the benchmark scenarios' job files into a temporary jobs
// directory, produces each scenario's trade data into its input topic at a steady rate (built-in
// generator, one thread per scenario), and prints a status line per job every second
// (records/s, p50/p99 end-to-end latency, lag) until Ctrl-C, or for --duration seconds.
//
// Threading: the daemon's io_context threads, plus one generator thread per scenario (joined
// before the broker stops).

#include <iosfwd>
#include <string>
#include <vector>

namespace sluice::server {

// `args` are the arguments after `demo`. Returns 0 after a clean stop, 1 on failure, 2 for a
// usage error.
int run_demo_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sluice::server
