#pragma once
// What a job runs, compiled from its file once: the bound and checked query, its output columns
// and record key, and where it runs on Kafka (repartitioning, the internal topic, the consumer
// groups, every topic it touches). Used by `sluice run` and `validate`, the job manager and the
// Kafka job alike. Stateless functions; any thread.

#include "config/job_config.hpp"
#include "exec/query.hpp"
#include "format/json.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sluice::server {

// Binds the job's SQL against its source (throws sluice::Error with SQL-relative locations on a
// bad query) and checks the job around it: `sink.key` names output columns (ConfigError at the
// key's position), a Kafka source's state can be partitioned, and a repartitioned job neither
// reads nor writes its own repartition topic. The query is shared by the job's pipelines. A
// source whose schema is left to the registry must have it set first (kafka::read_registry_schema),
// else a ConfigError says so.
std::shared_ptr<const exec::Query> compile_job(const config::JobConfig& job);

// The query's output columns, for the JSON encoder.
std::vector<format::Column> output_columns(const exec::Query& q);
// The output columns making the output record key: sink.key, else the GROUP BY columns (empty:
// the input record's key).
std::vector<size_t> key_columns(const config::JobConfig& job, const exec::Query& query);
// A Kafka job whose query keeps state per key (GROUP BY, PARTITION BY, DISTINCT on plain input
// columns) while the source is not declared partitioned by (a subset of) those columns: its
// records are first re-keyed through the internal topic `repartition_topic(job)`.
bool needs_repartition(const config::JobConfig& job, const exec::Query& query);
std::string repartition_topic(const config::JobConfig& job);
// A query whose state never closes and can be kept durable: with a state_dir, its state is
// snapshotted locally and written to the changelog topic `changelog_topic(job)` (compacted, as
// many partitions as the topic the query reads).
bool has_changelog(const exec::Query& query);
std::string changelog_topic(const config::JobConfig& job);
// The consumer group of the job's consumer: `group_id`, default the job name.
std::string consumer_group(const config::JobConfig& job);
// The consumer group of a repartitioned job's query stage, which reads repartition_topic(job):
// `<consumer_group>-repartition`.
std::string repartition_group(const config::JobConfig& job);

// Every Kafka topic the job reads or writes: source, sink, dead letters, repartition and
// changelog topics.
// Compiles the query (throws like compile_job).
std::vector<std::string> job_topics(const config::JobConfig& job);

}  // namespace sluice::server
