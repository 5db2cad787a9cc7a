#include "server/jobs/job_error.hpp"

#include <fmt/format.h>

#include <sstream>

namespace sluice::server {

// The SQL line an error points at, with a caret under the column.
namespace {

std::string caret_excerpt(const std::string& sql, Location loc) {
  size_t line_start = 0;
  for (uint32_t l = 1; l < loc.line && line_start != std::string::npos; ++l) {
    line_start = sql.find('\n', line_start);
    if (line_start != std::string::npos) ++line_start;
  }
  if (line_start == std::string::npos) return {};
  std::string line = sql.substr(line_start, sql.find('\n', line_start) - line_start);
  std::string pad;
  for (uint32_t c = 1; c < loc.column && c - 1 < line.size(); ++c)
    pad += line[c - 1] == '\t' ? '\t' : ' ';
  return fmt::format("    {}\n    {}^\n", line, pad);
}

}  // namespace

std::string describe_job_error(const config::JobConfig* job, const std::string& file,
                               const Error& e) {
  std::ostringstream err;
  if (const auto* ce = dynamic_cast<const config::ConfigError*>(&e)) {
    for (const auto& issue : ce->issues())
      err << issue.to_string() << "\n";
    return err.str();
  }
  bool sql_error = e.location().known() && job != nullptr;
  if (!sql_error) {
    err << file << ": " << e.what() << "\n";
    return err.str();
  }
  config::Mark m = job->sql_to_file(e.location());
  err << fmt::format("{}:{}:{}: sql: {} [{}]\n", file, m.line, m.column, e.detail(),
                     error_code_name(e.code()));
  err << caret_excerpt(job->sql, e.location());
  return err.str();
}

}  // namespace sluice::server
