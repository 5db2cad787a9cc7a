#pragma once
// Internal to format/: converts one simdjson on-demand value into a Value of a column's type.
// Used by JsonDecoder only; same threading as the decoder (one pipeline).

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/json.hpp"
#include "types/value.hpp"

#include <simdjson.h>

namespace sluice::format::detail {

struct FieldContext {
  const Column& column;
  TimestampInput timestamps;
  Arena& arena;
  RecordError* err;
  types::DataType type = column.type;  // a nested element's type inside the column
  std::string* path = nullptr;         // ".field[2]" inside the column, for messages
  int depth = 0;                       // nesting inside the column
};

// `out` holds the column's typed NULL on entry; JSON null leaves it. False + err on failure.
bool decode_field(simdjson::ondemand::value& json, const FieldContext& ctx, types::Value* out);

// "invalid JSON: <simdjson's message>".
bool invalid_json(RecordError* err, simdjson::error_code code);

}  // namespace sluice::format::detail
