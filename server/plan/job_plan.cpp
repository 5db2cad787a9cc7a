#include "server/plan/job_plan.hpp"

#include "format/kafka_serde.hpp"
#include "plan/compile.hpp"
#include "plan/source_schema.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace sluice::server {
namespace {

std::vector<plan::SourceSchema> schemas_of(const config::JobConfig& job) {
  std::vector<plan::SourceSchema> all;
  for (const config::SourceConfig* source : job.sources()) {
    plan::SourceSchema& s = all.emplace_back(source->name, source->schema, source->key_type);
    s.key_format = source->key_format;
    s.table = source->table;
    s.event_time = source->event_time;
  }
  return all;
}

// Jobs with several sources or a table run over files (sluice run) only, for now.
void check_daemon_sources(const config::JobConfig& job) {
  if (!job.uses_kafka()) return;
  for (const config::SourceConfig* source : job.sources()) {
    if (job.other_sources.empty() && !source->table) continue;
    throw config::ConfigError(
        {{job.file, source->mark, job.other_sources.empty() ? "source.kind" : "sources",
          "a job with several sources or a table source (joins) runs over files with `sluice "
          "run` only; reading them from Kafka is not supported yet"}});
  }
}

exec::EventTimeSettings time_settings(const config::JobConfig& job) {
  exec::EventTimeSettings t;
  t.column = job.source.event_time;
  t.has_record_timestamp = job.source.type != "file";
  t.allowed_lateness_ms = job.source.allowed_lateness_ms;
  t.late = job.source.late_records;
  return t;
}

// sink.key must name output columns of the bound query.
void check_sink_key(const config::JobConfig& job, const exec::Query& query) {
  std::vector<std::string> names;
  for (const auto& c : query.output_columns())
    names.push_back(c.name);
  std::vector<config::ConfigIssue> issues;
  for (size_t i = 0; i < job.sink.key.size(); ++i) {
    const std::string& col = job.sink.key[i];
    if (std::find(names.begin(), names.end(), col) != names.end()) continue;
    issues.push_back({job.file, job.sink.key_marks[i], "sink.key",
                      fmt::format("'{}' is not an output column of the query (columns: {})", col,
                                  fmt::join(names, ", "))});
  }
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
  if (job.sink.key_format.empty()) return;
  // Kafka's primitive serializers write one value of a type they have.
  std::vector<size_t> keys = key_columns(job, query);
  std::string why;
  if (keys.empty()) {
    why =
        "needs key columns (sink.key, or GROUP BY columns the query outputs): without them "
        "each output record takes its input record's key (after a repartition, the group key) "
        "as it is";
  } else if (job.sink.key_format == "json" || !config::registry_type(job.sink.key_format).empty()) {
  } else if (keys.size() != 1) {
    why = fmt::format("writes one column, and the key has {}", keys.size());
  } else if (!format::kafka_serde_writing(query.output_columns()[keys[0]].type)) {
    why = fmt::format(
        "has no serializer for the key column's type {} (STRING, BYTES, BIGINT and "
        "DOUBLE have one; key_format: json writes any type)",
        query.output_columns()[keys[0]].type.to_string());
  }
  if (!why.empty()) {
    throw config::ConfigError({{job.file, job.sink.key_format_mark, "sink.key_format",
                                "key_format " + job.sink.key_format + " " + why}});
  }
}

// Each Kafka partition runs its own pipeline with its own state, so a query that keeps state per
// key needs all records of a key on one partition. Keys that are expressions, or state with no key
// at all (a global aggregate), cannot be repartitioned by input columns: refused.
void check_partitioning(const config::JobConfig& job, const exec::Query& query) {
  if (const auto& keys = query.partition_key_inputs()) {
    // A router re-keys records by schema columns: a system column (_key, _headers, ...) in the key
    // cannot be routed by (a job partitioned by its keys needs no router).
    if (!needs_repartition(job, query)) return;
    for (size_t c : *keys) {
      if (c < job.source.schema.size()) continue;
      size_t sys = c - job.source.schema.size();
      std::string name(sys < plan::kSystemColumns.size() ? plan::kSystemColumns[sys].name
                                                         : plan::kHeadersColumn);
      throw config::ConfigError(
          {{job.file, job.source.mark, "source",
            fmt::format("the query keeps state keyed by the system column '{}', but records of "
                        "'{}' are processed per partition and can be re-keyed by schema columns "
                        "only: key it by schema columns (or name those it is partitioned by in "
                        "source.partitioned_by)",
                        name, job.source.topic)}});
    }
    return;
  }
  throw config::ConfigError(
      {{job.file, job.source.mark, "source",
        fmt::format("the query keeps state that is not keyed by plain input columns (a global "
                    "aggregate, or a key computed by an expression), but records of '{}' are "
                    "processed per partition: group by plain input columns",
                    job.source.topic)}});
}

// A job's internal topics are its own: a repartitioned job writes its records to
// repartition_topic(job) and reads them back, a durable one writes its state to
// changelog_topic(job); neither may be the job's source or an output.
void check_internal_topics(const config::JobConfig& job, const exec::Query& query) {
  std::vector<std::pair<std::string, const char*>> internal;
  if (needs_repartition(job, query))
    internal.emplace_back(repartition_topic(job),
                          "repartition topic (the job re-keys its records through it, as its "
                          "GROUP BY needs)");
  if (has_changelog(query))
    internal.emplace_back(changelog_topic(job),
                          "changelog topic (the job writes its durable state to it)");
  std::vector<config::ConfigIssue> issues;
  auto check = [&](const std::string& type, const std::string& used, config::Mark mark,
                   const char* key) {
    if (type != "kafka") return;
    for (const auto& [topic, what] : internal) {
      if (used == topic)
        issues.push_back({job.file, mark, key,
                          fmt::format("'{}' is this job's {}: use another topic", topic, what)});
    }
  };
  check(job.source.type, job.source.topic, job.source.topic_mark, "source.topic");
  check(job.sink.type, job.sink.topic, job.sink.topic_mark, "sink.topic");
  if (job.dead_letter)
    check(job.dead_letter->type, job.dead_letter->topic, job.dead_letter->topic_mark,
          "dead_letter.topic");
  if (!issues.empty()) throw config::ConfigError(std::move(issues));
}

}  // namespace

