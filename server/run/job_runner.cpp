#include "server/run/job_runner.hpp"

#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/run/dead_letter.hpp"
#include "server/run/line_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

namespace sluice::server {
namespace {

constexpr size_t kBatchRows = 1024;

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

plan::SourceSchema schema_of(const config::JobConfig& job) {
  return {job.source.name, job.source.schema};
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

// One bounded run: owns the stages and the counters.
class FileRun {
 public:
  FileRun(const config::JobConfig& job, std::ostream& out)
      : job_(job),
        query_(plan::compile_query(job.sql, schema_of(job))),
        state_(query_->make_state()),
        decoder_(job.source.schema, job.source.timestamp_input),
        encoder_(output_columns(*query_), job.sink.timestamp_format),
        sink_(open_sink(job.sink, out)),
        dead_letter_(make_dead_letter(job, out)),
        input_(query_->input_width()) {}

  RunStats run() {
    auto wall0 = std::chrono::steady_clock::now();
    double cpu0 = cpu_now();
    LineReader reader(job_.source.path);
    std::vector<std::string_view> lines;
    while (reader.next(lines, kBatchRows))
      process_lines(lines);
    batch_lines_ = nullptr;  // what close() emits comes from state, not from one input line
    exec::ExecContext ctx;
    write_output(query_->close(*state_, ctx));
    settle(ctx);
    sink_->flush();
    if (dead_letter_) dead_letter_->flush();
    stats_.accepted = stats_.records_in - stats_.filtered - stats_.rejected;
    stats_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    stats_.cpu_seconds = cpu_now() - cpu0;
    return stats_;
  }

 private:
  void process_lines(const std::vector<std::string_view>& lines) {
    input_.clear();
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
    settle(ctx);
  }

  // Rejections of one batch in input order: decode failures and evaluation failures interleaved.
  void settle(exec::ExecContext& ctx) {
    stats_.filtered += ctx.filtered;
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
  RunStats stats_;
};

}  // namespace

RunStats run_job(const config::JobConfig& job, std::ostream& stdout_sink) {
  FileRun run(job, stdout_sink);
  return run.run();
}

void check_job(const config::JobConfig& job) {
  plan::compile_query(job.sql, schema_of(job));
}

}  // namespace sluice::server
