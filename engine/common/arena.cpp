#include "common/arena.hpp"

#include <algorithm>

namespace sluice {

void Arena::grow(size_t n) {
  size_t size = std::max(block_size_, n);
  blocks_.emplace_back(new char[size]);
  if (blocks_.size() == 1) first_block_size_ = size;
  cursor_ = blocks_.back().get();
  remaining_ = size;
  reserved_ += size;
}

void Arena::reset() {
  if (blocks_.empty()) return;
  blocks_.resize(1);
  cursor_ = blocks_.front().get();
  remaining_ = first_block_size_;
  reserved_ = first_block_size_;
}

}  // namespace sluice
