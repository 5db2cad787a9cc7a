#pragma once
// Bump allocator for variable-length row data (strings). Owned by one batch or one operator state;
// not thread-safe. `reset()` keeps the first block so a reused batch allocates nothing.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 * 1024) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  char* allocate(size_t n) {
    if (n > remaining_) grow(n);
    char* p = cursor_;
    cursor_ += n;
    remaining_ -= n;
    return p;
  }

  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  // Frees everything but the first block.
  void reset();
  size_t bytes_reserved() const { return reserved_; }

 private:
  void grow(size_t n);

  size_t block_size_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cursor_ = nullptr;
  size_t remaining_ = 0;
  size_t reserved_ = 0;
  size_t first_block_size_ = 0;
};

}  // namespace sluice
