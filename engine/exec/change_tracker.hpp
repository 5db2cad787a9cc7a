#pragma once
// ChangeTracker: for a changelog of a GroupTable's state, the groups changed since the changelog
// last took them (OperatorState::save_changes), and the keys marked to be written again that the
// table does not hold (written as tombstones unless the table holds them by then, as the same
// bytes: a key equal to it but written otherwise, such as 0.0 for -0.0, is another changelog
// entry, which the tombstone must still delete). Costs nothing
// until enabled; then a byte per group and the list of those changed. One pipeline's; not
// thread-safe.

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice::exec {

// Deletions: the groups of a GroupTable a changelog's tombstones removed while it was applied,
// until the table is rebuilt without them (the table cannot remove a group in place).
class Deletions {
 public:
  void mark(uint32_t group, bool deleted) {
    if (group >= flags_.size()) flags_.resize(group + 1, 0);
    count_ += static_cast<int64_t>(deleted) - flags_[group];
    flags_[group] = deleted ? 1 : 0;
  }
  bool any() const { return count_ > 0; }
  size_t count() const { return static_cast<size_t>(count_); }
  bool deleted(uint32_t group) const { return group < flags_.size() && flags_[group] != 0; }
  void clear() {
    flags_.clear();
    count_ = 0;
  }

 private:
  std::vector<uint8_t> flags_;
  int64_t count_ = 0;
};

class ChangeTracker {
 public:
  void enable() { on_ = true; }
  bool on() const { return on_; }
  void changed(uint32_t group) {
    if (!on_) return;
    if (group >= flags_.size()) flags_.resize(group + 1, 0);
    if (flags_[group] != 0) return;
    flags_[group] = 1;
    groups_.push_back(group);
  }
  void gone(std::string key) { gone_.push_back(std::move(key)); }
  // The table was rebuilt with its groups renumbered: `to[g]` is group g's new number, or -1 when
  // it was dropped (mark its key gone). The changed groups keep their marks.
  void remap(const std::vector<int64_t>& to) {
    if (!on_) return;
    std::vector<uint32_t> kept;
    for (uint32_t g : groups_) {
      if (to[g] >= 0) kept.push_back(static_cast<uint32_t>(to[g]));
    }
    std::fill(flags_.begin(), flags_.end(), 0);
    groups_.clear();
    for (uint32_t g : kept)
      changed(g);
  }
  // Hands each key marked gone, then each changed group, to the callbacks, and starts over. In
  // that order, a tombstone applied on restore never deletes a group written after it under
  // other bytes of an equal key.
  template <typename Group, typename Gone>
  void take(Group&& group, Gone&& gone) {
    for (const std::string& key : gone_)
      gone(key);
    gone_.clear();
    for (uint32_t g : groups_) {
      flags_[g] = 0;
      group(g);
    }
    groups_.clear();
  }

 private:
  bool on_ = false;
  std::vector<uint8_t> flags_;
  std::vector<uint32_t> groups_;
  std::vector<std::string> gone_;
};

}  // namespace sluice::exec
