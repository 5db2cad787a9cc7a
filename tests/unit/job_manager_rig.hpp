#pragma once
// A JobManager (the daemon's job handling) running on an io_context thread of its own, for the
// tests of what it does with job files: conflicts, the admin API, schemas from the registry.

#include "config/server_config.hpp"
#include "server/jobs/job_manager.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace sluice::test {

// Polls `done` every 20 ms; false when it is still false after `seconds`.
inline bool eventually(const std::function<bool()>& done, int seconds = 15) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

class JobManagerRig {
 public:
  // Starts the manager on `server`'s jobs_dir (which must outlive the rig).
  JobManagerRig(const config::ServerConfig& server, server::JobManagerOptions options)
      : jobs(io, server, std::move(options)), runner_([this] { io.run(); }) {
    jobs.start();
  }
  ~JobManagerRig() { shutdown(); }
  JobManagerRig(const JobManagerRig&) = delete;
  JobManagerRig& operator=(const JobManagerRig&) = delete;

  // The status of the job file `file`, if the manager has one.
  std::optional<server::JobStatus> status_of(const std::string& file) const {
    for (auto& st : jobs.status())
      if (st.file == file) return st;
    return std::nullopt;
  }
  // Stops every job (drain, commit) and the thread; true when the jobs stopped within 30 s.
  bool shutdown() {
    if (!runner_.joinable()) return true;
    std::atomic<bool> stopped{false};
    jobs.shutdown([&] { stopped = true; });
    bool done = eventually([&] { return stopped.load(); }, 30);
    work_.reset();
    io.stop();
    runner_.join();
    return done;
  }

  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io.get_executor()};

 public:
  server::JobManager jobs;

 private:
  std::thread runner_;
};

}  // namespace sluice::test
