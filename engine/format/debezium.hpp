#pragma once
// Debezium change events in JSON (`format: debezium_json`): the envelope
//   {"before": {...} | null, "after": {...} | null, "op": "c" | "r" | "u" | "d", "source": ...}
// or that envelope as the `payload` of Kafka Connect's JsonConverter with schemas enabled
// ({"schema": ..., "payload": {...}}). A table source reads `after` as its row (op c, r, u) and
// op d as a delete of the record's key. Owned by one pipeline; not thread-safe.

#include "common/error.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>

namespace sluice::format {

struct ChangeEvent {
  bool deleted = false;
  std::string_view after;  // the row's JSON object (not deleted); valid until the next read
};

class DebeziumReader {
 public:
  // Reads one event; false (with `err`, DECODE) when `record` is no change event sluice reads.
  bool read(std::string_view record, ChangeEvent* out, RecordError* err);

 private:
  bool envelope(std::string& text, int depth, ChangeEvent* out, RecordError* err);

  simdjson::ondemand::parser parser_;
  std::string outer_, inner_;  // padded copies of the record and of its payload
};

}  // namespace sluice::format
