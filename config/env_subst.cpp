#include "config/env_subst_impl.hpp"

#include <algorithm>
#include <cstdlib>

namespace sluice::config {

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

EnvLookup posted_job_env(std::string prefix, EnvLookup env) {
  return [prefix = std::move(prefix),
          env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    if (!prefix.empty() && name.starts_with(prefix)) return env(name);
    if (prefix.empty())
      throw EnvRefused("'${" + name +
                       "}': the admin API does not substitute environment variables in posted "
                       "jobs (write $$ for a literal '$'; the server config's "
                       "http.job_env_prefix can allow variables that start with a prefix)");
    throw EnvRefused("'${" + name +
                     "}': posted jobs may read only the environment variables whose names start "
                     "with '" +
                     prefix +
                     "' (the server config's http.job_env_prefix; write $$ for a literal '$')");
  };
}

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

Substitution fail(std::string message, std::size_t offset) {
  return {{}, std::move(message), offset, {}};
}

}  // namespace

Substitution substitute(std::string_view text, const EnvLookup& env) {
  Substitution out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$' || i + 1 == text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out.text += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out.text += '$';
      ++i;
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return fail("unterminated '${' (write '$$' for a '$')", i);
    std::string_view body = text.substr(i + 2, close - i - 2);
    std::size_t name_end = 0;
    while (name_end < body.size() && is_name_char(body[name_end]))
      ++name_end;
    std::string name(body.substr(0, name_end));
    std::string_view rest = body.substr(name_end);
    bool has_default = rest.substr(0, 2) == ":-";
    if (name.empty() || !is_name_start(name[0]) || (!rest.empty() && !has_default)) {
      return fail("'${" + std::string(body) +
                      "}' is not a variable reference (expected ${NAME} or ${NAME:-default}; "
                      "write '$$' for a '$')",
                  i);
    }
    std::optional<std::string> value;
    try {
      value = env(name);
    } catch (const EnvRefused& refused) {
      return fail(refused.what(), i);
    }
    if (has_default && (!value || value->empty())) {
      value = std::string(rest.substr(2));
    } else if (!value) {
      return fail("environment variable '" + name + "' is not set (set it, or give a default: ${" +
                      name + ":-default})",
                  i);
    } else if (!value->empty()) {
      out.used.emplace_back(name, *value);
    }
    out.text += *value;
    i = close;
  }
  return out;
}

namespace {

// Finds the `${...}` a problem is about in the file: yaml-cpp gives the scalar's position only,
// and quotes, escapes and block indicators shift the text. Searches the scalar's lines for the
// same token (the same occurrence of it); falls back to the scalar's position.
Mark locate(std::string_view file_text, Mark scalar, std::string_view value, std::size_t offset) {
  if (scalar.line == 0) return scalar;
  std::size_t end = value.find_first_of("}\n", offset);
  std::string_view token = value.substr(offset, end == std::string_view::npos ? end : end - offset);
  std::size_t occurrence = 0;
  for (std::size_t at = value.find(token); at < offset; at = value.find(token, at + 1))
    ++occurrence;
  std::size_t lines_left = static_cast<std::size_t>(std::count(value.begin(), value.end(), '\n'));
  lines_left += 2;  // a block scalar starts on its indicator's line
  std::size_t line_start = 0;
  for (uint32_t l = 1; l < scalar.line && line_start != std::string_view::npos; ++l) {
    line_start = file_text.find('\n', line_start);
    if (line_start != std::string_view::npos) ++line_start;
  }
  for (uint32_t line = scalar.line; line_start != std::string_view::npos && lines_left > 0;
       ++line, --lines_left) {
    std::size_t line_end = file_text.find('\n', line_start);
    std::string_view text = file_text.substr(
        line_start, line_end == std::string_view::npos ? line_end : line_end - line_start);
    std::size_t from = line == scalar.line ? scalar.column - 1 : 0;
    for (std::size_t at = text.find(token, from); at != std::string_view::npos;
         at = text.find(token, at + 1)) {
      if (occurrence-- == 0) return {line, static_cast<uint32_t>(at + 1)};
    }
    line_start = line_end == std::string_view::npos ? line_end : line_end + 1;
  }
  return scalar;
}

// One pass over a document. YAML aliases (`*name`) share their anchor's node: each node is
// substituted once (a value holding '$' after substitution stays as it is), and a shared
// collection is walked once (aliases nested in aliases cannot make the walk exponential).
class DocumentSubstitution {
 public:
  DocumentSubstitution(std::string_view file_text, const EnvLookup& env, IssueList& issues)
      : file_text_(file_text), env_(env), issues_(issues) {}

  void node(YAML::Node node, const std::string& path);

 private:
  // Linear, but only collections and substituted scalars are remembered; config files are small.
  bool first_visit(const YAML::Node& node) {
    for (const YAML::Node& seen : seen_) {
      if (seen.is(node)) return false;
    }
    seen_.push_back(node);
    return true;
  }

  std::string_view file_text_;
  const EnvLookup& env_;
  IssueList& issues_;
  std::vector<YAML::Node> seen_;
};

void DocumentSubstitution::node(YAML::Node node, const std::string& path) {
  if (node.IsScalar()) {
    const std::string value = node.Scalar();
    if (value.find('$') == std::string::npos || !first_visit(node)) return;
    Substitution s = substitute(value, env_);
    if (s.error.empty()) {
      node = s.text;  // keeps the node's position
      for (auto& [name, secret] : s.used)
        issues_.redact(std::move(secret), "${" + name + "}");
      return;
    }
    issues_.add(locate(file_text_, mark_of(node), value, s.error_offset), path, s.error);
    issues_.mute(path);
    return;
  }
  if ((!node.IsSequence() && !node.IsMap()) || !first_visit(node)) return;
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      this->node(node[i], path);
    return;
  }
  for (auto pair : node) {
    if (!pair.first.IsScalar()) continue;  // MapReader reports non-scalar keys
    this->node(pair.second, path.empty() ? pair.first.Scalar() : path + "." + pair.first.Scalar());
  }
}

}  // namespace

void substitute_document(YAML::Node& root, std::string_view file_text, const EnvLookup& env,
                         const std::vector<std::string_view>& skip_top_level, IssueList& issues) {
  DocumentSubstitution pass(file_text, env, issues);
  if (!root.IsMap()) {
    pass.node(root, "");
    return;
  }
  for (auto pair : root) {
    if (!pair.first.IsScalar()) continue;
    const std::string& key = pair.first.Scalar();
    if (std::find(skip_top_level.begin(), skip_top_level.end(), key) != skip_top_level.end())
      continue;
    pass.node(pair.second, key);
  }
}

}  // namespace sluice::config
