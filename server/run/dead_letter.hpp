#pragma once
// Writes rejected records to a job's dead-letter sink as JSON Lines, one object per record:
// {"job", "error_code", "error", "source", "partition", "offset", "record"} where "record" holds
// the original bytes as a string, so nothing a job could not process is lost.

#include "config/job_config.hpp"
#include "exec/operator.hpp"
#include "server/run/line_io.hpp"

#include <memory>
#include <ostream>
#include <string>

namespace sluice::server {

class DeadLetterWriter {
 public:
  DeadLetterWriter(std::string job, std::string source, std::unique_ptr<LineSink> sink);
  // `source`: the path the record came from (null: the job's source).
  void write(const exec::Rejection& rejection, std::string_view original,
             const std::string* source = nullptr);
  void flush() { sink_->flush(); }

 private:
  std::string job_;
  std::string source_;
  std::unique_ptr<LineSink> sink_;
  std::string line_;
};

// The job's dead-letter writer, or null when it has no dead_letter section.
std::unique_ptr<DeadLetterWriter> make_dead_letter(const config::JobConfig& job, std::ostream& out);

}  // namespace sluice::server
