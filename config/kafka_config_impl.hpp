#pragma once
// Internal to config/: the Kafka keys of job files and the server file — topic names, key and
// partitioning column lists, and librdkafka property maps. Used while loading, on one thread.

#include "config/yaml_reader_impl.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

// Kafka's topic name rules: 1..249 of [a-zA-Z0-9._-], and not "." or "..".
bool is_valid_topic_name(std::string_view name);

// `topic` of a source or sink: required for type kafka, not allowed for the others.
void read_topic(MapReader& map, const std::string& type, std::string* out);

// A list of column names (`key`, `partitioned_by`): a non-empty sequence of distinct, non-empty
// names. Allowed only when `type` is kafka. Returns false when absent or invalid.
bool read_column_list(MapReader& map, std::string_view key, const std::string& type,
                      std::vector<std::string>* out, std::vector<Mark>* marks);

// A source's `key_format` (kafka, json, avro, protobuf) and `key_type` (for kafka one of Kafka's
// primitive serdes, else any type); a sink's `key_format` (kafka, json, avro, protobuf). Allowed
// only when `type` is kafka.
void read_source_key(MapReader& map, SourceConfig& source);
void read_sink_key_format(MapReader& map, SinkConfig& sink);
// A sink's `value_subject` and `key_subject` (after its format and key_format are read): allowed
// only where a schema is registered, letters, digits, '.', '_' and '-'.
void read_sink_subjects(MapReader& map, SinkConfig& sink);
// A subject name under `key` (1 to 255 letters, digits, '.', '_', '-'), allowed when `registered`
// (else: "needs <needs>").
void read_subject(MapReader& map, std::string_view key, bool registered, const char* needs,
                  std::string* out);

// The values of `processing.guarantee` (job files and the server config).
inline constexpr Option<Guarantee> kGuarantees[] = {{"at_least_once", Guarantee::kAtLeastOnce},
                                                    {"exactly_once", Guarantee::kExactlyOnce}};

// Whose `kafka:` map is read: the server config's is the operator's and may set any property;
// a job file's may set only the client-tuning properties of config/job_kafka_properties.hpp.
enum class PropertyOwner { kServer, kJob };

// A flat map of librdkafka properties (name -> scalar value). Properties the daemon manages
// itself (group.id, enable.auto.commit, enable.auto.offset.store) are rejected with the reason,
// and so is, in a job file, every property outside the allow-list. Messages never quote a value.
// `marks`, when given, receives the position of each value kept in `out`.
void read_kafka_properties(MapReader map, PropertyOwner owner, KafkaProperties* out,
                           std::vector<Mark>* marks = nullptr);

}  // namespace sluice::config
