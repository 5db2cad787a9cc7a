#pragma once
// Hash table from group key (a tuple of Values) to a group number, with an optional fixed-size
// aggregate state block per group. Open addressing with linear probing over a power-of-two slot
// array that stores each group's hash, so a probe compares keys only on a hash hit. Key strings
// are copied into the table's own Arena. Groups keep their insertion order (EMIT FINAL order).
// Belongs to one pipeline; not thread-safe.

#include "common/arena.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::exec {

class GroupTable {
 public:
  // `state_size` bytes per group (0 for none), aligned to `state_align`.
  GroupTable(size_t key_width, size_t state_size, size_t state_align);
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  // Hashes a key tuple.
  uint64_t hash_key(const types::Value* key) const;
  // Returns the group of `key`, creating it (and setting *inserted) when new.
  uint32_t find_or_insert(const types::Value* key, uint64_t hash, bool* inserted);
  // Empties the table (the caller destroys the states first).
  void clear();
  // The group of `key`, or -1 when the table has none.
  int64_t find(const types::Value* key, uint64_t hash) const;

  size_t size() const { return hashes_.size(); }
  size_t key_width() const { return key_width_; }
  const types::Value* key(uint32_t group) const { return keys_.data() + group * key_width_; }
  // State blocks grow geometrically (32, 32, 64, 128, ... groups) and never move.
  char* state(uint32_t group) { return states_[group]; }
  const char* state(uint32_t group) const { return states_[group]; }
  size_t memory_bytes() const;

 private:
  // Small first blocks: window operators create a table per window, often with few groups.
  static constexpr uint32_t kFirstBlockGroups = 32;
  static constexpr size_t kInitialGroups = 32;
  static constexpr size_t kStringBlock = 4096;  // key bytes; the arena adds blocks as needed
  bool key_equals(uint32_t group, const types::Value* key) const;
  void grow();
  void add_state_slot(uint32_t group);

  size_t key_width_;
  size_t state_size_;
  size_t state_align_;
  size_t state_stride_;
  std::vector<uint32_t> slots_;  // group + 1; 0 = empty
  uint64_t mask_ = 0;
  std::vector<uint64_t> hashes_;
  std::vector<types::Value> keys_;
  std::vector<char*> states_;  // each group's state slot
  std::vector<std::unique_ptr<char[]>> state_storage_;
  size_t state_bytes_ = 0;      // allocated for state blocks
  char* next_state_ = nullptr;  // the next free slot of the last block
  Arena strings_;
};

}  // namespace sluice::exec
