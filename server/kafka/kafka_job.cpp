#include "server/kafka/kafka_job.hpp"

#include "server/kafka/job_stage.hpp"
#include "server/kafka/schema_registry.hpp"
#include "server/plan/job_plan.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>

namespace sluice::server::kafka {
namespace {

// The query stage of a repartitioned job reads the repartition topic in its own group.
std::shared_ptr<const config::JobConfig> query_stage_config(const config::JobConfig& job,
                                                            const exec::Query& query) {
  auto cfg = std::make_shared<config::JobConfig>(job);
  cfg->source.topic = repartition_topic(job);
  cfg->source.partitioned_by.clear();
  for (size_t c : *query.partition_key_inputs())
    cfg->source.partitioned_by.push_back(job.source.schema[c].name);
  return cfg;
}

std::shared_ptr<pipeline::PipelineSpec> make_spec(std::shared_ptr<const config::JobConfig> job,
                                                  std::shared_ptr<const exec::Query> query,
                                                  bool route, const KafkaJobOptions& options) {
  auto spec = std::make_shared<pipeline::PipelineSpec>();
  spec->route = route;
  if (route) {
    spec->key_columns = *query->partition_key_inputs();
    spec->key_row = job->source.schema;
  } else {
    spec->key_columns = key_columns(*job, *query);
    spec->key_row = output_columns(*query);
  }
  if (route) {  // a router copies records to the repartition topic; it writes no output
    spec->encoder = std::make_shared<pipeline::JsonValueEncoder>(output_columns(*query),
                                                                 job->sink.timestamp_format);
  } else {
    auto encoder = pipeline::make_value_encoder(job->sink, output_columns(*query));
    spec->registered_key = pipeline::make_key_encoder(job->sink, spec->key_columns, spec->key_row);
    spec->registered_output = std::dynamic_pointer_cast<pipeline::RegisteredValueEncoder>(encoder);
    spec->encoder = std::move(encoder);
  }
  if (!config::registry_type(job->source.format).empty() ||
      !config::registry_type(job->source.key_format).empty())
    spec->schemas = options.registry;
  spec->durable =
      !route && !options.state_dir.empty() && query->unbounded_state() && query->can_snapshot();
  spec->changelog = spec->durable && has_changelog(*query);
  spec->snapshot_interval_ms = options.snapshot_interval_ms;
  spec->transactional =
      job->guarantee.value_or(options.guarantee) == config::Guarantee::kExactlyOnce;
  spec->batch_records = options.batch_records;
  spec->max_in_flight = options.max_in_flight;
  spec->job = std::move(job);
  spec->query = std::move(query);
  return spec;
}

// Exactly once from the server's default: a job whose endpoints are not all topics cannot run
// so (a job file that asks for it is refused when loaded).
void check_exactly_once(const config::JobConfig& job) {
  auto check = [&](const std::string& type, const char* what) {
    if (type != "kafka")
      throw Error(ErrorCode::kConfig,
                  fmt::format("job '{}': processing.guarantee exactly_once (the server's default) "
                              "needs a Kafka {}; its {} is of type {} (set "
                              "processing.guarantee: at_least_once in the job file)",
                              job.name, what, what, type));
  };
  check(job.sink.type, "sink");
  if (job.dead_letter) check(job.dead_letter->type, "dead_letter");
}

}  // namespace

KafkaJob::KafkaJob(boost::asio::io_context& io, std::shared_ptr<const config::JobConfig> job,
                   const config::KafkaProperties& defaults, uint64_t generation,
                   const KafkaJobOptions& options)
    : job_(job) {
  auto query = compile_job(*job);
  std::string group = consumer_group(*job);
  for (const std::string* format :
       {&job->source.format, &job->sink.format, &job->source.key_format, &job->sink.key_format}) {
    if (!config::registry_type(*format).empty() && !options.registry) {
      throw Error(ErrorCode::kConfig,
                  fmt::format("job '{}': {} {} needs a Schema Registry: set "
                              "schema_registry.url in the server config",
                              job->name,
                              format == &job->source.key_format || format == &job->sink.key_format
                                  ? "key_format"
                                  : "format",
                              *format));
    }
  }
  StageOptions stage_options;
  stage_options.registry = options.registry;
  bool exactly_once = job->guarantee.value_or(options.guarantee) == config::Guarantee::kExactlyOnce;
  if (exactly_once) check_exactly_once(*job);
  stage_options.commit_interval_ms =
      job->commit_interval_ms > 0
          ? job->commit_interval_ms
          : (exactly_once ? kTransactionIntervalMs : options.commit_interval_ms);
  stage_options.drain_timeout_ms = options.drain_timeout_ms;
  stage_options.admin_timeout_ms = options.admin_timeout_ms;
  if (!options.state_dir.empty())
    stage_options.state_dir = (std::filesystem::path(options.state_dir) / job->name).string();
  stage_options.changelog_topic = changelog_topic(*job);
  if (query->unbounded_state() && (options.state_dir.empty() || !query->can_snapshot()))
    spdlog::warn(
        "job {}: its state is not durable ({}): after a restart or a partition move it "
        "starts empty",
        job->name,
        options.state_dir.empty() ? "no state_dir" : "its operators cannot save their state");
  auto transactional_id = [&](const std::string& stage_group) {
    return exactly_once ? fmt::format("{}@{}", stage_group, options.instance) : std::string();
  };
  stage_options.transactional_id = transactional_id(group);
  if (needs_repartition(*job, *query)) {
    auto router = std::make_shared<JobStage>(io, make_spec(job, query, true, options), group,
                                             repartition_topic(*job), generation, stage_options);
    StageOptions main_options = stage_options;
    main_options.partitions_from = job->source.topic;
    main_options.transactional_id = transactional_id(repartition_group(*job));
    auto main_spec = make_spec(query_stage_config(*job, *query), query, false, options);
    main_spec->dedupe_sources = true;  // copies a restarted router re-sent count once
    auto main = std::make_shared<JobStage>(io, main_spec, repartition_group(*job), job->sink.topic,
                                           generation, main_options);
    router->set_sibling(main);
    main->set_sibling(router);
    stages_ = {router, main};
  } else {
    stages_ = {std::make_shared<JobStage>(io, make_spec(job, query, false, options), group,
                                          job->sink.topic, generation, stage_options)};
  }
  for (auto& s : stages_)
    s->create_clients(defaults);
}

KafkaJob::~KafkaJob() {
  for (auto& s : stages_)
    s->request_stop(nullptr);
  for (auto& s : stages_)
    s->join();
}

void KafkaJob::start() {
  for (auto& s : stages_)
    s->start();
}

void KafkaJob::stop(std::function<void()> done) {
  // `done` runs once, after the last stage stopped.
  auto remaining = std::make_shared<std::atomic<size_t>>(stages_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& s : stages_) {
    s->request_stop([remaining, shared_done] {
      if (remaining->fetch_sub(1) == 1 && *shared_done) (*shared_done)();
    });
  }
}

void KafkaJob::pause(bool paused) {
  size_t partitions = 0;
  for (auto& s : stages_) {
    s->pause(paused);
    partitions += s->snapshot().partitions.size();
  }
  spdlog::info("job {}: {} ({} partitions)", job_->name, paused ? "paused" : "resumed", partitions);
}

const config::JobConfig& KafkaJob::config() const {
  return *job_;
}

JobStatus KafkaJob::status() const {
  JobStatus s;
  s.name = job_->name;
  s.file = job_->file;
  s.sql = job_->sql;
  s.source_topic = job_->source.topic;
  s.sink_topic = job_->sink.topic;
  if (job_->dead_letter) s.dead_letter_topic = job_->dead_letter->topic;
  s.state = JobState::kStopped;
  if (!stages_.empty() && stages_.front()->spec().transactional)
    s.guarantee = config::guarantee_name(config::Guarantee::kExactlyOnce);
  bool first = true;
  for (const auto& stage : stages_) {
    JobStage::Snapshot st = stage->snapshot();
    s.generation = stage->generation();
    s.commits += st.commits;
    s.commit_failures += st.commit_failures;
    s.transaction_aborts += st.transaction_aborts;
    s.transaction_seconds += st.transaction_seconds;
    s.rebalances += st.rebalances;
    s.delivery_errors += st.delivery_errors;
    s.kafka_reachable = s.kafka_reachable && st.kafka_reachable;
    s.producer_queue += st.producer_queue;
    s.paused = s.paused || st.paused;
    for (auto& r : st.restoring)
      s.restoring.push_back(std::move(r));
    for (size_t i = 0; i < st.batch_latency.size(); ++i) {
      s.batch_latency[i] += st.batch_latency[i];
      s.batch_records[i] += st.batch_records[i];
    }
    // The job's state is its least advanced stage's; failed wins.
    if (first || st.state == JobState::kFailed ||
        (s.state != JobState::kFailed && static_cast<int>(st.state) < static_cast<int>(s.state)))
      s.state = st.state;
    first = false;
    if (s.error.empty()) s.error = st.error;
    for (auto& p : st.partitions)
      s.partitions.push_back(std::move(p));
    if (stage->is_router()) {
      // The router's records reach the query stage again: count them in once, at the router,
      // with its rejections; its outputs are internal.
      s.counts.records_in += st.counts.records_in;
      s.counts.bytes_in += st.counts.bytes_in;
      s.counts.rejected += st.counts.rejected;
      s.counts.dead_lettered += st.counts.dead_lettered;
      s.counts.skipped += st.counts.skipped;
      s.routed = st.counts.records_out;
    } else {
      if (stages_.size() > 1) {
        st.counts.records_in = 0;
        st.counts.bytes_in = 0;
      }
      s.counts.add(st.counts);
      for (size_t i = 0; i < st.latency.size(); ++i)
        s.latency[i] += st.latency[i];
    }
  }
  return s;
}

}  // namespace sluice::server::kafka
