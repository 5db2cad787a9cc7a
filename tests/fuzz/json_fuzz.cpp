// Fuzz target `json`: the JSON record decoder (format::JsonDecoder) with a job's options, against
// a fixed schema with a column of every type. The first byte picks the options: bits 0-1 the
// source's timestamp_format (auto, epoch_millis, epoch_seconds, iso8601), bits 2-3 the
// event_time_format of the event-time column `ev` (the same, or one of the three others), bit 4
// the sink's timestamp_format (iso8601, epoch_millis). The rest is records, one per line (at
// most 16), decoded one after another by the same decoder, as a pipeline reuses it.
//
// Checked for every record: a failure is a DECODE error with a message; a decoded row, encoded
// by format::JsonEncoder as a sink writes it, is one valid JSON object, and decoding that again
// (timestamps as the sink wrote them) gives the same values: what sluice writes, sluice reads.
// Each record is also read as a record key in `key_format: json` (format::JsonValueDecoder) of a
// STRUCT type: a failure is a DECODE error; a value read writes JSON that reads back to the same
// JSON. And as a Debezium change event (format::DebeziumReader): a failure is a DECODE error; a
// row read is a part of the record, which the decoder then reads (or rejects with DECODE).

#include "common/arena.hpp"
#include "format/debezium.hpp"
#include "format/json.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using namespace sluice;
using types::DataType;

constexpr size_t kMaxRecords = 16;

std::vector<format::Column> schema() {
  return {
      {"s", DataType::string()},
      {"b", DataType::bigint()},
      {"d", DataType::float64()},
      {"m", DataType::decimal(18, 4)},
      {"w", DataType::decimal(38, 10)},
      {"z", DataType::decimal(38, 0)},
      {"ok", DataType::boolean()},
      {"ts", DataType::timestamp()},
      {"ev", DataType::timestamp()},
      {"iv", DataType::interval()},
      {"dt", DataType::date()},
      {"tm", DataType::time()},
      {"by", DataType::bytes()},
      // Names that match only case-insensitively, or two ways.
      {"Price", DataType::decimal(10, 2)},
      {"price", DataType::float64()},
      {"SYMBOL", DataType::string()},
      {"a_much_longer_column_name_than_eight_bytes", DataType::bigint()},
      // Nested values: compared through their JSON (see below).
      {"st", *types::parse_type_name("STRUCT<a BIGINT, s STRING, l ARRAY<DOUBLE>, t TIMESTAMP>")},
      {"ar", *types::parse_type_name("ARRAY<STRUCT<x DECIMAL(10,2), y ARRAY<BOOLEAN>>>")},
      {"mp", *types::parse_type_name("MAP<STRING, ARRAY<BYTES>>")},
  };
}

constexpr size_t kEventTime = 8;  // "ev"

format::TimestampInput input_format(unsigned bits) {
  return static_cast<format::TimestampInput>(bits & 3);
}

// A row as text, compared before and after the round trip. A non-finite DOUBLE (decoded from a
// "NaN" or "inf" string) is written as null, JSON having no such numbers: it reads back NULL.
std::string row_text(const std::vector<types::Value>& row) {
  std::string out;
  for (const auto& v : row) {
    bool non_finite = !v.is_null() && v.type == types::TypeId::kDouble && !std::isfinite(v.d);
    out += (non_finite ? std::string("NULL") : types::to_text(v)) + "|";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  unsigned options = data[0];
  std::string_view records(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto columns = schema();
  auto ts_in = input_format(options);
  format::JsonDecoder decoder(columns, ts_in);
  if (unsigned shift = (options >> 2) & 3; shift != 0)
    decoder.set_timestamp_input(kEventTime, input_format(static_cast<unsigned>(ts_in) + shift));
  bool millis_out = (options >> 4) & 1;
  format::JsonEncoder encoder(columns, millis_out ? format::TimestampOutput::kEpochMillis
                                                  : format::TimestampOutput::kIso8601);
  // The sink's output read back: timestamps as it wrote them.
  format::JsonDecoder reader(columns, millis_out ? format::TimestampInput::kEpochMillis
                                                 : format::TimestampInput::kIso8601);
  const DataType key_type = *types::parse_type_name(
      "STRUCT<s STRING, b BIGINT, m DECIMAL(18,4), ts TIMESTAMP, ar ARRAY<STRUCT<x DOUBLE>>>");
  format::JsonValueDecoder key(format::Column{"_key", key_type}, ts_in);
  format::JsonValueDecoder key_reader(format::Column{"_key", key_type},
                                      format::TimestampInput::kIso8601);
  format::DebeziumReader debezium;
  Arena arena(4096);
  std::vector<types::Value> row(columns.size()), again(columns.size());
  std::string encoded, again_encoded;
  for (size_t n = 0; n < kMaxRecords && !records.empty(); ++n) {
    size_t nl = std::min(records.find('\n'), records.size());
    std::string_view record = records.substr(0, nl);
    records.remove_prefix(std::min(nl + 1, records.size()));
    RecordError err;
    types::Value k, k_again;
    if (key.decode(record, &k, arena, &err)) {
      std::string text, again_text;
      format::append_json_value(k, key_type, format::TimestampOutput::kIso8601, text);
      FUZZ_CHECK(key_reader.decode(text, &k_again, arena, &err), text + ": " + err.message);
      format::append_json_value(k_again, key_type, format::TimestampOutput::kIso8601, again_text);
      FUZZ_CHECK(text == again_text, text + " -> " + again_text);
    } else {
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
    }
    format::ChangeEvent change;
    if (debezium.read(record, &change, &err)) {
      if (!change.deleted) {
        FUZZ_CHECK(change.after.data() != nullptr && !change.after.empty(), "no row");
        FUZZ_CHECK(record.find(change.after) != std::string_view::npos,
                   std::string(change.after) + " is not part of the record");
        if (!decoder.decode(change.after, row.data(), arena, &err))
          FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
      }
    } else {
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
    }
    if (!decoder.decode(record, row.data(), arena, &err)) {
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
      continue;
    }
    encoded.clear();
    encoder.encode(row.data(), encoded);
    RecordError err2;
    FUZZ_CHECK(reader.decode(encoded, again.data(), arena, &err2),
               fmt::format("{} -> {}: {}", record, encoded, err2.message));
    FUZZ_CHECK(row_text(row) == row_text(again),
               fmt::format("{} -> {} -> {}", record, encoded, row_text(again)));
    // Nested values print only their size in row_text: what was read back must write the same
    // JSON again (non-finite DOUBLEs inside became null the first time already).
    again_encoded.clear();
    encoder.encode(again.data(), again_encoded);
    FUZZ_CHECK(again_encoded == encoded,
               fmt::format("{} -> {} -> {}", record, encoded, again_encoded));
    arena.reset();
  }
  return 0;
}
