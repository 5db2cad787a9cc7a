#pragma once
// `${VAR}`, `${VAR:-default}` and `$$` substitution in the string values of config files (server
// file and job files). The environment is looked up through an injectable function so tests do
// not touch the process environment.
// Substitution is a pure function of its inputs; `process_env` reads the process environment
// with getenv, which is safe as long as nothing calls setenv concurrently.

#include <functional>
#include <optional>
#include <string>

namespace sluice::config {

// The value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// getenv.
std::optional<std::string> process_env(const std::string& name);

}  // namespace sluice::config
