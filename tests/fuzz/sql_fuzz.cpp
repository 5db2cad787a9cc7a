// Fuzz target `sql`: a job's query from SQL text to output rows. The text is parsed, bound against
// a source schema and planned (server::compile_job, as `sluice validate` and the daemon do); a
// query that compiles then runs over JSON rows through the pipeline's first stages (decode, event
// time, future skew, watermark, query: server::pipeline::DecodeStage and QueryStage) and its
// output is encoded as JSON.
//
// Input (tests/fuzz/README.md):
//   -- schema: NAME TYPE; NAME TYPE ... | OPTION=VALUE ...     optional first line
//   SQL text                                                   (the schema line is part of it)
//   -- rows                                                    optional line; the rest of the
//   {"json": "record"}                                         input is one record per line
// Without a schema line the source `t` has one column of every type and event time `ts`.
// Options: event_time=COL, delay=MS, lateness=MS, idle=MS, late=drop|dead_letter|update,
// timestamps=auto|epoch_millis|epoch_seconds|iso8601, kafka (records have keys and timestamps),
// batch=N (records per batch, default 1: the watermark moves after every record).
//
// Checked for every input: only sluice::Error escapes, with an SQL error code and a location
// inside the text; rejected records carry a data-plane code; every output row is valid JSON.

#include "config/job_config.hpp"
#include "format/json.hpp"
#include "server/jobs/job_error.hpp"
#include "server/pipeline/decode_stage.hpp"
#include "server/pipeline/query_stage.hpp"
#include "server/plan/job_plan.hpp"
#include "types/data_type.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_json.hpp"

namespace {

using namespace sluice;

constexpr size_t kMaxColumns = 64;
constexpr size_t kMaxRows = 64;
// State a query may hold before the target stops feeding it rows (the engine's estimate; ASan
// roughly doubles it): a hopping window of 10,000 windows a record and a watermark held back by a
// long out-of-orderness is legal SQL whose memory grows with every row, as it would in a daemon.
constexpr uint64_t kMaxStateBytes = 256u << 20;
constexpr int64_t kWallMs = 4102444800000;  // 2100-01-01T00:00:00Z

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int64_t number(std::string_view s, int64_t fallback) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : fallback;
}

// A duration as the job loader accepts it (config/time_config.cpp): 0 to INT64_MAX ms.
int64_t duration(std::string_view s) {
  return std::max<int64_t>(0, number(s, 0));
}

format::TimestampInput timestamps(std::string_view s) {
  if (s == "epoch_millis") return format::TimestampInput::kEpochMillis;
  if (s == "epoch_seconds") return format::TimestampInput::kEpochSeconds;
  if (s == "iso8601") return format::TimestampInput::kIso8601;
  return format::TimestampInput::kAuto;
}

// A column the job loader would accept: a name that is not a system column, not given twice.
void add_column(config::SourceConfig& src, std::string_view name, types::DataType type) {
  if (name.empty() || name.front() == '_' || src.schema.size() >= kMaxColumns) return;
  for (const auto& c : src.schema)
    if (c.name == name) return;
  src.schema.push_back({std::string(name), type});
  src.schema_marks.push_back({});
}

void default_source(config::SourceConfig& src) {
  using types::DataType;
  add_column(src, "s", DataType::string());
  add_column(src, "b", DataType::bigint());
  add_column(src, "d", DataType::float64());
  add_column(src, "m", DataType::decimal(18, 4));
  add_column(src, "w", DataType::decimal(38, 10));
  add_column(src, "ok", DataType::boolean());
  add_column(src, "ts", DataType::timestamp());
  add_column(src, "iv", DataType::interval());
  src.event_time = "ts";
}

// "-- schema: a BIGINT; p DECIMAL(18,4) | event_time=ts late=update"
void parse_schema_line(std::string_view line, config::SourceConfig& src, size_t& batch) {
  std::string_view columns = line, options;
  if (auto bar = line.find('|'); bar != std::string_view::npos) {
    columns = line.substr(0, bar);
    options = line.substr(bar + 1);
  }
  while (!columns.empty()) {
    size_t semi = std::min(columns.find(';'), columns.size());
    std::string_view col = trim(columns.substr(0, semi));
    columns.remove_prefix(std::min(semi + 1, columns.size()));
    size_t space = col.find(' ');
    if (space == std::string_view::npos) continue;
    if (auto type = types::parse_type_name(trim(col.substr(space + 1))))
      add_column(src, col.substr(0, space), *type);
  }
  while (!options.empty()) {
    options = trim(options);
    size_t end = std::min(options.find(' '), options.size());
    std::string_view opt = options.substr(0, end);
    options.remove_prefix(end);
    size_t eq = opt.find('=');
    std::string_view key = opt.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : opt.substr(eq + 1);
    if (key == "event_time") src.event_time = std::string(value);
    if (key == "delay") src.max_out_of_orderness_ms = duration(value);
    if (key == "lateness") src.allowed_lateness_ms = duration(value);
    if (key == "idle") src.idle_timeout_ms = duration(value);
    if (key == "timestamps") src.timestamp_input = timestamps(value);
    if (key == "event_time_format") src.event_time_input = timestamps(value);
    if (key == "kafka") src.type = "kafka";
    if (key == "batch") batch = static_cast<size_t>(std::clamp<int64_t>(number(value, 1), 1, 64));
    if (key == "late") {
      if (value == "dead_letter") src.late_records = exec::LatePolicy::kDeadLetter;
      if (value == "update") src.late_records = exec::LatePolicy::kUpdate;
    }
  }
}

