#include "server/kafka/job_stage.hpp"

#include "server/kafka/client_factory.hpp"
#include "server/kafka/topic_admin.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace sluice::server::kafka {
namespace {

namespace asio = boost::asio;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

JobStage* stage_of(void* opaque) {
  return static_cast<JobStage*>(opaque);
}

void on_rebalance(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  stage_of(opaque)->on_rebalance(err, parts);
}

void on_commit(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  stage_of(opaque)->on_commit_result(err, offsets);
}

// librdkafka's client-level errors (both clients).
void on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  stage_of(opaque)->on_client_error(err, reason);
}

void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Properties meant for the other client (consumer vs producer) are shared by design.
  if (std::string_view(fac) == "CONFWARN") return;
  const JobStage* stage = stage_of(rd_kafka_opaque(rk));
  std::string_view name = stage != nullptr ? std::string_view(stage->job_name()) : "";
  if (level <= 3)
    spdlog::error("job {}: kafka: {}: {}", name, fac, buf);
  else if (level <= 5)
    spdlog::warn("job {}: kafka: {}: {}", name, fac, buf);
  else
    spdlog::debug("job {}: kafka: {}: {}", name, fac, buf);
}

}  // namespace

JobStage::JobStage(asio::io_context& io, std::shared_ptr<const pipeline::PipelineSpec> spec,
                   std::string group_id, std::string output_topic, uint64_t generation,
                   const StageOptions& options)
    : io_(io),
      spec_(std::move(spec)),
      group_id_(std::move(group_id)),
      output_topic_(std::move(output_topic)),
      generation_(generation),
      options_(options) {}

JobStage::~JobStage() {
  // The owning job joins the control thread; should the thread itself drop the last reference, it
  // must not join itself.
  if (control_.joinable()) control_.detach();
}

void JobStage::create_clients(const config::KafkaProperties& defaults) {
  const config::JobConfig& job = *spec_->job;
  bool exactly_once = !options_.transactional_id.empty();
  config::KafkaProperties props = job_properties(job, defaults, exactly_once);
  producer_props_ = props;
  if (exactly_once) {
    props.emplace_back("isolation.level", "read_committed");
    producer_props_.emplace_back("transactional.id", options_.transactional_id);
    producer_props_.emplace_back("transaction.timeout.ms", std::to_string(kTransactionTimeoutMs));
  }
  ClientHooks hooks{this, kafka::on_error, on_log, kafka::on_rebalance, on_commit};
  group_ = std::make_unique<GroupMember>(make_consumer(job, props, group_id_, hooks),
                                         job.source.topic, *this);
  if (spec_->changelog) {
    reader_.reset(make_reader(job, props, group_id_ + "-restore", hooks));
  }
  committer_ = std::make_unique<GroupCommitter>(
      *group_, [this](const std::string& e) { warn("commit", e); });
  if (spec_->durable)
    store_ = std::make_unique<checkpoint::StateStore>(options_.state_dir, group_->topic());
}

// The control thread, first: the producer is fitted to the topics it writes (which asks the
// cluster, so not on the thread that creates the job) and made with its sinks, transaction and
// commit coordinator. "" or why not.
std::string JobStage::create_producer() {
  const config::JobConfig& job = *spec_->job;
  if (std::string error = register_schemas(); !error.empty()) return error;
  fit_producer_to_topics(producer_props_);
  ClientHooks hooks{this, kafka::on_error, on_log, kafka::on_rebalance, on_commit};
  std::shared_ptr<KafkaProducer> producer;
  try {
    producer = std::make_shared<KafkaProducer>(io_, make_producer(job, producer_props_, hooks));
  } catch (const Error& e) {
    return e.what();
  }
  {
    std::lock_guard lock(mu_);
    producer_ = producer;
    if (!is_router()) output_sink_ = std::make_unique<TopicSink>(producer_, output_topic_);
    if (job.dead_letter && job.dead_letter->type == "kafka")
      dead_letter_sink_ = std::make_unique<TopicSink>(producer_, job.dead_letter->topic);
  }
  if (!options_.transactional_id.empty())
    txn_ =
        std::make_unique<Transaction>(producer_->client(), *group_, kTransactionTimeoutMs,
                                      [this](const std::vector<checkpoint::PartitionCommit>& done) {
                                        std::lock_guard lock(mu_);
                                        for (const auto& c : done)
                                          committed_[c.partition] = c.progress.offset;
                                      });
  coordinator_ = std::make_unique<checkpoint::CommitCoordinator>(
      txn_ ? static_cast<checkpoint::Committer&>(*txn_) : *committer_, store_.get(),
      [this](const std::string& e) { warn("state", e); },
      [this](int32_t partition) {
        std::lock_guard lock(mu_);
        auto it = committed_.find(partition);
        return it != committed_.end() ? it->second : int64_t{-1};
      });
  producer_->start();
  return "";
}

