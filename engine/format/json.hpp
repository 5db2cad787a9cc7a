#pragma once
// JSON records <-> engine rows. Decoding uses simdjson on-demand and writes straight into the row
// (no DOM, no per-field allocation); encoding appends to a reused std::string.
// A decoder/encoder object is owned by one pipeline (one strand); not thread-safe.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "types/value.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace sluice::format {

struct Column {
  std::string name;
  types::DataType type;
};

// How TIMESTAMP columns are read from JSON.
enum class TimestampInput {
  kAuto,          // number = epoch milliseconds, string = ISO-8601
  kEpochMillis,   // number (or numeric string) = epoch milliseconds
  kEpochSeconds,  // number = epoch seconds (fractions allowed)
  kIso8601,       // string only
};

// How TIMESTAMP values are written.
enum class TimestampOutput { kIso8601, kEpochMillis };

class JsonDecoder {
 public:
  explicit JsonDecoder(std::vector<Column> schema, TimestampInput ts = TimestampInput::kAuto);

  // Decodes one JSON object into row[0 .. schema.size()). Fields not in the schema are ignored;
  // missing fields and JSON null become NULL. Column names match exactly, then case-insensitively:
  // a key that matches a column exactly wins over keys that match it only case-insensitively,
  // wherever they stand in the object (`{"ID":1,"id":2}` and `{"id":2,"ID":1}` both read id = 2,
  // and `{"ID":"x","id":2}` is no error).
  // Strings are copied into `arena`. Numbers for DECIMAL are parsed from their exact text.
  // BIGINT accepts integral numbers only (and integral strings); DOUBLE accepts any number;
  // BOOLEAN accepts true/false; STRING accepts strings (numbers/booleans are taken as their text).
  // Returns false and fills `err` (kDecode, message naming the column and why) on failure.
  // `bytes` need not be padded; the decoder copies into its own padded buffer when needed.
  // A key that appears twice: the last occurrence wins (among exact matches, or among
  // case-insensitive ones when there is no exact match). Content after the object is an error.
  // Case-insensitive matching folds ASCII letters only. TIMESTAMP numbers may have fractions (time
  // below a millisecond is floored); with kAuto a numeric string is epoch milliseconds too.
  // Objects and arrays fill STRUCT, MAP and ARRAY columns (see format/json_fields.cpp's
  // decode_nested; a layout over nested::kMaxBytes fails); a STRING column takes them as their
  // raw JSON text.
  // DATE accepts "2024-01-15" (or an ISO-8601 timestamp's day) or a number of days since
  // 1970-01-01; TIME "10:00:05.123" or milliseconds since midnight; BYTES a base64 string.
  // On failure the row holds NULLs and the fields decoded so far.
  bool decode(std::string_view bytes, types::Value* row, Arena& arena, RecordError* err);

  const std::vector<Column>& schema() const { return schema_; }
  // Reads TIMESTAMP column `column` with `ts` instead of the decoder-wide setting (the event-time
  // column's own source.event_time_format).
  void set_timestamp_input(size_t column, TimestampInput ts) { column_ts_.at(column) = ts; }

 private:
  // Open-addressing table over case-folded column names.
  struct KeySlot {
    uint32_t hash = 0;
    int32_t column = -1;
  };
  // The column `key` names exactly; else -2 - the column it names case-insensitively; else -1.
  int find_column(std::string_view key) const;
  // False with the first deferred error whose column no exact key set; clears `deferred_`.
  bool settle_deferred(RecordError* err);

  std::vector<Column> schema_;
  std::vector<TimestampInput> column_ts_;  // per column; `ts` unless set_timestamp_input
  simdjson::ondemand::parser parser_;
  std::string padded_;
  std::vector<types::Value> null_row_;  // typed NULLs every decode starts from
  std::vector<KeySlot> slots_;          // size is a power of two, at least twice the columns
  // Per column: the number of the last record in which an exact key set it (`record_` counts the
  // records decoded), so a case-insensitive key later in the same record leaves it alone.
  std::vector<uint64_t> exact_record_;
  uint64_t record_ = 0;
  // Values under case-insensitive keys of this record that failed to decode: an error only if no
  // exact key of the record sets the column.
  struct Deferred {
    size_t column;
    RecordError error;
  };
  std::vector<Deferred> deferred_;
};

// One JSON document holding a single value of a column's type, such as a record key in
// `key_format: json`: `"abc"`, `42`, `{"id": 1, "region": "eu"}` for a STRUCT. Values read as
// JsonDecoder reads a column's (errors name the column); JSON null reads as NULL; anything but
// one JSON value is an error.
class JsonValueDecoder {
 public:
  explicit JsonValueDecoder(Column column, TimestampInput ts = TimestampInput::kAuto);
  bool decode(std::string_view bytes, types::Value* out, Arena& arena, RecordError* err);

 private:
  Column column_;
  TimestampInput ts_;
  simdjson::ondemand::parser parser_;
  std::string padded_;
};

class JsonEncoder {
 public:
  JsonEncoder(std::vector<Column> columns, TimestampOutput ts = TimestampOutput::kIso8601);

  // Appends one JSON object, keys in column order, no trailing newline. DECIMAL written exactly
  // as a JSON number with its scale ("123.4500"); DOUBLE shortest round-trip (non-finite -> null);
  // TIMESTAMP, DATE and TIME per TimestampOutput (ISO-8601 text, or epoch milliseconds, days
  // since 1970-01-01 and milliseconds since midnight); INTERVAL as milliseconds; BYTES as a base64
  // string; NULL as null; STRUCT and MAP as objects, ARRAY as an array, elements as columns are.
  void encode(const types::Value* row, std::string& out) const;

 private:
  // A row with a STRUCT, ARRAY or MAP column: appended value by value (its size is not bounded
  // up front).
  void encode_appending(const types::Value* row, std::string& out) const;

  std::vector<Column> columns_;
  std::vector<std::string> keys_;  // pre-escaped `"name":`
  size_t keys_bytes_ = 2;          // the braces, the keys and the commas of one row
  TimestampOutput ts_;
  bool has_nested_ = false;
};

// Appends `v`, a value of `type` (any type, nested ones included), as JSON, as JsonEncoder writes
// a column. Stops early and returns false once `out` holds more than `limit` bytes (a nested
// value's text repeats its field names, so it can be many times its size). Thread-safe.
bool append_json_value(const types::Value& v, types::DataType type, TimestampOutput ts,
                       std::string& out, size_t limit = SIZE_MAX);

// Appends `s` as a JSON string literal (with quotes), escaping as RFC 8259 requires.
void append_json_string(std::string_view s, std::string& out);

}  // namespace sluice::format
