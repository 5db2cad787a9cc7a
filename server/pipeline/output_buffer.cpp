#include "server/pipeline/output_buffer.hpp"

#include <algorithm>

namespace sluice::server::pipeline {

void OutputBuffer::begin(OutputKind kind, std::optional<std::string_view> key, int64_t timestamp_ms,
                         int64_t input_offset) {
  Entry e;
  e.kind = kind;
  e.timestamp_ms = timestamp_ms;
  e.input_offset = input_offset;
  if (key) {
    e.has_key = true;
    e.key_pos = bytes_.size();
    e.key_len = key->size();
    bytes_.append(*key);
  }
  e.value_pos = bytes_.size();
  e.headers_first = static_cast<uint32_t>(headers_.size());
  entries_.push_back(e);
}

void OutputBuffer::finish_value() {
  Entry& e = entries_.back();
  e.value_len = bytes_.size() - e.value_pos;
}

void OutputBuffer::set_value(std::string_view value) {
  Entry& e = entries_.back();
  e.value_pos = bytes_.size();
  e.value_len = value.size();
  bytes_.append(value);
}

void OutputBuffer::drop_last() {
  const Entry& e = entries_.back();
  size_t first = e.has_key ? e.key_pos : e.value_pos;
  if (e.headers_count > 0) first = std::min(first, headers_[e.headers_first].name_pos);
  bytes_.resize(first);
  headers_.resize(e.headers_first);
  entries_.pop_back();
}

void OutputBuffer::add_header(std::string_view name, std::optional<std::string_view> value) {
  HeaderPos h{bytes_.size(), name.size(), 0, value ? value->size() : 0, !value};
  bytes_.append(name);
  h.value_pos = bytes_.size();
  if (value) bytes_.append(*value);
  headers_.push_back(h);
  ++entries_.back().headers_count;
}

OutputRecord OutputBuffer::record(size_t i, std::vector<Header>& headers) const {
  const Entry& e = entries_[i];
  headers.clear();
  for (uint32_t h = 0; h < e.headers_count; ++h) {
    const HeaderPos& p = headers_[e.headers_first + h];
    headers.push_back({view(p.name_pos, p.name_len),
                       p.null_value ? std::string_view() : view(p.value_pos, p.value_len)});
  }
  OutputRecord r;
  if (e.has_key) r.key = view(e.key_pos, e.key_len);
  r.value = view(e.value_pos, e.value_len);
  r.timestamp_ms = e.timestamp_ms;
  r.headers = headers;
  r.tombstone = e.tombstone;
  return r;
}

size_t OutputBuffer::last_size() const {
  const Entry& e = entries_.back();
  size_t n = e.key_len + e.value_len;
  for (uint32_t h = 0; h < e.headers_count; ++h) {
    const HeaderPos& p = headers_[e.headers_first + h];
    n += p.name_len + p.value_len;
  }
  return n;
}

}  // namespace sluice::server::pipeline
