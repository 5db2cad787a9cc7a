#include "config/job_kafka_properties.hpp"
#include "config/kafka_config_impl.hpp"

#include <algorithm>
#include <charconv>
#include <climits>

namespace sluice::config {

namespace {

constexpr std::size_t kMaxTopicLength = 249;

bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Properties whose value the daemon decides: setting them would break its delivery guarantees.
struct Reserved {
  std::string_view name;
  std::string_view reason;
};
constexpr Reserved kReserved[] = {
    {"enable.auto.commit",
     "sluice commits offsets itself, only once the output they cover is acknowledged"},
    {"enable.auto.offset.store",
     "sluice commits offsets itself, only once the output they cover is acknowledged"},
};

}  // namespace

bool is_valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxTopicLength || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), is_topic_char);
}

void read_topic(MapReader& map, const std::string& type, std::string* out) {
  YAML::Node node = map.value("topic");
  if (!node.IsDefined()) {
    if (type == "kafka") map.issues().add(map.mark(), map.path(), "missing required key 'topic'");
    return;
  }
  if (!type.empty() && type != "kafka") {
    map.issues().add(mark_of(node), map.key_path("topic"),
                     "not allowed when type is '" + type + "'");
    return;
  }
  if (!map.string("topic", out)) return;
  if (!is_valid_topic_name(*out)) {
    map.issues().add(mark_of(node), map.key_path("topic"),
                     "'" + *out +
                         "' is not a valid Kafka topic name (use letters, digits, '.', '_' and "
                         "'-'; at most 249 characters; not '.' or '..')");
  }
}

bool read_column_list(MapReader& map, std::string_view key, const std::string& type,
                      std::vector<std::string>* out, std::vector<Mark>* marks) {
  YAML::Node node = map.value(key);
  if (!node.IsDefined()) return false;
  IssueList& issues = map.issues();
  std::string path = map.key_path(key);
  if (!type.empty() && type != "kafka") {
    issues.add(mark_of(node), path, "not allowed when type is '" + type + "'");
    return false;
  }
  if (!node.IsSequence() || node.size() == 0) {
    issues.add(mark_of(node), path,
               "expected a non-empty list of column names, found " +
                   (node.IsSequence() ? std::string("an empty list") : describe(node)));
    return false;
  }
  bool ok = true;
  for (const YAML::Node& item : node) {
    Mark mark = mark_of(item).line != 0 ? mark_of(item) : mark_of(node);
    if (!item.IsScalar() || item.Scalar().empty()) {
      issues.add(mark, path, "expected a column name, found " + describe(item));
      ok = false;
    } else if (std::find(out->begin(), out->end(), item.Scalar()) != out->end()) {
      issues.add(mark, path, "column '" + item.Scalar() + "' is listed twice");
      ok = false;
    } else {
      out->push_back(item.Scalar());
      marks->push_back(mark);
    }
  }
  return ok;
}

void read_kafka_properties(MapReader map, PropertyOwner owner, KafkaProperties* out,
                           std::vector<Mark>* marks) {
  if (!map.is_map()) return;
  for (const MapReader::Entry& entry : map.entries()) {
    map.value(entry.key);  // every key is read here
    std::string path = map.key_path(entry.key);
    Mark mark = MapReader::value_mark(entry);
    if (entry.key.empty()) {
      map.issues().add(mark_of(entry.key_node), map.path(), "a property needs a name");
      continue;
    }
    if (entry.key == "group.id") {
      map.issues().add(mark_of(entry.key_node), path,
                       owner == PropertyOwner::kJob
                           ? "the consumer group is not a librdkafka property here; set the "
                             "job's group_id key"
                           : "the consumer group is not a librdkafka property here; each job's "
                             "consumer group is its group_id key (default: the job name)");
      continue;
    }
    auto reserved = std::find_if(std::begin(kReserved), std::end(kReserved),
                                 [&](const Reserved& r) { return r.name == entry.key; });
    if (reserved != std::end(kReserved)) {
      map.issues().add(mark_of(entry.key_node), path,
                       "cannot be set: " + std::string(reserved->reason));
      continue;
    }
    if (!entry.value.IsScalar()) {
      std::string hint = entry.value.IsMap() ? " (properties are flat: write '" + entry.key +
                                                   ".name: value', not a nested map)"
                                             : "";
      map.issues().add(mark, path,
                       "expected a property value, found " + describe(entry.value) + hint);
      continue;
    }
    if (owner == PropertyOwner::kJob) {
      // The name is refused at the key, a value outside the allowed ones at the value.
      bool known_name = job_kafka_property(entry.key) != nullptr;
      std::string refused = refuse_job_kafka_property(entry.key, entry.value.Scalar());
      if (!refused.empty()) {
        map.issues().add(known_name ? mark : mark_of(entry.key_node), path, refused);
        continue;
      }
    }
    out->emplace_back(entry.key, entry.value.Scalar());
    if (marks != nullptr) marks->push_back(mark);
  }
  map.finish();
}

