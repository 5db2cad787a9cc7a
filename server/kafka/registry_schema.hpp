#pragma once
// A source whose job file leaves `schema:` to the Schema Registry (config::SourceConfig::
// schema_from_registry) reads its columns from the latest schema of its subject when the job is
// checked or started: `sluice validate --registry URL` and the daemon each say which version they
// used. The version is read again at every start, so a job restarted after the subject gained a
// version reads the new columns (and a stateful query whose columns changed starts its state anew,
// as after an SQL change: give the source a schema to keep its columns fixed).

#include "config/job_config.hpp"
#include "server/kafka/schema_registry.hpp"

#include <string>

namespace sluice::server::kafka {

// Sets the columns of `job`'s source from its subject's latest schema (format::
// registry_schema_columns) and returns what it used: "subject 'orders-value' version 3 (schema
// id 7)". Returns "" for a source with a schema of its own. Blocks, bounded by the registry's
// timeout. Throws Error kIo when the registry cannot answer now (worth trying again), and
// config::ConfigError (at source.schema) when the subject has no version, its schema is of
// another format or a field cannot be a column.
std::string read_registry_schema(config::JobConfig& job, SchemaRegistry& registry);

}  // namespace sluice::server::kafka
