#pragma once
// Dead letters for a Kafka dead-letter topic: the original record's key and bytes, with headers
// saying why and where it came from (sluice.error.code, sluice.error.message, sluice.source.topic,
// sluice.source.partition, sluice.source.offset, sluice.job). A value that would not fit the
// sink's record size limit is cut to fit and `sluice.value.truncated` holds its full size in bytes,
// so a record too large to write anywhere is still accounted for where it went.
// Stateless functions; any thread.

#include "exec/operator.hpp"
#include "server/pipeline/output_buffer.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace sluice::server::pipeline {

struct DeadLetterSource {
  std::string_view job;
  std::string_view topic;
  int32_t partition = 0;
};

// Appends the dead letter of `rejection` (its original record: `key`, `value`) to `out`, cut to
// `max_bytes` (key, value and headers together). `full_size`: the size of the original value when
// `value` is only its start.
void add_dead_letter(const exec::Rejection& rejection, const DeadLetterSource& source,
                     std::optional<std::string_view> key, std::string_view value, size_t max_bytes,
                     OutputBuffer& out, std::optional<size_t> full_size = std::nullopt);

}  // namespace sluice::server::pipeline
