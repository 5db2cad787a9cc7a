#include "types/nested.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace sluice::types::nested {

namespace {

uint32_t load_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void store_u32(char* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}

// Payload size of a non-NULL value of `v.type`.
size_t payload_size(const Value& v) {
  switch (v.type) {
    case TypeId::kBoolean:
      return 1;
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kDouble:
      return 8;
    case TypeId::kDecimal:
      return 16;
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return v.s.size;
    case TypeId::kNull:
      break;
  }
  return 0;
}

char* write_payload(const Value& v, char* p) {
  switch (v.type) {
    case TypeId::kBoolean:
      *p = v.b ? 1 : 0;
      return p + 1;
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime:
      std::memcpy(p, &v.i, 8);
      return p + 8;
    case TypeId::kDouble: {
      double d = v.d;
      if (d == 0) d = 0;  // -0.0 as 0.0
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      std::memcpy(p, &d, 8);
      return p + 8;
    }
    case TypeId::kDecimal:
      std::memcpy(p, &v.dec, 16);
      return p + 16;
    case TypeId::kString:
    case TypeId::kBytes:
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      if (v.s.size) std::memcpy(p, v.s.data, v.s.size);
      return p + v.s.size;
    case TypeId::kNull:
      break;
  }
  return p;
}

void write_layout(std::span<const Value> items, char* out) {
  auto count = static_cast<uint32_t>(items.size());
  store_u32(out, count);
  char* nulls = out + 4;
  std::memset(nulls, 0, (count + 7) / 8);
  char* ends = nulls + (count + 7) / 8;
  char* payload = ends + 4 * size_t{count};
  char* p = payload;
  for (uint32_t i = 0; i < count; ++i) {
    if (items[i].null || items[i].type == TypeId::kNull) {
      nulls[i / 8] = static_cast<char>(nulls[i / 8] | (1 << (i % 8)));
    } else {
      p = write_payload(items[i], p);
    }
    store_u32(ends + 4 * size_t{i}, static_cast<uint32_t>(p - payload));
  }
}

}  // namespace

size_t layout_size(std::span<const Value> items) {
  size_t n = 4 + (items.size() + 7) / 8 + 4 * items.size();
  for (const Value& v : items)
    if (!v.null) n += payload_size(v);
  return n;
}

size_t element_bytes(const Value& v) {
  return 5 + (v.null ? 0 : payload_size(v));
}

bool View::open(std::string_view layout, View* out) {
  if (layout.size() < 4) return false;
  uint32_t count = load_u32(layout.data());
  uint64_t header = 4 + (uint64_t{count} + 7) / 8 + 4 * uint64_t{count};
  if (header > layout.size()) return false;
  out->bytes_ = layout;
  out->count_ = count;
  out->ends_ = 4 + (size_t{count} + 7) / 8;
  out->payload_ = static_cast<size_t>(header);
  return true;
}

bool View::is_null(uint32_t i) const {
  if (i >= count_) return true;
  return (static_cast<unsigned char>(bytes_[4 + i / 8]) >> (i % 8)) & 1;
}

uint32_t View::end(uint32_t i) const {
  return load_u32(bytes_.data() + ends_ + 4 * size_t{i});
}

bool View::intact(uint32_t i) const {
  if (i >= count_) return false;
  uint32_t begin = i == 0 ? 0 : end(i - 1);
  uint32_t stop = end(i);
  return begin <= stop && stop <= bytes_.size() - payload_;
}

std::string_view View::raw(uint32_t i) const {
  if (is_null(i) || !intact(i)) return {};
  uint32_t begin = i == 0 ? 0 : end(i - 1);
  return bytes_.substr(payload_ + begin, end(i) - begin);
}

