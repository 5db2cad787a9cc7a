#include "config/job_config.hpp"

#include "common/ascii.hpp"
#include "config/env_subst_impl.hpp"
#include "config/kafka_config_impl.hpp"
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
  if (mark.line != 0)
    out.append(":")
        .append(std::to_string(mark.line))
        .append(":")
        .append(std::to_string(mark.column));
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

constexpr Option<std::string_view> kSourceTypes[] = {{"file", "file"}, {"kafka", "kafka"}};
constexpr Option<bool> kSourceKinds[] = {{"stream", false}, {"table", true}};
constexpr Option<std::string_view> kSinkTypes[] = {
    {"file", "file"}, {"stdout", "stdout"}, {"kafka", "kafka"}};
constexpr Option<std::string_view> kFormats[] = {
    {"json", "json"}, {"avro", "avro"}, {"json_sr", "json_sr"}, {"protobuf", "protobuf"}};
constexpr Option<std::string_view> kSourceFormats[] = {{"json", "json"},
                                                       {"avro", "avro"},
                                                       {"json_sr", "json_sr"},
                                                       {"protobuf", "protobuf"},
                                                       {"debezium_json", "debezium_json"}};
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

// `format`: avro, json_sr and protobuf are the Schema Registry wire format, which only Kafka topics
// carry.
void read_format(MapReader& map, const std::string& type, bool dead_letter, std::string* format,
                 bool table = false, bool sink = false) {
  bool read = sink || dead_letter ? map.choice("format", "a format", kFormats, format)
                                  : map.choice("format", "a format", kSourceFormats, format);
  if (!read || *format == "json") return;
  if (*format == "debezium_json") {
    if (!table) {
      map.issues().add(mark_of(map.value("format")), map.key_path("format"),
                       "debezium_json reads change events as a table: add kind: table");
    }
    return;
  }
  std::string why = dead_letter ? "a dead letter keeps the record's own bytes"
                    : type != "kafka" && !type.empty()
                        ? *format +
                              " values are read and written in the Schema Registry wire format, "
                              "which Kafka topics carry; a " +
                              type + " endpoint takes json"
                        : "";
  if (!why.empty()) map.issues().add(mark_of(map.value("format")), map.key_path("format"), why);
}

