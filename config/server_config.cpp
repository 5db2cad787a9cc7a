#include "config/server_config.hpp"

#include "config/env_subst_impl.hpp"
#include "config/kafka_config_impl.hpp"
#include "config/time_config_impl.hpp"
#include "config/yaml_reader_impl.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

namespace sluice::config {
namespace {

// More threads than this is a typo, not a machine.
constexpr unsigned kMaxThreads = 1024;
constexpr std::size_t kMaxHostLength = 253;

std::string resolve_dir(const std::string& config_file, const std::string& dir) {
  std::filesystem::path p(dir);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(config_file).parent_path() / p).lexically_normal().string();
}

void read_dir(MapReader& map, std::string_view key, const std::string& file, std::string* out) {
  if (map.string(key, out) && out->empty()) {
    map.issues().add(mark_of(map.value(key)), map.key_path(key), "must not be empty");
  }
  *out = resolve_dir(file, *out);
}

bool parse_port(std::string_view text, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535)
    return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool is_host_name(std::string_view host) {
  return !host.empty() && host.size() <= kMaxHostLength &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-';
         });
}

bool is_ipv6(std::string_view host) {
  return !host.empty() && host.find(':') != std::string_view::npos &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
}

// host:port, or [ipv6]:port. The empty string on success, else what is wrong.
std::string parse_listen(std::string_view text, HttpListen* out) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return "expected host:port, such as 127.0.0.1:9464";
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']' || !is_ipv6(host.substr(1, host.size() - 2)))
      return std::string("'").append(host).append(
          "' is not a bracketed IPv6 address, such as [::1]");
    host = host.substr(1, host.size() - 2);
  } else if (host.empty()) {
    return "the host is missing (use 0.0.0.0 to listen on every interface)";
  } else if (host.find(':') != std::string_view::npos) {
    return "an IPv6 address needs brackets, as in [::1]:9464";
  } else if (!is_host_name(host)) {
    return std::string("'").append(host).append("' is not a host name or IP address");
  }
  if (!parse_port(port, &out->port))
    return "the port must be a number from 1 to 65535, found '" + std::string(port) + "'";
  out->host = std::string(host);
  return {};
}

// A prefix of environment variable names: [A-Za-z_][A-Za-z0-9_]*.
void read_env_prefix(MapReader& map, std::string* prefix) {
  if (!map.string("job_env_prefix", prefix)) return;
  const std::string& p = *prefix;
  bool ok =
      !p.empty() && !(p[0] >= '0' && p[0] <= '9') && std::all_of(p.begin(), p.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
      });
  if (ok) return;
  map.issues().add(mark_of(map.value("job_env_prefix")), map.key_path("job_env_prefix"),
                   p.empty() ? "must not be empty (leave it out: posted jobs then read no "
                               "environment variable)"
                             : "expected the start of environment variable names (letters, "
                               "digits and '_', not starting with a digit), such as SLUICE_JOB_");
  prefix->clear();
}

void read_http(MapReader map, HttpListen* http, std::string* token, std::string* env_prefix) {
  map.string("token", token);
  read_env_prefix(map, env_prefix);
  std::string listen;
  if (map.string("listen", &listen)) {
    http->mark = mark_of(map.value("listen"));
    std::string error = parse_listen(listen, http);
    if (!error.empty()) map.issues().add(http->mark, map.key_path("listen"), error);
  }
  map.finish();
}

void read_threads(MapReader& map, unsigned* threads) {
  std::string text;
  if (!map.string("threads", &text)) return;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      value > kMaxThreads) {
    map.issues().add(mark_of(map.value("threads")), "threads",
                     "expected a whole number from 0 (one thread per core) to " +
                         std::to_string(kMaxThreads) + ", found '" + text + "'");
    return;
  }
  *threads = value;
}

// state_snapshot_interval: a duration from 100 ms to 1 hour.
void read_snapshot_interval(MapReader& map, int64_t* ms) {
  std::string text;
  if (!map.string("state_snapshot_interval", &text)) return;
  int64_t value = 0;
  if (!parse_duration(text, &value) || value < 100 || value > 3'600'000) {
    map.issues().add(mark_of(map.value("state_snapshot_interval")), "state_snapshot_interval",
                     "expected a duration from 100ms to 1h (e.g. 5s), found '" + text + "'");
    return;
  }
  *ms = value;
}

// schema_registry: url (http only), basic-auth username and password, a request timeout.
void read_schema_registry(MapReader map, ServerConfig::SchemaRegistry* registry) {
  if (map.string("url", &registry->url, Need::kRequired) && !registry->url.starts_with("http://")) {
    map.issues().add(mark_of(map.value("url")), map.key_path("url"),
                     "expected http://HOST:PORT[/PATH], found '" + registry->url + "'");
  }
  map.string("username", &registry->username);
  map.string("password", &registry->password);
  std::string text;
  if (map.string("timeout", &text)) {
    int64_t value = 0;
    if (!parse_duration(text, &value) || value < 100 || value > 60'000) {
      map.issues().add(mark_of(map.value("timeout")), map.key_path("timeout"),
                       "expected a duration from 100ms to 1m (e.g. 5s), found '" + text + "'");
    } else {
      registry->timeout_ms = value;
    }
  }
  if (!registry->password.empty() && registry->username.empty()) {
    map.issues().add(mark_of(map.value("password")), map.key_path("password"),
                     "a password needs a username");
  }
  map.finish();
}

// processing.guarantee: the default of the jobs that do not choose.
void read_processing(MapReader map, Guarantee* guarantee) {
  map.choice("guarantee", "a processing guarantee", kGuarantees, guarantee);
  map.finish();
}

void read_server(MapReader& root, ServerConfig& config) {
  read_kafka_properties(root.map("kafka"), PropertyOwner::kServer, &config.kafka);
  config.jobs_dir = "jobs";
  read_dir(root, "jobs_dir", config.file, &config.jobs_dir);
  read_http(root.map("http"), &config.http, &config.http_token, &config.http_job_env_prefix);
  read_threads(root, &config.threads);
  config.state_dir = "state";
  read_dir(root, "state_dir", config.file, &config.state_dir);
  read_snapshot_interval(root, &config.state_snapshot_interval_ms);
  read_processing(root.map("processing"), &config.guarantee);
  if (root.value("schema_registry").IsDefined())
    read_schema_registry(root.map("schema_registry"), &config.schema_registry);
  root.finish();
}

}  // namespace

unsigned ServerConfig::effective_threads() const {
  if (threads != 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

ServerConfig load_server_text(const std::string& text, const std::string& file,
                              const EnvLookup& env) {
  IssueList issues(file);
  ServerConfig config;
  config.file = file;
  std::optional<YAML::Node> document = parse_document(text, issues);
  if (document) substitute_document(*document, text, env, {}, issues);
  // An empty file is a valid config: every key has a default.
  YAML::Node root = document && !document->IsNull() ? *document : YAML::Node(YAML::NodeType::Map);
  MapReader reader(root, "", issues);
  if (document && reader.is_map()) read_server(reader, config);
  issues.throw_if_any();
  return config;
}

ServerConfig load_server_file(const std::string& path, const EnvLookup& env) {
  return load_server_text(read_config_file(path, "server config file"), path, env);
}

}  // namespace sluice::config
