#pragma once
// `sluice gen`: the scenario data generator on the command line. Writes records of a benchmark
// scenario (server/devtools/scenarios.hpp) as a JSON Lines file, produces them to a Kafka topic
// (server/kafka/TopicGenerator), or prints a ready Kafka job file for the scenario.
//
//   sluice gen --scenario ID --records N [--first I] --out FILE
//   sluice gen --scenario ID --records N [--first I] --bootstrap HOST:PORT[,..] [--topic NAME]
//              [--rate R] [--property k=v ...]
//   sluice gen --scenario ID --print-job [--topic NAME] [--bootstrap HOST:PORT[,..]]
//
// Threading: runs on the calling thread. While producing, SIGINT and SIGTERM stop the producer
// loop (a handler sets a flag; the previous handlers are restored before returning).

#include <iosfwd>
#include <string>
#include <vector>

namespace sluice::server {

// `args` are the arguments after `gen`. Returns the exit code: 0 success (or --help), 1 failure
// (unwritable file, unreachable broker, delivery errors), 2 usage error. A one-line summary
// (records, seconds, rate) goes to `err`; --print-job and --help write to `out`.
int run_gen_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The Kafka job file (YAML) for scenario `id` reading `topic` (empty: the scenario's default
// input topic, `<id>-in` in lower case), writing `<id>-out`. `bootstrap`, when not empty, is
// named in a comment: brokers are the server config's (a job file may not set
// bootstrap.servers). Throws Error kUsage for an unknown scenario.
std::string scenario_job_yaml(const std::string& id, const std::string& topic,
                              const std::string& bootstrap);

}  // namespace sluice::server
