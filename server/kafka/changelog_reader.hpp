#pragma once
// Reads one partition of a topic from a given offset to its end as of the call, in order (a
// durable stage's changelog, on restore), on a reader client (make_reader) the caller owns.
// Blocking, bounded: it gives up when no record or end arrives for `timeout_ms`.
// Threading: the caller's thread (a stage's control thread).

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::kafka {

// What a reader client is configured with to read a partition from start to end fast: a large
// prefetch (librdkafka 2.0 otherwise stops fetching for up to a second at each 100,000 records
// queued, or at the bound in bytes) and large fetches.
std::vector<std::pair<std::string, std::string>> reader_defaults();

// Hands every record of `topic` `partition` from `from` (-1: its first) up to its end (the
// end-of-partition event) to `record`, then sets `*end` to the end offset it read to. Returns "" or
// why it could not (the partition's offsets unknown, a fetch error, no progress within
// `timeout_ms`); an exception from `record` stops the read and propagates.
std::string read_partition(rd_kafka_t* reader, const std::string& topic, int32_t partition,
                           int64_t from, int timeout_ms,
                           const std::function<void(const rd_kafka_message_t&)>& record,
                           int64_t* end);

}  // namespace sluice::server::kafka