Value View::get(uint32_t i, DataType type) const {
  Value null = Value::null_of(type);
  if (is_null(i)) return null;
  std::string_view p = raw(i);
  auto fixed = [&](size_t n) { return p.size() == n; };
  switch (type.id) {
    case TypeId::kBoolean:
      return fixed(1) ? Value::boolean(p[0] != 0) : null;
    case TypeId::kBigInt:
    case TypeId::kTimestamp:
    case TypeId::kInterval:
    case TypeId::kDate:
    case TypeId::kTime: {
      if (!fixed(8)) return null;
      Value v = Value::bigint(0);
      v.type = type.id;
      std::memcpy(&v.i, p.data(), 8);
      return v;
    }
    case TypeId::kDouble: {
      if (!fixed(8)) return null;
      double d;
      std::memcpy(&d, p.data(), 8);
      return Value::float64(d);
    }
    case TypeId::kDecimal: {
      if (!fixed(16)) return null;
      int128 dec;
      std::memcpy(&dec, p.data(), 16);
      return Value::decimal(dec, type.scale);
    }
    case TypeId::kString:
      return Value::string(p);
    case TypeId::kBytes:
      return Value::bytes(p);
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return Value::nested(type.id, p);
    case TypeId::kNull:
      break;
  }
  return null;
}

std::string_view build(std::span<const Value> items, Arena& arena) {
  size_t n = layout_size(items);
  char* out = arena.allocate(n);
  write_layout(items, out);
  return {out, n};
}

std::string build_string(std::span<const Value> items) {
  std::string out(layout_size(items), '\0');
  write_layout(items, out.data());
  return out;
}

int64_t MapBuilder::find(std::string_view key) const {
  if (items_.size() / 2 <= kIndexedKeys) {
    for (size_t k = 0; k < items_.size(); k += 2) {
      if (items_[k].str() == key) return static_cast<int64_t>(k);
    }
    return -1;
  }
  auto it = index_.find(key);
  return it == index_.end() ? -1 : static_cast<int64_t>(it->second);
}

void MapBuilder::put(const Value& key, const Value& value) {
  int64_t at = find(key.str());
  if (at >= 0) {
    items_[static_cast<size_t>(at) + 1] = value;
    return;
  }
  items_.push_back(key);
  items_.push_back(value);
  size_t entries = items_.size() / 2;
  if (entries <= kIndexedKeys) return;
  if (entries == kIndexedKeys + 1) {  // just past the linear scan: index every key so far
    index_.clear();
    for (size_t k = 0; k + 2 < items_.size(); k += 2)
      index_.emplace(items_[k].str(), k);
  }
  index_.emplace(key.str(), items_.size() - 2);
}

std::span<const Value> MapBuilder::sorted() {
  order_.clear();
  for (size_t k = 0; k < items_.size(); k += 2)
    order_.push_back(k);
  std::sort(order_.begin(), order_.end(),
            [&](size_t a, size_t b) { return items_[a].str() < items_[b].str(); });
  sorted_.clear();
  for (size_t k : order_) {
    sorted_.push_back(items_[k]);
    sorted_.push_back(items_[k + 1]);
  }
  return sorted_;
}

int64_t find_key(const View& map, std::string_view key) {
  // Keys are sorted (MapBuilder): a binary search over the key elements.
  uint32_t lo = 0, hi = map.size() / 2;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    std::string_view k = map.raw(2 * mid);
    if (k == key && !map.is_null(2 * mid)) return int64_t{2} * mid + 1;
    if (k < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return -1;
}

bool valid(std::string_view layout, DataType type, int depth) {
  View view;
  if (depth > 64 || !View::open(layout, &view)) return false;
  const auto& fields = type.fields();
  if (type.id == TypeId::kStruct && view.size() != fields.size()) return false;
  if (type.id == TypeId::kMap && view.size() % 2 != 0) return false;
  for (uint32_t i = 0; i < view.size(); ++i) {
    DataType element = type.id == TypeId::kStruct              ? fields[i].type
                       : type.id == TypeId::kMap && i % 2 == 0 ? DataType::string()
                                                               : type.element();
    if (view.is_null(i)) {
      if (type.id == TypeId::kMap && i % 2 == 0) return false;  // keys are never NULL
      continue;
    }
    if (!view.intact(i)) return false;
    std::string_view p = view.raw(i);
    Value v = view.get(i, element);
    if (v.null) return false;  // damaged: the payload does not fit the type
    if (element.is_nested() && !valid(p, element, depth + 1)) return false;
  }
  return true;
}

}  // namespace sluice::types::nested
