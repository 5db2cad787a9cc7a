#pragma once
// Protobuf messages <-> engine rows. Schemas are .proto files as a Schema Registry serves them
// (source text, or a serialized FileDescriptorProto in base64), parsed with libprotobuf's
// descriptors into the tree below; records are then read straight from the wire format into rows,
// without a message object per record.
//
// A registry-framed Protobuf value is the Confluent framing (format/avro.hpp's unframe), then the
// message indexes, then the message. The indexes are a zigzag varint count and that many zigzag
// varints: the path to the value's message type among the file's top-level messages and their
// nested ones ([1, 0]: the first message nested in the second top-level one); a count of 0 stands
// for [0].
//
// Reading, as ksqlDB and Kafka Streams read proto3: fields fill the columns (and STRUCT fields) of
// their names, exact names first, then names that differ only in ASCII case; a field without
// presence that the record leaves out reads as its default (0, "", false, the enum's first
// value), one with presence (`optional`, proto2, oneof members, messages) as NULL, a repeated
// field or map as an empty ARRAY or MAP. Integers read as BIGINT (or DOUBLE, DECIMAL, TIMESTAMP
// as epoch milliseconds, INTERVAL as milliseconds, DATE as days, TIME as milliseconds of the day),
// strings as STRING (or DECIMAL from decimal text), enums as the value's name (or its number as
// BIGINT), messages as STRUCTs, google.protobuf.Timestamp as TIMESTAMP, the wrapper types
// (google.protobuf.Int64Value, ...) as their value or NULL, `map<K, V>` as MAP<STRING, V> (integer
// and bool keys as their text), and a message whose one field, numbered 1, is repeated or a map as
// that ARRAY or MAP (how sluice writes nested ones). Fields no column names are skipped without
// being materialised; packed and unpacked repeated fields both read. A singular field met twice
// keeps the last value (a message too: its occurrences are not merged).
//
// Writing (ProtobufEncoder): protobuf_schema_for below.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/json.hpp"
#include "format/schema_refs.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::format {

namespace protobuf {

// The field types of the wire format (descriptor.proto's, without groups).
enum class Kind : uint8_t {
  kDouble,
  kFloat,
  kInt64,
  kUInt64,
  kInt32,
  kUInt32,
  kSInt32,
  kSInt64,
  kFixed32,
  kFixed64,
  kSFixed32,
  kSFixed64,
  kBool,
  kString,
  kBytes,
  kEnum,
  kMessage,
  kGroup,  // proto2's: skipped, never read into a column
};

struct Enum {
  std::string name;                                     // full name
  std::vector<std::pair<int32_t, std::string>> values;  // declaration order: the first is 0's
  std::vector<std::pair<int32_t, int32_t>> by_number;   // (number, index in values), sorted
  // The value's name (the first declared of aliases), or null for a number the enum lacks.
  const std::string* name_of(int32_t number) const;
};

struct Message;

struct Field {
  std::string name;
  uint32_t number = 0;
  Kind kind = Kind::kInt64;
  bool repeated = false;
  bool presence = false;  // left out reads as NULL (not the default)
  bool map = false;       // repeated entries of `message`, whose fields 1 and 2 are key and value
  int32_t oneof = -1;     // the oneof it is a member of (index in its message), or -1
  const Message* message = nullptr;   // kMessage
  const Enum* enumeration = nullptr;  // kEnum
  // "int32", "repeated string", "map<string, int64>", "message shop.Line", ...
  std::string describe() const;
};

struct Message {
  enum class Special : uint8_t { kNone, kTimestamp, kWrapper };
  std::string name;                    // full name
  Special special = Special::kNone;    // by name and shape (a schema's own look-alike is ordinary)
  std::vector<Field> fields;           // declaration order
  std::vector<const Message*> nested;  // nested message types, declaration order
  std::vector<int16_t> index_of_number;  // field index by number (-1: none), numbers < its size
  std::vector<std::pair<uint32_t, int32_t>> by_number;  // (number, field index), sorted
  uint32_t oneofs = 0;                                  // how many oneofs it has
  // Index of the field with `number`, or -1.
  int32_t find(uint32_t number) const;
};

// A parsed schema: the tree of one .proto file's messages (and the messages of the files it
// imports that its fields use). Immutable.
class Schema {
 public:
  // Parses .proto source, or a base64 FileDescriptorProto. Its imports are Protobuf's own
  // well-known types (google/protobuf/*.proto), or files among `references` (by name: the Schema
  // Registry's references, in either form, whose own imports resolve the same way). Throws
  // sluice::Error (kDecode) saying why a schema cannot be used.
  static std::shared_ptr<const Schema> parse(std::string_view text,
                                             const SchemaReferences& references = {});

