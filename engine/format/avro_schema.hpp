#pragma once
// Avro schemas (https://avro.apache.org/docs/1.11.1/specification/): parsed from their JSON text
// into an immutable tree, and written for a row's columns. Named types may refer to themselves
// (recursive records). Parsing runs on the control plane; a parsed Schema is immutable and may be
// shared by any number of decoders on any threads.

#include "format/json.hpp"
#include "format/schema_refs.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::format::avro {

enum class Kind : uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

// Logical types sluice maps onto its own types; others read as their underlying type.
enum class Logical : uint8_t {
  kNone,
  kDecimal,          // bytes or fixed: big-endian two's complement unscaled value
  kDate,             // int: days since 1970-01-01
  kTimeMillis,       // int: ms since midnight
  kTimeMicros,       // long: us since midnight
  kTimestampMillis,  // long: ms since the epoch (also local-timestamp-millis)
  kTimestampMicros,  // long: us since the epoch (also local-timestamp-micros)
};

struct Node;

struct Field {
  std::string name;
  const Node* type = nullptr;
};

struct Node {
  Kind kind = Kind::kNull;
  Logical logical = Logical::kNone;
  uint8_t precision = 0, scale = 0;   // kDecimal
  int64_t size = 0;                   // kFixed
  std::string name;                   // full name of a record, enum or fixed
  std::vector<Field> fields;          // kRecord
  std::vector<std::string> symbols;   // kEnum
  std::vector<const Node*> branches;  // kUnion
  const Node* items = nullptr;        // kArray items, kMap values
  // True when every value of this type is encoded in zero bytes (null, fixed(0), records of such):
  // it is skipped at once, and an array of them without looping over its count.
  bool empty = false;
  // kRecord: the types of its fields that are not empty, which a skip visits. Each takes at least a
  // byte, so skipping costs at most a step per byte read, however the named types nest.
  std::vector<const Node*> data_fields;

  std::string describe() const;  // "record Trade", "union", "long (timestamp-millis)", ...
};

class Schema {
 public:
  // Parses the JSON text of a schema, after the schemas it refers to (`references`, whose named
  // types it may use by name). Throws sluice::Error(kDecode) naming what is wrong.
  static std::shared_ptr<const Schema> parse(std::string_view json,
                                             const SchemaReferences& references = {});

  const Node& root() const { return *root_; }
  const std::string& text() const { return text_; }

 private:
  friend class SchemaParser;
  std::deque<Node> nodes_;  // stable addresses
  const Node* root_ = nullptr;
  std::string text_;
};

// The schema sluice writes for rows of `columns`: a record named `name` whose fields are the
// columns, each a union of null and the column's type, default null. Field names are
// field_name(column name); throws sluice::Error (kConfig) when two columns get the same one.
std::string schema_for(const std::vector<Column>& columns, std::string_view name);

// The schema sluice writes for a (non-NULL) value of `t` alone: "long", a record named `name` for
// a STRUCT, ...
std::string type_schema(types::DataType t, std::string_view name);

// True for a valid Avro name: [A-Za-z_][A-Za-z0-9_]*.
bool valid_name(std::string_view name);
// The Avro field name of an output column: the name itself when valid, else every character
// outside [A-Za-z0-9_] replaced by '_' and a leading digit (or an empty name) prefixed with '_':
// `COUNT(*)` is written `COUNT___`.
std::string field_name(std::string_view column);

}  // namespace sluice::format::avro
