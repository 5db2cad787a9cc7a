#pragma once
// Helpers shared by the job file and server config tests: a fake environment for `${VAR}` and
// the error text of a file that must not load.

#include "config/env_subst.hpp"
#include "config/job_config.hpp"
#include "config/server_config.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>

namespace sluice::config::testing {

// An environment with just `vars`.
inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline const EnvLookup kNoEnv = env_of({});

// The message of the CONFIG error loading `text` as server config file "sluice.yaml" gives.
inline std::string server_errors(const std::string& text, const EnvLookup& env = kNoEnv) {
  try {
    load_server_text(text, "sluice.yaml", env);
  } catch (const ConfigError& e) {
    CHECK(e.code() == ErrorCode::kConfig);
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

// The message of the error loading `text` as job file "job.yaml" gives.
inline std::string job_errors(const std::string& text, const EnvLookup& env = kNoEnv) {
  try {
    load_job_text(text, "job.yaml", env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

}  // namespace sluice::config::testing