// `dead_letter` has the sink's shape except `key`: dead-lettered records keep their original key.
SinkConfig read_sink(MapReader map, const std::string& job_file, bool dead_letter = false) {
  SinkConfig sink;
  sink.mark = map.mark();
  map.choice("type", "a sink type", kSinkTypes, &sink.type, Need::kRequired);
  read_endpoint_path(map, sink.type, job_file, &sink.path);
  read_topic(map, sink.type, &sink.topic);
  sink.topic_mark = mark_of(map.value("topic"));
  if (!dead_letter) {
    read_column_list(map, "key", sink.type, &sink.key, &sink.key_marks);
    read_sink_key_format(map, sink);
  }
  read_format(map, sink.type, dead_letter, &sink.format, false, true);
  if (!dead_letter) read_sink_subjects(map, sink);
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
  return false;  // `_headers` is not reserved: a schema column of that name hides the headers
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

// partitioned_by must name schema columns.
void check_partitioned_by(const SourceConfig& source, IssueList& issues) {
  std::vector<std::string> names;
  for (const auto& c : source.schema)
    names.push_back(c.name);
  for (std::size_t i = 0; i < source.partitioned_by.size(); ++i) {
    const std::string& col = source.partitioned_by[i];
    if (std::find(names.begin(), names.end(), col) != names.end()) continue;
    std::string message = "'" + col + "' is not a column of " + source.key_path + ".schema";
    if (auto hint = closest_match(col, names)) message += " (did you mean " + *hint + "?)";
    issues.add(source.partitioned_by_marks[i], source.key_path + ".partitioned_by", message);
  }
}

// Checked when the schema itself is valid (against a schema with errors the check would mislead),
// and a schema from the registry once it is read.
void read_partitioned_by(MapReader& map, SourceConfig& source, bool schema_ok) {
  if (!read_column_list(map, "partitioned_by", source.type, &source.partitioned_by,
                        &source.partitioned_by_marks))
    return;
  if (schema_ok && !source.schema_from_registry) check_partitioned_by(source, map.issues());
}

SourceConfig read_source(MapReader map, const std::string& job_file) {
  SourceConfig source;
  source.mark = map.mark();
  source.key_path = map.path();
  bool has_name = map.string("name", &source.name);
  map.choice("type", "a source type", kSourceTypes, &source.type, Need::kRequired);
  map.choice("kind", "a source kind", kSourceKinds, &source.table);
  read_endpoint_path(map, source.type, job_file, &source.path);
  if (map.string("key_separator", &source.key_separator)) {
    Mark mark = mark_of(map.value("key_separator"));
    if (source.type != "file") {
      map.issues().add(mark, map.key_path("key_separator"),
                       "only a file source has key_separator (a Kafka record has its key)");
    } else if (source.key_separator.empty()) {
      map.issues().add(mark, map.key_path("key_separator"), "must not be empty");
    }
  }
  read_topic(map, source.type, &source.topic);
  source.topic_mark = mark_of(map.value("topic"));
  read_format(map, source.type, false, &source.format, source.table);
  map.choice("timestamp_format", "a timestamp format", kTimestampInputs, &source.timestamp_input);
  // A registry format may leave the schema to the registry (on Kafka, where records carry ids).
  bool registered = !registry_type(source.format).empty() && source.type == "kafka";
  source.schema_from_registry = registered && !map.value("schema").IsDefined();
  MapReader schema = map.map("schema", registered ? Need::kOptional : Need::kRequired);
  read_schema(schema, source);
  read_subject(map, "value_subject", registered,
               "a format whose schema is in the registry (avro, json_sr, protobuf)",
               &source.value_subject);
  read_time_settings(map, source);
  read_partitioned_by(map, source,
                      schema.is_map() && source.schema.size() == schema.entries().size());
  read_source_key(map, source);
  map.finish();
  if (has_name && source.name.empty()) {
    map.issues().add(mark_of(map.value("name")), map.key_path("name"), "must not be empty");
  }
  if (!has_name) {
    source.name =
        source.type == "kafka" ? source.topic : std::filesystem::path(source.path).stem().string();
  }
  return source;
}

void read_name_and_sql(MapReader& job, JobConfig& config, std::string_view text) {
  config.name_mark = mark_of(job.value("name"));
  if (job.string("name", &config.name, Need::kRequired) && !is_valid_job_name(config.name)) {
    job.issues().add(config.name_mark, "name",
                     "'" + config.name + "' is not a valid job name (" + job_name_rule() + ")");
  }
  if (!job.string("sql", &config.sql, Need::kRequired)) return;
  Mark mark = mark_of(job.value("sql"));
  if (config.sql.find_first_not_of(" \t\r\n") == std::string::npos) {
    job.issues().add(mark, "sql", "the query is empty");
  }
  config.sql_origin = make_sql_origin(text, mark, config.sql);
}

void read_group_id(MapReader& job, JobConfig& config) {
  config.group_id = config.name;
  if (!job.string("group_id", &config.group_id)) return;
  config.group_id_mark = mark_of(job.value("group_id"));
  if (config.group_id.empty()) {
    job.issues().add(config.group_id_mark, "group_id",
                     "must not be empty (leave it out to use the job name)");
  }
}

// processing: the delivery guarantee and how often progress commits (10 ms .. 1 min). Exactly
// once commits Kafka transactions: every endpoint must be a topic.
void read_processing(MapReader& job, JobConfig& config) {
  if (!job.value("processing").IsDefined()) return;
  MapReader map = job.map("processing");
  Guarantee g = Guarantee::kAtLeastOnce;
  if (map.choice("guarantee", "a processing guarantee", kGuarantees, &g)) {
    config.guarantee = g;
    config.guarantee_mark = mark_of(map.value("guarantee"));
  }
  std::string text;
  if (map.string("commit_interval", &text)) {
    int64_t ms = 0;
    if (!parse_duration(text, &ms) || ms < 10 || ms > 60'000)
      map.issues().add(mark_of(map.value("commit_interval")), "processing.commit_interval",
                       "expected a duration from 10ms to 1m (e.g. 100ms), found '" + text + "'");
    else
      config.commit_interval_ms = ms;
  }
  map.finish();
  if (config.guarantee != Guarantee::kExactlyOnce) return;
  auto need_kafka = [&](const std::string& type, const char* what) {
    if (type == "kafka" || type.empty()) return;
    map.issues().add(config.guarantee_mark, "processing.guarantee",
                     std::string("exactly_once needs a Kafka ") + what +
                         " (it commits Kafka transactions); the " + what + " is of type " + type);
  };
  need_kafka(config.source.type, "source");
  need_kafka(config.sink.type, "sink");
  if (config.dead_letter) need_kafka(config.dead_letter->type, "dead_letter");
  for (size_t i = 0; i < config.kafka.size(); ++i) {
    const auto& [name, value] = config.kafka[i];
    if (std::string why = refuse_exactly_once_property(name, value); !why.empty())
      map.issues().add(i < config.kafka_marks.size() ? config.kafka_marks[i] : Mark{},
                       "kafka." + name, why);
  }
}

// A job that writes to the topic it reads would consume its own output forever.
void check_topics_differ(MapReader& job, const JobConfig& config) {
  if (config.source.type != "kafka" || config.source.topic.empty()) return;
  auto check = [&](const SinkConfig& sink, const char* section) {
    if (sink.type != "kafka" || sink.topic != config.source.topic) return;
    const YAML::Node node = job.value(section);
    job.issues().add(
        mark_of(node["topic"]), std::string(section) + ".topic",
        "'" + sink.topic + "' is also source.topic: the job would read its own output");
  };
  check(config.sink, "sink");
  if (config.dead_letter) check(*config.dead_letter, "dead_letter");
}

// `source:` (one) or `sources:` (a list, each with a name the SQL refers to).
void read_sources(MapReader& job, JobConfig& config) {
  YAML::Node list = job.value("sources");
  if (!list.IsDefined()) {
    config.source = read_source(job.map("source", Need::kRequired), config.file);
    return;
  }
  Mark mark = mark_of(list);
  if (job.value("source").IsDefined()) {
    job.issues().add(mark, "sources", "give either source (one) or sources (a list), not both");
    return;
  }
  if (!list.IsSequence() || list.size() == 0) {
    job.issues().add(mark, "sources", "expected a list of sources, each a map with a name");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = "sources[" + std::to_string(i) + "]";
    MapReader map(list[i], path, job.issues(), mark_of(list[i]));
    bool named = map.is_map() && list[i]["name"].IsDefined();
    SourceConfig source = read_source(map, config.file);
    if (map.is_map() && !named) {
      job.issues().add(mark_of(list[i]), path + ".name",
                       "a source in a list needs a name (the SQL's FROM and JOIN use it)");
    }
    for (const SourceConfig* other : config.sources()) {
      if (i > 0 && named && iequals(other->name, source.name)) {
        job.issues().add(mark_of(list[i]["name"]), path + ".name",
                         "'" + source.name + "' names another source too");
      }
    }
    (i == 0 ? config.source : config.other_sources.emplace_back()) = std::move(source);
  }
}

void read_job(MapReader& job, JobConfig& config, std::string_view text) {
  read_name_and_sql(job, config, text);
  bool has_on_error = job.choice("on_error", "an on_error policy", kOnError, &config.on_error);
  read_sources(job, config);
  config.sink = read_sink(job.map("sink", Need::kRequired), config.file);
  bool has_dead_letter = job.value("dead_letter").IsDefined();
  if (has_dead_letter) config.dead_letter = read_sink(job.map("dead_letter"), config.file, true);
  read_kafka_properties(job.map("kafka"), PropertyOwner::kJob, &config.kafka, &config.kafka_marks);
  read_group_id(job, config);
  read_processing(job, config);
  check_topics_differ(job, config);
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

}  // namespace

// Kafka allows 249 characters in a topic name; the job name prefixes `<name>-repartition`.
static_assert(kMaxJobNameLength + std::string_view("-repartition").size() <= 249);

bool is_valid_job_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxJobNameLength || name[0] == '.' || name[0] == '-')
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string refuse_exactly_once_property(std::string_view name, std::string_view value) {
  if (name == "isolation.level" && value != "read_committed")
    return "must be read_committed with processing.guarantee exactly_once (the job reads "
           "committed records only), found '" +
           std::string(value) + "'";
  return "";
}

std::string_view registry_type(std::string_view format) {
  return format == "avro"       ? "AVRO"
         : format == "json_sr"  ? "JSON"
         : format == "protobuf" ? "PROTOBUF"
                                : "";
}

const char* guarantee_name(Guarantee g) {
  return g == Guarantee::kExactlyOnce ? "exactly_once" : "at_least_once";
}

std::string job_name_rule() {
  return "use 1 to " + std::to_string(kMaxJobNameLength) +
         " letters, digits, '.', '_' and '-', not starting with '.' or '-'";
}

bool JobConfig::uses_kafka() const {
  for (const SourceConfig* s : sources()) {
    if (s->type == "kafka") return true;
  }
  return sink.type == "kafka" || (dead_letter && dead_letter->type == "kafka");
}

std::vector<const SourceConfig*> JobConfig::sources() const {
  std::vector<const SourceConfig*> all{&source};
  for (const SourceConfig& s : other_sources)
    all.push_back(&s);
  return all;
}

void set_registry_schema(JobConfig& job, std::vector<format::Column> columns,
                         const std::string& described) {
  SourceConfig& source = job.source;
  IssueList issues(job.file);
  for (const auto& c : columns) {
    if (is_system_column(c.name)) {
      issues.add(source.mark, source.key_path + ".schema",
                 described + " has field '" + c.name +
                     "', a system column name: give the source a schema (without it)");
    }
  }
  issues.throw_if_any();
  source.schema = std::move(columns);
  source.schema_marks.assign(source.schema.size(), source.mark);
  check_event_time(source, issues);
  check_partitioned_by(source, issues);
  issues.throw_if_any();
}

JobConfig load_job_text(const std::string& text, const std::string& file, const EnvLookup& env) {
  IssueList issues(file);
  JobConfig config;
  config.file = file;
  std::optional<YAML::Node> document = parse_document(text, issues);
  // Not the SQL: its text and the positions of its errors stay as written.
  if (document) substitute_document(*document, text, env, {"sql"}, issues);
  if (document && document->IsNull() && is_blank_document(text)) {
    issues.add({1, 1}, "", "the file is empty (expected a map with name, sql, source and sink)");
  } else if (document) {
    MapReader job(*document, "", issues);
    if (job.is_map()) read_job(job, config, text);
  }
  issues.throw_if_any();
  return config;
}

JobConfig load_job_file(const std::string& path, const EnvLookup& env) {
  return load_job_text(read_config_file(path, "job file"), path, env);
}

}  // namespace sluice::config
