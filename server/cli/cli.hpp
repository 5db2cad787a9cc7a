#pragma once
// The `sluice` command line: parses arguments and dispatches to a command. Returns the process exit
// code: 0 success, 1 the command failed (bad job, bad data with on_error=fail, I/O), 2 usage error.

#include <iosfwd>

namespace sluice::server {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace sluice::server
