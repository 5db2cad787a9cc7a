#include "server/run/job_runner.hpp"

#include "exec/query.hpp"
#include "plan/compile.hpp"
#include "server/pipeline/decode_stage.hpp"
#include "server/pipeline/query_stage.hpp"
#include "server/pipeline/rejection_policy.hpp"
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

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<LineSink> open_sink(const config::SinkConfig& sink, std::ostream& out) {
  if (sink.type == "stdout") return stream_sink(out);
  return open_file_sink(sink.path);
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

// Each Kafka partition runs its own pipeline with its own state, so a query that keeps state per
// key needs all records of a key on one partition. Keys that are expressions, or state with no key
// at all (a global aggregate), cannot be repartitioned by input columns: refused.
void check_partitioning(const config::JobConfig& job, const exec::Query& query) {
  if (query.partition_key_inputs()) return;
  throw config::ConfigError(
      {{job.file, job.source.mark, "source",
        fmt::format("the query keeps state that is not keyed by plain input columns (a global "
                    "aggregate, or a key computed by an expression), but records of '{}' are "
                    "processed per partition: group by plain input columns",
                    job.source.topic)}});
}

// A repartitioned job writes its records to repartition_topic(job) and reads them back: as its
// source or as an output it would feed itself forever.
void check_own_repartition_topic(const config::JobConfig& job) {
  const std::string topic = repartition_topic(job);
  std::vector<config::ConfigIssue> issues;
  auto check = [&](const std::string& type, const std::string& used, config::Mark mark,
                   const char* key) {
    if (type != "kafka" || used != topic) return;
    issues.push_back({job.file, mark, key,
                      fmt::format("'{}' is this job's repartition topic (the job re-keys its "
                                  "records through it, as its GROUP BY needs): use another topic",
                                  topic)});
  };
  check(job.source.type, job.source.topic, job.source.topic_mark, "source.topic");
  check(job.sink.type, job.sink.topic, job.sink.topic_mark, "sink.topic");
  if (job.dead_letter)
    check(job.dead_letter->type, job.dead_letter->topic, job.dead_letter->topic_mark,
          "dead_letter.topic");
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
}

// One bounded run: owns the stages and the counters.
class FileRun {
 public:
  FileRun(const config::JobConfig& job, std::ostream& out, const RunOptions& options)
      : job_(job),
        options_(options),
        query_(plan::compile_query(job.sql, schema_of(job), time_settings(job))),
        decode_(job, *query_, now_ms()),
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
    decode_.begin(now_ms(), wall_ms());
    batch_lines_ = &lines;
    batch_first_offset_ = next_offset_;
    for (std::string_view line : lines) {
      int64_t offset = next_offset_++;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line
      ++stats_.records_in;
      // A file record: no key, no record timestamp, partition 0, its line number as offset.
      decode_.add(line, {std::nullopt, std::nullopt, {0, offset}});
    }
    exec::ExecContext ctx;
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

void check_job(const config::JobConfig& job) {
  compile_job(job);
}

std::shared_ptr<const exec::Query> compile_job(const config::JobConfig& job) {
  auto query = plan::compile_query(job.sql, schema_of(job), time_settings(job));
  check_sink_key(job, *query);
  if (job.source.type == "kafka") check_partitioning(job, *query);
  if (needs_repartition(job, *query)) check_own_repartition_topic(job);
  return query;
}

bool needs_repartition(const config::JobConfig& job, const exec::Query& query) {
  if (job.source.type != "kafka") return false;
  const auto& keys = query.partition_key_inputs();
  if (!keys || keys->empty()) return false;
  const auto& declared = job.source.partitioned_by;
  if (declared.empty()) return true;
  // Partitioned by a subset of the key columns: all records of a key share a partition.
  return !std::all_of(declared.begin(), declared.end(), [&](const std::string& col) {
    return std::any_of(keys->begin(), keys->end(), [&](size_t c) {
      return c < job.source.schema.size() && job.source.schema[c].name == col;
    });
  });
}

std::string repartition_topic(const config::JobConfig& job) {
  return job.name + "-repartition";
}

std::string consumer_group(const config::JobConfig& job) {
  return job.group_id.empty() ? job.name : job.group_id;
}

std::string repartition_group(const config::JobConfig& job) {
  return consumer_group(job) + "-repartition";
}

std::vector<std::string> job_topics(const config::JobConfig& job) {
  auto query = compile_job(job);
  std::vector<std::string> topics;
  if (job.source.type == "kafka") topics.push_back(job.source.topic);
  if (job.sink.type == "kafka") topics.push_back(job.sink.topic);
  if (job.dead_letter && job.dead_letter->type == "kafka") topics.push_back(job.dead_letter->topic);
  if (needs_repartition(job, *query)) topics.push_back(repartition_topic(job));
  return topics;
}

std::vector<format::Column> output_columns(const exec::Query& q) {
  std::vector<format::Column> cols;
  for (const auto& c : q.output_columns())
    cols.push_back({c.name, c.type});
  return cols;
}

}  // namespace sluice::server
