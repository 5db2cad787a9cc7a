#pragma once
// The JSON Schema (draft-07) of the JSON objects JsonEncoder writes for some columns: what a sink
// with `format: json_sr` registers. Every value may be null; numbers as JsonEncoder writes them
// (DECIMAL and DOUBLE "number", BIGINT and INTERVAL "integer"), BYTES a base64 string, TIMESTAMP,
// DATE and TIME strings or integers as `ts` writes them, STRUCT an object with its fields as
// properties, MAP an object whose properties are its values, ARRAY an array. The row and STRUCT
// objects are closed (additionalProperties false). Stateless.

#include "format/json.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sluice::format {

std::string json_schema_for(const std::vector<Column>& columns, TimestampOutput ts,
                            std::string_view title);

}  // namespace sluice::format
