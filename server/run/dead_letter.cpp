#include "server/run/dead_letter.hpp"

#include "format/json.hpp"

#include <fmt/format.h>

namespace sluice::server {

DeadLetterWriter::DeadLetterWriter(std::string job, std::string source,
                                   std::unique_ptr<LineSink> sink)
    : job_(std::move(job)), source_(std::move(source)), sink_(std::move(sink)) {}

void DeadLetterWriter::write(const exec::Rejection& rej, std::string_view original,
                             const std::string* source) {
  line_.assign("{\"job\":");
  format::append_json_string(job_, line_);
  line_ += ",\"error_code\":";
  format::append_json_string(error_code_name(rej.error.code), line_);
  line_ += ",\"error\":";
  format::append_json_string(rej.error.message, line_);
  line_ += ",\"source\":";
  format::append_json_string(source != nullptr ? *source : source_, line_);
  line_ += fmt::format(",\"partition\":{},\"offset\":{},\"record\":", rej.position.partition,
                       rej.position.offset);
  format::append_json_string(original, line_);
  line_ += '}';
  sink_->write(line_);
}

std::unique_ptr<DeadLetterWriter> make_dead_letter(const config::JobConfig& job,
                                                   std::ostream& out) {
  if (!job.dead_letter) return nullptr;
  auto sink =
      job.dead_letter->type == "stdout" ? stream_sink(out) : open_file_sink(job.dead_letter->path);
  return std::make_unique<DeadLetterWriter>(job.name, job.source.path, std::move(sink));
}

}  // namespace sluice::server
