#include "exec/group_table.hpp"

#include "types/value_ops.hpp"

namespace sluice::exec {

GroupTable::GroupTable(size_t key_width, size_t state_size, size_t state_align)
    : key_width_(key_width),
      state_size_(state_size),
      state_align_(state_align == 0 ? 1 : state_align),
      state_stride_((state_size + state_align_ - 1) / state_align_ * state_align_),
      slots_(64, 0),
      mask_(63) {}

uint64_t GroupTable::hash_key(const types::Value* key) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < key_width_; ++i)
    h = types::hash(key[i], h);
  return h;
}

bool GroupTable::key_equals(uint32_t group, const types::Value* key) const {
  const types::Value* k = keys_.data() + group * key_width_;
  for (size_t i = 0; i < key_width_; ++i) {
    if (!types::group_equal(k[i], key[i])) return false;
  }
  return true;
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
    types::Value v = key[i];
    if (!v.null && v.type == types::TypeId::kString)
      v = types::Value::string(strings_.copy(v.str()));
    keys_.push_back(v);
  }
  if (state_size_ > 0 && group % kGroupsPerBlock == 0) {
    // Over-allocate by the alignment so the block start can be aligned.
    state_storage_.emplace_back(new char[state_stride_ * kGroupsPerBlock + state_align_]);
    auto raw = reinterpret_cast<uintptr_t>(state_storage_.back().get());
    uintptr_t aligned = (raw + state_align_ - 1) / state_align_ * state_align_;
    state_blocks_.push_back(reinterpret_cast<char*>(aligned));
  }
  slots_[pos] = group + 1;
  *inserted = true;
  if (hashes_.size() * 2 > slots_.size()) grow();
  return group;
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
         keys_.capacity() * sizeof(types::Value) +
         state_storage_.size() * (state_stride_ * kGroupsPerBlock + state_align_) +
         strings_.bytes_reserved();
}

}  // namespace sluice::exec
