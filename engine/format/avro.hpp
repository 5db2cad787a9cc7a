#pragma once
// Avro binary records <-> engine rows, and the Confluent Schema Registry wire format
// (0x00, then the schema id as 4 big-endian bytes, then the record).
//
// AvroDecoder reads records written with a writer schema into the job's columns, resolving by
// field name as an Avro reader would: a writer field no column names is skipped without being
// materialised, a column no writer field names is NULL, unions read the branch the record holds.
// It is built once per writer schema (control plane) and then decodes without allocating, strings
// and bytes copied into the arena. A decoder is immutable once built; decode() may run on any
// number of threads at once.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/avro_schema.hpp"
#include "format/json.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::format {

// The Confluent framing of a record: magic byte 0, the 4-byte big-endian schema id, the payload.
struct Framed {
  uint32_t schema_id = 0;
  std::string_view payload;
};
// False with a kDecode error ("not in the Schema Registry wire format ...") when `bytes` is shorter
// than 5 bytes or does not start with 0.
bool unframe(std::string_view bytes, Framed* out, RecordError* err);
// Appends the 5-byte header for `schema_id`.
void append_frame(uint32_t schema_id, std::string& out);

class AvroDecoder {
 public:
  // Never throws for a schema it cannot map: mismatch() then says why and every decode fails
  // with it (a DECODE rejection per record, as for any record that does not fit the job).
  AvroDecoder(std::shared_ptr<const avro::Schema> writer, std::vector<Column> columns);

  // Why records of this writer schema cannot be read into the columns; empty when they can.
  const std::string& mismatch() const { return mismatch_; }

  // Decodes one record (without framing) into row[0 .. columns.size()). False with a kDecode
  // error naming the column or field and why: truncated or malformed data, a value out of its
  // column's range, bytes left after the record, or the schema mismatch.
  bool decode(std::string_view bytes, types::Value* row, Arena& arena, RecordError* err) const;

  const std::vector<Column>& columns() const { return columns_; }

  // For each field of writer record `record`, the field of STRUCT `t` it fills (-1: none): exact
  // names first, then names that differ only in ASCII case; each STRUCT field once.
  static std::vector<int32_t> struct_fields(const avro::Node& record, types::DataType t);
  // Those maps for every (writer record, STRUCT type) pair a record can meet, made once.
  using FieldMaps =
      std::map<std::pair<const avro::Node*, const types::NestedType*>, std::vector<int32_t>>;

 private:
  // Fills field_maps_ for values of writer type `n` read as `t`.
  void map_fields(const avro::Node& n, types::DataType t);

  struct Step {
    const avro::Node* type;
    int32_t column;  // -1: skip
  };
  std::shared_ptr<const avro::Schema> writer_;
  std::vector<Column> columns_;
  std::vector<Step> steps_;
  std::vector<types::Value> null_row_;
  std::string mismatch_;
  FieldMaps field_maps_;
};

class AvroEncoder {
 public:
  // The writer schema is avro::schema_for(columns, record_name); throws as it does.
  AvroEncoder(std::vector<Column> columns, std::string_view record_name);

  // Appends the Avro binary of `row` (without framing). False with a kOverflow error (nothing
  // appended) for a value Avro's type cannot hold: a DATE beyond int's days.
  bool encode(const types::Value* row, std::string& out, RecordError* err) const;
  const std::string& schema() const { return schema_; }

 private:
  std::vector<Column> columns_;
  std::string schema_;
};

// A record key in Avro (a sink's key_format avro): one column as a value of its type, with
// schema avro::type_schema ("long", "string", a record for a STRUCT, ...), several as a record
// `name` of them, written as AvroEncoder writes a row.
class AvroKeyEncoder {
 public:
  AvroKeyEncoder(std::vector<Column> columns, std::string_view name);

  // Appends the key of `key_row` (the key columns' values; the one column not NULL). False with
  // an error (nothing appended) as AvroEncoder::encode.
  bool encode(const types::Value* key_row, std::string& out, RecordError* err) const;
  const std::string& schema() const { return schema_; }

 private:
  std::vector<Column> columns_;
  std::string schema_;
  std::unique_ptr<AvroEncoder> record_;  // several columns
};

}  // namespace sluice::format
