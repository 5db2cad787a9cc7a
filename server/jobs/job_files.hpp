#pragma once
// Reading the jobs directory: every `*.yaml` / `*.yml` file in it (not dot files, which are
// editors' and the admin API's temporary files), by path.
//
// A job file must really be in the directory: one whose real path (every symlink resolved, on
// the file actually opened) lies outside the real path of the directory is not read at all, so
// that no error can quote what it points to (`x.yaml -> /etc/shadow`). Symlinks that stay inside
// are read: a Kubernetes ConfigMap mount is `x.yaml -> ..data/x.yaml`, `..data -> ..2024_..`, all
// within the directory. Only regular files are read (a FIFO or a device is skipped, and never
// blocks the scan), and at most kMaxJobFileBytes of them.
//
// Called by the JobManager on its strand; touches no shared state.

#include <cstddef>
#include <map>
#include <string>

namespace sluice::server {

inline constexpr std::size_t kMaxJobFileBytes = 1024 * 1024;

// One job file as a scan found it.
struct JobFileText {
  std::string text;     // the content; empty when refused
  std::string refused;  // why it was not read (the job is reported invalid); empty when read
  bool operator==(const JobFileText&) const = default;
};

// The job files of `dir`; unreadable ones are skipped (and seen again on the next scan).
std::map<std::string, JobFileText> read_job_files(const std::string& dir);

}  // namespace sluice::server
