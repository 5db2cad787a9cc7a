// Fuzz target `job`: job files. The input is a job file's text. It is loaded
// (config::load_job_text, `${VAR}` from a fixed table, tests/fuzz/fuzz_env.hpp) and, when it
// loads, checked as `sluice validate` checks it: the SQL bound against the source schema with
// sink.key and the Kafka partitioning rules (server::compile_job), the repartitioning decision and
// the topics. Every error is formatted as users see it (server::describe_job_error), with SQL
// positions mapped back into the file.
//
// Checked for every input: only sluice::Error escapes; a loader error is a ConfigError with at
// least one issue, each naming this file at a position inside it (or none); an SQL error maps
// to a line of the file; a loaded job has a name, SQL and at least one schema column.

#include "config/job_config.hpp"
#include "server/jobs/job_error.hpp"
#include "server/plan/job_plan.hpp"

#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_env.hpp"

namespace {

using namespace sluice;

constexpr const char* kFile = "jobs/fuzz.yaml";

// Lines of the file, as an editor counts them (a final line without a newline counts).
uint32_t line_count(std::string_view text) {
  uint32_t n = 1;
  for (char c : text)
    n += c == '\n';
  return n;
}

void check_issues(const config::ConfigError& e, std::string_view text) {
  FUZZ_CHECK(!e.issues().empty(), e.what());
  for (const auto& issue : e.issues()) {
    FUZZ_CHECK(issue.file == kFile, issue.to_string());
    FUZZ_CHECK(issue.mark.line <= line_count(text), issue.to_string());
    FUZZ_CHECK(!issue.message.empty(), issue.to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  config::JobConfig job;
  try {
    job = config::load_job_text(text, kFile, fuzz::fixed_env);
  } catch (const config::ConfigError& e) {
    check_issues(e, text);
    server::describe_job_error(nullptr, kFile, e);
    return 0;
  }
  FUZZ_CHECK(!job.name.empty() && !job.sql.empty() && !job.source.schema.empty(), job.name);
  try {
    auto query = server::compile_job(job);
    server::needs_repartition(job, *query);
    server::job_topics(job);
    server::output_columns(*query);
  } catch (const config::ConfigError& e) {
    check_issues(e, text);
    server::describe_job_error(&job, kFile, e);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() >= ErrorCode::kSqlSyntax && e.code() <= ErrorCode::kSqlDuplicateName,
               e.what());
    if (e.location().known()) {
      config::Mark m = job.sql_to_file(e.location());
      FUZZ_CHECK(m.line >= 1 && m.line <= line_count(text), e.what());
    }
    server::describe_job_error(&job, kFile, e);
  }
  return 0;
}
