#pragma once
// A job definition as loaded from its YAML file: structure and values checked, SQL not yet bound.
// Immutable once loaded; shared freely between threads.

#include "common/error.hpp"
#include "config/env_subst.hpp"
#include "exec/event_time.hpp"
#include "format/json.hpp"
#include "format/kafka_serde.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::config {

// Where a YAML value sits in its file.
struct Mark {
  uint32_t line = 0;  // 1-based
  uint32_t column = 0;
};

// One error in a job file: `file:line:col: key.path: message` when printed.
struct ConfigIssue {
  std::string file;
  Mark mark;
  std::string key_path;  // e.g. "source.schema.price"; empty for the document itself
  std::string message;
  std::string to_string() const;
};

// Thrown when a file has one or more errors; `what()` holds every issue, one per line.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

enum class OnError { kDeadLetter, kSkip, kFail };

// processing.guarantee: at least once (a record's output may repeat after a failure) or exactly
// once (output, dead letters, changelog and input offsets commit in one Kafka transaction).
enum class Guarantee { kAtLeastOnce, kExactlyOnce };
const char* guarantee_name(Guarantee g);
// The Schema Registry's schema type of a value or key format ("avro": "AVRO", "json_sr": "JSON",
// "protobuf": "PROTOBUF"), or "" for a format read without a registry.
std::string_view registry_type(std::string_view format);
// Why a kafka property cannot be set in a job with processing.guarantee exactly_once, or "": its
// consumers read committed records only (isolation.level read_committed).
std::string refuse_exactly_once_property(std::string_view name, std::string_view value);

// librdkafka properties (name -> value, as text), in file order.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

struct SinkConfig {
  std::string type;  // "file" | "stdout" | "kafka"
  std::string path;  // file
  std::string format = "json";
  format::TimestampOutput timestamp_format = format::TimestampOutput::kIso8601;
  Mark mark;
  // kafka (config/kafka_config.cpp): the topic, and the output columns that make the record key
  // (empty: the daemon's default). Key names are checked against the query's output columns when
  // the SQL is bound (server::check_job), not here.
  std::string topic;
  Mark topic_mark;
  std::vector<std::string> key;
  std::vector<Mark> key_marks;  // of each key column
  // How the key is written: "" (one STRING or BYTES column as its bytes, anything else as a JSON
  // object), "kafka" (one column through Kafka's primitive serializer of its type), "json" (one
  // column as its JSON value, several as an object), "avro" or "protobuf" (registered, in the
  // wire format: server/pipeline/value_format.hpp make_key_encoder).
  // Checked against the key's columns when the SQL is bound.
  std::string key_format;
  Mark key_format_mark;
  // The Schema Registry subjects the value and key schemas are registered under; empty:
  // `<topic>-value` and `<topic>-key` (Confluent's TopicNameStrategy).
  std::string value_subject, key_subject;
  // A schema the registry already holds, written with instead of registering one (the sink checks
  // at start that it is the schema it writes): Confluent's use.schema.id. Excludes the subject.
  std::optional<uint32_t> value_schema_id, key_schema_id;
};

struct SourceConfig {
  std::string name;                 // what FROM refers to; default: the file's stem
  std::string type;                 // "file" | "kafka"
  std::string key_path = "source";  // where it is in the file: "source", "sources[1]"
  // kind: a stream of events (every record one row), or a table: a changelog holding the latest
  // value per record key, where a tombstone (a null value) deletes the key. Only a JOIN reads a
  // table for now.
  bool table = false;
  std::string path;
  // file: lines are `<key><key_separator><value>`, as kafka-console-producer's parse.key reads
  // them (the key read into `_key`; a value `null` is a tombstone); empty: lines are values only.
  std::string key_separator;
  std::string format = "json";
  format::TimestampInput timestamp_input = format::TimestampInput::kAuto;
  std::vector<format::Column> schema;  // in file order
  std::vector<Mark> schema_marks;      // mark of each column's type value
  Mark mark;
  // A Kafka source of a registry format (avro, json_sr, protobuf) may leave `schema` out: its
  // columns are then those of the latest schema of `value_subject` (default `<topic>-value`),
  // read from the registry when the job starts (set_registry_schema).
  bool schema_from_registry = false;
  std::string value_subject;
  // The subject whose latest schema stands for `schema`.
  std::string registry_subject() const {
    return value_subject.empty() ? topic + "-value" : value_subject;
  }
  // Event time (config/time_config.cpp): the column windows read (empty: the record timestamp),
  // how that column is read, the watermark settings and the late-record policy.
  std::string event_time;
  Mark event_time_mark;
  format::TimestampInput event_time_input = format::TimestampInput::kAuto;
  int64_t max_out_of_orderness_ms = 0;  // watermark = max event time seen - this
  int64_t allowed_lateness_ms = 0;      // windows stay open this long past their end
  int64_t idle_timeout_ms = 0;          // an input silent this long stops holding the watermark
                                        // back; 0: never
  // A record whose event time is further ahead than this of both its own timestamp (when it has
  // one) and the processing time is rejected (EVENT_TIME): it would move the watermark for good.
  int64_t max_future_skew_ms = 3'600'000;
  exec::LatePolicy late_records = exec::LatePolicy::kDrop;
  Mark late_records_mark;  // where `late_records` was given; line 0 when absent
  // kafka: the topic, and the schema columns the topic is already partitioned by (so GROUP BY on
  // them needs no repartitioning); both checked here.
  std::string topic;
  Mark topic_mark;
  std::vector<std::string> partitioned_by;
  std::vector<Mark> partitioned_by_marks;
  // kafka: how the record key reads into `_key` (config/kafka_config.cpp): key_format "kafka"
  // (Kafka's primitive serdes, `key_serde`), "json" (a JSON value of `key_type`) or "avro" (a
  // value of `key_type` in the Schema Registry wire format).
  std::string key_format = "kafka";
  format::KafkaSerde key_serde = format::KafkaSerde::kString;
  types::DataType key_type = types::DataType::string();
};

