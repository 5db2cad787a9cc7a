#pragma once
// Jobs that cannot run side by side (in one daemon, or in daemons that share their job files).
// A job claims its name, its consumer groups (`group_id`, default the name, and for a job that
// repartitions also `<group>-repartition`, the group of its query stage), its repartition topic
// `<name>-repartition` and its changelog topic `<name>-changelog`. Two jobs in one consumer group
// would split the partitions of both their topics between them, and each would drop the records
// it has no use for; a job writing another job's repartition topic would mix its records into
// that job's input, and one writing its changelog topic into that job's restored state.
//
// Checked by `sluice validate` over its files, by the daemon's JobManager against the jobs it
// runs, and by POST /jobs. Pure functions of their arguments; any thread.

#include "config/job_config.hpp"
#include "exec/query.hpp"

#include <string>
#include <vector>

namespace sluice::server {

struct JobClaims {
  struct Output {
    std::string topic;
    std::string key_path;  // "sink.topic" or "dead_letter.topic"
    config::Mark mark;
  };

  std::string file;
  std::string name;
  config::Mark name_mark;
  std::string group;              // consumer group; empty when the job reads no Kafka topic
  config::Mark group_mark;        // where group_id is given; line 0 when the group is the job name
  std::string repartition_group;  // of the query stage; empty unless the job repartitions
  std::string repartition_topic;  // empty unless the job repartitions
  std::string changelog_topic;    // empty unless its state can be durable (has_changelog)
  std::vector<Output> outputs;    // the Kafka topics it writes (sink, dead letters)
};

// What `job` claims; `query` is its compiled query (compile_job).
JobClaims job_claims(const config::JobConfig& job, const exec::Query& query);

// The problems of running `job` beside `other`, as issues in `job`'s file that name the other
// job and its file; empty when the two can run side by side.
std::vector<config::ConfigIssue> find_conflicts(const JobClaims& job, const JobClaims& other);

}  // namespace sluice::server
