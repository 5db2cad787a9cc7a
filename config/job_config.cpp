#include "config/job_config.hpp"

#include "config/sql_origin_impl.hpp"
#include "config/time_config_impl.hpp"
#include "config/yaml_reader_impl.hpp"
#include "plan/source_schema.hpp"
#include "types/data_type.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace sluice::config {

std::string ConfigIssue::to_string() const {
  std::string out = file;
  if (mark.line != 0) out += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

static std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const ConfigIssue& issue : issues) {
    if (!out.empty()) out += '\n';
    out += issue.to_string();
  }
  return out;
}

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : Error(ErrorCode::kConfig, join_issues(issues)), issues_(std::move(issues)) {}

namespace {

using types::DataType;

constexpr Option<std::string_view> kSourceTypes[] = {{"file", "file"}, {"kafka", "kafka", false}};
constexpr Option<std::string_view> kSinkTypes[] = {
    {"file", "file"}, {"stdout", "stdout"}, {"kafka", "kafka", false}};
constexpr Option<std::string_view> kFormats[] = {{"json", "json"}, {"avro", "avro", false}};
constexpr Option<format::TimestampInput> kTimestampInputs[] = {
    {"auto", format::TimestampInput::kAuto},
    {"epoch_millis", format::TimestampInput::kEpochMillis},
    {"epoch_seconds", format::TimestampInput::kEpochSeconds},
    {"iso8601", format::TimestampInput::kIso8601}};
constexpr Option<format::TimestampOutput> kTimestampOutputs[] = {
    {"iso8601", format::TimestampOutput::kIso8601},
    {"epoch_millis", format::TimestampOutput::kEpochMillis}};
constexpr Option<OnError> kOnError[] = {
    {"dead_letter", OnError::kDeadLetter}, {"skip", OnError::kSkip}, {"fail", OnError::kFail}};

constexpr std::size_t kMaxNameLength = 200;

bool is_valid_job_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string resolve_path(const std::string& job_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(job_file).parent_path() / p).lexically_normal().string();
}

// `path` of a source or sink: required for type file, not allowed for the others.
void read_endpoint_path(MapReader& map, const std::string& type, const std::string& job_file,
                        std::string* out) {
  YAML::Node node = map.value("path");
  if (!node.IsDefined()) {
    if (type == "file") map.issues().add(map.mark(), map.path(), "missing required key 'path'");
    return;
  }
  if (!type.empty() && type != "file") {
    map.issues().add(mark_of(node), map.key_path("path"),
                     "not allowed when type is '" + type + "'");
    return;
  }
  if (!map.string("path", out)) return;
  if (out->empty()) {
    map.issues().add(mark_of(node), map.key_path("path"), "must not be empty");
    return;
  }
  *out = resolve_path(job_file, *out);
}

SinkConfig read_sink(MapReader map, const std::string& job_file) {
  SinkConfig sink;
  sink.mark = map.mark();
  map.choice("type", "a sink type", kSinkTypes, &sink.type, Need::kRequired);
  read_endpoint_path(map, sink.type, job_file, &sink.path);
  map.choice("format", "a format", kFormats, &sink.format);
  map.choice("timestamp_format", "a timestamp format", kTimestampOutputs, &sink.timestamp_format);
  map.finish();
  return sink;
}