namespace {

constexpr Option<std::string_view> kKeyFormats[] = {
    {"kafka", "kafka"}, {"json", "json"}, {"avro", "avro"}, {"protobuf", "protobuf"}};
constexpr Option<std::string_view> kSinkKeyFormats[] = {
    {"kafka", "kafka"}, {"json", "json"}, {"avro", "avro"}, {"protobuf", "protobuf"}};

// Keys are Kafka's: not allowed on a file endpoint.
bool kafka_only(MapReader& map, std::string_view key, const std::string& type) {
  YAML::Node node = map.value(key);
  if (!node.IsDefined()) return false;
  if (type.empty() || type == "kafka") return true;
  map.issues().add(mark_of(node), map.key_path(key), "not allowed when type is '" + type + "'");
  return false;
}

}  // namespace

void read_source_key(MapReader& map, SourceConfig& source) {
  // A file source reads keys from its lines with key_separator.
  const std::string& type = source.key_separator.empty() ? source.type : std::string("kafka");
  bool has_format = kafka_only(map, "key_format", type);
  bool has_type = kafka_only(map, "key_type", type);
  if (has_format) map.choice("key_format", "a key format", kKeyFormats, &source.key_format);
  if (has_format && source.type == "file" && !registry_type(source.key_format).empty()) {
    map.issues().add(mark_of(map.value("key_format")), map.key_path("key_format"),
                     "a file source's keys are text: use key_format kafka or json");
  }
  std::string text;
  if (!has_type || !map.string("key_type", &text)) return;
  Mark mark = mark_of(map.value("key_type"));
  if (source.key_format == "kafka") {
    if (auto serde = format::kafka_serde_of(text)) {
      source.key_serde = *serde;
      source.key_type = format::kafka_serde_type(*serde);
      return;
    }
    map.issues().add(mark, map.key_path("key_type"),
                     "'" + text +
                         "' is not a type Kafka's serializers write: use STRING, BYTES, INT (4 "
                         "bytes), BIGINT (8 bytes) or DOUBLE (key_format json or avro reads any "
                         "type)");
    return;
  }
  std::string error;
  if (auto type = types::parse_type_name(text, &error)) {
    source.key_type = *type;
    return;
  }
  map.issues().add(mark, map.key_path("key_type"),
                   "unknown type '" + text + "'" + (error.empty() ? "" : ": " + error));
}

void read_sink_key_format(MapReader& map, SinkConfig& sink) {
  if (!kafka_only(map, "key_format", sink.type)) return;
  sink.key_format_mark = mark_of(map.value("key_format"));
  map.choice("key_format", "a key format", kSinkKeyFormats, &sink.key_format);
}

void read_subject(MapReader& map, std::string_view key, bool registered, const char* needs,
                  std::string* out) {
  YAML::Node node = map.value(key);
  if (!node.IsDefined() || !map.string(key, out)) return;
  std::string why;
  if (!registered) {
    why = std::string("needs ") + needs;
  } else if (out->empty() || out->size() > 255 ||
             out->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789._-") != std::string::npos) {
    why = "'" + *out + "' is not a subject name (use 1 to 255 letters, digits, '.', '_' and '-')";
  }
  if (!why.empty()) map.issues().add(mark_of(node), map.key_path(key), why);
}

// A schema id: 0 to 2^31 - 1 (the registry's ids are positive 32-bit integers), where `registered`,
// and not beside `subject_key`.
void read_schema_id(MapReader& map, std::string_view key, bool registered, const char* needs,
                    std::string_view subject_key, std::optional<uint32_t>* out) {
  YAML::Node node = map.value(key);
  std::string text;
  if (!node.IsDefined() || !map.string(key, &text)) return;
  uint32_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  std::string why;
  if (!registered) {
    why = std::string("needs ") + needs;
  } else if (ec != std::errc() || end != text.data() + text.size() || id > INT32_MAX) {
    why = "'" + text + "' is not a schema id (0 to 2147483647)";
  } else if (map.value(subject_key).IsDefined()) {
    why = "a schema id is used as it is, under no subject: leave " + std::string(subject_key) +
          " out";
  } else {
    *out = id;
  }
  if (!why.empty()) map.issues().add(mark_of(node), map.key_path(key), why);
}

void read_sink_subjects(MapReader& map, SinkConfig& sink) {
  read_subject(map, "value_subject", !registry_type(sink.format).empty(),
               "a format whose schema is registered (avro, json_sr, protobuf)",
               &sink.value_subject);
  read_schema_id(map, "value_schema_id", !registry_type(sink.format).empty(),
                 "a format whose schema is registered (avro, json_sr, protobuf)", "value_subject",
                 &sink.value_schema_id);
  read_schema_id(map, "key_schema_id", !registry_type(sink.key_format).empty(),
                 "key_format: avro or protobuf", "key_subject", &sink.key_schema_id);
  read_subject(map, "key_subject", !registry_type(sink.key_format).empty(),
               "key_format: avro or protobuf", &sink.key_subject);
}

}  // namespace sluice::config
