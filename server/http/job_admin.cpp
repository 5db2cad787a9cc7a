#include "server/http/job_admin.hpp"

#include "common/error.hpp"
#include "format/json.hpp"
#include "server/http/admin_api.hpp"
#include "server/http/request_guard.hpp"
#include "server/jobs/job_error.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sluice::server::http {
namespace {

namespace fs = std::filesystem;

// How a posted job is named in its error messages: `request:3:6: sql: ...`.
constexpr const char* kBodyName = "request";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Compares in time independent of where the strings differ.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// 400 {"error": ..., "issues": [one per `file:line:col: key: message` line]}; the SQL caret
// excerpt lines (indented) stay with the issue before them.
Response invalid_job(const std::string& description) {
  std::vector<std::string> issues;
  std::istringstream in(description);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("    ") && !issues.empty())
      issues.back() += "\n" + line;
    else if (!line.empty())
      issues.push_back(line);
  }
  std::string body = "{\"error\": ";
  format::append_json_string(
      fmt::format("invalid job ({} issue{})", issues.size(), issues.size() == 1 ? "" : "s"), body);
  body += ", \"issues\": [";
  for (size_t i = 0; i < issues.size(); ++i) {
    if (i > 0) body += ", ";
    format::append_json_string(issues[i], body);
  }
  body += "]}\n";
  return Response::json(400, std::move(body));
}

// Writes `text` to `target` through a temporary file in the same directory and a rename, so the
// job manager never reads half a file (its scan skips dot files). Throws Error(kIo).
void write_atomically(const fs::path& target, const std::string& text) {
  static std::atomic<uint64_t> counter{0};
  fs::path tmp = target.parent_path() /
                 fmt::format(".{}.{}.{}.tmp", target.filename().string(), getpid(), ++counter);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error(ErrorCode::kIo, fmt::format("cannot write {}", tmp.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw Error(ErrorCode::kIo, fmt::format("cannot rename {} to {}: {}", tmp.string(),
                                            target.string(), ec.message()));
  }
}

Response post_job(JobManager& jobs, const Request& req) {
  // JSON is YAML too: a job file written as JSON is read the same way.
  if (auto refused = require_media_type(
          req, {"application/yaml", "application/x-yaml", "text/yaml", "application/json"},
          "with curl: -H 'Content-Type: application/yaml' --data-binary @job.yaml")) {
    spdlog::warn("admin: POST /jobs: refused (no job file content type)");
    return *refused;
  }
  std::shared_ptr<config::JobConfig> cfg;
  try {
    // The daemon's environment holds its secrets (the admin token, Kafka credentials): a posted
    // job reads only the variables the operator allowed. The body is written as posted, so the
    // scan's substitution reads exactly the variables this check allowed.
    jobs.check_job_text(req.body, kBodyName, config::posted_job_env(jobs.job_env_prefix()), cfg);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kIo) {  // the registry, for a source without a schema: not now
      spdlog::warn("admin: POST /jobs: {}", e.what());
      return Response::error(503, e.what());
    }
    spdlog::warn("admin: POST /jobs: refused an invalid job");
    return invalid_job(describe_job_error(cfg.get(), kBodyName, e));
  }
  // The loader's name rule (config::is_valid_job_name) makes the name a safe file name.
  const std::string& name = cfg->name;
  fs::path target = fs::path(jobs.jobs_dir()) / (name + ".yaml");
  if (auto existing = jobs.file_of(name); existing && *existing != target.string())
    return Response::error(
        409, fmt::format("job '{}' is defined by {}: change or delete that file", name, *existing));
  if (auto conflicts = jobs.conflicts(*cfg, target.string()); !conflicts.empty()) {
    spdlog::warn("admin: POST /jobs: job {} conflicts with a running job", name);
    return Response::error(409, config::ConfigError(std::move(conflicts)).what());
  }
  std::error_code ec;
  bool replaced = fs::exists(target, ec);
  try {
    write_atomically(target, req.body);
  } catch (const Error& e) {
    spdlog::error("admin: POST /jobs: job {}: {}", name, e.what());
    return Response::error(500, e.what());
  }
  spdlog::info("admin: POST /jobs: job {} {} ({})", name, replaced ? "replaced" : "created",
               target.string());
  jobs.rescan();
  JobStatus st;
  st.name = name;
  st.file = target.string();
  st.state = JobState::kStarting;
  return Response::json(replaced ? 200 : 201, job_json(st, now_ms()) + "\n");
}

