#include "format/json.hpp"
#include "format/json_fields.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::format {

namespace {

namespace ondemand = simdjson::ondemand;

char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Hash over the length and the first and last 8 bytes with bit 5 set, which folds ASCII case
// (and may merge other bytes: equality is checked after). Much cheaper than hashing every byte.
uint32_t folded_hash(std::string_view s) {
  constexpr uint64_t kCaseBits = 0x2020202020202020ULL;
  uint64_t head = 0, tail = 0;
  size_t n = std::min<size_t>(s.size(), 8);
  std::memcpy(&head, s.data(), n);
  std::memcpy(&tail, s.data() + s.size() - n, n);
  uint64_t h = (head | kCaseBits) * 0x9E3779B97F4A7C15ULL;
  h ^= ((tail | kCaseBits) + s.size()) * 0xC2B2AE3D27D4EB4FULL;
  return static_cast<uint32_t>(h >> 32);
}

bool equals_folded(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool decode_error(RecordError* err, std::string message) {
  if (err) {
    err->code = ErrorCode::kDecode;
    err->message = std::move(message);
  }
  return false;
}

}  // namespace

JsonDecoder::JsonDecoder(std::vector<Column> schema, TimestampInput ts)
    : schema_(std::move(schema)), column_ts_(schema_.size(), ts) {
  exact_record_.assign(schema_.size(), 0);
  null_row_.reserve(schema_.size());
  for (const Column& c : schema_) {
    types::Value v = types::Value::make_null(c.type.id);
    if (c.type.id == types::TypeId::kDecimal) v.scale = c.type.scale;
    null_row_.push_back(v);
  }
  size_t size = 8;
  while (size < schema_.size() * 2)
    size *= 2;
  slots_.resize(size);
  for (size_t i = 0; i < schema_.size(); ++i) {
    uint32_t h = folded_hash(schema_[i].name);
    size_t slot = h & (size - 1);
    while (slots_[slot].column >= 0)
      slot = (slot + 1) & (size - 1);
    slots_[slot] = {h, static_cast<int32_t>(i)};
  }
}

int JsonDecoder::find_column(std::string_view key) const {
  uint32_t h = folded_hash(key);
  size_t mask = slots_.size() - 1;
  int folded_match = -1;
  for (size_t slot = h & mask; slots_[slot].column >= 0; slot = (slot + 1) & mask) {
    if (slots_[slot].hash != h) continue;
    const std::string& name = schema_[static_cast<size_t>(slots_[slot].column)].name;
    if (name == key) return slots_[slot].column;
    if (folded_match < 0 && equals_folded(name, key)) folded_match = slots_[slot].column;
  }
  return folded_match < 0 ? -1 : -2 - folded_match;
}

bool JsonDecoder::decode(std::string_view bytes, types::Value* row, Arena& arena,
                         RecordError* err) {
  std::copy(null_row_.begin(), null_row_.end(), row);
  size_t needed = bytes.size() + simdjson::SIMDJSON_PADDING;
  if (padded_.size() < needed) padded_.resize(needed);
  if (!bytes.empty()) std::memcpy(padded_.data(), bytes.data(), bytes.size());
  std::memset(padded_.data() + bytes.size(), 0, simdjson::SIMDJSON_PADDING);

  ondemand::document doc;
  if (auto e = parser_.iterate(padded_.data(), bytes.size(), padded_.size()).get(doc))
    return detail::invalid_json(err, e);
  ondemand::object obj;
  if (auto e = doc.get_object().get(obj)) {
    return e == simdjson::INCORRECT_TYPE ? decode_error(err, "not a JSON object")
                                         : detail::invalid_json(err, e);
  }
  ++record_;
  if (!deferred_.empty()) deferred_.clear();  // left over when the previous record failed
  uint64_t* const exact_record = exact_record_.data();
  const uint64_t record = record_;
  size_t hint = 0;
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return detail::invalid_json(err, e);
    // Producers usually write fields in schema order: try the column after the last match first.
    int column = hint < schema_.size() && schema_[hint].name == key ? static_cast<int>(hint)
                                                                    : find_column(key);
    size_t index;
    bool exact = column >= 0;
    // An exact key wins over case-insensitive ones wherever they stand in the record.
    if (exact) {
      index = static_cast<size_t>(column);
      exact_record[index] = record;
    } else {
      if (column == -1) continue;  // not in the schema: simdjson skips the value
      index = static_cast<size_t>(-2 - column);
      if (exact_record[index] == record) continue;
    }
    hint = index + 1;
    ondemand::value json;
    if (auto e = field.value().get(json)) return detail::invalid_json(err, e);
    row[index] = null_row_[index];  // a repeated key replaces the earlier value
    detail::FieldContext ctx{schema_[index], column_ts_[index], arena, err};
    if (detail::decode_field(json, ctx, &row[index])) continue;
    if (exact) return false;
    // A bad value under a case-insensitive key fails the record only if no exact key follows.
    row[index] = null_row_[index];
    deferred_.push_back({index, err ? std::move(*err) : RecordError{}});
  }
  const char* rest = nullptr;
  if (!doc.current_location().get(rest))
    return decode_error(err, "invalid JSON: unexpected content after the object");
  return deferred_.empty() || settle_deferred(err);
}

bool JsonDecoder::settle_deferred(RecordError* err) {
  for (auto& [column, error] : deferred_) {
    if (exact_record_[column] == record_) continue;
    if (err) *err = std::move(error);
    deferred_.clear();
    return false;
  }
  deferred_.clear();
  return true;
}

JsonValueDecoder::JsonValueDecoder(Column column, TimestampInput ts)
    : column_(std::move(column)), ts_(ts) {}

bool JsonValueDecoder::decode(std::string_view bytes, types::Value* out, Arena& arena,
                              RecordError* err) {
  *out = types::Value::null_of(column_.type);
  // In brackets, so a scalar is read as any element is; it must be the only element and nothing
  // may follow the brackets (`1,2` and `1] [2` are not one value).
  size_t size = bytes.size() + 2;
  if (padded_.size() < size + simdjson::SIMDJSON_PADDING)
    padded_.resize(size + simdjson::SIMDJSON_PADDING);
  padded_[0] = '[';
  if (!bytes.empty()) std::memcpy(padded_.data() + 1, bytes.data(), bytes.size());
  padded_[size - 1] = ']';
  std::memset(padded_.data() + size, 0, simdjson::SIMDJSON_PADDING);
  ondemand::document doc;
  if (auto e = parser_.iterate(padded_.data(), size, padded_.size()).get(doc))
    return detail::invalid_json(err, e);
  ondemand::array items;
  if (auto e = doc.get_array().get(items)) return detail::invalid_json(err, e);
  size_t n = 0;
  for (auto item : items) {
    ondemand::value json;
    if (auto e = item.get(json)) return detail::invalid_json(err, e);
    if (n++ > 0) return decode_error(err, "not one JSON value");
    detail::FieldContext ctx{column_, ts_, arena, err};
    if (!detail::decode_field(json, ctx, out)) return false;
  }
  if (n == 0) return decode_error(err, "empty: not a JSON value");
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) return decode_error(err, "not one JSON value");
  return true;
}

}  // namespace sluice::format
