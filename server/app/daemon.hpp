#pragma once
// The daemon (`sluice serve`): loads the server config, optionally starts an embedded test broker,
// runs the job manager on one io_context with N threads, and handles signals: SIGHUP rescans the
// jobs directory, SIGTERM/SIGINT stop every job (drain, commit) and return 0 — or 1 when the jobs
// did not stop within `shutdown_timeout_ms`. Blocks the calling thread until then.

#include "config/server_config.hpp"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace sluice::server {

// A Kafka-protocol broker inside the daemon, for tests and the demo (server/devtools implements
// it; production code never links it). Used from the daemon's thread and its io threads.
class EmbeddedKafka {
 public:
  virtual ~EmbeddedKafka() = default;
  // Starts it; returns its bootstrap list.
  virtual std::string start() = 0;
  virtual const std::string& bootstrap() const = 0;
  // Creates `topic` unless it exists.
  virtual void create_topic(const std::string& topic, int partitions) = 0;
};

struct DaemonOptions {
  // When set: start it and use it for every job, creating each job's topics.
  std::shared_ptr<EmbeddedKafka> embedded_kafka;
  int embedded_partitions = 4;   // partitions of the topics the embedded broker creates
  double status_interval_s = 0;  // print a status line per job this often on `out`; 0: never
  int64_t shutdown_timeout_ms = 60000;
  std::optional<unsigned> threads;  // overrides the config's `threads`
  double run_for_s = 0;             // stop by itself after this long, as on SIGTERM; 0: never
  // Overrides the config's `http` listen address (--http-listen); port 0: any free port. The
  // admin API and /metrics serve there while the daemon runs; the line
  // `http: listening on HOST:PORT` in the log names the port actually bound.
  std::optional<config::HttpListen> http_listen;
  bool http_fallback_to_free_port = false;  // port taken: warn and bind a free one (sluice demo)
  // Hooks for the live demo (sluice demo): after the embedded broker started; when the stop
  // begins (on an io thread: must not block); after the jobs stopped, before the embedded broker
  // goes (may block briefly).
  std::function<void(const std::string& bootstrap)> broker_ready;
  std::function<void()> stopping;
  std::function<void()> stopped;
};

int run_daemon(config::ServerConfig server, const DaemonOptions& options, std::ostream& out);

}  // namespace sluice::server