Response delete_job(JobManager& jobs, const Request& req) {
  const std::string& name = req.params.at("name");
  auto file = jobs.file_of(name);
  if (!file) return Response::error(404, fmt::format("no job named '{}'", name));
  std::error_code ec;
  fs::remove(*file, ec);  // already gone (a concurrent delete): the job stops all the same
  if (ec && ec != std::errc::no_such_file_or_directory) {
    spdlog::error("admin: DELETE /jobs/{}: cannot remove {}: {}", name, *file, ec.message());
    return Response::error(500, fmt::format("cannot remove {}: {}", *file, ec.message()));
  }
  spdlog::info("admin: DELETE /jobs/{}: removed {}", name, *file);
  jobs.rescan();
  return Response::json(202, "{\"status\": \"stopping\"}\n");
}

Response pause_job(JobManager& jobs, const Request& req, bool paused) {
  const std::string& name = req.params.at("name");
  switch (jobs.pause(name, paused)) {
    case JobManager::PauseResult::kUnknown:
      return Response::error(404, fmt::format("no job named '{}'", name));
    case JobManager::PauseResult::kNotRunning:
      return Response::error(409,
                             fmt::format("job '{}' is not running (its file is invalid)", name));
    case JobManager::PauseResult::kDone:
      break;
  }
  spdlog::info("admin: POST /jobs/{}/{}", name, paused ? "pause" : "resume");
  std::string body = "{\"name\": ";
  format::append_json_string(name, body);
  body += paused ? ", \"paused\": true}\n" : ", \"paused\": false}\n";
  return Response::json(200, std::move(body));
}

// Wraps a mutating handler with `authorize`.
Handler guarded(AdminAuth auth, Handler handler) {
  return [auth = std::move(auth), handler = std::move(handler)](const Request& req) {
    if (auto refused = authorize(req, auth)) {
      spdlog::warn("admin: {} {}: refused ({})", req.method, req.path,
                   refused->status == 401 ? "no bearer token" : "wrong bearer token");
      return *refused;
    }
    return handler(req);
  };
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

void check_listen_security(const std::string& host, const std::string& token) {
  if (!token.empty() || is_loopback_host(host)) return;
  throw Error(ErrorCode::kConfig,
              fmt::format("http: listening on {} (not a loopback address) needs a bearer token "
                          "for the admin API, which can create and delete jobs: set http.token in "
                          "the server config (e.g. token: ${{SLUICE_TOKEN}}), or listen on "
                          "127.0.0.1",
                          host));
}

void check_job_env_prefix(const std::string& prefix, const std::vector<std::string>& secrets) {
  if (prefix.empty()) return;
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view entry(*env);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !entry.substr(0, eq).starts_with(prefix)) continue;
    std::string_view value = entry.substr(eq + 1);
    if (value.empty() || std::find(secrets.begin(), secrets.end(), value) == secrets.end())
      continue;
    throw Error(ErrorCode::kConfig,
                fmt::format("http.job_env_prefix: environment variable {} starts with '{}' and "
                            "holds a secret of the server config (the admin token or a Kafka "
                            "password): posted jobs could read it. Choose a prefix that no "
                            "secret's variable starts with",
                            entry.substr(0, eq), prefix));
  }
}

std::optional<Response> authorize(const Request& request, const AdminAuth& auth) {
  if (auth.token.empty() && auth.loopback) return std::nullopt;
  const std::string* header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header == nullptr || header->size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header->begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    Response r = Response::error(
        401,
        "this call needs an `Authorization: Bearer <token>` header (the server config's "
        "http.token)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  std::string_view given = std::string_view(*header).substr(kBearer.size());
  if (auth.token.empty() || !same_secret(given, auth.token))
    return Response::error(403, "wrong bearer token");
  return std::nullopt;
}

void add_job_admin_routes(HttpServer& server, JobManager& jobs, AdminAuth auth) {
  server.handle("POST", "/jobs",
                guarded(auth, [&jobs](const Request& req) { return post_job(jobs, req); }));
  server.handle("DELETE", "/jobs/{name}",
                guarded(auth, [&jobs](const Request& req) { return delete_job(jobs, req); }));
  server.handle("POST", "/jobs/{name}/pause",
                guarded(auth, [&jobs](const Request& req) { return pause_job(jobs, req, true); }));
  server.handle("POST", "/jobs/{name}/resume",
                guarded(auth, [&jobs](const Request& req) { return pause_job(jobs, req, false); }));
}

}  // namespace sluice::server::http
