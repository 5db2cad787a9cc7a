#pragma once
// EncodeStage and RouteStage: turn a batch's rows into the records of its OutputBuffer.
// - EncodeStage encodes each output row of the query (JSON or Avro), keyed by the job's key columns
//   (sink.key, else the GROUP BY columns) or, when it has none, by the key of the input record the
//   row came from.
// - RouteStage (the first stage of a repartitioned job) forwards each decoded input record
//   unchanged (value and timestamp), keyed by its group key, so every record of a group reaches
//   one partition of the repartition topic.
// A record over the sink's size limit is not added: its rejection (RECORD_TOO_LARGE, at the input
// record it came from) goes to the batch's rejections instead, to be dead-lettered, skipped or to
// fail the job like any other.
// Owned by one pipeline (one strand); not thread-safe.

#include "exec/operator.hpp"
#include "server/pipeline/output_buffer.hpp"
#include "server/pipeline/record.hpp"
#include "server/pipeline/record_key.hpp"
#include "server/pipeline/value_format.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace sluice::server::pipeline {

// The input record at `offset` in a batch sorted by offset (null when it is not in it).
const InputRecord* find_input(std::span<const InputRecord> batch, int64_t offset);

class EncodeStage {
 public:
  // `encoder` is shared and immutable; `max_bytes`: the output sink's record size limit.
  EncodeStage(const ValueEncoder& encoder, RecordKey key, size_t max_bytes)
      : encoder_(encoder), key_(std::move(key)), max_bytes_(max_bytes) {}

  void encode(exec::Batch& rows, std::span<const InputRecord> inputs, OutputBuffer& out,
              std::vector<exec::Rejection>& rejections);

 private:
  const ValueEncoder& encoder_;
  RecordKey key_;
  size_t max_bytes_;
  std::string key_bytes_;
};

class RouteStage {
 public:
  RouteStage(RecordKey key, size_t max_bytes) : key_(std::move(key)), max_bytes_(max_bytes) {}

  void route(exec::Batch& rows, std::span<const InputRecord> inputs, OutputBuffer& out,
             std::vector<exec::Rejection>& rejections);

 private:
  RecordKey key_;
  size_t max_bytes_;
  std::string key_bytes_;
};

}  // namespace sluice::server::pipeline
