#pragma once
// A batch of rows in the engine's row format: row-major arrays of `width` Values, plus the Arena
// that owns their string bytes, plus per-row provenance (source position) so a rejected record can
// be traced back. Reused across polls: `clear()` keeps capacity, so steady state allocates nothing.

#include "common/arena.hpp"
#include "types/value.hpp"

#include <cstdint>
#include <vector>

namespace sluice::exec {

using types::Value;

// Where an input record came from; carried to dead-letter output and offset tracking.
struct RecordPosition {
  int32_t partition = 0;
  int64_t offset = 0;
};

class Batch {
 public:
  explicit Batch(size_t width = 0) : width_(width) {}

  void reset(size_t width) {
    width_ = width;
    clear();
  }
  void clear() {
    values_.clear();
    positions_.clear();
    rows_ = 0;
    arena_.reset();
  }

  // Appends a row of NULLs and returns it.
  Value* append_row(RecordPosition pos = {}) {
    values_.resize(values_.size() + width_);
    positions_.push_back(pos);
    ++rows_;
    return values_.data() + (rows_ - 1) * width_;
  }
  // Drops the last row (e.g. it failed to decode).
  void pop_row() {
    values_.resize(values_.size() - width_);
    positions_.pop_back();
    --rows_;
  }

  size_t size() const { return rows_; }
  size_t width() const { return width_; }
  bool empty() const { return rows_ == 0; }
  Value* row(size_t r) { return values_.data() + r * width_; }
  const Value* row(size_t r) const { return values_.data() + r * width_; }
  RecordPosition position(size_t r) const { return positions_[r]; }
  Arena& arena() { return arena_; }

 private:
  size_t width_;
  size_t rows_ = 0;
  std::vector<Value> values_;
  std::vector<RecordPosition> positions_;
  Arena arena_;
};

}  // namespace sluice::exec
