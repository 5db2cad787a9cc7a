#include "server/jobs/job_conflicts.hpp"

#include "server/plan/job_plan.hpp"

#include <fmt/format.h>

namespace sluice::server {
namespace {

// "job 'x' (jobs/x.yaml)"
std::string job_ref(const JobClaims& job) {
  return fmt::format("job '{}' ({})", job.name, job.file);
}

// Where a group of `job` is set: at group_id when given, else at the name it defaults to.
config::ConfigIssue at_group(const JobClaims& job, std::string message) {
  if (job.group_mark.line != 0) return {job.file, job.group_mark, "group_id", std::move(message)};
  return {job.file, job.name_mark, "name", std::move(message)};
}

void check_groups(const JobClaims& job, const JobClaims& other,
                  std::vector<config::ConfigIssue>& issues) {
  if (job.group.empty() || other.group.empty()) return;
  bool defaulted = job.group_mark.line == 0;
  struct Group {
    const std::string& id;
    bool repartition;
  };
  const Group mine[] = {{job.group, false}, {job.repartition_group, true}};
  const Group theirs[] = {{other.group, false}, {other.repartition_group, true}};
  for (const Group& a : mine) {
    for (const Group& b : theirs) {
      if (a.id.empty() || a.id != b.id) continue;
      std::string what = fmt::format("consumer group '{}'", a.id);
      if (a.repartition)
        what += defaulted ? " (of this job's repartition stage; group_id sets another)"
                          : " (of this job's repartition stage)";
      else if (defaulted)
        what += " (the job name; group_id sets another)";
      issues.push_back(at_group(
          job,
          fmt::format("{} is also used by {}{}: two jobs in one consumer group split the "
                      "partitions of both their topics, and each drops the records meant "
                      "for the other",
                      what, b.repartition ? "the repartition stage of " : "", job_ref(other))));
    }
  }
}

// A job's internal topics: written by another job, their records would be read as this job's
// input (repartition) or restored as its state (changelog).
void check_internal_topics(const JobClaims& job, const JobClaims& other,
                           std::vector<config::ConfigIssue>& issues) {
  struct Internal {
    std::string JobClaims::*topic;
    const char* what;
    const char* harm;
  };
  const Internal internal[] = {
      {&JobClaims::repartition_topic, "repartition", "read these records as its own input"},
      {&JobClaims::changelog_topic, "changelog", "restore these records as its state"}};
  for (const Internal& t : internal) {
    const std::string& theirs = other.*t.topic;
    const std::string& mine = job.*t.topic;
    for (const auto& out : job.outputs) {
      if (theirs.empty() || out.topic != theirs) continue;
      issues.push_back({job.file, out.mark, out.key_path,
                        fmt::format("'{}' is the {} topic of {}: that job would {}; write to "
                                    "another topic",
                                    out.topic, t.what, job_ref(other), t.harm)});
    }
    for (const auto& out : other.outputs) {
      if (mine.empty() || out.topic != mine) continue;
      issues.push_back(
          {job.file, job.name_mark, "name",
           fmt::format("this job's {} topic '{}' is also written by job '{}' ({}, "
                       "{}): this job would {}",
                       t.what, out.topic, other.name, other.file, out.key_path, t.harm)});
    }
  }
}

}  // namespace

JobClaims job_claims(const config::JobConfig& job, const exec::Query& query) {
  JobClaims c;
  c.file = job.file;
  c.name = job.name;
  c.name_mark = job.name_mark;
  if (job.source.type == "kafka") {
    c.group = consumer_group(job);
    c.group_mark = job.group_id_mark;
  }
  if (needs_repartition(job, query)) {
    c.repartition_group = repartition_group(job);
    c.repartition_topic = repartition_topic(job);
  }
  if (job.source.type == "kafka" && has_changelog(query)) c.changelog_topic = changelog_topic(job);
  if (job.sink.type == "kafka")
    c.outputs.push_back({job.sink.topic, "sink.topic", job.sink.topic_mark});
  if (job.dead_letter && job.dead_letter->type == "kafka")
    c.outputs.push_back({job.dead_letter->topic, "dead_letter.topic", job.dead_letter->topic_mark});
  return c;
}

std::vector<config::ConfigIssue> find_conflicts(const JobClaims& job, const JobClaims& other) {
  std::vector<config::ConfigIssue> issues;
  if (job.name == other.name) {
    // One name twice: the groups and topics derived from it collide too; this says it all.
    issues.push_back({job.file, job.name_mark, "name",
                      fmt::format("job name '{}' is already used by {}", job.name, other.file)});
    return issues;
  }
  check_groups(job, other, issues);
  check_internal_topics(job, other, issues);
  return issues;
}

}  // namespace sluice::server
