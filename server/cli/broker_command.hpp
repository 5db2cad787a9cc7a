#pragma once
// `sluice broker [--brokers N] [--topic NAME:PARTITIONS ...]`: runs a standalone Kafka-protocol
// test broker (server/kafka/MockBroker) on 127.0.0.1. The first line on `out` is
// `bootstrap: HOST:PORT[,HOST:PORT...]`, flushed at once; the command then waits, without
// spinning, for SIGTERM or SIGINT, stops the broker and returns 0.
//
// Threading: call from the main thread before any other thread exists. SIGTERM and SIGINT are
// blocked in the calling thread while the broker runs (so librdkafka's threads inherit the mask and
// `sigwait` receives the signal) and the previous mask is restored before returning.

#include <iosfwd>
#include <string>
#include <vector>

namespace sluice::server {

// `args` are the arguments after `broker`. Returns the exit code: 0 after a clean stop (or
// --help), 1 when the broker cannot start, 2 for a usage error.
int run_broker_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sluice::server
