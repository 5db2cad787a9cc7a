#pragma once
// A partition pipeline without a broker, for the tests: in-memory source and sinks
// (tests/fakes), a manual clock, and the strand run by io_context::poll on the test thread, so
// every step is deterministic.

#include "config/job_config.hpp"
#include "server/pipeline/partition_pipeline.hpp"
#include "server/plan/job_plan.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "fake_sink.hpp"
#include "fake_source.hpp"
#include "manual_clock.hpp"

namespace sluice::test {

using server::pipeline::Progress;

class FakeHost final : public server::pipeline::PipelineHost {
 public:
  void fail(const std::string& why) override {
    if (!failed_.exchange(true)) error = why;
  }
  bool failed() const override { return failed_.load(); }
  void pipeline_drained() override { ++drained; }
  void records_read() override { ++reads; }

  std::string error;
  int drained = 0;
  int reads = 0;

 private:
  std::atomic<bool> failed_{false};
};

struct RigOptions {
  size_t batch_records = 1024;
  uint64_t max_in_flight = 50000;
  size_t out_max_bytes = 1'000'000;
  size_t out_capacity = std::numeric_limits<size_t>::max();
  size_t dlq_max_bytes = 1'000'000;
  bool dead_letter = true;
  bool source_starts_paused = false;
  Progress restored;
  bool durable = false;    // PipelineSpec::durable
  bool changelog = false;  // PipelineSpec::changelog, writing to Rig::changelog
  bool dedupe_sources = false;
  bool route = false;          // the router of a repartitioned job (PipelineSpec::route)
  bool transactional = false;  // exactly once (PipelineSpec::transactional)
  int64_t snapshot_interval_ms = 5000;
  std::unique_ptr<exec::QueryState> state;  // restored state (null: fresh)
  // An Avro or JSON Schema source's writer schemas (PipelineSpec::schemas), and an Avro or JSON
  // Schema sink's schema id.
  std::shared_ptr<server::pipeline::SchemaSource> schemas;
  uint32_t avro_schema_id = 1;
};

// A job reading {"id": N} records (id_json) and writing them through, with a dead-letter topic.
inline const std::string kIds =
    "name: p\nsql: SELECT id FROM t\n"
    "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
    "sink: {type: kafka, topic: out}\n"
    "dead_letter: {type: kafka, topic: dlq}\n";

inline std::string id_json(int i) {
  return "{\"id\":" + std::to_string(i) + "}";
}

inline RigOptions opts(const std::function<void(RigOptions&)>& set) {
  RigOptions o;
  set(o);
  return o;
}

// One pipeline over a FakeSource, writing to FakeSinks `out` and `dlq`.
struct Rig {
  Rig(const std::string& yaml, RigOptions o = {})
      : out("out", o.out_max_bytes, o.out_capacity),
        dlq("dlq", o.dlq_max_bytes),
        changelog("changelog") {
    auto job = std::make_shared<config::JobConfig>(config::load_job_text(yaml, "job.yaml"));
    auto spec = std::make_shared<server::pipeline::PipelineSpec>();
    spec->query = server::compile_job(*job);
    spec->key_columns = server::key_columns(*job, *spec->query);
    spec->key_row = server::output_columns(*spec->query);
    auto encoder =
        server::pipeline::make_value_encoder(job->sink, server::output_columns(*spec->query));
    spec->registered_output =
        std::dynamic_pointer_cast<server::pipeline::RegisteredValueEncoder>(encoder);
    if (spec->registered_output) spec->registered_output->set_schema_id(o.avro_schema_id);
    spec->registered_key =
        server::pipeline::make_key_encoder(job->sink, spec->key_columns, spec->key_row);
    if (spec->registered_key) spec->registered_key->set_schema_id(o.avro_schema_id + 1);
    spec->encoder = std::move(encoder);
    spec->schemas = o.schemas;
    spec->batch_records = o.batch_records;
    spec->max_in_flight = o.max_in_flight;
    if (o.route) {
      spec->route = true;
      spec->key_columns = *spec->query->partition_key_inputs();
      spec->key_row = job->source.schema;
    }
    spec->durable = o.durable || o.changelog;
    spec->changelog = o.changelog;
    spec->dedupe_sources = o.dedupe_sources;
    spec->transactional = o.transactional;
    spec->snapshot_interval_ms = o.snapshot_interval_ms;
    spec->job = job;
    auto src = std::make_unique<testing::FakeSource>(0, o.source_starts_paused);
    source = src.get();
    server::pipeline::PipelineIo pio{std::move(src), &out, o.dead_letter ? &dlq : nullptr,
                                     o.changelog ? &changelog : nullptr};
    pipeline = std::make_shared<server::pipeline::PartitionPipeline>(
        spec, boost::asio::make_strand(io), std::move(pio), host, clock, o.restored,
        std::move(o.state));
  }
  ~Rig() {
    pipeline->request_stop();
    run();
  }

  void run() {
    io.restart();
    io.poll();
  }
  void start(bool paused = false) {
    pipeline->start(paused);
    run();
  }
  Progress progress() {
    pipeline->request_publish();
    run();
    return pipeline->progress();
  }
  server::JobCounts counts() const { return pipeline->metrics().counts(); }

  boost::asio::io_context io;
  testing::ManualClock clock;
  testing::FakeSink out, dlq, changelog;
  std::shared_ptr<FakeHost> host = std::make_shared<FakeHost>();
  testing::FakeSource* source = nullptr;
  std::shared_ptr<server::pipeline::PartitionPipeline> pipeline;
};

}  // namespace sluice::test
