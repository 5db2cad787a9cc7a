// Fuzz target `server_config`: the daemon's own config file (`sluice serve --config`). The input
// is the file's text, loaded with config::load_server_text (`${VAR}` from a fixed table,
// tests/fuzz/fuzz_env.hpp); a config that loads then goes through the daemon's start-up checks
// of the listen address (server::http::check_listen_security).
//
// Checked for every input: only sluice::Error escapes; an error is a ConfigError whose issues
// name this file at a position inside it; a loaded config has a listen host, a port of 1..65535,
// at most 1024 threads, and a jobs and a state directory.

#include "config/server_config.hpp"
#include "server/http/job_admin.hpp"

#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "fuzz_env.hpp"

namespace {

using namespace sluice;

constexpr const char* kFile = "/etc/sluice/sluice.yaml";

uint32_t line_count(std::string_view text) {
  uint32_t n = 1;
  for (char c : text)
    n += c == '\n';
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  config::ServerConfig cfg;
  try {
    cfg = config::load_server_text(text, kFile, fuzz::fixed_env);
  } catch (const config::ConfigError& e) {
    FUZZ_CHECK(!e.issues().empty(), e.what());
    for (const auto& issue : e.issues()) {
      FUZZ_CHECK(issue.file == kFile, issue.to_string());
      FUZZ_CHECK(issue.mark.line <= line_count(text), issue.to_string());
    }
    return 0;
  }
  FUZZ_CHECK(!cfg.http.host.empty() && cfg.http.port >= 1, cfg.http.host);
  FUZZ_CHECK(cfg.threads <= 1024 && cfg.effective_threads() >= 1, std::to_string(cfg.threads));
  FUZZ_CHECK(!cfg.jobs_dir.empty() && !cfg.state_dir.empty(), cfg.jobs_dir);
  try {
    server::http::check_listen_security(cfg.http.host, cfg.http_token);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == ErrorCode::kConfig && cfg.http_token.empty() &&
                   !server::http::is_loopback_host(cfg.http.host),
               e.what());
  }
  return 0;
}
