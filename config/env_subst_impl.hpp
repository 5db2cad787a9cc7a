#pragma once
// Internal to config/: applies `${VAR}` / `${VAR:-default}` / `$$` to every scalar value of a
// parsed YAML document (never to keys), reporting problems at their position in the file.
// One call per load, on the loading thread.

#include "config/env_subst.hpp"
#include "config/yaml_reader_impl.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::config {

// The result of substituting one string: the text, or the first problem and its byte offset in
// the input.
struct Substitution {
  std::string text;
  std::string error;  // empty on success
  std::size_t error_offset = 0;
  // The variables whose (non-empty) values went into `text`: name, value. Defaults are not here.
  std::vector<std::pair<std::string, std::string>> used;
};

// Rules: `${NAME}` is NAME's value (empty when set but empty) and an error when unset;
// `${NAME:-default}` is the default when NAME is unset or empty; `$$` is one `$`; any other `$`
// stays as written. NAME is [A-Za-z_][A-Za-z0-9_]*; the default is literal text up to the first
// `}` (it is not substituted again). A lookup that throws EnvRefused makes that reference an
// error.
Substitution substitute(std::string_view text, const EnvLookup& env);

// Substitutes every scalar value of `root` in place (map values and sequence items, at any
// depth). Values under a top-level key listed in `skip_top_level` are left as written (a job's
// `sql`). Problems go to `issues` at the `${` in `file_text` where it can be found. Every value
// substituted from the environment is registered with `issues.redact`, so no message of the
// file quotes it (it may be a secret).
void substitute_document(YAML::Node& root, std::string_view file_text, const EnvLookup& env,
                         const std::vector<std::string_view>& skip_top_level, IssueList& issues);

}  // namespace sluice::config
