#include "server/pipeline/record_key.hpp"

namespace sluice::server::pipeline {

RecordKey::RecordKey(std::vector<size_t> columns, const std::vector<format::Column>& schema,
                     format::TimestampOutput ts, std::string_view key_format,
                     std::shared_ptr<const ValueEncoder> registered)
    : columns_(std::move(columns)), ts_(ts), registered_(std::move(registered)) {
  if (columns_.empty()) return;
  if (registered_) {
    scratch_.resize(columns_.size());
    return;
  }
  type_ = schema[columns_[0]].type;
  if (columns_.size() == 1 && key_format == "kafka") {
    serde_ = format::kafka_serde_writing(type_);  // the job check refused other types
    if (serde_) return;
  }
  json_value_ = columns_.size() == 1 && key_format == "json";
  if (json_value_) return;
  raw_string_ = columns_.size() == 1 && key_format.empty() &&
                (type_.id == types::TypeId::kString || type_.id == types::TypeId::kBytes);
  if (raw_string_) return;
  std::vector<format::Column> cols;
  for (size_t c : columns_)
    cols.push_back(schema[c]);
  json_.emplace_back(std::move(cols), ts);
  scratch_.resize(columns_.size());
}

bool RecordKey::encode(const types::Value* row, std::string& out, RecordError* err) {
  out.clear();
  if (columns_.empty()) return false;
  if (registered_) {
    if (columns_.size() == 1 && row[columns_[0]].null) return false;
    for (size_t i = 0; i < columns_.size(); ++i)
      scratch_[i] = row[columns_[i]];
    return registered_->encode(scratch_.data(), out, err);
  }
  if (raw_string_ || serde_ || json_value_) {
    const types::Value& v = row[columns_[0]];
    if (v.null) return false;
    if (raw_string_) {
      out.assign(v.str());
      return true;
    }
    if (serde_) return format::encode_kafka(*serde_, v, out);
    return format::append_json_value(v, type_, ts_, out);
  }
  for (size_t i = 0; i < columns_.size(); ++i)
    scratch_[i] = row[columns_[i]];
  json_[0].encode(scratch_.data(), out);
  return true;
}

}  // namespace sluice::server::pipeline
