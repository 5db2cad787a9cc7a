#include "server/checkpoint/changelog_restore.hpp"

#include "common/error.hpp"

#include <fmt/format.h>

#include <charconv>

namespace sluice::server::checkpoint {
namespace {

constexpr std::string_view kSourcePrefix = "source:";

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::string ChangelogRestore::source_key(int32_t source_partition) {
  return fmt::format("{}{}", kSourcePrefix, source_partition);
}

ChangelogRestore::ChangelogRestore(const exec::Query& query, exec::QueryState& state,
                                   int64_t snapshot_offset, int64_t committed,
                                   std::map<int32_t, int64_t> sources, std::string what)
    : query_(query),
      state_(state),
      snapshot_offset_(snapshot_offset),
      committed_(committed),
      sources_(std::move(sources)),
      what_(std::move(what)) {}

std::string ChangelogRestore::at(int64_t offset) const {
  return fmt::format("{} offset {}", what_, offset);
}

void ChangelogRestore::add(int64_t offset, std::string_view key, const std::string_view* value,
                           std::optional<int64_t> checkpoint) {
  if (!checkpoint)
    throw Error(ErrorCode::kState,
                fmt::format("{}: a record without a valid sluice.checkpoint header", at(offset)));
  if (*checkpoint > committed_) {  // written after what is committed: not applied, written again
    later_.emplace_back(key);
    return;
  }
  if (snapshot_offset_ >= 0 && *checkpoint <= snapshot_offset_) return;  // in the snapshot
  std::string_view runtime;
  exec::Query::ChangeOwner owner;
  try {
    owner = query_.apply_change(state_, key, value, what_, &runtime);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("{} (offset {})", e.what(), offset));
  }
  if (owner == exec::Query::ChangeOwner::kForeign) {
    ++foreign_;
    return;
  }
  ++applied_;
  if (owner != exec::Query::ChangeOwner::kRuntime) return;
  std::optional<int32_t> source;
  if (runtime.starts_with(kSourcePrefix))
    source = number<int32_t>(runtime.substr(kSourcePrefix.size()));
  std::optional<int64_t> position;
  if (value != nullptr) position = number<int64_t>(*value);
  if (!source || !position)
    throw Error(ErrorCode::kState,
                fmt::format("{}: a source position that cannot be read", at(offset)));
  sources_[*source] = *position;
}

void ChangelogRestore::finish() {
  query_.finish_changes(state_);
  for (const std::string& key : later_)
    query_.touch_change(state_, key, what_, nullptr);
}

}  // namespace sluice::server::checkpoint