void JobStage::start() {
  control_ = std::thread([self = shared_from_this()] { self->run_control(); });
}

void JobStage::join() {
  if (control_.joinable()) control_.join();
}

void JobStage::request_stop(std::function<void()> done) {
  std::lock_guard lock(mu_);
  if (stopped_) {
    if (done) asio::post(io_, std::move(done));
    return;
  }
  if (stop_requested_.load()) return;
  on_stopped_ = std::move(done);
  if (state_ != JobState::kFailed) state_ = JobState::kStopping;
  stop_requested_ = true;
}

bool JobStage::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

void JobStage::note_reachable() {
  if (!kafka_reachable_.load(std::memory_order_relaxed)) kafka_reachable_ = true;
}

void JobStage::warn(const char* what, const std::string& message) {
  int64_t now = steady_ms();
  std::lock_guard lock(mu_);
  if (now - last_error_log_ms_ < 5000) {
    ++suppressed_errors_;
    return;
  }
  spdlog::warn(
      "job {}: {}: {}{}", job_name(), what, message,
      suppressed_errors_ ? fmt::format(" ({} similar errors not logged)", suppressed_errors_) : "");
  suppressed_errors_ = 0;
  last_error_log_ms_ = now;
}

void JobStage::fail(const std::string& why) {
  {
    std::lock_guard lock(mu_);
    if (failed_.exchange(true)) return;
    error_ = why;
    spdlog::error("job {}: failed: {}", job_name(), why);
  }
  // The other stage of a repartitioned job stops too (outside our lock: it may call back).
  if (auto other = sibling_.lock())
    other->fail(fmt::format("the job's other stage failed: {}", why));
}

void JobStage::pipeline_drained() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void JobStage::on_client_error(int err, const char* reason) {
  spdlog::error("job {}: kafka: ERROR: {}", job_name(), reason);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && kafka_reachable_.exchange(false))
    spdlog::warn("job {}: kafka unreachable: all brokers are down", job_name());
}

void JobStage::on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  rebalances_.add(1);
  group_->rebalance(err, parts);
}

void JobStage::on_commit_result(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets) {
  if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;  // nothing to commit
  bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  if (offsets != nullptr) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < offsets->cnt; ++i) {
      const auto& p = offsets->elems[i];
      if (p.err) ok = false;
      if (!p.err && !err) committed_[p.partition] = p.offset;
    }
  }
  if (ok) {
    commits_.add(1);
    note_reachable();
  } else {
    commit_failures_.add(1);
    warn("commit failed", rd_kafka_err2str(err ? err : RD_KAFKA_RESP_ERR__FAIL));
  }
}

void JobStage::run_control() {
  std::string error;
  if (error = create_producer(); !error.empty()) {
    fail(error);
  } else if (error = prepare_topics(); !error.empty()) {
    fail(error);
  } else if (txn_ && !(error = txn_->init()).empty()) {
    fail(error);
  } else if (!group_->subscribe(&error)) {
    fail(fmt::format("subscribing to '{}': {}", group_->topic(), error));
  } else {
    std::lock_guard lock(mu_);
    if (state_ == JobState::kStarting) state_ = JobState::kRunning;
  }
  spdlog::info("job {}: started (generation {}, topic '{}', group '{}', file {})", job_name(),
               generation_, group_->topic(), group_id_, spec_->job->file);
  int64_t next_commit = steady_ms() + options_.commit_interval_ms;
  while (!stop_requested_.load() && !failed_.load()) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(group_->client(), 100)) {
      if (m->err) {
        warn("consumer", rd_kafka_message_errstr(m));
      } else {
        // Partition queues are read by the pipelines: a record here would be lost to them.
        fail(fmt::format("record of partition {} arrived outside its pipeline", m->partition));
      }
      rd_kafka_message_destroy(m);
    }
    if (steady_ms() >= next_commit) {
      if (txn_)
        transaction_round({});
      else
        commit_round({}, false);
      if (!kafka_reachable_.load() && group_->probe(2000) && !kafka_reachable_.exchange(true))
        spdlog::info("job {}: kafka reachable again", job_name());
      next_commit = steady_ms() + options_.commit_interval_ms;
    }
  }
  shutdown();
}

