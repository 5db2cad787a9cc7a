#pragma once
// A batch of rows in the engine's row format: row-major arrays of `width` Values, plus the Arena
// that owns their string bytes, plus per-row provenance (source position) so a rejected record can
// be traced back. Reused across polls: `clear()` keeps capacity, so steady state allocates nothing.

#include "common/arena.hpp"
#include "types/value.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sluice::exec {

using types::Value;

// Where an input record came from; carried to dead-letter output and offset tracking. A row that
// no single input record produced (a closed window's or group's result) has offset -1.
struct RecordPosition {
  int32_t partition = 0;
  int64_t offset = -1;
};

class Batch {
 public:
  explicit Batch(size_t width = 0) : width_(width) {}

  void reset(size_t width) {
    width_ = width;
    clear();
  }
  void clear() {
    positions_.clear();
    rows_ = 0;
    arena_.reset();
  }

  // Appends a row of NULLs and returns it.
  Value* append_row(RecordPosition pos = {}) {
    Value* row = grow_row(pos);
    std::fill_n(row, width_, Value());
    return row;
  }
  // Appends a copy of the `width()` values at `src` and returns it.
  Value* append_row_copy(const Value* src, RecordPosition pos = {}) {
    Value* row = grow_row(pos);
    std::copy_n(src, width_, row);
    return row;
  }
  // Copies row `from` (with its position) over row `to`.
  void move_row(size_t from, size_t to) {
    std::copy_n(row(from), width_, row(to));
    positions_[to] = positions_[from];
  }
  // Keeps the first `rows` rows.
  void truncate(size_t rows) {
    rows_ = std::min(rows_, rows);
    positions_.resize(rows_);
  }
  // Drops the last row (e.g. it failed to decode).
  void pop_row() {
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
  // values_ only grows (rows past rows_ are stale), so steady state neither allocates nor
  // value-initialises a row twice.
  Value* grow_row(RecordPosition pos) {
    size_t end = (rows_ + 1) * width_;
    if (end > values_.size()) values_.resize(std::max(end, values_.size() * 2));
    positions_.push_back(pos);
    return values_.data() + rows_++ * width_;
  }

  size_t width_;
  size_t rows_ = 0;
  std::vector<Value> values_;
  std::vector<RecordPosition> positions_;
  Arena arena_;
};

}  // namespace sluice::exec
