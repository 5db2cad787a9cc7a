#pragma once
// How an error in a job file is shown to a user (sluice run/validate, the daemon's log and
// status): `file:line:col: key.path: message` per issue, and for SQL errors the position mapped
// into the YAML file with the SQL line and a caret under the column. Pure function.

#include "common/error.hpp"
#include "config/job_config.hpp"

#include <string>

namespace sluice::server {

// `job`: the loaded job when the error came after loading (SQL binding), else null. Every line
// ends with a newline.
std::string describe_job_error(const config::JobConfig* job, const std::string& file,
                               const Error& e);

}  // namespace sluice::server