void JobStage::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (state_ != JobState::kFailed) state_ = JobState::kStopping;
  }
  if (txn_ && failed_.load())
    abort_and_retire({});  // nothing after the last commit is kept
  else
    retire({}, true);
  group_->close();  // leaves the group; its revocation finds nothing assigned
  if (producer_) {
    producer_->flush(5000);
    producer_->purge();
  }
  std::function<void()> done;
  {
    std::lock_guard lock(mu_);
    for (auto& p : orphans_)
      p->close_source();
    output_sink_.reset();
    dead_letter_sink_.reset();
    changelog_sink_.reset();
    if (producer_) producer_->close();
    if (reader_) rd_kafka_consumer_close(reader_.get());
    reader_.reset();
    group_.reset();
    state_ = failed_.load() ? JobState::kFailed : JobState::kStopped;
    stopped_ = true;
    done = std::move(on_stopped_);
  }
  spdlog::info("job {}: {}", job_name(), failed_.load() ? "stopped after failure" : "stopped");
  if (done) asio::post(io_, std::move(done));
}

bool JobStage::assigned(std::vector<std::pair<int32_t, pipeline::Progress>>& parts,
                        const std::string& committed_error) {
  // Durable state goes with its committed offset: without it, no snapshot can be chosen safely,
  // and starting empty would lose the state for good once the next snapshot is committed.
  if (store_ && !committed_error.empty())
    fail(
        fmt::format("reading the committed offsets of '{}' failed ({}): the durable state "
                    "cannot be restored safely",
                    group_->topic(), committed_error));
  note_reachable();
  std::vector<int32_t> ids;
  std::vector<std::shared_ptr<pipeline::PartitionPipeline>> started;
  bool paused = false;
  {
    std::lock_guard lock(mu_);
    paused = user_paused_;
  }
  for (auto& [partition, restored] : parts) {
    if (restored.offset >= 0) {
      std::lock_guard lock(mu_);
      committed_[partition] = restored.offset;
    }
    std::unique_ptr<exec::QueryState> state;
    if (store_ && !failed_.load()) state = restore_state(partition, restored);
    if (restored.checkpoint) coordinator_->restored(partition, restored);
    pipeline::PipelineIo pio{group_->source(job_name(), partition, paused, spec_->dedupe_sources),
                             output_sink_.get(), dead_letter_sink_.get(), changelog_sink_.get()};
    auto p = std::make_shared<pipeline::PartitionPipeline>(
        spec_, asio::make_strand(io_), std::move(pio), shared_from_this(),
        pipeline::SystemClock::instance(), restored, std::move(state));
    started.push_back(p);
    ids.push_back(partition);
    std::lock_guard lock(mu_);
    pipelines_[partition] = p;
  }
  for (auto& p : started)
    p->start(paused);
  spdlog::info("job {}: assigned {} [{}]", job_name(), group_->topic(), fmt::join(ids, ","));
  return paused;
}

void JobStage::revoked(const std::vector<int32_t>& parts, bool lost) {
  if (txn_ && lost)  // the transaction cannot commit their offsets any more: none of it counts
    rewind("partitions lost", parts);
  else
    retire(parts, !lost);
  spdlog::info("job {}: revoked {} [{}]{}", job_name(), group_->topic(), fmt::join(parts, ","),
               lost ? " (lost: not committed)" : "");
}

JobStage::Pipelines JobStage::current(const std::vector<int32_t>& partitions) const {
  std::lock_guard lock(mu_);
  if (partitions.empty()) return pipelines_;
  Pipelines some;
  for (int32_t id : partitions) {
    auto it = pipelines_.find(id);
    if (it != pipelines_.end()) some.insert(*it);
  }
  return some;
}

