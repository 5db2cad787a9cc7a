#pragma once
// The daemon's own configuration (`sluice serve --config sluice.yaml`): Kafka defaults for every
// job, the jobs directory, the HTTP listen address, the thread count and the state directory.
// Loaded and checked like a job file (every problem at once, `file:line:col: key.path: message`),
// with `${VAR}`, `${VAR:-default}` and `$$` substituted in every string value.
// Immutable once loaded; shared freely between threads.

#include "config/env_subst.hpp"
#include "config/job_config.hpp"

#include <cstdint>
#include <string>

namespace sluice::config {

struct HttpListen {
  std::string host = "127.0.0.1";  // without the brackets of an IPv6 address
  uint16_t port = 9464;
  Mark mark;
};

struct ServerConfig {
  std::string file;       // path as given
  KafkaProperties kafka;  // librdkafka defaults for every job (a job's own `kafka:` wins)
  std::string jobs_dir;   // every *.yaml in it is a job; default "jobs" next to the config file
  HttpListen http;        // admin API and metrics; default 127.0.0.1:9464
  // http.token: the bearer token the admin API's mutating calls require (empty: none; then they
  // are allowed on a loopback address only). A secret: never logged or shown.
  std::string http_token;
  // http.job_env_prefix: jobs posted through the admin API may use `${VAR}` only for variables
  // whose names start with it (empty, the default: no variable at all). Job files put into
  // jobs_dir by other means read the whole environment, like this file.
  std::string http_job_env_prefix;
  unsigned threads = 0;   // 0: one per core (see effective_threads)
  std::string state_dir;  // default "state" next to the config file
  // How often a partition with durable state (a non-windowed aggregate, DISTINCT) snapshots it into
  // state_dir; its committed offset advances at most this often. 100 ms .. 1 h.
  int64_t state_snapshot_interval_ms = 5000;
  // processing.guarantee: the delivery guarantee of jobs that do not set their own.
  Guarantee guarantee = Guarantee::kAtLeastOnce;
  // schema_registry: a Confluent-compatible Schema Registry for jobs with `format: avro` (url
  // empty: none). The password is a secret: never logged or shown.
  struct SchemaRegistry {
    std::string url;
    std::string username, password;
    int64_t timeout_ms = 5000;  // per request, 100 ms .. 1 min
  } schema_registry;

  // `threads`, with 0 resolved to the number of cores (at least 1).
  unsigned effective_threads() const;
};

// Reads and checks a server config file. Relative directories (jobs_dir, state_dir) are resolved
// against the config file's directory. Throws ConfigError with every problem, or Error kIo when
// the file cannot be read.
ServerConfig load_server_file(const std::string& path, const EnvLookup& env = process_env);
// Same, from text; `file` is used in messages and to resolve relative directories.
ServerConfig load_server_text(const std::string& text, const std::string& file,
                              const EnvLookup& env = process_env);

}  // namespace sluice::config
