#pragma once
// PartitionSource: one input partition as a pipeline reads it. Broker-agnostic; server/kafka
// implements it on a librdkafka partition queue, tests with an in-memory fake.
//
// The source never blocks: `read_batch` returns what is there now (maybe nothing), and the source
// calls the wake-up when records arrive after a read came back empty. A source starts paused or
// not (`paused()`; a job paused by the admin API gets its partitions paused); `pause` changes the
// fetch state, and the pipeline sets it to what it needs before the first read.
// Threading: everything but the wake-up call on the pipeline's strand; the wake-up from any
// thread (it must only post).

#include "server/pipeline/record.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace sluice::server::pipeline {

class PartitionSource {
 public:
  virtual ~PartitionSource() = default;
  // Up to `max` records in offset order; the views stay valid until the next read_batch or
  // close. Errors the source reads instead of records are its own to log, never records.
  virtual std::span<const InputRecord> read_batch(size_t max) = 0;
  // Stops (true) or resumes (false) fetching the partition; nothing when it is so already.
  virtual void pause(bool paused) = 0;
  virtual bool paused() const = 0;
  // Starts wake-ups (call once, before the first read).
  virtual void set_wakeup(std::function<void()> wake) = 0;
  // Stops wake-ups and releases what the source holds; reads return nothing afterwards.
  virtual void close() = 0;
  virtual int32_t partition() const = 0;
  virtual const std::string& topic() const = 0;
};

}  // namespace sluice::server::pipeline
