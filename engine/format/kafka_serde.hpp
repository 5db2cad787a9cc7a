#pragma once
// Kafka's primitive serializers (org.apache.kafka.common.serialization: StringSerializer,
// ByteArraySerializer, IntegerSerializer, LongSerializer, DoubleSerializer): how keys in
// `key_format: kafka` are read and written. Integers are big-endian two's complement (INT 4 bytes,
// BIGINT 8), DOUBLE is an 8-byte big-endian IEEE 754 value, STRING its UTF-8 bytes, BYTES the bytes
// as they are. Stateless; any thread.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "types/value.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sluice::format {

enum class KafkaSerde : uint8_t { kString, kBytes, kInt, kLong, kDouble };

// The serde of a type as written in a job file (`key_type`): STRING/VARCHAR, BYTES, INT/INTEGER
// (4 bytes), BIGINT/LONG (8 bytes), DOUBLE; case-insensitive. nullopt for any other.
std::optional<KafkaSerde> kafka_serde_of(std::string_view type_name);
// The type the values read as: STRING, BYTES, BIGINT (INT too) or DOUBLE.
types::DataType kafka_serde_type(KafkaSerde serde);
// The serde that writes a value of `type` (a sink's key_format kafka): STRING, BYTES, BIGINT
// (LongSerializer) and DOUBLE have one; nullopt for other types.
std::optional<KafkaSerde> kafka_serde_writing(types::DataType type);
// "STRING", "BYTES", "INT", "BIGINT", "DOUBLE".
const char* kafka_serde_name(KafkaSerde serde);

// Reads `bytes` into `out` (strings and bytes copied into `arena`). False + err (kDecode) when
// the size is not the serde's.
bool decode_kafka(KafkaSerde serde, std::string_view bytes, types::Value* out, Arena& arena,
                  RecordError* err);
// Appends non-NULL `v` (a value of kafka_serde_type(serde)) as the serde writes it. An INT that
// does not fit 32 bits returns false.
bool encode_kafka(KafkaSerde serde, const types::Value& v, std::string& out);

}  // namespace sluice::format
