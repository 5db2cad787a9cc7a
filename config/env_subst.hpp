#pragma once
// `${VAR}`, `${VAR:-default}` and `$$` substitution in the string values of config files (server
// file and job files). The environment is looked up through an injectable function so tests do
// not touch the process environment.
// Substitution is a pure function of its inputs; `process_env` reads the process environment
// with getenv, which is safe as long as nothing calls setenv concurrently.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace sluice::config {

// The value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// getenv.
std::optional<std::string> process_env(const std::string& name);

// Thrown by an EnvLookup that may not read a variable: the substitution reports `what()` at the
// reference's position (with or without a default) instead of substituting anything.
class EnvRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The lookup for job files posted through the admin API, which must not read the daemon's
// environment (its secrets): a variable whose name starts with `prefix` is read from `env`, and
// every other reference is refused (EnvRefused) — every reference when `prefix` is empty.
EnvLookup posted_job_env(std::string prefix, EnvLookup env = process_env);

}  // namespace sluice::config
