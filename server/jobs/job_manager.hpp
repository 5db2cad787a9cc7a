#pragma once
// JobManager: keeps the running jobs in step with the jobs directory. Every `*.yaml` / `*.yml`
// file in it is a job: a new file starts a job, a removed file stops it, a changed file restarts
// it (the old version drains and commits before the new one starts). An invalid file (YAML, SQL,
// a kafka property a job may not set or librdkafka rejects, a job name already taken, a file
// outside the directory: job_files.hpp) is reported in the log and in the status, and never
// affects the other jobs; no Kafka client is created for it. So is a file whose job conflicts with
// a running job (server/jobs/job_conflicts.hpp: the same name, a consumer group or repartition
// topic the other uses): the running job keeps running, and among files that appear in one scan
// the first by path wins. Such a file is tried again on a later scan once no running job conflicts
// with it (the other job's file was removed or changed, and that job has stopped). The directory
// is scanned every `scan_interval_ms` and on `rescan()` (SIGHUP). A source that leaves its schema
// to the Schema Registry reads it when its job starts (kafka/registry_schema.hpp); while the
// registry cannot answer, the job is invalid and started again by later scans (1 s, doubling to 30
// s).
//
// Lifecycle: construct, `start()`, then `shutdown(done)` stops every job (drain, commit) and
// posts `done` when all have stopped. Threading: everything runs on the manager's strand of the
// daemon's io_context; `status()` and `rescan()` may be called from any thread.

#include "config/server_config.hpp"
#include "server/jobs/job_conflicts.hpp"
#include "server/jobs/job_files.hpp"
#include "server/kafka/kafka_job.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sluice::server {

struct JobManagerOptions {
  int64_t scan_interval_ms = 1000;
  kafka::KafkaJobOptions job;
  // Called before a job starts with its topics (source, sink, dead letter); the daemon's embedded
  // broker creates them. May be empty.
  std::function<void(const config::JobConfig&)> prepare_topics;
};

class JobManager {
 public:
  JobManager(boost::asio::io_context& io, const config::ServerConfig& server,
             JobManagerOptions options);
  ~JobManager();

  void start();
  void rescan();
  void shutdown(std::function<void()> done);
  // Every job file's status, by file name.
  std::vector<JobStatus> status() const;
  // True once the first scan of the jobs directory has started its jobs (any thread).
  bool scanned() const { return scanned_.load(); }

  // The admin API (server/http/admin_api.hpp); any thread.
  // Loads and checks a job file's text as the daemon does before starting it: YAML, the daemon's
  // endpoint rules (Kafka source and sinks), the Kafka properties and the SQL (compile_job).
  // `${VAR}` references are looked up in `env` (for a posted job: config::posted_job_env).
  // Throws Error (ConfigError with every issue); `file` names the text in messages. `job` holds
  // the loaded job once the YAML loaded (describe_job_error needs it to place an SQL error).
  // A source whose schema is left to the registry reads it (blocking, bounded by the registry's
  // timeout).
  void check_job_text(const std::string& text, const std::string& file,
                      const config::EnvLookup& env, std::shared_ptr<config::JobConfig>& job) const;
  // What keeps `job` (loaded from the text that would become `file`) from running beside the
  // jobs running now, other than the one of `file` itself: issues in `job`'s file naming the
  // other job (server/jobs/job_conflicts.hpp). Compiles the query (throws like check_job_text).
  std::vector<config::ConfigIssue> conflicts(const config::JobConfig& job,
                                             const std::string& file) const;
  const std::string& jobs_dir() const { return server_.jobs_dir; }
  // The server config's http.job_env_prefix (see config::posted_job_env).
  const std::string& job_env_prefix() const { return server_.http_job_env_prefix; }
  // The file of the job called `name` (running, stopping or invalid), if any.
  std::optional<std::string> file_of(const std::string& name) const;
  enum class PauseResult { kDone, kUnknown, kNotRunning };
  // Pauses or resumes every partition of a running job (KafkaJob::pause); the job stays paused
  // when its file changes and it restarts. kNotRunning: the job's file is invalid.
  PauseResult pause(const std::string& name, bool paused);

 private:
  struct Entry {
    std::string file;
    JobFileText content;  // as last read
    uint64_t generation = 0;
    std::string name;                      // the job's name (the file stem when it did not load)
    JobStatus invalid;                     // when the file is invalid
    std::shared_ptr<kafka::KafkaJob> job;  // running (or stopping) version
    bool stopping = false;
    bool removed = false;  // the file is gone: drop the entry once stopped
    bool reload = false;   // the file changed while stopping: start the new content afterwards
    bool paused = false;   // paused through the admin API (guarded by mu_)
    // The registry could not answer for a source's schema: the scan starts it again from this
    // steady-clock time (0: not waiting), the wait doubling from 1 s to 30 s.
    int64_t retry_ms = 0, retry_backoff_ms = 0;
    // What the loaded job claims (guarded by mu_): set while it runs, and while it waits because
    // a running job conflicts with it (then `blocked_by` is that job's file).
    std::optional<JobClaims> claims;
    std::string blocked_by;
  };

  void scan();
  void retry_blocked();
  // Issues of `claims` against the running jobs other than `file`'s; `first` = the first
  // conflicting job's file. Strand, or under mu_.
  std::vector<config::ConfigIssue> running_conflicts(const JobClaims& claims,
                                                     const std::string& file,
                                                     std::string* first = nullptr) const;
  void schedule_scan();
  void start_entry(Entry& e);
  // Sets the source's columns from the registry when its file leaves them to it (logging the
  // version used).
  void read_registry_schema(config::JobConfig& job) const;
  void stop_entry(const std::string& file);
  void on_stopped(const std::string& file);
  void maybe_finish_shutdown();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  const config::ServerConfig& server_;
  JobManagerOptions options_;
  uint64_t generation_ = 0;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;

  std::atomic<bool> scanned_{false};
  mutable std::mutex mu_;  // guards entries_ for status(); the strand is the only writer
  std::map<std::string, Entry> entries_;
};

}  // namespace sluice::server