// A run of the SQL text that appears verbatim on one line of the file.
struct SqlSpan {
  uint32_t sql_offset = 0;  // byte offset in JobConfig::sql
  uint32_t length = 0;
  Mark file;  // file position of sql[sql_offset]
};

// Maps positions inside the `sql:` value to positions in the YAML file.
struct SqlOrigin {
  Mark first_char;             // file position of the SQL text's first character
  bool block = false;          // literal/folded block scalar (`|`, `>`): lines keep indentation
  uint32_t block_indent = 0;   // columns of indentation stripped from every block line
  std::vector<SqlSpan> spans;  // in SQL order; exact for block and plain scalars, see README
};

struct JobConfig {
  std::string file;  // path as given
  std::string name;
  std::string sql;
  SqlOrigin sql_origin;
  SourceConfig source;                      // `source:`, or the first of `sources:`
  std::vector<SourceConfig> other_sources;  // the rest of `sources:` (a join reads them)
  SinkConfig sink;
  std::optional<SinkConfig> dead_letter;
  OnError on_error = OnError::kSkip;  // kDeadLetter by default when dead_letter is set
  KafkaProperties kafka;              // extra librdkafka properties of this job (allow-listed:
                                      // config/job_kafka_properties.hpp)
  std::vector<Mark> kafka_marks;      // the position of each property's value
  std::string group_id;               // consumer group; default: the job's name
  Mark name_mark;                     // where `name` is given
  Mark group_id_mark;                 // where `group_id` is given; line 0 when it defaults
  // processing.guarantee (none: the daemon's default) and processing.commit_interval (0: the
  // daemon's default for the guarantee). Exactly once needs Kafka for the source and every sink.
  std::optional<Guarantee> guarantee;
  Mark guarantee_mark;
  int64_t commit_interval_ms = 0;

  // True when a source, the sink or the dead-letter sink is a Kafka topic.
  bool uses_kafka() const;
  // Every source: `source`, then `other_sources`.
  std::vector<const SourceConfig*> sources() const;

  // File position of a location inside `sql` (as reported by the SQL parser/binder).
  Mark sql_to_file(Location sql_location) const;
};

// A job name is also its file name in the daemon's jobs directory (`<name>.yaml`), its default
// consumer group, part of its Kafka client.id, a metric label and the prefix of its repartition
// topic `<name>-repartition` (at most 249 characters in Kafka). So it is 1 to kMaxJobNameLength
// ASCII letters, digits, '.', '_' and '-', not starting with '.' or '-' (no hidden file, no
// command-line option, never '.' or '..').
inline constexpr std::size_t kMaxJobNameLength = 200;
bool is_valid_job_name(std::string_view name);
// The rule in words, for messages: "use 1 to 200 letters, ...".
std::string job_name_rule();

// Gives a source with `schema_from_registry` the columns of its subject's latest schema
// (format::registry_schema_columns) and checks them as a written schema is checked: names, and
// event_time and partitioned_by against them. Throws ConfigError placed at `source`.
void set_registry_schema(JobConfig& job, std::vector<format::Column> columns,
                         const std::string& described);

// Reads and checks a job file. Relative paths in it (source.path, sink.path) are resolved against
// the job file's directory. `${VAR}`, `${VAR:-default}` and `$$` are substituted in every string
// value except `sql` (config/env_subst.hpp), looked up in `env` (default: the process environment).
// Reports every problem at once: unknown keys, missing required keys, wrong value shapes, unknown
// types in the schema. Throws ConfigError (or Error kIo when the file cannot be read).
JobConfig load_job_file(const std::string& path, const EnvLookup& env = process_env);
// Same, from text; `file` is used in messages and to resolve relative paths.
JobConfig load_job_text(const std::string& text, const std::string& file,
                        const EnvLookup& env = process_env);

}  // namespace sluice::config