bool is_system_column(const std::string& name) {
  for (const auto& sys : plan::kSystemColumns) {
    if (name.size() == sys.name.size() &&
        std::equal(name.begin(), name.end(), sys.name.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return true;
  }
  return false;
}

void read_column(MapReader& schema, const MapReader::Entry& entry, SourceConfig& source) {
  IssueList& issues = schema.issues();
  Mark mark = MapReader::value_mark(entry);
  std::string path = schema.key_path(entry.key);
  if (entry.key.empty()) {
    issues.add(mark_of(entry.key_node), schema.path(), "a column needs a name");
  } else if (is_system_column(entry.key)) {
    issues.add(mark_of(entry.key_node), path,
               "'" + entry.key + "' is a system column name; rename the schema column");
  } else if (!entry.value.IsScalar()) {
    issues.add(mark, path, "expected a type name, found " + describe(entry.value));
  } else {
    std::string error;
    std::optional<DataType> type = types::parse_type_name(entry.value.Scalar(), &error);
    if (type) {
      source.schema.push_back({entry.key, *type});
      source.schema_marks.push_back(mark);
      return;
    }
    const std::string& text = entry.value.Scalar();
    // In a flow map `{price: DECIMAL(18,4)}` YAML splits at the comma.
    bool split = text.find('(') != std::string::npos && text.find(')') == std::string::npos;
    issues.add(mark, path,
               "unknown type '" + text + "'" + (error.empty() ? "" : ": " + error) +
                   (split ? " (inside { } a comma separates entries: quote the type, as in "
                            "'DECIMAL(18,4)')"
                          : ""));
  }
}

void read_schema(MapReader schema, SourceConfig& source) {
  if (!schema.is_map()) return;
  if (schema.entries().empty()) {
    schema.issues().add(schema.mark(), schema.path(), "expected at least one column");
  }
  for (const MapReader::Entry& entry : schema.entries()) {
    read_column(schema, entry, source);
  }
}

SourceConfig read_source(MapReader map, const std::string& job_file) {
  SourceConfig source;
  source.mark = map.mark();
  bool has_name = map.string("name", &source.name);
  map.choice("type", "a source type", kSourceTypes, &source.type, Need::kRequired);
  read_endpoint_path(map, source.type, job_file, &source.path);
  map.choice("format", "a format", kFormats, &source.format);
  map.choice("timestamp_format", "a timestamp format", kTimestampInputs, &source.timestamp_input);
  read_schema(map.map("schema", Need::kRequired), source);
  read_time_settings(map, source);
  map.finish();
  if (has_name && source.name.empty()) {
    map.issues().add(mark_of(map.value("name")), map.key_path("name"), "must not be empty");
  }
  if (!has_name) source.name = std::filesystem::path(source.path).stem().string();
  return source;
}

void read_name_and_sql(MapReader& job, JobConfig& config, std::string_view text) {
  if (job.string("name", &config.name, Need::kRequired) && !is_valid_job_name(config.name)) {
    job.issues().add(mark_of(job.value("name")), "name",
                     "'" + config.name +
                         "' is not a valid job name (use letters, digits, '.', '_' and '-'; at "
                         "most 200 characters)");
  }
  if (!job.string("sql", &config.sql, Need::kRequired)) return;
  Mark mark = mark_of(job.value("sql"));
  if (config.sql.find_first_not_of(" \t\r\n") == std::string::npos) {
    job.issues().add(mark, "sql", "the query is empty");
  }
  config.sql_origin = make_sql_origin(text, mark, config.sql);
}

void read_job(MapReader& job, JobConfig& config, std::string_view text) {
  read_name_and_sql(job, config, text);
  bool has_on_error = job.choice("on_error", "an on_error policy", kOnError, &config.on_error);
  config.source = read_source(job.map("source", Need::kRequired), config.file);
  config.sink = read_sink(job.map("sink", Need::kRequired), config.file);
  bool has_dead_letter = job.value("dead_letter").IsDefined();
  if (has_dead_letter) config.dead_letter = read_sink(job.map("dead_letter"), config.file);
  if (config.source.late_records == exec::LatePolicy::kDeadLetter && !has_dead_letter) {
    job.issues().add(config.source.late_records_mark, "source.late_records",
                     "'dead_letter' needs a dead_letter section");
  }
  job.finish();
  if (!has_on_error) {
    config.on_error = has_dead_letter ? OnError::kDeadLetter : OnError::kSkip;
  } else if (config.on_error == OnError::kDeadLetter && !has_dead_letter) {
    job.issues().add(mark_of(job.value("on_error")), "on_error",
                     "'dead_letter' needs a dead_letter section");
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void throw_read_error(const std::string& path, int error) {
  throw Error(ErrorCode::kIo,
              "cannot read job file '" + path + "': " + std::string(std::strerror(error)));
}

}  // namespace

JobConfig load_job_text(const std::string& text, const std::string& file) {
  IssueList issues(file);
  JobConfig config;
  config.file = file;
  std::optional<YAML::Node> document = parse_document(text, issues);
  if (document && document->IsNull() && is_blank_document(text)) {
    issues.add({1, 1}, "", "the file is empty (expected a map with name, sql, source and sink)");
  } else if (document) {
    MapReader job(*document, "", issues);
    if (job.is_map()) read_job(job, config, text);
  }
  issues.throw_if_any();
  return config;
}

JobConfig load_job_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw_read_error(path, errno);
  std::string text;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
    text.append(buffer, n);
  if (std::ferror(file.get())) throw_read_error(path, errno);
  return load_job_text(text, path);
}

}  // namespace sluice::config
