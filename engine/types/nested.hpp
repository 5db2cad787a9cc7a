#pragma once
// STRUCT, ARRAY and MAP values are byte strings (Value::s) in one layout, read with their DataType:
//
//   u32 count | null bits, ceil(count / 8) bytes | u32 end[count] | payloads, one after another
//
// Element i's payload is bytes [end[i-1], end[i]) of the payload area (end[-1] = 0). A STRUCT has
// one element per field, in order; an ARRAY its elements; a MAP 2 x entries elements, key then
// value, sorted by key (bytewise; a key appears once). Payloads: BOOLEAN 1 byte; BIGINT, TIMESTAMP,
// INTERVAL, DATE, TIME and DOUBLE 8 bytes little-endian; DECIMAL 16 (unscaled, at the element
// type's scale); STRING and BYTES their bytes; STRUCT, ARRAY and MAP this layout again.
// Equal values have equal bytes (-0.0 is written as 0.0, every NaN as one NaN), so grouping,
// hashing and `=` compare bytes. Every read checks bounds: damaged bytes (a forged state snapshot)
// read as NULL elements, never out of bounds.

#include "common/arena.hpp"
#include "types/value.hpp"

#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sluice::types::nested {

class View {
 public:
  View() = default;
  // False when `layout` is shorter than its header says.
  static bool open(std::string_view layout, View* out);

  uint32_t size() const { return count_; }
  bool is_null(uint32_t i) const;
  // Element i's payload (empty for NULL and for a damaged element).
  std::string_view raw(uint32_t i) const;
  // False when element i's bounds fall outside the layout.
  bool intact(uint32_t i) const;
  // Element i as a value of `type`: NULL when it is NULL or its payload does not fit the type.
  // Strings and nested values point into the layout.
  Value get(uint32_t i, DataType type) const;

 private:
  uint32_t end(uint32_t i) const;

  std::string_view bytes_;
  uint32_t count_ = 0;
  size_t ends_ = 0;     // offset of end[0]
  size_t payload_ = 0;  // offset of the payload area
};

// The largest layout sluice builds: a record or expression that would make a bigger one fails
// instead (input bytes can grow many times over as a layout: `{}` for a STRUCT of 200 fields).
inline constexpr size_t kMaxBytes = size_t{16} << 20;
// Bytes `items` take laid out, and an upper bound of what one more element adds.
size_t layout_size(std::span<const Value> items);
size_t element_bytes(const Value& v);

// Lays `items` out into `arena` and returns the layout. Items are values of their element types
// (DECIMALs already at the element type's scale; nested items are layouts themselves).
std::string_view build(std::span<const Value> items, Arena& arena);

// The same, into a string (for constants that own their bytes).
std::string build_string(std::span<const Value> items);

// Collects the entries of a MAP being built, each key once (a repeated key keeps its last value),
// and gives them sorted by key (bytewise), so equal maps lay out alike whatever order their keys
// came in. A linear scan for small maps, a hash index from kIndexedKeys entries on, so a record
// with many keys costs n log n, not n^2. Keys must stay valid until built.
class MapBuilder {
 public:
  static constexpr size_t kIndexedKeys = 16;
  void clear() { items_.clear(); }
  void put(const Value& key, const Value& value);
  // Key, value, key, value..., sorted by key, for build().
  std::span<const Value> sorted();

 private:
  // The element index of `key`'s key in items_, or -1.
  int64_t find(std::string_view key) const;

  std::vector<Value> items_;   // in arrival order
  std::vector<Value> sorted_;  // what sorted() gives
  std::vector<size_t> order_;
  std::unordered_map<std::string_view, size_t> index_;  // from kIndexedKeys entries on
};

// Index of MAP key `key` in a MAP layout's view (the element index of its value), or -1.
int64_t find_key(const View& map, std::string_view key);

// True when `layout` reads as a value of `type` all the way down (for bytes from outside, such as
// a state snapshot).
bool valid(std::string_view layout, DataType type, int depth = 0);

}  // namespace sluice::types::nested
