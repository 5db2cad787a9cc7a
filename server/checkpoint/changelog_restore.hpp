#pragma once
// ChangelogRestore: rebuilds one partition's durable state from its changelog records, handed
// over in the order the topic holds them (server/kafka reads them). Every record names the
// checkpoint that wrote it (the input offset in its `sluice.checkpoint` header).
//
// The state is to be the one at the committed input offset C. A record of a checkpoint at or
// before C is applied, unless the snapshot the state was restored from already covers it (at or
// before the snapshot's offset). A record of a later checkpoint was written by a run that stopped
// before it committed that checkpoint: it is not applied, and its key is marked to be written
// again by the next checkpoint (its state then, or a tombstone), so that no later restore applies
// it over the state written after it. Records of another query (a changed job) are ignored.
// Runtime entries (the source positions of a repartitioned job) are collected, not applied.
// Threading: one caller.

#include "exec/query.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::checkpoint {

class ChangelogRestore {
 public:
  // `state`: fresh from make_state(), or restored from the snapshot at `snapshot_offset` (-1:
  // none) whose source positions are `sources`; `committed`: C (-1: nothing committed, so every
  // record is of a later checkpoint); `what` names the changelog in errors.
  ChangelogRestore(const exec::Query& query, exec::QueryState& state, int64_t snapshot_offset,
                   int64_t committed, std::map<int32_t, int64_t> sources, std::string what);

  // One record at `offset` of the changelog: its key, value (null: a tombstone) and checkpoint
  // (nullopt: the header is missing or not a number). Throws sluice::Error (kState) for a record
  // that cannot be read.
  void add(int64_t offset, std::string_view key, const std::string_view* value,
           std::optional<int64_t> checkpoint);
  // After the last record: ends the applied run and marks the later keys. Throws kState.
  void finish();

  uint64_t applied() const { return applied_; }
  uint64_t later() const { return later_.size(); }
  uint64_t foreign() const { return foreign_; }
  // The source positions: the snapshot's, then those of the runtime entries applied.
  const std::map<int32_t, int64_t>& sources() const { return sources_; }

  // The runtime entry key of a source partition's position ("source:<partition>").
  static std::string source_key(int32_t source_partition);

 private:
  std::string at(int64_t offset) const;

  const exec::Query& query_;
  exec::QueryState& state_;
  int64_t snapshot_offset_;
  int64_t committed_;
  std::map<int32_t, int64_t> sources_;
  std::string what_;
  std::vector<std::string> later_;
  uint64_t applied_ = 0;
  uint64_t foreign_ = 0;
};

}  // namespace sluice::server::checkpoint
