#pragma once
// The records that cross a pipeline's edges, as views: an InputRecord as a PartitionSource hands
// it over (valid until the source's next read), and an OutputRecord as a RecordSink takes it
// (valid during `send`; the sink copies what it keeps).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sluice::server::pipeline {

// One header of an input record.
struct RecordHeader {
  std::string_view name;
  std::optional<std::string_view> value;  // nullopt: a header with a null value
};

struct InputRecord {
  int64_t offset = -1;
  std::optional<std::string_view> key;    // nullopt: no key
  std::optional<std::string_view> value;  // nullopt: no value (a tombstone)
  int64_t timestamp_ms = -1;              // the record's own timestamp; -1: none
  // Where a record read from a repartition topic came from (its `sluice.source` header, which
  // the router writes as "<partition>:<offset>"); -1: not known.
  int32_t source_partition = -1;
  int64_t source_offset = -1;
  // A repartition copy's `sluice.key`: the key the record had before it was routed (`key` is the
  // group key the copy is keyed by). Read from repartition topics only.
  bool routed = false;
  std::optional<std::string_view> routed_from_key;
  // The record's headers in order (on a repartition topic, but for sluice's own).
  std::span<const RecordHeader> headers;

  // The record's own key: `_key`, and the key of its dead letter.
  const std::optional<std::string_view>& own_key() const { return routed ? routed_from_key : key; }
};

// The header a router puts on each record it forwards: "<partition>:<offset>" of the input.
inline constexpr char kSourceHeader[] = "sluice.source";
// The header a router puts beside it: the input record's own key (a null value: it had none),
// which the query stage reads as the record's key (`_key`, dead letters); the Kafka key of the
// copy is the group key, which stays the output's key where the query gives none.
inline constexpr char kKeyHeader[] = "sluice.key";
// The header on each changelog record: the input offset of the checkpoint that wrote it.
inline constexpr char kCheckpointHeader[] = "sluice.checkpoint";

struct Header {
  std::string_view name;
  std::string_view value;  // value.data() == nullptr: a header with a null value
};

struct OutputRecord {
  std::optional<std::string_view> key;  // nullopt: no key
  std::string_view value;
  int64_t timestamp_ms = -1;  // -1: the sink stamps it
  std::span<const Header> headers;
  int32_t partition = -1;  // -1: the sink's partitioner picks it (by key)
  bool tombstone = false;  // no value at all (a compacted topic's delete), not an empty one
  // The bytes the record takes against a sink's size limit (key, value and headers).
  size_t size() const {
    size_t n = value.size() + (key ? key->size() : 0);
    for (const Header& h : headers)
      n += h.name.size() + h.value.size();
    return n;
  }
};

}  // namespace sluice::server::pipeline
