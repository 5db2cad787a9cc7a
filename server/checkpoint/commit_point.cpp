#include "server/checkpoint/commit_point.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace sluice::server::checkpoint {
namespace {

// Reads `<name>=<int64>` at the front of `s` and consumes it (and one following space).
bool take_field(std::string_view& s, std::string_view name, int64_t* out) {
  if (!s.starts_with(name) || s.size() <= name.size() || s[name.size()] != '=') return false;
  s.remove_prefix(name.size() + 1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  if (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return true;
}

}  // namespace

std::string encode_metadata(const pipeline::Progress& progress) {
  return fmt::format("sluice1 wm={} done={}", progress.watermark, progress.done);
}

pipeline::Progress decode_progress(int64_t offset, std::string_view metadata) {
  pipeline::Progress p;
  p.offset = offset;
  p.done = offset;
  constexpr std::string_view kVersion = "sluice1 ";
  if (!metadata.starts_with(kVersion)) return p;
  metadata.remove_prefix(kVersion.size());
  int64_t wm = 0;
  int64_t done = 0;
  if (!take_field(metadata, "wm", &wm) || !take_field(metadata, "done", &done)) return p;
  p.watermark = wm;
  p.done = std::max(done, offset);
  return p;
}

}  // namespace sluice::server::checkpoint
