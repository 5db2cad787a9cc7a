#include "server/pipeline/encode_stage.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace sluice::server::pipeline {
namespace {

exec::Rejection too_large(exec::RecordPosition position, size_t size, size_t max,
                          const char* what) {
  return {position,
          {ErrorCode::kTooLarge,
           fmt::format("{} is {} bytes, over the sink's limit of {} bytes (message.max.bytes)",
                       what, size, max)}};
}

}  // namespace

const InputRecord* find_input(std::span<const InputRecord> batch, int64_t offset) {
  auto it = std::lower_bound(batch.begin(), batch.end(), offset,
                             [](const InputRecord& r, int64_t o) { return r.offset < o; });
  return it != batch.end() && it->offset == offset ? &*it : nullptr;
}

void EncodeStage::encode(exec::Batch& rows, std::span<const InputRecord> inputs, OutputBuffer& out,
                         std::vector<exec::Rejection>& rejections) {
  for (size_t r = 0; r < rows.size(); ++r) {
    const types::Value* row = rows.row(r);
    exec::RecordPosition pos = rows.position(r);
    std::optional<std::string_view> key;
    if (!key_.empty()) {
      RecordError key_err{ErrorCode::kInternal, ""};
      if (key_.encode(row, key_bytes_, &key_err)) {
        key = key_bytes_;
      } else if (!key_err.message.empty()) {  // a key that cannot be written
        rejections.push_back({pos, {key_err.code, "the key: " + key_err.message}});
        continue;
      }
    } else if (const InputRecord* in = find_input(inputs, pos.offset)) {
      key = in->key;
    }
    out.begin(OutputKind::kOutput, key, -1, pos.offset);
    RecordError err;
    if (!encoder_.encode(row, out.bytes(), &err)) {
      out.finish_value();
      out.drop_last();
      rejections.push_back({pos, std::move(err)});
      continue;
    }
    out.finish_value();
    if (size_t size = out.last_size(); size > max_bytes_) {
      out.drop_last();
      rejections.push_back(too_large(pos, size, max_bytes_, "the output record"));
    }
  }
}

void RouteStage::route(exec::Batch& rows, std::span<const InputRecord> inputs, OutputBuffer& out,
                       std::vector<exec::Rejection>& rejections) {
  for (size_t r = 0; r < rows.size(); ++r) {
    exec::RecordPosition pos = rows.position(r);
    const InputRecord* in = find_input(inputs, pos.offset);
    if (in == nullptr || !in->value) continue;
    std::optional<std::string_view> key;
    if (key_.encode(rows.row(r), key_bytes_)) key = key_bytes_;
    // Where it came from, so the query stage can drop a copy re-sent after a crash.
    char source[32];
    auto [mid, ec1] = std::to_chars(source, source + 11, pos.partition);
    *mid++ = ':';
    auto [end, ec2] = std::to_chars(mid, source + sizeof(source), pos.offset);
    std::string_view source_text(source, static_cast<size_t>(end - source));
    size_t size = in->value->size() + (key ? key->size() : 0) + sizeof(kSourceHeader) - 1 +
                  source_text.size();
    for (const RecordHeader& h : in->headers)
      size += h.name.size() + (h.value ? h.value->size() : 0);
    size += sizeof(kKeyHeader) - 1 + (in->own_key() ? in->own_key()->size() : 0);
    if (size > max_bytes_) {
      rejections.push_back(too_large(pos, size, max_bytes_, "the record to repartition"));
      continue;
    }
    out.begin(OutputKind::kOutput, key, in->timestamp_ms, pos.offset);
    out.set_value(*in->value);
    for (const RecordHeader& h : in->headers)  // the record's own headers go along
      out.add_header(h.name, h.value);
    out.add_header(kKeyHeader, in->own_key());
    out.add_header(kSourceHeader, source_text);
  }
}

}  // namespace sluice::server::pipeline
