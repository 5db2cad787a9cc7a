#pragma once
// StateStore: a job's local state snapshots, one directory per partition under
// `state_dir/<job>/<partition>/`, one file per snapshot named by the input offset it covers
// (`<offset, 20 digits>.snapshot`). A file holds a header (magic, version, the source topic, the
// offset, the watermark, the source positions of a repartitioned job and the changelog position
// after the snapshot's checkpoint), the engine's snapshot
// (exec::Query::snapshot, which carries the query's state fingerprint) and a CRC-32 of all of it.
// Written atomically: a temporary file, fsync, rename, fsync of the directory.
//
// Which files stay: the one written, and the newest at or before the last offset Kafka confirmed
// as committed (what a restart would restore), with any between them; older ones go, and so do
// files after the one written (a history abandoned when the group's offsets were reset back).
//
// Reading takes the newest file at or before a given offset (the committed one) whose header,
// topic and checksum are right; a file that is not is skipped with a warning (the reason, for the
// log) and the next older one is tried.
// Threading: a stage's control thread; the store holds no mutable state.

#include "server/pipeline/progress.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice::server::checkpoint {

class StateStore {
 public:
  // `dir`: the job's directory (`state_dir/<job>`); `topic`: the topic the offsets are of (a
  // snapshot of another topic's offsets is never read back).
  StateStore(std::string dir, std::string topic);

  // Writes `cp` for `partition`; returns the error ("" on success). `committed`: the partition's
  // last offset Kafka confirmed as committed (-1: none known), for pruning (see above).
  std::string write(int32_t partition, const pipeline::StateCheckpoint& cp,
                    int64_t committed) const;
  // The newest readable snapshot of `partition` at an offset <= `max_offset`, or null.
  // `warnings` gets one line per file skipped for being unreadable (not for a later offset).
  // Removes temporary files a crash left behind.
  std::shared_ptr<const pipeline::StateCheckpoint> read(int32_t partition, int64_t max_offset,
                                                        std::vector<std::string>& warnings) const;

  // The partition's directory.
  std::string partition_dir(int32_t partition) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string topic_;
};

}  // namespace sluice::server::checkpoint
