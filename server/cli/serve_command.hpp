#pragma once
// `sluice serve --config sluice.yaml [--embedded-kafka] [--status-interval SECONDS]
// [--threads N] [--log-level LEVEL] [--log-format text|json]`: parses its options, loads the server
// config and runs the daemon (server/app/daemon.hpp) until SIGTERM/SIGINT. Logs go to stderr;
// stdout carries the embedded broker's `bootstrap:` line and the status lines.

#include "server/cli/log_format.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace sluice::server {

// `args` are the arguments after `serve`. Returns the exit code: 0 after a clean stop, 1 when the
// config is invalid or the jobs did not stop in time, 2 for a usage error.
int run_serve_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Logs to stderr, one line per event: time, level, message as text, or a JSON object per line
// (server/cli/log_format.hpp). `level`: trace, debug, info, warn, error. Returns false for an
// unknown level.
bool setup_logging(const std::string& level, LogFormat format = LogFormat::kText);

}  // namespace sluice::server
