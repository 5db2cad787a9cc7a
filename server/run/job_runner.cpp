#include "server/run/job_runner.hpp"

#include "exec/query.hpp"
#include "exec/watermark.hpp"
#include "plan/compile.hpp"
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

plan::SourceSchema schema_of(const config::JobConfig& job) {
  return {job.source.name, job.source.schema};
}

exec::EventTimeSettings time_settings(const config::JobConfig& job) {
  exec::EventTimeSettings t;
  t.column = job.source.event_time;
  t.has_record_timestamp = job.source.type != "file";
  t.allowed_lateness_ms = job.source.allowed_lateness_ms;
  t.late = job.source.late_records;
  return t;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<LineSink> open_sink(const config::SinkConfig& sink, std::ostream& out) {
  if (sink.type == "stdout") return stream_sink(out);
  return open_file_sink(sink.path);
}

std::vector<format::Column> output_columns(const exec::Query& q) {
  std::vector<format::Column> cols;
  for (const auto& c : q.output_columns())
    cols.push_back({c.name, c.type});
  return cols;
}

// sink.key must name output columns of the bound query.
void check_sink_key(const config::JobConfig& job, const exec::Query& query) {
  std::vector<std::string> names;
  for (const auto& c : query.output_columns())
    names.push_back(c.name);
  std::vector<config::ConfigIssue> issues;
  for (size_t i = 0; i < job.sink.key.size(); ++i) {
    const std::string& col = job.sink.key[i];
    if (std::find(names.begin(), names.end(), col) != names.end()) continue;
    issues.push_back({job.file, job.sink.key_marks[i], "sink.key",
                      fmt::format("'{}' is not an output column of the query (columns: {})", col,
                                  fmt::join(names, ", "))});
  }
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
}

// One bounded run: owns the stages and the counters.
class FileRun {
 public:
  FileRun(const config::JobConfig& job, std::ostream& out, const RunOptions& options)
      : job_(job),
        options_(options),
        query_(plan::compile_query(job.sql, schema_of(job), time_settings(job))),
        state_(query_->make_state()),
        decoder_(job.source.schema, job.source.timestamp_input),
        encoder_(output_columns(*query_), job.sink.timestamp_format),
        sink_(open_sink(job.sink, out)),
        dead_letter_(make_dead_letter(job, out)),
        input_(query_->input_width()),
        watermarks_(1, job.source.max_out_of_orderness_ms, job.source.idle_timeout_ms, now_ms()) {
    for (size_t c = 0; c < job.source.schema.size(); ++c) {
      if (job.source.schema[c].name == job.source.event_time)
        decoder_.set_timestamp_input(c, job.source.event_time_input);
    }
  }

  RunStats run() {
    auto wall0 = std::chrono::steady_clock::now();
    double cpu0 = cpu_now();
    LineReader reader(job_.source.path);
    std::vector<std::string_view> lines;
    while (reader.next(lines, std::max<size_t>(1, options_.batch_rows)))
      process_lines(lines);
    batch_lines_ = nullptr;  // what close() emits comes from state, not from one input line
    exec::ExecContext ctx;
    write_output(query_->close(*state_, ctx));
    settle(ctx);
    sink_->flush();
    if (dead_letter_) dead_letter_->flush();
    stats_.accepted = stats_.records_in - stats_.filtered - stats_.rejected - stats_.late;
    stats_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    stats_.cpu_seconds = cpu_now() - cpu0;
    return stats_;
  }

 private:
  void process_lines(const std::vector<std::string_view>& lines) {
    input_.clear();
    batch_now_ = now_ms();
    batch_lines_ = &lines;
    batch_first_offset_ = next_offset_;
    for (std::string_view line : lines) {
      int64_t offset = next_offset_++;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line
      ++stats_.records_in;
      decode(line, offset);
    }
    exec::ExecContext ctx;
    write_output(query_->process(*state_, input_, ctx));
    if (query_->event_time()) {
      if (auto wm = watermarks_.advance(batch_now_))
        write_output(query_->on_watermark(*state_, *wm, ctx));
    }
    settle(ctx);
  }

  // Rejections of one batch in input order: decode failures and evaluation failures interleaved.
  void settle(exec::ExecContext& ctx) {
    stats_.filtered += ctx.filtered;
    stats_.late += ctx.late;
    auto& all = decode_failures_;
    all.insert(all.end(), std::make_move_iterator(ctx.rejections.begin()),
               std::make_move_iterator(ctx.rejections.end()));
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.position.offset < b.position.offset;
    });
    for (auto& rej : all)
      reject(std::move(rej));
    all.clear();
  }

  void decode(std::string_view line, int64_t offset) {
    exec::RecordPosition pos{0, offset};
    types::Value* row = input_.append_row(pos);
    RecordError err;
    if (!decoder_.decode(line, row, input_.arena(), &err)) {
      input_.pop_row();
      decode_failures_.push_back({pos, std::move(err)});
      return;
    }
    // System columns of a file record: no key, no record timestamp, partition 0, line number.
    size_t sys = job_.source.schema.size();
    row[sys] = types::Value::make_null(types::TypeId::kString);
    row[sys + 1] = types::Value::make_null(types::TypeId::kTimestamp);
    row[sys + 2] = types::Value::bigint(0);
    row[sys + 3] = types::Value::bigint(offset);
    if (query_->event_time()) track_event_time(row, pos);
  }

  // Feeds the record's event time to the watermark; a record without one is rejected (DECODE):
  // it cannot be placed in any window.
  void track_event_time(const types::Value* row, exec::RecordPosition pos) {
    exec::EvalContext ev;
    types::Value t = query_->event_time()->eval(row, ev);
    if (t.null) {
      input_.pop_row();
      decode_failures_.push_back(
          {pos, {ErrorCode::kDecode, "the event time (the window's time column) is NULL"}});
      return;
    }
    watermarks_.observe(0, t.i, batch_now_);
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
    if (rej.error.code == ErrorCode::kLate) {  // late_records: dead_letter; counted as late
      if (!dead_letter_) return;
      dead_letter_->write(rej, original(rej.position.offset));
      ++stats_.dead_lettered;
      return;
    }
    ++stats_.rejected;
    if (job_.on_error == config::OnError::kFail) {
      throw Error(rej.error.code, fmt::format("job '{}' failed on record {} of '{}': {} ({})",
                                              job_.name, rej.position.offset + 1, job_.source.path,
                                              rej.error.message, error_code_name(rej.error.code)));
    }
    if (job_.on_error != config::OnError::kDeadLetter || !dead_letter_) return;
    dead_letter_->write(rej, original(rej.position.offset));
    ++stats_.dead_lettered;
  }

  const config::JobConfig& job_;
  RunOptions options_;
  std::shared_ptr<const exec::Query> query_;
  std::unique_ptr<exec::QueryState> state_;
  format::JsonDecoder decoder_;
  format::JsonEncoder encoder_;
  std::unique_ptr<LineSink> sink_;
  std::unique_ptr<DeadLetterWriter> dead_letter_;
  exec::Batch input_;
  std::string line_;
  const std::vector<std::string_view>* batch_lines_ = nullptr;
  int64_t batch_first_offset_ = 0;
  int64_t next_offset_ = 0;
  std::vector<exec::Rejection> decode_failures_;  // of the batch being decoded
  exec::WatermarkTracker watermarks_;             // one input: the file
  int64_t batch_now_ = 0;                         // processing time of the current batch
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

void check_job(const config::JobConfig& job) {
  auto query = plan::compile_query(job.sql, schema_of(job), time_settings(job));
  check_sink_key(job, *query);
}

}  // namespace sluice::server
