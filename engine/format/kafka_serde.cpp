#include "format/kafka_serde.hpp"

#include <fmt/format.h>

#include <bit>
#include <cctype>
#include <limits>

namespace sluice::format {
namespace {

uint64_t read_be(std::string_view b) {
  uint64_t v = 0;
  for (char c : b)
    v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

void write_be(uint64_t v, size_t n, std::string& out) {
  for (size_t i = n; i-- > 0;)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::optional<KafkaSerde> kafka_serde_of(std::string_view type_name) {
  std::string t;
  for (char c : type_name) {
    if (c != ' ') t.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (t == "STRING" || t == "VARCHAR") return KafkaSerde::kString;
  if (t == "BYTES") return KafkaSerde::kBytes;
  if (t == "INT" || t == "INTEGER") return KafkaSerde::kInt;
  if (t == "BIGINT" || t == "LONG") return KafkaSerde::kLong;
  if (t == "DOUBLE") return KafkaSerde::kDouble;
  return std::nullopt;
}

types::DataType kafka_serde_type(KafkaSerde serde) {
  switch (serde) {
    case KafkaSerde::kString:
      return types::DataType::string();
    case KafkaSerde::kBytes:
      return types::DataType::bytes();
    case KafkaSerde::kInt:
    case KafkaSerde::kLong:
      return types::DataType::bigint();
    case KafkaSerde::kDouble:
      return types::DataType::float64();
  }
  return types::DataType::string();
}

std::optional<KafkaSerde> kafka_serde_writing(types::DataType type) {
  switch (type.id) {
    case types::TypeId::kString:
      return KafkaSerde::kString;
    case types::TypeId::kBytes:
      return KafkaSerde::kBytes;
    case types::TypeId::kBigInt:
      return KafkaSerde::kLong;
    case types::TypeId::kDouble:
      return KafkaSerde::kDouble;
    default:
      return std::nullopt;
  }
}

const char* kafka_serde_name(KafkaSerde serde) {
  switch (serde) {
    case KafkaSerde::kString:
      return "STRING";
    case KafkaSerde::kBytes:
      return "BYTES";
    case KafkaSerde::kInt:
      return "INT";
    case KafkaSerde::kLong:
      return "BIGINT";
    case KafkaSerde::kDouble:
      return "DOUBLE";
  }
  return "?";
}

bool decode_kafka(KafkaSerde serde, std::string_view bytes, types::Value* out, Arena& arena,
                  RecordError* err) {
  size_t want = serde == KafkaSerde::kInt ? 4 : 8;
  bool sized =
      serde == KafkaSerde::kInt || serde == KafkaSerde::kLong || serde == KafkaSerde::kDouble;
  if (sized && bytes.size() != want) {
    if (err) {
      *err = {ErrorCode::kDecode, fmt::format("a Kafka {} is {} bytes, not {}",
                                              kafka_serde_name(serde), want, bytes.size())};
    }
    return false;
  }
  switch (serde) {
    case KafkaSerde::kString:
      *out = types::Value::string(arena.copy(bytes));
      return true;
    case KafkaSerde::kBytes:
      *out = types::Value::bytes(arena.copy(bytes));
      return true;
    case KafkaSerde::kInt:
      *out = types::Value::bigint(static_cast<int32_t>(static_cast<uint32_t>(read_be(bytes))));
      return true;
    case KafkaSerde::kLong:
      *out = types::Value::bigint(static_cast<int64_t>(read_be(bytes)));
      return true;
    case KafkaSerde::kDouble:
      *out = types::Value::float64(std::bit_cast<double>(read_be(bytes)));
      return true;
  }
  return false;
}

bool encode_kafka(KafkaSerde serde, const types::Value& v, std::string& out) {
  switch (serde) {
    case KafkaSerde::kString:
    case KafkaSerde::kBytes:
      out.append(v.str());
      return true;
    case KafkaSerde::kInt:
      if (v.i < std::numeric_limits<int32_t>::min() || v.i > std::numeric_limits<int32_t>::max())
        return false;
      write_be(static_cast<uint32_t>(static_cast<int32_t>(v.i)), 4, out);
      return true;
    case KafkaSerde::kLong:
      write_be(static_cast<uint64_t>(v.i), 8, out);
      return true;
    case KafkaSerde::kDouble:
      write_be(std::bit_cast<uint64_t>(v.d), 8, out);
      return true;
  }
  return false;
}

}  // namespace sluice::format
