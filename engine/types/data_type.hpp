#pragma once
// SQL data types. DECIMAL(p,s) is an exact scaled integer (p <= 38); TIMESTAMP is milliseconds
// since the Unix epoch (UTC); INTERVAL is a day-time duration in milliseconds; DATE is days since
// 1970-01-01; TIME is milliseconds since midnight (0 .. 86,399,999); BYTES is a byte string.
// STRUCT<name T, ...>, ARRAY<T> and MAP<STRING, T> nest to any depth; their element types live in
// an interned NestedType (one object per distinct type, never freed), so two DataTypes are equal
// exactly when their pointers are. The TypeId numbers are written into state snapshots: new types
// go at the end.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::types {

enum class TypeId : uint8_t {
  kNull,  // type of the literal NULL before the binder gives it one
  kBoolean,
  kBigInt,
  kDouble,
  kDecimal,
  kString,
  kTimestamp,
  kInterval,
  kDate,
  kTime,
  kBytes,
  kStruct,
  kArray,
  kMap,
};
inline constexpr TypeId kLastTypeId = TypeId::kMap;

struct NestedType;

inline constexpr uint8_t kMaxDecimalPrecision = 38;

struct DataType {
  TypeId id = TypeId::kNull;
  uint8_t precision = 0;               // DECIMAL only
  uint8_t scale = 0;                   // DECIMAL only
  const NestedType* nested = nullptr;  // STRUCT, ARRAY and MAP only

  static constexpr DataType null() { return {TypeId::kNull, 0, 0}; }
  // Interned: equal element types give the same pointer. Thread-safe.
  static DataType array(DataType element);
  static DataType map(DataType value);  // keys are STRING
  struct Field;
  static DataType structure(std::vector<Field> fields);
  static constexpr DataType boolean() { return {TypeId::kBoolean, 0, 0}; }
  static constexpr DataType bigint() { return {TypeId::kBigInt, 0, 0}; }
  static constexpr DataType float64() { return {TypeId::kDouble, 0, 0}; }
  static constexpr DataType decimal(uint8_t p, uint8_t s) { return {TypeId::kDecimal, p, s}; }
  static constexpr DataType string() { return {TypeId::kString, 0, 0}; }
  static constexpr DataType timestamp() { return {TypeId::kTimestamp, 0, 0}; }
  static constexpr DataType interval() { return {TypeId::kInterval, 0, 0}; }
  static constexpr DataType date() { return {TypeId::kDate, 0, 0}; }
  static constexpr DataType time() { return {TypeId::kTime, 0, 0}; }
  static constexpr DataType bytes() { return {TypeId::kBytes, 0, 0}; }

  bool is_nested() const {
    return id == TypeId::kStruct || id == TypeId::kArray || id == TypeId::kMap;
  }
  // ARRAY's element, MAP's value type.
  DataType element() const;
  // STRUCT's fields, in order (empty for other types).
  const std::vector<Field>& fields() const;
  // The index of STRUCT field `name` (exact, else the only case-insensitive match), or -1.
  int field_index(std::string_view name) const;

  bool is_numeric() const {
    return id == TypeId::kBigInt || id == TypeId::kDouble || id == TypeId::kDecimal;
  }
  // "BIGINT", "DECIMAL(18,4)", ...
  std::string to_string() const;
  friend bool operator==(const DataType&, const DataType&) = default;
};

struct DataType::Field {
  std::string name;
  DataType type;
};

struct NestedType {
  TypeId id;
  DataType element;                     // ARRAY's element, MAP's value
  std::vector<DataType::Field> fields;  // STRUCT
  std::string text;                     // DataType::to_string()
};

// Parses a type name as written in schemas and CAST: BOOLEAN/BOOL, BIGINT/INT/INTEGER/SMALLINT/
// TINYINT/LONG, DOUBLE/FLOAT/REAL, DECIMAL(p,s)/NUMERIC(p,s)/DECIMAL(p)/DECIMAL, STRING/VARCHAR/
// VARCHAR(n)/TEXT/CHAR(n), TIMESTAMP/TIMESTAMP(3), INTERVAL, DATE, TIME/TIME(3),
// BYTES/BINARY/VARBINARY/BLOB, STRUCT<name TYPE, ...>, ARRAY<TYPE>, MAP<STRING, TYPE> (field names
// plain or quoted with "" or ``). Case-insensitive (field names keep their case), spaces tolerated.
// Returns nullopt and sets `error` when the text names no type.
std::optional<DataType> parse_type_name(std::string_view text, std::string* error = nullptr);

// The type both sides are converted to before a comparison or arithmetic, or nullopt when the two
// cannot meet (e.g. STRING vs BIGINT). NULL meets everything.
std::optional<DataType> common_super_type(DataType a, DataType b);

}  // namespace sluice::types