std::shared_ptr<const exec::Query> compile_job(const config::JobConfig& job) {
  if (job.source.schema.empty()) {  // only a schema left to the registry is empty
    throw config::ConfigError({{job.file, job.source.mark, "source.schema",
                                fmt::format("left out: the columns are those of the latest "
                                            "schema of subject '{}' in the Schema Registry, "
                                            "which is read where one is configured (the daemon's "
                                            "schema_registry.url; validate --registry URL)",
                                            job.source.registry_subject())}});
  }
  check_daemon_sources(job);
  auto query = plan::compile_query(job.sql, schemas_of(job), time_settings(job));
  check_sink_key(job, *query);
  if (job.source.type == "kafka") check_partitioning(job, *query);
  if (job.source.type == "kafka") check_internal_topics(job, *query);
  return query;
}

bool needs_repartition(const config::JobConfig& job, const exec::Query& query) {
  if (job.source.type != "kafka") return false;
  const auto& keys = query.partition_key_inputs();
  if (!keys || keys->empty()) return false;
  const auto& declared = job.source.partitioned_by;
  if (declared.empty()) return true;
  // Partitioned by a subset of the key columns: all records of a key share a partition.
  return !std::all_of(declared.begin(), declared.end(), [&](const std::string& col) {
    return std::any_of(keys->begin(), keys->end(), [&](size_t c) {
      return c < job.source.schema.size() && job.source.schema[c].name == col;
    });
  });
}

std::string repartition_topic(const config::JobConfig& job) {
  return job.name + "-repartition";
}

bool has_changelog(const exec::Query& query) {
  return query.unbounded_state() && query.can_snapshot() && query.can_changelog();
}

std::string changelog_topic(const config::JobConfig& job) {
  return job.name + "-changelog";
}

std::string consumer_group(const config::JobConfig& job) {
  return job.group_id.empty() ? job.name : job.group_id;
}

std::string repartition_group(const config::JobConfig& job) {
  return consumer_group(job) + "-repartition";
}

std::vector<std::string> job_topics(const config::JobConfig& job) {
  auto query = compile_job(job);
  std::vector<std::string> topics;
  if (job.source.type == "kafka") topics.push_back(job.source.topic);
  if (job.sink.type == "kafka") topics.push_back(job.sink.topic);
  if (job.dead_letter && job.dead_letter->type == "kafka") topics.push_back(job.dead_letter->topic);
  if (needs_repartition(job, *query)) topics.push_back(repartition_topic(job));
  if (job.source.type == "kafka" && has_changelog(*query)) topics.push_back(changelog_topic(job));
  return topics;
}

std::vector<format::Column> output_columns(const exec::Query& q) {
  std::vector<format::Column> cols;
  for (const auto& c : q.output_columns())
    cols.push_back({c.name, c.type});
  return cols;
}

std::vector<size_t> key_columns(const config::JobConfig& job, const exec::Query& query) {
  if (job.sink.key.empty()) return query.key_output_columns();
  std::vector<size_t> cols;
  for (const auto& name : job.sink.key) {
    for (size_t c = 0; c < query.output_columns().size(); ++c) {
      if (query.output_columns()[c].name == name) {
        cols.push_back(c);
        break;
      }
    }
  }
  return cols;
}

}  // namespace sluice::server
