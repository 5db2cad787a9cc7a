#pragma once
// The daemon's mutating admin API on an HttpServer, over a JobManager:
//   POST   /jobs               a job file as the body, of Content-Type application/yaml,
//                              application/x-yaml, text/yaml or application/json (else 415),
//                              checked like a job file (YAML, SQL, Kafka endpoints and
//                              properties; `${VAR}` only for variables named with
//                              http.job_env_prefix, none by default); written atomically to
//                              `<jobs_dir>/<name>.yaml` and the directory rescanned at once. 201
//                              with the job's JSON (200 when it replaced that file); 400
//                              {"error", "issues": [...]} when invalid; 409 when another file
//                              already defines a job of that name, or when a running job uses one
//                              of its consumer groups or its repartition topic
//                              (server/jobs/job_conflicts.hpp; the message names that job and its
//                              file).
//   DELETE /jobs/{name}        removes the job's file and rescans: 202 {"status": "stopping"}
//                              (the job drains and commits as when its file is deleted); 404.
//   POST   /jobs/{name}/pause  pauses every partition of a running job (state kept); 404; 409
//   POST   /jobs/{name}/resume when its file is invalid. 200 {"name", "paused"}.
// Authorization (`authorize`): with a token configured every mutating call needs
// `Authorization: Bearer <token>` (401 without it, 403 with another); without one they are
// allowed only when the server listens on a loopback address (and `check_listen_security`
// refuses to start elsewhere). Requests a web page could forge are refused by the server before
// these routes (request_guard.hpp). Request bodies, job properties and tokens are never logged or
// echoed; one log line per accepted or refused call.
//
// Threading: the handlers run on the connections' strands, possibly at once; they only call the
// JobManager's thread-safe methods and write files with unique temporary names.

#include "server/http/http_server.hpp"
#include "server/jobs/job_manager.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sluice::server::http {

struct AdminAuth {
  std::string token;     // empty: none configured
  bool loopback = true;  // the server listens on a loopback address
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);
// Throws Error(kConfig) when `host` is not a loopback address and `token` is empty.
void check_listen_security(const std::string& host, const std::string& token);
// Throws Error(kConfig) when an environment variable that posted jobs may read (its name starts
// with http.job_env_prefix) holds one of `secrets` (the admin token, Kafka passwords).
void check_job_env_prefix(const std::string& prefix, const std::vector<std::string>& secrets);
// nullopt when the request may mutate, else the 401/403 response to send.
std::optional<Response> authorize(const Request& request, const AdminAuth& auth);

void add_job_admin_routes(HttpServer& server, JobManager& jobs, AdminAuth auth);

}  // namespace sluice::server::http
