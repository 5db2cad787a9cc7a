#pragma once
// Internal to config/: the event-time keys of a job's `source` section (event_time,
// event_time_format, watermark, late_records) and the duration syntax they use.

#include "config/yaml_reader_impl.hpp"

#include <cstdint>
#include <string_view>

namespace sluice::config {

// "500ms", "5s", "1m", "2h", "1d" or "0" -> milliseconds; false when not that shape or too large.
bool parse_duration(std::string_view text, int64_t* ms);

// Reads the event-time keys of `source` (already holding its schema and timestamp_format) and
// checks that event_time names a TIMESTAMP column. Problems go to the map's issue list.
void read_time_settings(MapReader& source_map, SourceConfig& source);
// That source.event_time (when set) names a TIMESTAMP column of source.schema, or _timestamp.
void check_event_time(const SourceConfig& source, IssueList& issues);

}  // namespace sluice::config
