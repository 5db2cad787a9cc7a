#pragma once
// The columns a registry schema describes: what a source reads when its job file leaves `schema:`
// out and the Schema Registry's latest schema of the subject stands for it. Each is the type the
// source's decoder reads that field as without loss; a field of a shape no column type holds is an
// error naming it. Stateless; any thread.
//
//   Avro: the record's fields. boolean BOOLEAN; int, long BIGINT; float, double DOUBLE; string,
//   enum STRING; bytes, fixed BYTES; decimal DECIMAL(p,s) (p up to 38; wider stays BYTES); date
//   DATE; time-* TIME; timestamp-* (and local-timestamp-*) TIMESTAMP; record STRUCT; array ARRAY;
//   map MAP<STRING, V>; a union of null and one type that type (a column is always nullable).
//   Protobuf: the fields of the file's first message (the one a record with indexes [0] holds).
//   Floating point DOUBLE; every integer type BIGINT; bool BOOLEAN; string and enum STRING; bytes
//   BYTES; google.protobuf.Timestamp TIMESTAMP; the wrapper types their value's type; other
//   messages STRUCT; repeated ARRAY; map<K, V> MAP<STRING, V>; a message whose one field is
//   `repeated ... value = 1` (how sluice writes a list inside a list) that list. Groups are left
//   out (they are never read).
//   JSON Schema: the object's `properties`. "boolean" BOOLEAN; "integer" BIGINT; "number" DOUBLE;
//   "string" STRING, or TIMESTAMP, DATE, TIME for the formats date-time, date, time, BYTES with
//   contentEncoding base64; "object" STRUCT of its properties, or MAP<STRING, V> of its
//   additionalProperties when it has no properties; "array" ARRAY of its items. A type may be a
//   list with "null", or a oneOf/anyOf of {"type": "null"} and one schema. `$ref` is refused.
//
// Types nest at most kMaxInferredDepth levels, and the columns hold at most kMaxInferredTypes types
// in all (fields, elements and values, counted where they appear: a record type used in many
// places counts in each); a record or message that contains itself cannot be a column type (its
// depth has no end).

#include "format/json.hpp"
#include "format/schema_refs.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace sluice::format {

inline constexpr int kMaxInferredDepth = 64;
inline constexpr size_t kMaxInferredTypes = 10000;

// `schema_type` is the registry's: "AVRO", "PROTOBUF" or "JSON"; `text` the schema as it serves
// it, with the schemas it refers to (Avro and Protobuf). Throws sluice::Error (kConfig) saying
// which field cannot be a column and why, or that the schema does not parse.
std::vector<Column> registry_schema_columns(std::string_view schema_type, std::string_view text,
                                            const SchemaReferences& references = {});

}  // namespace sluice::format
