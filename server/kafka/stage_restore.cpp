// JobStage's restore of a durable partition's state (job_stage.hpp): the newest usable local
// snapshot at or before the committed offset, then, with a changelog, the changelog records after
// it (checkpoint/changelog_restore.hpp says which are applied).

#include "server/checkpoint/changelog_restore.hpp"
#include "server/kafka/changelog_reader.hpp"
#include "server/kafka/job_stage.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <exception>

namespace sluice::server::kafka {
namespace {

// The checkpoint a changelog record names in its header; nullopt when it has none or not a number.
std::optional<int64_t> checkpoint_of(const rd_kafka_message_t& m) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, pipeline::kCheckpointHeader, &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return std::nullopt;
  const char* p = static_cast<const char*>(value);
  int64_t v = -1;
  auto [end, ec] = std::from_chars(p, p + size, v);
  if (ec != std::errc() || end != p + size || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::shared_ptr<const pipeline::StateCheckpoint> JobStage::read_snapshot(int32_t partition,
                                                                         int64_t committed,
                                                                         exec::QueryState& state) {
  // A snapshot goes with the committed offset it was committed with, or one before it (the
  // partition ran elsewhere since: the records after it are read again, or come from the
  // changelog). A later one was never committed, or the group's offsets were reset (to
  // reprocess): it is not used, nor is any snapshot when the group has no committed offset.
  if (committed < 0) return nullptr;
  std::vector<std::string> warnings;
  auto cp = store_->read(partition, committed, warnings);
  for (const auto& w : warnings)
    spdlog::warn("job {}: partition {}: state snapshot skipped: {}", job_name(), partition, w);
  if (!cp) return nullptr;
  try {
    spec_->query->restore(state, cp->state,
                          fmt::format("snapshot of job {} partition {}", job_name(), partition));
    return cp;
  } catch (const std::exception& e) {  // Error (kState), or out of memory
    spdlog::warn("job {}: partition {}: state snapshot not used: {}", job_name(), partition,
                 e.what());
    return nullptr;
  }
}

std::unique_ptr<exec::QueryState> JobStage::restore_state(int32_t partition,
                                                          pipeline::Progress& restored) {
  auto started = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    restoring_[partition] = {started, 0};
  }
  struct Done {  // the partition is no longer restoring, however the restore ends
    JobStage* stage;
    int32_t partition;
    ~Done() {
      std::lock_guard lock(stage->mu_);
      stage->restoring_.erase(partition);
    }
  } done{this, partition};
  const exec::Query& query = *spec_->query;
  auto state = query.make_state();
  auto cp = read_snapshot(partition, restored.offset, *state);
  if (!cp) state = query.make_state();  // (a failed restore may have left some of it)
  Restore info{cp ? "snapshot" : "empty", restored.offset, cp ? cp->state.size() : 0, 0, 0};
  if (spec_->changelog) {
    if (!replay_changelog(partition, restored, *state, cp.get())) return nullptr;
  } else if (cp) {
    restored.offset = cp->offset;
    restored.watermark = cp->watermark;
    restored.done = cp->offset;  // restored with its state: nothing after it is a replay
    restored.checkpoint = cp;
  }
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  info.offset = restored.offset;
  {
    std::lock_guard lock(mu_);
    info.records = restores_[partition].records;  // set by replay_changelog
    if (info.records > 0) info.from = cp ? "snapshot+changelog" : "changelog";
    restores_[partition] = info;
  }
  if (info.from != "empty") {
    spdlog::info(
        "job {}: partition {}: state restored from {} up to offset {} ({} snapshot bytes, {} "
        "changelog records, {:.3f} s)",
        job_name(), partition, info.from, info.offset, info.bytes, info.records, info.seconds);
  } else if (restored.offset >= 0) {
    spdlog::warn(
        "job {}: partition {}: no usable state at or before the committed offset {} (no "
        "snapshot in {}{}): starting with empty state",
        job_name(), partition, restored.offset, store_->partition_dir(partition),
        spec_->changelog ? ", nothing of this query in the changelog" : "");
  }
  return state;
}

// Brings `state` (empty, or restored from `snapshot`) to the committed offset with the changelog
// records after the snapshot, and makes that the partition's progress. False when the changelog
// could not be read or applied: the job fails (starting empty would lose the state for good).
bool JobStage::replay_changelog(int32_t partition, pipeline::Progress& restored,
                                exec::QueryState& state,
                                const pipeline::StateCheckpoint* snapshot) {
  const exec::Query& query = *spec_->query;
  query.track_changes(state);
  std::map<int32_t, int64_t> sources;
  if (snapshot) sources.insert(snapshot->sources.begin(), snapshot->sources.end());
  const std::string& topic = options_.changelog_topic;
  std::string what = fmt::format("changelog '{}' partition {}", topic, partition);
  checkpoint::ChangelogRestore rebuild(query, state, snapshot ? snapshot->offset : -1,
                                       restored.offset, std::move(sources), what);
  int64_t end = -1;
  uint64_t read = 0;
  std::string error;
  try {
    error = read_partition(
        reader_.get(), topic, partition, snapshot ? snapshot->changelog_end : -1,
        static_cast<int>(options_.admin_timeout_ms),
        [&](const rd_kafka_message_t& m) {
          std::string_view key(static_cast<const char*>(m.key), m.key_len);
          std::string_view value(static_cast<const char*>(m.payload), m.len);
          rebuild.add(m.offset, key, m.payload != nullptr ? &value : nullptr, checkpoint_of(m));
          if (++read % 65536 == 0) {  // progress for /jobs, now and then
            std::lock_guard lock(mu_);
            restoring_[partition].records = read;
          }
        },
        &end);
    if (error.empty()) rebuild.finish();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty()) {
    fail(fmt::format("restoring the state of partition {} from {}: {}", partition, what, error));
    return false;
  }
  if (rebuild.foreign() > 0)
    spdlog::warn(
        "job {}: partition {}: {} changelog records of another query (the job's SQL or schema "
        "changed) were not used",
        job_name(), partition, rebuild.foreign());
  {
    std::lock_guard lock(mu_);
    restores_[partition].records = rebuild.applied();
  }
  if (restored.offset < 0) return true;  // nothing committed: the state starts empty
  auto cp = std::make_shared<pipeline::StateCheckpoint>();
  cp->offset = restored.offset;  // the state is the one at the committed offset
  cp->watermark = restored.watermark;
  cp->sources.assign(rebuild.sources().begin(), rebuild.sources().end());
  cp->changelog_end = end;
  cp->in_changelog = true;
  restored.done = restored.offset;
  restored.checkpoint = std::move(cp);
  return true;
}

}  // namespace sluice::server::kafka
