#pragma once
// OutputBuffer: the records one batch hands to its sinks, encoded back to back in one reused byte
// buffer (no allocation per record once it has grown to the batch's size). Each entry says which
// sink it goes to (the output or the dead-letter sink) and which input record it derives from.
// Owned by one pipeline (one strand).

#include "server/pipeline/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::pipeline {

// kChangelog: a durable state's entry (a key and its state), to the stage's changelog topic.
enum class OutputKind : uint8_t { kOutput, kDeadLetter, kChangelog };

class OutputBuffer {
 public:
  struct Entry {
    OutputKind kind = OutputKind::kOutput;
    bool has_key = false;
    size_t key_pos = 0, key_len = 0;
    size_t value_pos = 0, value_len = 0;
    uint32_t headers_first = 0, headers_count = 0;
    int64_t timestamp_ms = -1;
    int64_t input_offset = -1;  // the input record it derives from; -1: none (a closed window)
    bool tombstone = false;     // no value (set_tombstone)
  };

  void clear() {
    bytes_.clear();
    entries_.clear();
    headers_.clear();
  }

  // Starts an entry; its value is whatever is appended to `bytes()` until `finish_value`.
  void begin(OutputKind kind, std::optional<std::string_view> key, int64_t timestamp_ms,
             int64_t input_offset);
  std::string& bytes() { return bytes_; }
  void finish_value();
  // Sets the value of the entry begun last to a copy of `value` (instead of appending to bytes()).
  void set_value(std::string_view value);
  // Makes the entry begun last a tombstone: no value at all.
  void set_tombstone() { entries_.back().tombstone = true; }
  // Drops the entry begun last (and its bytes).
  void drop_last();
  // Adds a header to the entry begun last.
  // `value` nullopt: a header with a null value.
  void add_header(std::string_view name, std::optional<std::string_view> value);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& entry(size_t i) const { return entries_[i]; }
  // The record of entry `i`; `headers` holds its header views (valid until the next call).
  OutputRecord record(size_t i, std::vector<Header>& headers) const;
  // The size of the entry begun last, as OutputRecord::size counts it.
  size_t last_size() const;

 private:
  struct HeaderPos {
    size_t name_pos, name_len, value_pos, value_len;
    bool null_value;
  };
  std::string_view view(size_t pos, size_t len) const { return {bytes_.data() + pos, len}; }

  std::string bytes_;
  std::vector<Entry> entries_;
  std::vector<HeaderPos> headers_;
};

}  // namespace sluice::server::pipeline
