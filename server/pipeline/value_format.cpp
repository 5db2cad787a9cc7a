#include "server/pipeline/value_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::server::pipeline {

AvroValueDecoder::AvroValueDecoder(std::shared_ptr<SchemaSource> schemas,
                                   std::vector<format::Column> columns)
    : schemas_(std::move(schemas)), columns_(std::move(columns)) {}

bool AvroValueDecoder::prepare(std::span<const InputRecord> records,
                               const std::function<void()>& ready) {
  bool all = true;
  errors_.clear();
  for (const InputRecord& r : records) {
    format::Framed f;
    if (!r.value || !format::unframe(*r.value, &f, nullptr) || by_id_.contains(f.schema_id) ||
        errors_.contains(f.schema_id))
      continue;
    SchemaSource::Lookup l = schemas_->find(f.schema_id);
    if (!l.known()) {
      // Asked once per id: the answer calls `ready`, and this batch is prepared again then.
      if (std::find(pending_.begin(), pending_.end(), f.schema_id) == pending_.end()) {
        pending_.push_back(f.schema_id);
        schemas_->request(f.schema_id, ready);
      }
      all = false;
      continue;
    }
    std::erase(pending_, f.schema_id);
    if (l.schema) {
      by_id_[f.schema_id] = std::make_unique<format::AvroDecoder>(l.schema, columns_);
    } else {
      errors_[f.schema_id] = l.error;
    }
  }
  return all;
}

bool AvroValueDecoder::decode(std::string_view bytes, types::Value* row, Arena& arena,
                              RecordError* err) {
  format::Framed f;
  if (!format::unframe(bytes, &f, err)) return false;
  auto it = by_id_.find(f.schema_id);
  if (it == by_id_.end()) {
    auto e = errors_.find(f.schema_id);
    if (err) {
      *err = {ErrorCode::kDecode, fmt::format("schema {}: {}", f.schema_id,
                                              e != errors_.end() ? e->second : "not fetched")};
    }
    return false;
  }
  if (it->second->decode(f.payload, row, arena, err)) return true;
  if (err) err->message = fmt::format("schema {}: {}", f.schema_id, err->message);
  return false;
}

bool AvroValueEncoder::encode(const types::Value* row, std::string& out, RecordError* err) const {
  size_t start = out.size();
  format::append_frame(id_.load(std::memory_order_acquire), out);
  if (avro_.encode(row, out, err)) return true;
  out.resize(start);
  return false;
}

}  // namespace sluice::server::pipeline
