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
#include <limits>

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
    if (job_.other_sources.empty()) {
      LineReader reader(job_.source.path);
      std::vector<std::string_view> lines;
      while (reader.next(lines, std::max<size_t>(1, options_.batch_rows)))
        process_lines(lines);
    } else {
      merge_inputs();
    }
    batch_lines_ = nullptr;  // what close() emits comes from state, not from one input line
    head_ = nullptr;
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
      // A file record: its key (key_separator) or none, no record timestamp, partition 0, its
      // line number as offset.
      std::optional<std::string_view> key;
      if (split_key(job_.source, line, key, decode_, {0, offset}))
        decode_.add(line, {key, std::nullopt, {}, {0, offset}});
    }
    exec::ExecContext ctx;
    ctx.watermark_steps = decode_.watermark_steps();
    run_.run(decode_.batch(), decode_.advance_watermark(), ctx, decode_.rejections(),
             [&](exec::Batch& out) { write_output(out); });
    settle(ctx);
  }

  // With key_separator, splits `line` into the key and the value; false (the record rejected)
  // when the line has no separator.
  static bool split_key(const config::SourceConfig& source, std::string_view& line,
                        std::optional<std::string_view>& key, pipeline::DecodeStage& decode,
                        exec::RecordPosition pos) {
    if (source.key_separator.empty()) return true;
    size_t at = line.find(source.key_separator);
    if (at == std::string_view::npos) {
      decode.reject(pos, {ErrorCode::kDecode,
                          fmt::format("no key_separator '{}' in the line: expected <key>{}<value>",
                                      source.key_separator, source.key_separator)});
      return false;
    }
    key = line.substr(0, at);
    line.remove_prefix(at + source.key_separator.size());
    return true;
  }

  // One source of a job with several: its lines, its decoder, and its next record (the head).
  struct Input {
    const config::SourceConfig* source = nullptr;
    std::unique_ptr<LineReader> reader;
    std::unique_ptr<pipeline::DecodeStage> decode;
    int event_column = -1;  // of source->event_time in its rows
    int64_t next_offset = 0;
    int64_t max_time = std::numeric_limits<int64_t>::min();  // the latest event time fed
    bool has_head = false;
    int64_t time = std::numeric_limits<int64_t>::min();  // the head's place in the merge
    std::string line;                                    // the head's line
  };

  // Several sources: the records of all are fed to the query one at a time, the one with the
  // earliest event time first; on a tie, a table's before a stream's (a stream record sees the
  // table as of its time), then the source listed first. A record without an event time
  // (its source has no event_time, or it is a tombstone or rejected) takes that of the record
  // before it in its file (the earliest time for a file's first), so each file is read in order.
  // The result depends on the files alone.
  void merge_inputs() {
    std::vector<Input> inputs;
    size_t index = 0;
    for (const config::SourceConfig* source : job_.sources()) {
      Input& in = inputs.emplace_back();
      in.source = source;
      in.reader = std::make_unique<LineReader>(source->path);
      in.decode = std::make_unique<pipeline::DecodeStage>(*source, query_->input_width(index++),
                                                          nullptr, clock().steady_ms());
      for (size_t c = 0; c < source->schema.size(); ++c) {
        if (!source->event_time.empty() && source->schema[c].name == source->event_time)
          in.event_column = static_cast<int>(c);
      }
      advance(in);
    }
    while (true) {
      Input* next = nullptr;
      for (Input& in : inputs) {
        if (!in.has_head) continue;
        if (next == nullptr || in.time < next->time ||
            (in.time == next->time && in.source->table && !next->source->table))
          next = &in;
      }
      if (next == nullptr) break;
      head_ = next;
      exec::ExecContext ctx;
      ctx.input = static_cast<size_t>(next - inputs.data());
      if (!next->decode->batch().empty()) next->max_time = std::max(next->max_time, next->time);
      run_.run(next->decode->batch(), merged_watermark(inputs), ctx, next->decode->rejections(),
               [&](exec::Batch& out) { write_output(out); });
      settle(ctx, *next->decode);
      advance(*next);
    }
  }

  // The watermark over the sources not yet read to their end: the least of their latest event
  // times, each minus its max_out_of_orderness; none until each has fed a record with one.
  static std::optional<int64_t> merged_watermark(const std::vector<Input>& inputs) {
    std::optional<int64_t> wm;
    for (const Input& in : inputs) {
      if (!in.has_head) continue;  // read to its end: it holds nothing back
      if (in.max_time == std::numeric_limits<int64_t>::min()) return std::nullopt;
      int64_t w = 0;
      if (__builtin_sub_overflow(in.max_time, in.source->max_out_of_orderness_ms, &w))
        w = std::numeric_limits<int64_t>::min() + 1;
      wm = wm ? std::min(*wm, w) : w;
    }
    return wm;
  }

  // Reads and decodes the input's next record into its head.
  void advance(Input& in) {
    std::vector<std::string_view> lines;
    in.has_head = false;
    while (!in.has_head && in.reader->next(lines, 1)) {
      ++in.next_offset;
      if (lines[0].find_first_not_of(" \t\r") == std::string_view::npos) continue;
      in.has_head = true;
      in.line.assign(lines[0]);
    }
    if (!in.has_head) return;
    ++stats_.records_in;
    exec::RecordPosition pos{0, in.next_offset - 1};
    in.decode->begin(clock().steady_ms(), clock().wall_ms());
    std::string_view value = in.line;
    std::optional<std::string_view> key;
    if (!split_key(*in.source, value, key, *in.decode, pos)) return;
    in.decode->add(value, {key, std::nullopt, {}, pos});
    exec::Batch& rows = in.decode->batch();
    if (!rows.empty() && in.event_column >= 0) {
      const types::Value& t = rows.row(0)[in.event_column];
      if (!t.null) in.time = t.i;
    }
  }

  // The batch's rejections, in input order.
  void settle(const exec::ExecContext& ctx) { settle(ctx, decode_); }
  void settle(const exec::ExecContext& ctx, pipeline::DecodeStage& decode) {
    stats_.filtered += ctx.filtered;
    stats_.late += ctx.late;
    for (auto& rej : decode.rejections())
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
    if (head_ != nullptr) return head_->line;
    if (batch_lines_ == nullptr) return {};
    auto i = static_cast<size_t>(offset - batch_first_offset_);
    return i < batch_lines_->size() ? (*batch_lines_)[i] : std::string_view{};
  }

  void reject(exec::Rejection rej) {
    pipeline::RejectionAction action = policy_.decide(rej);
    counts_.count(action);
    const std::string& path = head_ != nullptr ? head_->source->path : job_.source.path;
    if (action == pipeline::RejectionAction::kFail) {
      throw Error(rej.error.code, fmt::format("job '{}' failed on record {} of '{}': {} ({})",
                                              job_.name, rej.position.offset + 1, path,
                                              rej.error.message, error_code_name(rej.error.code)));
    }
    if (action == pipeline::RejectionAction::kSkip || !dead_letter_) return;
    dead_letter_->write(rej, original(rej.position.offset), &path);
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
  const Input* head_ = nullptr;  // joins: the input whose record is being processed
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
