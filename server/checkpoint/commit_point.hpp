#pragma once
// The metadata committed beside a partition's offset, so a restart can restore the watermark and
// recognise replayed records: `sluice1 wm=<watermark> done=<acknowledged position>` (versioned by
// its prefix). Metadata that is absent or from another writer restores no watermark, and `done`
// = the committed offset. Stateless; any thread.

#include "server/pipeline/progress.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::server::checkpoint {

std::string encode_metadata(const pipeline::Progress& progress);
// The progress stored with a committed `offset` (>= 0) and its `metadata`.
pipeline::Progress decode_progress(int64_t offset, std::string_view metadata);

}  // namespace sluice::server::checkpoint
