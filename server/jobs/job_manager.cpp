#include "server/jobs/job_manager.hpp"

#include "server/jobs/job_error.hpp"
#include "server/kafka/property_check.hpp"
#include "server/kafka/registry_schema.hpp"
#include "server/plan/job_plan.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace sluice::server {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr int64_t kFirstRetryMs = 1000;
constexpr int64_t kLastRetryMs = 30000;

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Jobs under the daemon read from and write to Kafka.
void check_endpoints(const config::JobConfig& job) {
  std::vector<config::ConfigIssue> issues;
  if (job.source.type != "kafka")
    issues.push_back({job.file, job.source.mark, "source.type",
                      fmt::format("sluice serve runs jobs that read a kafka topic; this source is "
                                  "'{}' (run bounded jobs with `sluice run`)",
                                  job.source.type)});
  if (job.sink.type != "kafka")
    issues.push_back(
        {job.file, job.sink.mark, "sink.type",
         fmt::format("sluice serve writes to kafka topics; this sink is '{}'", job.sink.type)});
  if (job.dead_letter && job.dead_letter->type != "kafka")
    issues.push_back({job.file, job.dead_letter->mark, "dead_letter.type",
                      fmt::format("sluice serve writes dead letters to a kafka topic; this one is "
                                  "'{}'",
                                  job.dead_letter->type)});
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
}

}  // namespace

JobManager::JobManager(asio::io_context& io, const config::ServerConfig& server,
                       JobManagerOptions options)
    : io_(io),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      server_(server),
      options_(std::move(options)) {}

JobManager::~JobManager() = default;

void JobManager::start() {
  spdlog::info("watching {} for job files (*.yaml)", server_.jobs_dir);
  asio::post(strand_, [this] { scan(); });
}

void JobManager::rescan() {
  asio::post(strand_, [this] {
    spdlog::info("rescanning {}", server_.jobs_dir);
    scan();
  });
}

void JobManager::schedule_scan() {
  if (shutting_down_) return;
  timer_.expires_after(std::chrono::milliseconds(options_.scan_interval_ms));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) scan();
  });
}

void JobManager::scan() {
  if (shutting_down_) return;
  auto files = read_job_files(server_.jobs_dir);
  std::vector<std::string> gone;
  for (auto& [file, e] : entries_) {
    if (!files.count(file) && !e.removed) gone.push_back(file);
  }
  for (const auto& file : gone) {
    spdlog::info("job {}: file {} removed", entries_[file].name, file);
    entries_[file].removed = true;
    stop_entry(file);
  }
  for (auto& [file, content] : files) {
    auto it = entries_.find(file);
    if (it == entries_.end()) {
      Entry e;
      e.file = file;
      e.content = content;
      {
        std::lock_guard lock(mu_);
        it = entries_.emplace(file, std::move(e)).first;
      }
      start_entry(it->second);
      continue;
    }
    Entry& e = it->second;
    if (e.content == content && !e.removed) continue;
    if (e.removed) e.removed = false;  // it came back
    if (e.content == content && e.job) continue;
    spdlog::info("job {}: file {} changed", e.name, file);
    {
      std::lock_guard lock(mu_);
      e.content = content;
    }
    if (e.job) {
      e.reload = true;
      stop_entry(file);
    } else {
      start_entry(e);
    }
  }
  retry_blocked();
  int64_t now = steady_now_ms();
  for (auto& [file, e] : entries_) {
    if (e.retry_ms != 0 && e.retry_ms <= now && !e.job && !e.removed) start_entry(e);
  }
  scanned_ = true;
  schedule_scan();
}

// A file held back by a conflicting job is tried again once that job no longer runs (or another
// one now holds it back, so that its error names the right job).
void JobManager::retry_blocked() {
  for (auto& [file, e] : entries_) {
    if (e.job || e.removed || e.blocked_by.empty() || !e.claims) continue;
    std::string first;
    running_conflicts(*e.claims, file, &first);
    if (first != e.blocked_by) start_entry(e);
  }
}

std::vector<config::ConfigIssue> JobManager::running_conflicts(const JobClaims& claims,
                                                               const std::string& file,
                                                               std::string* first) const {
  std::vector<config::ConfigIssue> issues;
  for (const auto& [other_file, other] : entries_) {
    if (other_file == file || !other.job || !other.claims) continue;
    auto found = find_conflicts(claims, *other.claims);
    if (found.empty()) continue;
    if (first != nullptr && first->empty()) *first = other_file;
    issues.insert(issues.end(), found.begin(), found.end());
  }
  return issues;
}