// The location of an SQL error lies inside the text (or just past the end of a line).
void check_location(const Error& e, std::string_view sql) {
  Location loc = e.location();
  if (!loc.known()) return;
  size_t line_start = 0;
  for (uint32_t l = 1; l < loc.line; ++l) {
    size_t nl = sql.find('\n', line_start);
    FUZZ_CHECK(nl != std::string_view::npos, e.what());
    line_start = nl + 1;
  }
  size_t line_end = std::min(sql.find('\n', line_start), sql.size());
  FUZZ_CHECK(loc.column >= 1 && loc.column <= line_end - line_start + 1, e.what());
}

bool is_sql_code(ErrorCode c) {
  return c >= ErrorCode::kSqlSyntax && c <= ErrorCode::kSqlDuplicateName;
}

void run(const config::JobConfig& job, const exec::Query& query, std::string_view rows,
         size_t batch) {
  server::pipeline::DecodeStage decode(job, query, 0);
  server::pipeline::QueryStage stage(query);
  format::JsonEncoder encoder(server::output_columns(query), job.sink.timestamp_format);
  std::string line;
  auto emit = [&](exec::Batch& out) {
    for (size_t r = 0; r < out.size(); ++r) {
      line.clear();
      encoder.encode(out.row(r), line);
      FUZZ_CHECK(fuzz::valid_json(line, true), line);
    }
  };
  auto settle = [&] {
    for (const auto& rej : decode.rejections())
      FUZZ_CHECK(rej.error.code >= ErrorCode::kDecode, rej.error.message);
  };
  exec::ExecContext ctx;
  int64_t offset = 0;
  while (!rows.empty() && offset < static_cast<int64_t>(kMaxRows)) {
    // Processing time: one second per record on the steady clock; the wall clock at 2100-01-01,
    // so event times up to then pass the future-skew bound and later ones are EVENT_TIME.
    decode.begin(offset * 1000, kWallMs + offset * 1000);
    for (size_t i = 0; i < batch && !rows.empty(); ++i, ++offset) {
      size_t nl = std::min(rows.find('\n'), rows.size());
      std::string_view record = rows.substr(0, nl);
      rows.remove_prefix(std::min(nl + 1, rows.size()));
      server::pipeline::RecordMeta meta;
      meta.position = {0, offset};
      std::string key = std::string("k").append(std::to_string(offset % 3));
      if (job.source.type == "kafka") {
        meta.key = key;
        meta.timestamp_ms = offset * 1000;
      }
      decode.add(record, meta);
    }
    ctx.watermark_steps = decode.watermark_steps();
    stage.run(decode.batch(), decode.advance_watermark(), ctx, decode.rejections(), emit);
    settle();
    if (query.state_size(stage.state()).bytes > kMaxStateBytes) break;
  }
  query.retained_offset(stage.state());
  decode.rejections().clear();
  stage.close(ctx, decode.rejections(), emit);
  settle();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  config::JobConfig job;
  job.file = std::string("fuzz.yaml");  // (not from a literal: GCC 12 -O3 warns falsely)
  job.name = std::string("fuzz");
  job.source.name = std::string("t");
  job.source.type = std::string("file");
  job.sink.type = std::string("stdout");
  size_t batch = 1;
  constexpr std::string_view kSchema = "-- schema:";
  if (text.starts_with(kSchema)) {
    std::string_view line = text.substr(kSchema.size(), text.find('\n') - kSchema.size());
    parse_schema_line(line, job.source, batch);
  } else {
    default_source(job.source);
  }
  std::string_view rows;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = std::min(text.find('\n', pos), text.size());
    if (trim(text.substr(pos, nl - pos)) == "-- rows") {
      rows = text.substr(std::min(nl + 1, text.size()));
      text = text.substr(0, pos);
      break;
    }
    pos = nl + 1;
  }
  job.sql = std::string(text);
  std::shared_ptr<const exec::Query> query;
  try {
    query = server::compile_job(job);
  } catch (const Error& e) {
    // compile_job's Kafka partitioning check reports a ConfigError on the source.
    FUZZ_CHECK(is_sql_code(e.code()) || dynamic_cast<const config::ConfigError*>(&e), e.what());
    check_location(e, job.sql);
    server::describe_job_error(&job, job.file, e);
    return 0;
  }
  run(job, *query, rows, batch);
  return 0;
}