  const std::vector<const Message*>& messages() const { return top_; }  // top-level, in order
  // The message at a message-index path, or null.
  const Message* at(std::span<const int32_t> path) const;
  // Every message and enum of the tree; owned here.
  std::vector<std::unique_ptr<Message>> all;
  std::vector<std::unique_ptr<Enum>> enums;

 private:
  friend struct SchemaBuilder;
  std::vector<const Message*> top_;
};

}  // namespace protobuf

class ProtobufDecoder {
 public:
  // Never throws for messages it cannot map: their records fail with the reason (a DECODE
  // rejection per record). `key`: reads record keys into the one column: the whole message
  // (fields by name) into a STRUCT column, else the message's first field.
  ProtobufDecoder(std::shared_ptr<const protobuf::Schema> schema, std::vector<Column> columns,
                  bool key = false);

  // Decodes one payload (the message indexes, then the message) into row[0 .. columns.size()).
  // False with a kDecode error naming the column or field and why: truncated or malformed data,
  // a wire type its field does not have, a value out of its column's range, an index path that
  // names no message, or a message whose fields do not fit the columns.
  bool decode(std::string_view bytes, types::Value* row, Arena& arena, RecordError* err) const;

  const std::vector<Column>& columns() const { return columns_; }
  // Why records of `message` cannot be read into the columns; empty when they can.
  const std::string& mismatch(const protobuf::Message& message) const;

  // For each field of `message`, the slot it fills (a column, or a field of STRUCT `t`): -1 none.
  using FieldMaps =
      std::map<std::pair<const protobuf::Message*, const types::NestedType*>, std::vector<int32_t>>;

 private:
  void map_fields(const protobuf::Field& f, types::DataType t);
  void map_message(const protobuf::Message& m, types::DataType t);

  struct RowPlan {
    std::vector<int32_t> column_of;  // per field of the message
    std::string mismatch;
    bool whole = false;  // the message is column 0 (a key read into a STRUCT)
  };
  std::shared_ptr<const protobuf::Schema> schema_;
  std::vector<Column> columns_;
  std::vector<types::Value> null_row_;
  std::map<const protobuf::Message*, RowPlan> rows_;  // every message of the schema
  FieldMaps field_maps_;
};

// The .proto source (proto3, no package) of the messages ProtobufEncoder writes for `columns`:
// message `name` with field i + 1 for column i (named as Avro names fields, format/avro_schema.hpp
// field_name):
//   BOOLEAN bool, BIGINT int64, DOUBLE double, STRING string, BYTES bytes, INTERVAL int64
//   (milliseconds), DATE int32 (days since 1970-01-01), TIME int32 (milliseconds of the day),
//   DECIMAL string (its exact text, "12.50"), TIMESTAMP google.protobuf.Timestamp, each `optional`
//   (a NULL is left out); STRUCT a message nested in the enclosing one; ARRAY a repeated field and
//   MAP<STRING, V> a map (numbers packed), whose elements or values that are themselves ARRAYs or
//   MAPs are wrapped in a message with the one field `value` = 1.
// Throws sluice::Error (kConfig) when two columns (or STRUCT fields) get one field name, or names
// that proto3 refuses together (the same once '_' is dropped and case ignored).
std::string protobuf_schema_for(const std::vector<Column>& columns, std::string_view name);

class ProtobufEncoder {
 public:
  // The schema is protobuf_schema_for(columns, message_name); throws as it does.
  ProtobufEncoder(std::vector<Column> columns, std::string_view message_name);

  // Appends the message indexes of the schema's one top-level message (a 0 byte) and the message
  // of `row`. False with an error (nothing appended) for what Protobuf cannot hold: a NULL element
  // of an ARRAY or value of a MAP (kInvalidArgument), a DATE or TIME beyond int32 (kOverflow).
  bool encode(const types::Value* row, std::string& out, RecordError* err) const;
  const std::string& schema() const { return schema_; }

 private:
  std::vector<Column> columns_;
  std::string schema_;
};

}  // namespace sluice::format