void JobManager::start_entry(Entry& e) {
  uint64_t generation = ++generation_;
  std::string name = fs::path(e.file).stem().string();
  std::shared_ptr<config::JobConfig> cfg;
  std::shared_ptr<kafka::KafkaJob> job;
  std::optional<JobClaims> claims;
  std::string blocked_by;
  bool registry_down = false;
  try {
    if (!e.content.refused.empty()) throw Error(ErrorCode::kConfig, e.content.refused);
    cfg = std::make_shared<config::JobConfig>(config::load_job_text(e.content.text, e.file));
    name = cfg->name;
    check_endpoints(*cfg);
    kafka::check_job_properties(*cfg);
    try {
      read_registry_schema(*cfg);
    } catch (const Error& err) {
      registry_down = err.code() == ErrorCode::kIo;
      throw;
    }
    claims = job_claims(*cfg, *compile_job(*cfg));
    auto conflicts = running_conflicts(*claims, e.file, &blocked_by);
    if (!conflicts.empty()) throw config::ConfigError(std::move(conflicts));
    if (options_.prepare_topics) options_.prepare_topics(*cfg);
    job = std::make_shared<kafka::KafkaJob>(io_, cfg, server_.kafka, generation, options_.job);
  } catch (const Error& err) {
    std::string message = describe_job_error(cfg.get(), e.file, err);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    if (registry_down) {
      e.retry_backoff_ms = std::clamp<int64_t>(e.retry_backoff_ms * 2, kFirstRetryMs, kLastRetryMs);
      e.retry_ms = steady_now_ms() + e.retry_backoff_ms;
      message += fmt::format(" (trying again in {} s)", e.retry_backoff_ms / 1000);
    } else {
      e.retry_ms = e.retry_backoff_ms = 0;
    }
    spdlog::error("job {}: invalid: {}", name, message);
    std::lock_guard lock(mu_);
    e.name = name;
    e.generation = generation;
    e.job.reset();
    e.invalid = JobStatus{};
    e.invalid.name = name;
    e.invalid.file = e.file;
    e.invalid.state = JobState::kInvalid;
    e.invalid.error = message;
    e.invalid.generation = generation;
    e.blocked_by = blocked_by;
    if (blocked_by.empty())
      e.claims.reset();
    else
      e.claims = std::move(claims);
    return;
  }
  e.retry_ms = e.retry_backoff_ms = 0;
  {
    std::lock_guard lock(mu_);
    e.name = name;
    e.generation = generation;
    e.job = job;
    e.claims = std::move(claims);
    e.blocked_by.clear();
    if (e.paused) job->pause(true);
  }
  job->start();
}

void JobManager::stop_entry(const std::string& file) {
  Entry& e = entries_[file];
  if (!e.job) {
    if (e.removed) {
      std::lock_guard lock(mu_);
      entries_.erase(file);
    }
    maybe_finish_shutdown();
    return;
  }
  if (e.stopping) return;
  e.stopping = true;
  e.job->stop([this, file] { asio::post(strand_, [this, file] { on_stopped(file); }); });
}

void JobManager::on_stopped(const std::string& file) {
  auto it = entries_.find(file);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  std::shared_ptr<kafka::KafkaJob> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(e.job);
    e.stopping = false;
  }
  old.reset();  // joins its (finished) control thread
  if (e.removed || shutting_down_) {
    std::lock_guard lock(mu_);
    entries_.erase(it);
  } else if (e.reload) {
    e.reload = false;
    start_entry(e);
  }
  maybe_finish_shutdown();
}

void JobManager::shutdown(std::function<void()> done) {
  asio::post(strand_, [this, done = std::move(done)]() mutable {
    if (shutting_down_) return;
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    timer_.cancel();
    std::vector<std::string> files;
    for (const auto& [file, e] : entries_)
      files.push_back(file);
    for (const auto& file : files) {
      entries_[file].removed = true;
      stop_entry(file);
    }
    maybe_finish_shutdown();
  });
}

void JobManager::maybe_finish_shutdown() {
  if (!shutting_down_ || !shutdown_done_) return;
  for (const auto& [file, e] : entries_) {
    if (e.job) return;
  }
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

void JobManager::read_registry_schema(config::JobConfig& job) const {
  if (!job.source.schema_from_registry || !options_.job.registry) return;  // compile_job says why
  std::string used = kafka::read_registry_schema(job, *options_.job.registry);
  spdlog::info("job {}: source.schema: the latest schema of {}: {} columns", job.name, used,
               job.source.schema.size());
}

void JobManager::check_job_text(const std::string& text, const std::string& file,
                                const config::EnvLookup& env,
                                std::shared_ptr<config::JobConfig>& job) const {
  job = std::make_shared<config::JobConfig>(config::load_job_text(text, file, env));
  check_endpoints(*job);
  kafka::check_job_properties(*job);
  read_registry_schema(*job);
  compile_job(*job);
}

std::vector<config::ConfigIssue> JobManager::conflicts(const config::JobConfig& job,
                                                       const std::string& file) const {
  JobClaims claims = job_claims(job, *compile_job(job));
  std::lock_guard lock(mu_);
  return running_conflicts(claims, file);
}

std::optional<std::string> JobManager::file_of(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::optional<std::string> found;
  for (const auto& [file, e] : entries_) {
    if (e.name != name) continue;
    if (e.job) return file;  // the running one wins over an invalid file claiming its name
    found = file;
  }
  return found;
}

JobManager::PauseResult JobManager::pause(const std::string& name, bool paused) {
  std::lock_guard lock(mu_);
  bool known = false;
  for (auto& [file, e] : entries_) {
    if (e.name != name) continue;
    known = true;
    if (!e.job) continue;
    e.paused = paused;
    e.job->pause(paused);
    return PauseResult::kDone;
  }
  return known ? PauseResult::kNotRunning : PauseResult::kUnknown;
}

std::vector<JobStatus> JobManager::status() const {
  std::vector<JobStatus> out;
  std::lock_guard lock(mu_);
  for (const auto& [file, e] : entries_) {
    if (e.job)
      out.push_back(e.job->status());
    else if (e.invalid.state == JobState::kInvalid)
      out.push_back(e.invalid);
  }
  return out;
}

}  // namespace sluice::server
