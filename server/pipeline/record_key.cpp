#include "server/pipeline/record_key.hpp"

namespace sluice::server::pipeline {

RecordKey::RecordKey(std::vector<size_t> columns, const std::vector<format::Column>& schema,
                     format::TimestampOutput ts)
    : columns_(std::move(columns)) {
  if (columns_.empty()) return;
  const types::TypeId only = schema[columns_[0]].type.id;
  raw_string_ =
      columns_.size() == 1 && (only == types::TypeId::kString || only == types::TypeId::kBytes);
  if (raw_string_) return;
  std::vector<format::Column> cols;
  for (size_t c : columns_)
    cols.push_back(schema[c]);
  json_.emplace_back(std::move(cols), ts);
  scratch_.resize(columns_.size());
}

bool RecordKey::encode(const types::Value* row, std::string& out) {
  out.clear();
  if (columns_.empty()) return false;
  if (raw_string_) {
    const types::Value& v = row[columns_[0]];
    if (v.null) return false;
    out.assign(v.str());
    return true;
  }
  for (size_t i = 0; i < columns_.size(); ++i)
    scratch_[i] = row[columns_[i]];
  json_[0].encode(scratch_.data(), out);
  return true;
}

}  // namespace sluice::server::pipeline
