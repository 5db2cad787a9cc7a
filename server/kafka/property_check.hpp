#pragma once
// Checks the values of a job's `kafka:` properties with librdkafka before the job is accepted:
// `sluice validate`, POST /jobs and the daemon's load all call it, so a value librdkafka refuses
// is an error at its position in the file, not a failure when the job starts. No client is
// created (creating one is what runs commands and opens files). Any thread.

#include "config/job_config.hpp"

namespace sluice::server::kafka {

// Throws config::ConfigError with one `file:line:col: kafka.<name>: <reason>` issue per property
// librdkafka refuses; the reason never quotes the value (it may be a secret).
void check_job_properties(const config::JobConfig& job);

}  // namespace sluice::server::kafka
