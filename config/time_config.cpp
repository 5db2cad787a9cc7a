#include "config/time_config_impl.hpp"

#include <charconv>
#include <limits>

namespace sluice::config {
namespace {

constexpr Option<format::TimestampInput> kEventTimeFormats[] = {
    {"auto", format::TimestampInput::kAuto},
    {"epoch_millis", format::TimestampInput::kEpochMillis},
    {"epoch_seconds", format::TimestampInput::kEpochSeconds},
    {"iso8601", format::TimestampInput::kIso8601}};
constexpr Option<exec::LatePolicy> kLatePolicies[] = {
    {"drop", exec::LatePolicy::kDrop},
    {"dead_letter", exec::LatePolicy::kDeadLetter},
    {"update", exec::LatePolicy::kUpdate}};

constexpr std::pair<std::string_view, int64_t> kDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};

void read_duration(MapReader& map, std::string_view key, int64_t* out) {
  std::string text;
  if (!map.string(key, &text)) return;
  if (!parse_duration(text, out)) {
    map.issues().add(mark_of(map.value(key)), map.key_path(key),
                     "expected a duration such as 500ms, 5s, 1m, 2h or 1d, found '" + text + "'");
  }
}

void read_watermark(MapReader watermark, SourceConfig& source) {
  read_duration(watermark, "max_out_of_orderness", &source.max_out_of_orderness_ms);
  read_duration(watermark, "allowed_lateness", &source.allowed_lateness_ms);
  read_duration(watermark, "idle_timeout", &source.idle_timeout_ms);
  read_duration(watermark, "max_future_skew", &source.max_future_skew_ms);
  watermark.finish();
}

}  // namespace

// event_time must name a TIMESTAMP column of the schema.
void check_event_time(const SourceConfig& source, IssueList& issues) {
  if (source.event_time.empty()) return;
  const std::string path = source.key_path + ".event_time";
  std::vector<std::string> names;
  for (const auto& c : source.schema) {
    if (c.name != source.event_time) {
      names.push_back(c.name);
      continue;
    }
    if (c.type.id != types::TypeId::kTimestamp) {
      issues.add(source.event_time_mark, path,
                 "column '" + c.name + "' is " + c.type.to_string() +
                     "; the event time must be a TIMESTAMP column");
    }
    return;
  }
  if (source.event_time == "_timestamp") return;  // the record timestamp, explicitly
  std::string message =
      "'" + source.event_time + "' is not a column of " + source.key_path + ".schema";
  if (auto hint = closest_match(source.event_time, names))
    message += " (did you mean " + *hint + "?)";
  issues.add(source.event_time_mark, path, message);
}

bool parse_duration(std::string_view text, int64_t* ms) {
  if (text == "0") {
    *ms = 0;
    return true;
  }
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data() || n < 0) return false;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  for (const auto& [name, scale] : kDurationUnits) {
    if (unit != name) continue;
    if (n > std::numeric_limits<int64_t>::max() / scale) return false;
    *ms = n * scale;
    return true;
  }
  return false;
}

void read_time_settings(MapReader& map, SourceConfig& source) {
  bool has_event_time = map.string("event_time", &source.event_time);
  source.event_time_mark = mark_of(map.value("event_time"));
  source.event_time_input = source.timestamp_input;
  bool has_format = map.choice("event_time_format", "an event time format", kEventTimeFormats,
                               &source.event_time_input);
  read_watermark(map.map("watermark"), source);
  if (map.choice("late_records", "a late-record policy", kLatePolicies, &source.late_records)) {
    source.late_records_mark = mark_of(map.value("late_records"));
  }
  // (Against a schema from the registry: once it is read.)
  if (has_event_time && !source.schema_from_registry) check_event_time(source, map.issues());
  if (has_format && !has_event_time) {
    map.issues().add(mark_of(map.value("event_time_format")), map.key_path("event_time_format"),
                     "needs source.event_time (the column it applies to)");
  }
}

}  // namespace sluice::config
