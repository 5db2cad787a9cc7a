#include "server/pipeline/value_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::server::pipeline {

RegistryValueDecoder::RegistryValueDecoder(std::shared_ptr<SchemaSource> schemas,
                                           std::vector<format::Column> columns, std::string type,
                                           bool keys)
    : schemas_(std::move(schemas)),
      columns_(std::move(columns)),
      type_(std::move(type)),
      keys_(keys) {}

namespace {

// A key's writer schema as the one field of a record: a record's encoding is its fields' one after
// another, so the key's bytes read as that record's, into the one column whatever the schema is
// (a primitive, a record for a STRUCT column, ...).
std::shared_ptr<const format::avro::Schema> key_record(const format::avro::Schema& key) {
  return format::avro::Schema::parse(R"({"type":"record","name":"__sluice_key","fields":[)"
                                     R"({"name":"_key","type":)" +
                                     key.text() + "}]}");
}

}  // namespace

bool RegistryValueDecoder::prepare(std::span<const InputRecord> records,
                                   const std::function<void()>& ready) {
  bool all = true;
  errors_.clear();
  for (const InputRecord& r : records) {
    format::Framed f;
    const std::optional<std::string_view>& bytes = keys_ ? r.own_key() : r.value;
    if (!bytes || !format::unframe(*bytes, &f, nullptr) || by_id_.contains(f.schema_id) ||
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
    if (!l.error.empty()) {
      errors_[f.schema_id] = l.error;
    } else if (l.type != type_) {
      errors_[f.schema_id] = fmt::format("its type is {}; the job reads {}", l.type,
                                         type_ == "JSON"       ? "JSON Schema"
                                         : type_ == "PROTOBUF" ? "Protobuf"
                                                               : "Avro");
    } else if (l.schema) {
      try {
        by_id_[f.schema_id].avro = std::make_unique<format::AvroDecoder>(
            keys_ ? key_record(*l.schema) : l.schema, columns_);
      } catch (const Error& e) {
        errors_[f.schema_id] = e.what();
      }
    } else if (l.proto) {
      by_id_[f.schema_id].proto =
          std::make_unique<format::ProtobufDecoder>(l.proto, columns_, keys_);
    } else {
      by_id_[f.schema_id] = {};  // JSON: the payload is read as JSON
    }
  }
  return all;
}

bool RegistryValueDecoder::find(std::string_view bytes, format::Framed* framed,
                                const Decoder** decoder, RecordError* err) {
  if (!format::unframe(bytes, framed, err)) return false;
  auto it = by_id_.find(framed->schema_id);
  if (it == by_id_.end()) {
    auto e = errors_.find(framed->schema_id);
    if (err) {
      *err = {ErrorCode::kDecode, fmt::format("schema {}: {}", framed->schema_id,
                                              e != errors_.end() ? e->second : "not fetched")};
    }
    return false;
  }
  *decoder = &it->second;
  return true;
}

bool RegistryValueDecoder::decode(std::string_view bytes, types::Value* row, Arena& arena,
                                  RecordError* err) {
  format::Framed f;
  const Decoder* decoder = nullptr;
  if (!find(bytes, &f, &decoder, err)) return false;
  if (!decoder->avro && !decoder->proto) {  // a reader of JSON Schema asked for rows: a bug
    if (err) *err = {ErrorCode::kDecode, fmt::format("schema {}: not read into rows", f.schema_id)};
    return false;
  }
  if (decoder->avro ? decoder->avro->decode(f.payload, row, arena, err)
                    : decoder->proto->decode(f.payload, row, arena, err))
    return true;
  if (err) err->message = fmt::format("schema {}: {}", f.schema_id, err->message);
  return false;
}

bool RegistryValueDecoder::payload(std::string_view bytes, std::string_view* out,
                                   RecordError* err) {
  format::Framed f;
  const Decoder* decoder = nullptr;
  if (!find(bytes, &f, &decoder, err)) return false;
  *out = f.payload;
  return true;
}

bool RegisteredValueEncoder::encode(const types::Value* row, std::string& out,
                                    RecordError* err) const {
  size_t start = out.size();
  format::append_frame(schema_id(), out);
  if (payload(row, out, err)) return true;
  out.resize(start);
  return false;
}

JsonSchemaValueEncoder::JsonSchemaValueEncoder(std::vector<format::Column> columns,
                                               format::TimestampOutput ts, std::string_view title)
    : json_(columns, ts), schema_(format::json_schema_for(columns, ts, title)) {}

std::shared_ptr<RegisteredValueEncoder> make_key_encoder(const config::SinkConfig& sink,
                                                         const std::vector<size_t>& key_columns,
                                                         const std::vector<format::Column>& row) {
  bool avro = sink.key_format == "avro";
  if ((!avro && sink.key_format != "protobuf") || key_columns.empty()) return nullptr;
  std::vector<format::Column> columns;
  for (size_t c : key_columns)
    columns.push_back(row[c]);
  if (!avro) {
    return std::make_shared<FramedEncoder<format::ProtobufEncoder>>("PROTOBUF", std::move(columns),
                                                                    sink.topic + "_key");
  }
  return std::make_shared<FramedEncoder<format::AvroKeyEncoder>>(
      "AVRO", std::move(columns), format::avro::field_name(sink.topic) + "_key");
}

std::shared_ptr<ValueEncoder> make_value_encoder(const config::SinkConfig& sink,
                                                 std::vector<format::Column> columns) {
  if (sink.format == "avro")
    return std::make_shared<FramedEncoder<format::AvroEncoder>>(
        "AVRO", std::move(columns), format::avro::field_name(sink.topic));
  if (sink.format == "protobuf")
    return std::make_shared<FramedEncoder<format::ProtobufEncoder>>("PROTOBUF", std::move(columns),
                                                                    sink.topic);
  if (sink.format == "json_sr")
    return std::make_shared<JsonSchemaValueEncoder>(std::move(columns), sink.timestamp_format,
                                                    sink.topic);
  return std::make_shared<JsonValueEncoder>(std::move(columns), sink.timestamp_format);
}

}  // namespace sluice::server::pipeline
