#include "server/jobs/job_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <optional>
#include <system_error>

namespace sluice::server {
namespace {

namespace fs = std::filesystem;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The real path of the file `fd` refers to: what was opened, whatever the symlinks were changed
// to since.
std::optional<fs::path> real_path(int fd) {
  std::error_code ec;
  fs::path real = fs::read_symlink(fmt::format("/proc/self/fd/{}", fd), ec);
  if (ec || !real.is_absolute()) return std::nullopt;
  return real;
}

bool is_within(const fs::path& file, const fs::path& dir) {
  fs::path rel = file.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != ".." && *rel.begin() != ".";
}

// Reads one job file, or says why not; nullopt when it cannot be read now.
std::optional<JobFileText> read_job_file(const fs::path& path, const fs::path& real_dir) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::optional<fs::path> real = real_path(fd.get());
  if (!real) return std::nullopt;
  if (!is_within(*real, real_dir)) {
    return JobFileText{{},
                       fmt::format("not read: the file resolves to {}, outside the jobs directory "
                                   "{}; a job file must be inside it (symlinks within it are "
                                   "fine)",
                                   real->string(), real_dir.string())};
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxJobFileBytes) {
    return JobFileText{{},
                       fmt::format("not read: the file has {} bytes; a job file may have at most "
                                   "{} (is it the right file?)",
                                   st.st_size, kMaxJobFileBytes)};
  }
  JobFileText file;
  std::array<char, 16384> buffer;
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    file.text.append(buffer.data(), static_cast<std::size_t>(n));
    if (file.text.size() > kMaxJobFileBytes) return std::nullopt;  // grew while read: next scan
  }
  return file;
}

}  // namespace

std::map<std::string, JobFileText> read_job_files(const std::string& dir) {
  std::map<std::string, JobFileText> files;
  std::error_code ec;
  fs::path real_dir = fs::canonical(dir, ec);
  if (ec) return files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto& path = entry.path();
    auto ext = path.extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    if (path.filename().string().starts_with(".")) continue;  // editors' temporary files
    if (auto file = read_job_file(path, real_dir)) files[path.string()] = std::move(*file);
  }
  return files;
}

}  // namespace sluice::server
