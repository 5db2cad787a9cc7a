#include "exec/group_table.hpp"

#include "types/value_ops.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sluice::exec {
namespace {

using types::TypeId;
using types::Value;

constexpr uint64_t kMix0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kMix1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kMix2 = 0x8ebc6af09c88c6e3ULL;

// 64x64->128 multiply folded to 64 bits (wyhash's mum).
uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

uint64_t read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
uint64_t read32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Two words holding every byte of a string of n <= 16 bytes, read without a loop or a memcpy call
// (overlapping reads, as wyhash does): for one n, different strings give different words.
std::pair<uint64_t, uint64_t> short_words(const char* p, size_t n) {
  if (n >= 8) return {read64(p), read64(p + n - 8)};
  if (n >= 4) return {read32(p), read32(p + n - 4)};
  if (n == 0) return {0, 0};
  auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
  return {byte(0) << 16 | byte(n >> 1) << 8 | byte(n - 1), 0};
}

// Group keys are hashed per row, so the common key types get an inlined hash (two multiplies);
// the rest use types::hash. The table only compares hashes it made itself, and equal keys (same
// type, same bytes) always take the same branch, so this stays consistent with key equality.
uint64_t hash_value(const Value& v, uint64_t seed) {
  if (!v.null) {
    switch (v.type) {
      case TypeId::kBigInt:
      case TypeId::kTimestamp:
      case TypeId::kInterval:
      case TypeId::kDate:
      case TypeId::kTime:
        return mum(mum(static_cast<uint64_t>(v.i) ^ kMix1, seed ^ kMix2), kMix0);
      case TypeId::kString:
        if (v.s.size <= 16) {
          auto [lo, hi] = short_words(v.s.data, v.s.size);
          return mum(lo ^ kMix1 ^ v.s.size, mum(hi ^ kMix2, seed ^ kMix0));
        }
        break;
      default:
        break;
    }
  }
  return types::hash(v, seed);
}

}  // namespace

GroupTable::GroupTable(size_t key_width, size_t state_size, size_t state_align)
    : key_width_(key_width),
      state_size_(state_size),
      state_align_(state_align == 0 ? 1 : state_align),
      state_stride_((state_size + state_align_ - 1) / state_align_ * state_align_),
      slots_(64, 0),
      mask_(63),
      strings_(kStringBlock) {
  // Window operators create a table per window: start small, but without regrowing from one.
  hashes_.reserve(kInitialGroups);
  keys_.reserve(kInitialGroups * key_width_);
  if (state_size_ > 0) states_.reserve(kInitialGroups);
}

uint64_t GroupTable::hash_key(const types::Value* key) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < key_width_; ++i)
    h = hash_value(key[i], h);
  return h;
}

bool GroupTable::key_equals(uint32_t group, const types::Value* key) const {
  const types::Value* k = keys_.data() + group * key_width_;
  for (size_t i = 0; i < key_width_; ++i) {
    if (!types::group_equal(k[i], key[i])) return false;
  }
  return true;
}

void GroupTable::clear() {
  slots_.assign(64, 0);
  mask_ = 63;
  hashes_.clear();
  keys_.clear();
  states_.clear();
  state_storage_.clear();
  state_bytes_ = 0;
  next_state_ = nullptr;
  strings_.reset();
}

int64_t GroupTable::find(const types::Value* key, uint64_t hash) const {
  for (uint64_t pos = hash & mask_; slots_[pos] != 0; pos = (pos + 1) & mask_) {
    uint32_t g = slots_[pos] - 1;
    if (hashes_[g] == hash && key_equals(g, key)) return g;
  }
  return -1;
}

uint32_t GroupTable::find_or_insert(const types::Value* key, uint64_t hash, bool* inserted) {
  uint64_t pos = hash & mask_;
  while (true) {
    uint32_t slot = slots_[pos];
    if (slot == 0) break;
    uint32_t g = slot - 1;
    if (hashes_[g] == hash && key_equals(g, key)) {
      *inserted = false;
      return g;
    }
    pos = (pos + 1) & mask_;
  }
  auto group = static_cast<uint32_t>(hashes_.size());
  hashes_.push_back(hash);
  for (size_t i = 0; i < key_width_; ++i) {
    // Copied as it is, then only a string's pointer is redirected to the table's own bytes
    // (rebuilding the Value on the stack made the CPU stall on store forwarding).
    types::Value& v = keys_.emplace_back(key[i]);
    if (v.has_bytes()) v.s.data = strings_.copy(v.str()).data();
  }
  if (state_size_ > 0) add_state_slot(group);
  slots_[pos] = group + 1;
  *inserted = true;
  if (hashes_.size() * 2 > slots_.size()) grow();
  return group;
}

void GroupTable::add_state_slot(uint32_t group) {
  if (group == 0 || (group >= kFirstBlockGroups && (group & (group - 1)) == 0)) {
    // A new block of `group` groups (32 for the first); over-allocated by the alignment so its
    // start can be aligned.
    size_t bytes = state_stride_ * std::max<size_t>(group, kFirstBlockGroups) + state_align_;
    state_bytes_ += bytes;
    state_storage_.emplace_back(new char[bytes]);
    auto raw = reinterpret_cast<uintptr_t>(state_storage_.back().get());
    next_state_ = reinterpret_cast<char*>((raw + state_align_ - 1) / state_align_ * state_align_);
  }
  states_.push_back(next_state_);
  next_state_ += state_stride_;
}

void GroupTable::grow() {
  std::vector<uint32_t> slots(slots_.size() * 2, 0);
  uint64_t mask = slots.size() - 1;
  for (uint32_t g = 0; g < hashes_.size(); ++g) {
    uint64_t pos = hashes_[g] & mask;
    while (slots[pos] != 0)
      pos = (pos + 1) & mask;
    slots[pos] = g + 1;
  }
  slots_ = std::move(slots);
  mask_ = mask;
}

size_t GroupTable::memory_bytes() const {
  return slots_.capacity() * sizeof(uint32_t) + hashes_.capacity() * sizeof(uint64_t) +
         keys_.capacity() * sizeof(types::Value) + state_bytes_ + strings_.bytes_reserved();
}

}  // namespace sluice::exec
