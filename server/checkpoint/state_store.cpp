#include "server/checkpoint/state_store.hpp"

#include "common/error.hpp"
#include "exec/state_codec.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>

namespace sluice::server::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kFileMagic = 0x4e534c53;  // "SLSN"
// 2: the source positions of a repartitioned job; 3: the changelog position (2 is still read).
constexpr uint32_t kFileVersion = 3;
constexpr std::string_view kSuffix = ".snapshot";

uint32_t checksum(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes at most 4 GiB at a time.
  while (!bytes.empty()) {
    size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

std::string errno_text() {
  return std::strerror(errno);
}

// Writes all of `data` to `fd`; false (errno set) on failure.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// The offset a snapshot file's name gives, or -1 for another file.
int64_t file_offset(const fs::path& path) {
  std::string name = path.filename().string();
  if (!name.ends_with(kSuffix)) return -1;
  std::string_view digits(name.data(), name.size() - kSuffix.size());
  int64_t offset = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || end != digits.data() + digits.size() || offset < 0) return -1;
  return offset;
}

// The partition's snapshot files, newest (highest offset) first.
std::vector<std::pair<int64_t, fs::path>> snapshot_files(const std::string& dir) {
  std::vector<std::pair<int64_t, fs::path>> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    int64_t offset = file_offset(it->path());
    if (offset >= 0 && it->is_regular_file(ec)) files.emplace_back(offset, it->path());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a > b; });
  return files;
}

}  // namespace

StateStore::StateStore(std::string dir, std::string topic)
    : dir_(std::move(dir)), topic_(std::move(topic)) {}

std::string StateStore::partition_dir(int32_t partition) const {
  return (fs::path(dir_) / std::to_string(partition)).string();
}

std::string StateStore::write(int32_t partition, const pipeline::StateCheckpoint& cp,
                              int64_t committed) const {
  std::string dir = partition_dir(partition);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return fmt::format("creating {}: {}", dir, ec.message());
    // The new directories' entries must survive a crash too.
    if (!sync_dir(dir_) || !sync_dir(fs::path(dir_).parent_path().string()))
      return fmt::format("syncing {}: {}", dir_, errno_text());
  }

  std::string header;
  exec::StateWriter w(header);
  w.u32(kFileMagic);
  w.u32(kFileVersion);
  w.bytes(topic_);
  w.i64(cp.offset);
  w.i64(cp.watermark);
  w.u32(static_cast<uint32_t>(cp.sources.size()));
  for (const auto& [partition, offset] : cp.sources) {
    w.u32(static_cast<uint32_t>(partition));
    w.i64(offset);
  }
  w.i64(cp.changelog_end);
  w.u64(cp.state.size());
  std::string trailer;
  exec::StateWriter(trailer).u32(static_cast<uint32_t>(
      crc32_combine(checksum(header), checksum(cp.state), static_cast<z_off_t>(cp.state.size()))));

  std::string name = fmt::format("{:020}{}", cp.offset, kSuffix);
  std::string path = (fs::path(dir) / name).string();
  std::string tmp = (fs::path(dir) / fmt::format(".{}.tmp", name)).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fmt::format("creating {}: {}", tmp, errno_text());
  bool ok = write_all(fd, header) && write_all(fd, cp.state) && write_all(fd, trailer) &&
            ::fsync(fd) == 0;
  std::string why = ok ? "" : fmt::format("writing {}: {}", tmp, errno_text());
  if (::close(fd) != 0 && ok) why = fmt::format("writing {}: {}", tmp, errno_text());
  if (why.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    why = fmt::format("renaming {} to {}: {}", tmp, path, errno_text());
  if (!why.empty()) {
    ::unlink(tmp.c_str());
    return why;
  }
  if (!sync_dir(dir)) return fmt::format("syncing {}: {}", dir, errno_text());
  // Newest first: after the one written (abandoned), the one written and those down to the
  // newest at or before `committed` (kept), then older ones (pruned).
  bool kept_committed = committed < 0;
  for (const auto& [offset, file] : snapshot_files(dir)) {
    bool keep = offset == cp.offset || (offset < cp.offset && !kept_committed);
    if (offset < cp.offset && offset <= committed) kept_committed = true;
    if (!keep) fs::remove(file, ec);
  }
  return "";
}

std::shared_ptr<const pipeline::StateCheckpoint> StateStore::read(
    int32_t partition, int64_t max_offset, std::vector<std::string>& warnings) const {
  std::string dir = partition_dir(partition);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with('.') && name.ends_with(".tmp")) fs::remove(it->path(), ec);
  }
  for (const auto& [offset, path] : snapshot_files(dir)) {
    if (offset > max_offset) continue;
    try {
      std::string bytes;
      {
        std::ifstream in(path, std::ios::binary | std::ios::ate);
        if (!in) throw Error(ErrorCode::kState, fmt::format("{}: cannot be opened", path.string()));
        bytes.resize(static_cast<size_t>(in.tellg()));
        in.seekg(0);
        if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
          throw Error(ErrorCode::kState, fmt::format("{}: cannot be read", path.string()));
      }
      const std::string where = path.string();
      exec::StateReader r(bytes, where);
      if (r.u32() != kFileMagic) r.fail("not a sluice state snapshot file");
      uint32_t version = r.u32();
      if (version != kFileVersion && version != 2)
        r.fail(fmt::format("snapshot file version {} (this sluice reads 2 and {})", version,
                           kFileVersion));
      if (std::string_view topic = r.bytes(); topic != topic_)
        r.fail(fmt::format("a snapshot of topic '{}', not '{}'", topic, topic_));
      auto cp = std::make_shared<pipeline::StateCheckpoint>();
      cp->offset = r.i64();
      cp->watermark = r.i64();
      uint32_t sources = r.count(12);
      for (uint32_t i = 0; i < sources; ++i) {
        auto partition = static_cast<int32_t>(r.u32());
        int64_t source_offset = r.i64();
        if (partition < 0 || source_offset < 0) r.fail("a negative source position");
        cp->sources.emplace_back(partition, source_offset);
      }
      if (version >= 3) cp->changelog_end = std::max<int64_t>(-1, r.i64());
      uint64_t size = r.u64();
      if (cp->offset != offset) r.fail("the offset inside differs from the file name");
      if (r.left() < 4 || size != r.left() - 4) r.fail("truncated or too long");
      size_t header = bytes.size() - r.left();
      std::string_view state(bytes.data() + header, size);
      exec::StateReader tail(std::string_view(bytes).substr(header + size), where);
      uint32_t want = tail.u32();
      uint32_t got =
          static_cast<uint32_t>(crc32_combine(checksum(std::string_view(bytes.data(), header)),
                                              checksum(state), static_cast<z_off_t>(size)));
      if (want != got) r.fail("checksum mismatch (the file is corrupt)");
      cp->state.assign(state);
      return cp;
    } catch (const Error& e) {
      warnings.push_back(e.what());
    } catch (const std::exception& e) {  // out of memory for a huge file
      warnings.push_back(fmt::format("{}: {}", path.string(), e.what()));
    }
  }
  return nullptr;
}

}  // namespace sluice::server::checkpoint
