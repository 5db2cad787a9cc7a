#pragma once
// How a pipeline reads and writes record values: JSON, or Avro in the Schema Registry wire format
// (format/avro.hpp). Writer schemas come by id from a SchemaSource (server/kafka/schema_registry
// implements it over HTTP; tests fake it), fetched off the pipelines' strands: a pipeline whose
// batch holds an id not at hand yet asks for it and waits, reading nothing meanwhile.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/avro.hpp"
#include "format/json.hpp"
#include "server/pipeline/record.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::server::pipeline {

// Writer schemas by Schema Registry id. Thread-safe: pipelines on any strand call it.
class SchemaSource {
 public:
  struct Lookup {
    std::shared_ptr<const format::avro::Schema> schema;  // set once fetched
    std::string error;  // set when the id can never be read (not found, not Avro, invalid)
    bool known() const { return schema != nullptr || !error.empty(); }
  };
  virtual ~SchemaSource() = default;
  virtual Lookup find(uint32_t id) = 0;
  // Fetches `id` unless it is known; calls `ready` once (from any thread: it must only post) when
  // find(id) has an answer. A registry that cannot be reached is retried: `ready` waits for it.
  virtual void request(uint32_t id, std::function<void()> ready) = 0;
};

// Reads framed Avro values into rows of `columns`, with a decoder per writer schema id. Owned by
// one pipeline (one strand).
class AvroValueDecoder {
 public:
  AvroValueDecoder(std::shared_ptr<SchemaSource> schemas, std::vector<format::Column> columns);

  // True when the schema of every framed value of `records` is at hand (or known to be
  // unreadable); else asks for the missing ones, with `ready` to call when one arrives.
  bool prepare(std::span<const InputRecord> records, const std::function<void()>& ready);
  // Decodes one value. False with a DECODE error: not in the wire format, an id whose schema is
  // unreadable or was not prepared, or a record that does not fit (AvroDecoder::decode).
  bool decode(std::string_view bytes, types::Value* row, Arena& arena, RecordError* err);

 private:
  std::shared_ptr<SchemaSource> schemas_;
  std::vector<format::Column> columns_;
  // Decoders of the writer schemas met so far (real schemas only: their number is the registry's).
  std::unordered_map<uint32_t, std::unique_ptr<format::AvroDecoder>> by_id_;
  // Why ids of the batch being prepared cannot be read; kept for that batch only, so a registry's
  // remembered error expires for this pipeline when it does there.
  std::unordered_map<uint32_t, std::string> errors_;
  std::vector<uint32_t> pending_;  // ids asked for and not answered yet
};

// Writes a row as a record value. Immutable once a pipeline uses it; shared by the pipelines.
class ValueEncoder {
 public:
  virtual ~ValueEncoder() = default;
  // Appends the value of `row`; false with an error (nothing appended) when it cannot be written.
  virtual bool encode(const types::Value* row, std::string& out, RecordError* err) const = 0;
};

class JsonValueEncoder final : public ValueEncoder {
 public:
  JsonValueEncoder(std::vector<format::Column> columns, format::TimestampOutput ts)
      : json_(std::move(columns), ts) {}
  bool encode(const types::Value* row, std::string& out, RecordError*) const override {
    json_.encode(row, out);
    return true;
  }

 private:
  format::JsonEncoder json_;
};

// Avro framed with the id of its schema (schema()), which the job registers before any pipeline
// starts.
class AvroValueEncoder final : public ValueEncoder {
 public:
  // Throws sluice::Error (kConfig) as format::avro::schema_for does.
  AvroValueEncoder(std::vector<format::Column> columns, std::string_view record_name)
      : avro_(std::move(columns), record_name) {}
  const std::string& schema() const { return avro_.schema(); }
  // Set on the job's control thread before its pipelines start.
  void set_schema_id(uint32_t id) { id_.store(id, std::memory_order_release); }
  bool encode(const types::Value* row, std::string& out, RecordError* err) const override;

 private:
  format::AvroEncoder avro_;
  std::atomic<uint32_t> id_{0};
};

}  // namespace sluice::server::pipeline
