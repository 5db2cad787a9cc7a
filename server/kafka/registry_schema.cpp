#include "server/kafka/registry_schema.hpp"

#include "format/schema_columns.hpp"

#include <fmt/format.h>

namespace sluice::server::kafka {

std::string read_registry_schema(config::JobConfig& job, SchemaRegistry& registry) {
  config::SourceConfig& source = job.source;
  if (!source.schema_from_registry || !source.schema.empty()) return "";
  auto refuse = [&](const std::string& why) {
    throw config::ConfigError({{job.file, source.mark, "source.schema", why}});
  };
  SchemaRegistry::SubjectVersion latest;
  try {
    latest = registry.latest(source.registry_subject());
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kIo) throw;
    refuse(fmt::format("left out, and {}", e.what()));
  }
  std::string used = fmt::format("subject '{}' version {} (schema id {})", latest.subject,
                                 latest.version, latest.id);
  std::string_view wanted = config::registry_type(source.format);
  if (latest.type != wanted) {
    refuse(fmt::format("left out, and the latest schema of {} is {}, not {} (format: {})", used,
                       latest.type, wanted, source.format));
  }
  std::vector<format::Column> columns;
  try {
    columns = format::registry_schema_columns(latest.type, latest.schema, latest.references);
  } catch (const Error& e) {
    refuse(fmt::format("left out, and the latest schema of {} cannot be read into columns: {}",
                       used, e.what()));
  }
  config::set_registry_schema(job, std::move(columns), "the latest schema of " + used);
  return used;
}

}  // namespace sluice::server::kafka
