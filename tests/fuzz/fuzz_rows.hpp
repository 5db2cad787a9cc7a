#pragma once
// The record-format targets' shared pieces (avro, protobuf): rows as text, and the round trip a
// decoded row must survive: written by the format's encoder as a sink writes it, read back through
// the schema that encoder declares, to the same values.

#include "common/arena.hpp"
#include "common/error.hpp"
#include "format/json.hpp"
#include "types/value_ops.hpp"

#include <fmt/format.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace sluice::fuzz {

// Each value as SQL prints it, a nested one with its layout bytes too (equal values have equal
// bytes).
inline std::string row_text(const std::vector<types::Value>& row) {
  std::string out;
  for (const auto& v : row) {
    out += types::to_text(v);
    bool nested = v.type == types::TypeId::kStruct || v.type == types::TypeId::kArray ||
                  v.type == types::TypeId::kMap;
    if (nested && !v.null) {
      out += ':';
      out.append(v.str());
    }
    out += "|";
  }
  return out;
}

// A writer schema's decoder over `columns`, the encoder a sink would use for them, and a decoder
// of the schema that encoder declares. `Schema::parse` gives a shared_ptr; `Decoder` is built from
// it and the columns, `Encoder` from the columns and a record name.
template <class Schema, class Decoder, class Encoder>
struct RoundTrip {
  std::vector<format::Column> columns;
  std::unique_ptr<Decoder> decoder;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Decoder> readback;

  RoundTrip(std::string_view schema, std::vector<format::Column> cols)
      : columns(std::move(cols)),
        decoder(std::make_unique<Decoder>(Schema::parse(schema), columns)),
        encoder(std::make_unique<Encoder>(columns, "Out")),
        readback(std::make_unique<Decoder>(Schema::parse(encoder->schema()), columns)) {}

  // Decodes `input`: a failure must be a DECODE error with a message; a row must survive the round
  // trip (after `normalize`, for what the format cannot tell apart).
  void check(std::string_view input,
             const std::function<void(std::vector<types::Value>&, Arena&)>& normalize = {}) const {
    Arena arena(4096);
    std::vector<types::Value> row(columns.size()), again(columns.size());
    RecordError err;
    if (!decoder->decode(input, row.data(), arena, &err)) {
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
      return;
    }
    if (normalize) normalize(row, arena);
    std::string encoded;
    RecordError err2;
    FUZZ_CHECK(encoder->encode(row.data(), encoded, &err2), err2.message);
    FUZZ_CHECK(readback->decode(encoded, again.data(), arena, &err2), err2.message);
    FUZZ_CHECK(row_text(row) == row_text(again),
               fmt::format("{} -> {}", row_text(row), row_text(again)));
  }
};

// A decoder of a schema from the input over fixed records: each decodes or fails with a DECODE
// error with a message.
template <class Decoder>
void decode_each(const Decoder& d, size_t width, std::initializer_list<std::string_view> records) {
  Arena arena;
  std::vector<types::Value> row(width);
  for (std::string_view bytes : records) {
    RecordError err;
    if (!d.decode(bytes, row.data(), arena, &err))
      FUZZ_CHECK(err.code == ErrorCode::kDecode && !err.message.empty(), err.message);
  }
}

}  // namespace sluice::fuzz
