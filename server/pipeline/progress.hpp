#pragma once
// Progress: how far one partition's pipeline got, for its commits. Committing `offset` with
// `watermark` and `done` stored beside it loses nothing: every output and dead letter derived from
// the records before `done` is acknowledged, the windows closed at `watermark` are emitted and
// acknowledged, and no record before `offset` is held by a window still open at `watermark`.
// After a restart, records re-read below `done` whose window closed at `watermark` are recognised
// as replayed. Plain values.
//
// A pipeline with durable state (a non-windowed aggregate, DISTINCT) commits only offsets its
// durable state covers: `checkpoint` is then the checkpoint at `offset` (its output and changelog
// records acknowledged), with the full snapshot to be written to the state store before the
// offset is committed when it carries one.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::server::pipeline {

// The engine state of one partition after every record before `offset`: a full snapshot
// (exec::Query::snapshot), or, with a changelog, none (`state` empty) when the changelog records
// of this checkpoint and those before it hold the state.
struct StateCheckpoint {
  int64_t offset = -1;
  int64_t watermark = std::numeric_limits<int64_t>::min();
  std::string state;
  // One past the last changelog record written for this checkpoint or an earlier one: a restore
  // from this snapshot reads the changelog on from there. -1: not known (from the start).
  int64_t changelog_end = -1;
  // The changelog holds this state (its records are acknowledged): the snapshot only speeds a
  // restore up, and the offset may be committed without it.
  bool in_changelog = false;
  // The query stage of a repartitioned job: per source partition, the highest source offset
  // applied (records re-sent by a restarted router at or below it are replays).
  std::vector<std::pair<int32_t, int64_t>> sources;
};

struct Progress {
  int64_t offset = -1;  // the offset to commit (the next record to read); -1: nothing yet
  int64_t watermark = std::numeric_limits<int64_t>::min();  // min: none
  int64_t done = -1;  // one past the last record processed and acknowledged
  std::shared_ptr<const StateCheckpoint> checkpoint;  // durable state at `offset`; null: none
  bool operator==(const Progress&) const = default;
};

}  // namespace sluice::server::pipeline