void JobStage::retire(const std::vector<int32_t>& partitions, bool do_commit) {
  Pipelines going = current(partitions);
  if (going.empty()) return;
  if (txn_ && do_commit) {
    // Exactly once: their last transaction (with everyone's output so far) commits first; they
    // stay parked, with nothing in flight.
    std::vector<int32_t> ids;
    for (const auto& [id, p] : going)
      ids.push_back(id);
    if (!transaction_round(ids)) return;  // aborted and rewound (or failed): nothing to commit
    do_commit = false;
  }
  for (auto& [id, p] : going)
    p->request_stop();
  auto all_drained = [&] {
    return std::all_of(going.begin(), going.end(),
                       [](const auto& e) { return e.second->drained(); });
  };
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(options_.drain_timeout_ms), all_drained)) {
      lock.unlock();
      // Output the broker did not acknowledge in time: purged, reported as delivery failures, so
      // the pipelines drain without committing past it.
      spdlog::error(
          "job {}: output not acknowledged within {} ms; purging it (its input will be "
          "read again)",
          job_name(), options_.drain_timeout_ms);
      producer_->purge();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(10000), all_drained);
    }
  }
  std::vector<int32_t> ids;
  for (auto& [id, p] : going)
    ids.push_back(id);
  if (do_commit) coordinator_->round(going, ids, true);
  std::lock_guard lock(mu_);
  for (auto& [id, p] : going) {
    coordinator_->forget(id);
    retired_counts_.add(p->metrics().counts());
    retired_delivery_errors_ += p->metrics().delivery_errors.get();
    retired_latency_.add(p->metrics().latency);
    retired_batch_latency_.add(p->metrics().batch_latency);
    retired_batch_records_.add(p->metrics().batch_records);
    pipelines_.erase(id);
    restores_.erase(id);
    if (p->drained())
      p->close_source();
    else
      orphans_.push_back(p);
  }
}

void JobStage::commit_round(const std::vector<int32_t>& partitions, bool sync) {
  coordinator_->round(current(), partitions, sync);
}

void JobStage::pause(bool paused) {
  std::lock_guard lock(mu_);
  user_paused_ = paused;
  for (auto& [id, p] : pipelines_)
    p->user_pause(paused);
}

JobStage::Snapshot JobStage::snapshot() const {
  Snapshot s;
  s.commits = commits_.get();
  s.commit_failures = commit_failures_.get();
  s.rebalances = rebalances_.get();
  s.kafka_reachable = kafka_reachable_.load();
  s.transaction_aborts = transaction_aborts_.get();
  s.transaction_seconds = static_cast<double>(transaction_us_.get()) / 1e6;
  std::lock_guard lock(mu_);
  s.producer_queue = producer_ ? producer_->queue_length() : 0;
  s.state = failed_.load() && state_ != JobState::kStopped ? JobState::kFailed : state_;
  s.error = error_;
  s.paused = user_paused_;
  s.counts = retired_counts_;
  for (const auto& [id, r] : restoring_)
    s.restoring.push_back(
        {spec_->job->source.topic, id, r.records,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - r.since).count()});
  s.delivery_errors = retired_delivery_errors_;
  retired_latency_.add_to(s.latency);
  retired_batch_latency_.add_to(s.batch_latency);
  retired_batch_records_.add_to(s.batch_records);
  for (const auto& [id, p] : pipelines_) {
    const pipeline::PipelineMetrics& m = p->metrics();
    PartitionStatus ps = m.status(id);
    ps.topic = spec_->job->source.topic;
    auto c = committed_.find(id);
    if (c != committed_.end()) ps.committed = c->second;
    if (auto r = restores_.find(id); r != restores_.end()) {
      ps.restored_from = r->second.from;
      ps.restored_offset = r->second.offset;
      ps.restored_bytes = r->second.bytes;
      ps.restored_records = r->second.records;
      ps.restore_seconds = r->second.seconds;
    }
    int64_t lo = 0;
    int64_t hi = 0;
    if (group_ &&
        rd_kafka_get_watermark_offsets(const_cast<GroupMember&>(*group_).client(), ps.topic.c_str(),
                                       id, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi >= 0) {
      ps.high_watermark = hi;
      ps.lag = std::max<int64_t>(0, hi - (ps.position >= 0 ? ps.position : lo));
    }
    s.counts.add(ps.counts);
    s.delivery_errors += m.delivery_errors.get();
    m.latency.add_to(s.latency);
    m.batch_latency.add_to(s.batch_latency);
    m.batch_records.add_to(s.batch_records);
    s.partitions.push_back(ps);
  }
  return s;
}

}  // namespace sluice::server::kafka
