#include "server/run/file_run.hpp"

#include "exec/query.hpp"
#include "server/pipeline/clock.hpp"
#include "server/pipeline/decode_stage.hpp"
#include "server/pipeline/query_stage.hpp"
#include "server/pipeline/rejection_policy.hpp"
#include "server/plan/job_plan.hpp"
#include "server/run/dead_letter.hpp"
#include "server/run/line_io.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace sluice::server {
namespace {

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const pipeline::Clock& clock() {
  return pipeline::SystemClock::instance();
}

std::unique_ptr<LineSink> open_sink(const config::SinkConfig& sink, std::ostream& out) {
  if (sink.type == "stdout") return stream_sink(out);
  return open_file_sink(sink.path);
}

// One bounded run: owns the stages and the counters.
class FileRun {
 public:
  FileRun(const config::JobConfig& job, std::ostream& out, const RunOptions& options)
      : job_(job),
        options_(options),
        query_(compile_job(job)),
        decode_(job, *query_, clock().steady_ms()),
        run_(*query_),
        encoder_(output_columns(*query_), job.sink.timestamp_format),
        sink_(open_sink(job.sink, out)),
        dead_letter_(make_dead_letter(job, out)),
        policy_(job, dead_letter_ != nullptr) {}

  RunStats run() {
    auto wall0 = std::chrono::steady_clock::now();
    double cpu0 = cpu_now();
    LineReader reader(job_.source.path);
    std::vector<std::string_view> lines;
    while (reader.next(lines, std::max<size_t>(1, options_.batch_rows)))
      process_lines(lines);
    batch_lines_ = nullptr;  // what close() emits comes from state, not from one input line
    exec::ExecContext ctx;
    std::vector<exec::Rejection>& rejections = decode_.rejections();
    rejections.clear();
    run_.close(ctx, rejections, [&](exec::Batch& out) { write_output(out); });
    settle(ctx);
    sink_->flush();
    if (dead_letter_) dead_letter_->flush();
    stats_.rejected = counts_.rejected;
    stats_.dead_lettered = counts_.dead_lettered;
    stats_.accepted = stats_.records_in - stats_.filtered - stats_.rejected - stats_.late;
    stats_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    stats_.cpu_seconds = cpu_now() - cpu0;
    return stats_;
  }

 private:
  void process_lines(const std::vector<std::string_view>& lines) {
    decode_.begin(clock().steady_ms(), clock().wall_ms());
    batch_lines_ = &lines;
    batch_first_offset_ = next_offset_;
    for (std::string_view line : lines) {
      int64_t offset = next_offset_++;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line
      ++stats_.records_in;
      // A file record: no key, no record timestamp, partition 0, its line number as offset.
      decode_.add(line, {std::nullopt, std::nullopt, {}, {0, offset}});
    }
    exec::ExecContext ctx;
    ctx.watermark_steps = decode_.watermark_steps();
    run_.run(decode_.batch(), decode_.advance_watermark(), ctx, decode_.rejections(),
             [&](exec::Batch& out) { write_output(out); });
    settle(ctx);
  }

  // The batch's rejections, in input order.
  void settle(const exec::ExecContext& ctx) {
    stats_.filtered += ctx.filtered;
    stats_.late += ctx.late;
    for (auto& rej : decode_.rejections())
      reject(std::move(rej));
  }

  void write_output(exec::Batch& out) {
    for (size_t r = 0; r < out.size(); ++r) {
      line_.clear();
      encoder_.encode(out.row(r), line_);
      sink_->write(line_);
    }
    stats_.records_out += out.size();
  }

  std::string_view original(int64_t offset) const {
    if (batch_lines_ == nullptr) return {};
    auto i = static_cast<size_t>(offset - batch_first_offset_);
    return i < batch_lines_->size() ? (*batch_lines_)[i] : std::string_view{};
  }

  void reject(exec::Rejection rej) {
    pipeline::RejectionAction action = policy_.decide(rej);
    counts_.count(action);
    if (action == pipeline::RejectionAction::kFail) {
      throw Error(rej.error.code, fmt::format("job '{}' failed on record {} of '{}': {} ({})",
                                              job_.name, rej.position.offset + 1, job_.source.path,
                                              rej.error.message, error_code_name(rej.error.code)));
    }
    if (action == pipeline::RejectionAction::kSkip || !dead_letter_) return;
    dead_letter_->write(rej, original(rej.position.offset));
  }

  const config::JobConfig& job_;
  RunOptions options_;
  std::shared_ptr<const exec::Query> query_;
  pipeline::DecodeStage decode_;
  pipeline::QueryStage run_;
  format::JsonEncoder encoder_;
  std::unique_ptr<LineSink> sink_;
  std::unique_ptr<DeadLetterWriter> dead_letter_;
  pipeline::RejectionPolicy policy_;
  pipeline::RejectionCounts counts_;
  std::string line_;
  const std::vector<std::string_view>* batch_lines_ = nullptr;
  int64_t batch_first_offset_ = 0;
  int64_t next_offset_ = 0;
  RunStats stats_;
};

}  // namespace

RunStats run_job(const config::JobConfig& job, std::ostream& stdout_sink,
                 const RunOptions& options) {
  if (job.uses_kafka()) {
    throw Error(ErrorCode::kConfig,
                "sluice run reads bounded file sources; jobs with a kafka source or sink run under "
                "the daemon (sluice serve), which is not available yet");
  }
  FileRun run(job, stdout_sink, options);
  return run.run();
}

}  // namespace sluice::server
