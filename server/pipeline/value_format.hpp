#pragma once
// How a pipeline reads and writes record values: JSON, or Avro, Protobuf or JSON in the Schema
// Registry wire format (format/avro.hpp: magic byte 0, the schema's 4-byte id, the payload). Writer
// schemas come by id from a SchemaSource (server/kafka/schema_registry implements it over HTTP;
// tests fake it), fetched off the pipelines' strands: a pipeline whose batch holds an id not at
// hand yet asks for it and waits, reading nothing meanwhile.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "config/job_config.hpp"
#include "format/avro.hpp"
#include "format/json.hpp"
#include "format/json_schema.hpp"
#include "format/protobuf.hpp"
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
    std::string type;                                    // "AVRO", "JSON", "PROTOBUF" once fetched
    std::shared_ptr<const format::avro::Schema> schema;  // an AVRO schema, parsed
    std::string error;  // set when the id can never be read (not found, invalid)
    std::shared_ptr<const format::protobuf::Schema> proto;  // a PROTOBUF schema, parsed
    bool known() const { return !type.empty() || !error.empty(); }
  };
  virtual ~SchemaSource() = default;
  virtual Lookup find(uint32_t id) = 0;
  // Fetches `id` unless it is known; calls `ready` once (from any thread: it must only post) when
  // find(id) has an answer. A registry that cannot be reached is retried: `ready` waits for it.
  virtual void request(uint32_t id, std::function<void()> ready) = 0;
};

// Reads framed values whose writer schemas are of `type` ("AVRO", "PROTOBUF": into rows of
// `columns`, with a decoder per writer schema id; "JSON": JSON Schema, whose payload is a JSON
// object the caller decodes). Owned by one pipeline (one strand).
class RegistryValueDecoder {
 public:
  // `keys`: reads record keys (an Avro key of any schema, a Protobuf key message: ProtobufDecoder
  // with `key`) into the one column, not values.
  RegistryValueDecoder(std::shared_ptr<SchemaSource> schemas, std::vector<format::Column> columns,
                       std::string type = "AVRO", bool keys = false);

  // True when the schema of every framed value of `records` is at hand (or known to be
  // unreadable); else asks for the missing ones, with `ready` to call when one arrives.
  bool prepare(std::span<const InputRecord> records, const std::function<void()>& ready);
  // Decodes one Avro or Protobuf value. False with a DECODE error: not in the wire format, an id
  // whose schema is unreadable, of another type or was not prepared, or a record that does not
  // fit (AvroDecoder::decode, ProtobufDecoder::decode).
  bool decode(std::string_view bytes, types::Value* row, Arena& arena, RecordError* err);
  // The payload of one framed value whose schema is of the type (JSON); false with a DECODE error
  // as decode gives.
  bool payload(std::string_view bytes, std::string_view* out, RecordError* err);

 private:
  // The decoder of a writer schema: one of them, or none for a JSON schema.
  struct Decoder {
    std::unique_ptr<format::AvroDecoder> avro;
    std::unique_ptr<format::ProtobufDecoder> proto;
  };
  // The decoder of `bytes`' schema, or false with the error.
  bool find(std::string_view bytes, format::Framed* framed, const Decoder** decoder,
            RecordError* err);

  std::shared_ptr<SchemaSource> schemas_;
  std::vector<format::Column> columns_;
  std::string type_;
  bool keys_;
  // The writer schemas met so far that can be read, with their decoders; real schemas only: their
  // number is the registry's.
  std::unordered_map<uint32_t, Decoder> by_id_;
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

// A value framed with the id of its schema (schema(), of schema_type()), which the job registers
// before any pipeline starts.
class RegisteredValueEncoder : public ValueEncoder {
 public:
  virtual const std::string& schema() const = 0;
  virtual const char* schema_type() const = 0;  // "AVRO", "JSON", "PROTOBUF"
  // Set on the job's control thread before its pipelines start.
  void set_schema_id(uint32_t id) { id_.store(id, std::memory_order_release); }
  // The framing, then payload(); nothing appended when that fails.
  bool encode(const types::Value* row, std::string& out, RecordError* err) const final;

 protected:
  uint32_t schema_id() const { return id_.load(std::memory_order_acquire); }
  // Appends what follows the framing.
  virtual bool payload(const types::Value* row, std::string& out, RecordError* err) const = 0;

 private:
  std::atomic<uint32_t> id_{0};
};

// A value of a format whose encoder writes the payload for a schema of its own making (`Inner`:
// schema() and encode(row, out, err)): Avro (format::AvroEncoder), Protobuf (format::
// ProtobufEncoder: the message indexes and the message) and Avro keys (format::AvroKeyEncoder).
template <class Inner>
class FramedEncoder final : public RegisteredValueEncoder {
 public:
  // Throws sluice::Error (kConfig) as Inner's constructor does when the columns cannot be written.
  FramedEncoder(const char* type, std::vector<format::Column> columns, std::string_view name)
      : type_(type), inner_(std::move(columns), name) {}
  const std::string& schema() const override { return inner_.schema(); }
  const char* schema_type() const override { return type_; }

 private:
  bool payload(const types::Value* row, std::string& out, RecordError* err) const override {
    return inner_.encode(row, out, err);
  }
  const char* type_;
  Inner inner_;
};

// JSON framed for a JSON Schema (format: json_sr): the object JsonValueEncoder writes, after the
// id of the schema format::json_schema_for gives the columns.
class JsonSchemaValueEncoder final : public RegisteredValueEncoder {
 public:
  JsonSchemaValueEncoder(std::vector<format::Column> columns, format::TimestampOutput ts,
                         std::string_view title);
  const std::string& schema() const override { return schema_; }
  const char* schema_type() const override { return "JSON"; }

 private:
  bool payload(const types::Value* row, std::string& out, RecordError*) const override {
    json_.encode(row, out);
    return true;
  }
  format::JsonEncoder json_;
  std::string schema_;
};

// The encoder of `sink`'s keys when they are registered, the columns `key_columns` of `row`: with
// key_format avro one column as its Avro type, several as a record `<topic>_key`
// (format::AvroKeyEncoder); with key_format protobuf a message `<topic>_key` of the key columns
// (format::ProtobufEncoder); else null.
std::shared_ptr<RegisteredValueEncoder> make_key_encoder(const config::SinkConfig& sink,
                                                         const std::vector<size_t>& key_columns,
                                                         const std::vector<format::Column>& row);

// The encoder of `sink`'s values, rows of `columns`: JSON, or (a RegisteredValueEncoder) Avro,
// JSON Schema or Protobuf, their record, title or message named after the sink's topic. Throws
// sluice::Error (kConfig) when the columns cannot be written so.
std::shared_ptr<ValueEncoder> make_value_encoder(const config::SinkConfig& sink,
                                                 std::vector<format::Column> columns);

}  // namespace sluice::server::pipeline
