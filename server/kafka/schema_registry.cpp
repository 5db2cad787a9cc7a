#include "server/kafka/schema_registry.hpp"

#include "common/error.hpp"
#include "types/bytes_text.hpp"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace sluice::server::kafka {

namespace {

constexpr int64_t kFirstRetryMs = 1000;
constexpr int64_t kLastRetryMs = 30000;
constexpr size_t kMaxShownBody = 200;

std::string shown(const std::string& body) {
  std::string out = body.substr(0, kMaxShownBody);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return body.size() > kMaxShownBody ? out + "..." : out;
}

// The registry's own message ({"error_code":..,"message":".."}), else the body.
std::string registry_message(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  std::string_view message;
  if (!parser.parse(body).get(e) && !e["message"].get_string().get(message))
    return std::string(message);
  return shown(body);
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string json_string(std::string_view s) {
  std::string out;
  format::append_json_string(s, out);
  return out;
}

// A subject in a URL path: a reference's may hold '/' ("shop/common.proto") or other characters.
std::string path_segment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// References nest at most this deep, and one schema's take at most this many requests in all
// (references that refer to each other would otherwise be fetched again at every level).
constexpr int kMaxReferenceDepth = 16;
constexpr size_t kMaxReferences = 256;

}  // namespace

SchemaRegistry::SchemaRegistry(RegistryOptions options) : options_(std::move(options)) {
  std::string error;
  auto url = net::parse_http_url(options_.url, &error);
  if (!url) {
    throw Error(ErrorCode::kConfig,
                fmt::format("schema_registry.url '{}': {}", options_.url, error));
  }
  url_ = *url;
  if (!options_.username.empty()) {
    authorization_ = "Basic ";
    types::append_base64(options_.username + ":" + options_.password, authorization_);
  }
  worker_ = std::thread([this] { run(); });
}

SchemaRegistry::~SchemaRegistry() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

net::HttpReply SchemaRegistry::send(const net::HttpRequest& request) {
  net::HttpRequest r = request;
  r.authorization = authorization_;
  return net::http_request(url_, r, std::chrono::milliseconds(options_.timeout_ms));
}

SchemaRegistry::Lookup SchemaRegistry::find(uint32_t id) {
  std::lock_guard lock(mu_);
  auto it = known_.find(id);
  if (it == known_.end()) return {};
  if (it->second.expires_ms <= steady_ms()) {  // an error's time is up: ask again
    known_.erase(it);
    return {};
  }
  return it->second.lookup;
}

void SchemaRegistry::request(uint32_t id, std::function<void()> ready) {
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(id);
    if (it == known_.end() || it->second.expires_ms <= steady_ms()) {
      waiting_[id].ready.push_back(std::move(ready));
      wake_.notify_all();
      return;
    }
  }
  ready();  // answered between the caller's find and now
}

bool SchemaRegistry::fetch(uint32_t id) {
  Lookup result;
  try {
    net::HttpRequest get;
    get.path = fmt::format("/schemas/ids/{}", id);
    net::HttpReply reply = send(get);
    if (reply.status != 200 && reply.status != 404) {  // 5xx, 401, 403, 429...: not an answer
      spdlog::warn("schema registry {}: schema {}: HTTP {} {}; asking again", options_.url, id,
                   reply.status, registry_message(reply.body));
      return false;
    }
    if (reply.status == 404) {
      result.error = fmt::format("the registry answered HTTP {}: {}", reply.status,
                                 registry_message(reply.body));
    } else {
      simdjson::dom::parser parser;
      simdjson::dom::element e;
      std::string_view schema, type;
      if (parser.parse(reply.body).get(e) || e["schema"].get_string().get(schema)) {
        result.error = "the registry's answer holds no schema: " + shown(reply.body);
      } else {
        // Absent (or empty): Avro, as Confluent's registry means it.
        if (e["schemaType"].get_string().get(type) || type.empty()) type = "AVRO";
        try {
          format::SchemaReferences refs;
          // (JSON Schema values are read without their schema: its references do not matter.)
          size_t fetches = 0;
          if (type != "JSON") resolve(e, refs, 1, fetches);
          if (type == "AVRO") result.schema = format::avro::Schema::parse(schema, refs);
          if (type == "PROTOBUF") result.proto = format::protobuf::Schema::parse(schema, refs);
        } catch (const Error& err) {
          if (err.code() == ErrorCode::kIo) throw;  // asked again
          result.error = err.what();
        }
        if (result.error.empty()) result.type = type;
      }
    }
  } catch (const Error& e) {
    spdlog::warn("schema registry: schema {}: {}; asking again", id, e.what());
    return false;
  }
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    known_[id] = {result,
                  result.error.empty() ? INT64_MAX : steady_ms() + options_.negative_ttl_ms};
    ready = std::move(waiting_[id].ready);
    waiting_.erase(id);
  }
  if (!result.error.empty())
    spdlog::warn("schema registry {}: schema {}: {}", options_.url, id, result.error);
  for (auto& f : ready)
    f();
  return true;
}

// Fetches the id due first; an id that failed waits its own backoff while the others go on.
void SchemaRegistry::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (waiting_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto next = std::min_element(
        waiting_.begin(), waiting_.end(),
        [](const auto& a, const auto& b) { return a.second.due_ms < b.second.due_ms; });
    int64_t wait = next->second.due_ms - steady_ms();
    if (wait > 0) {
      wake_.wait_for(lock, std::chrono::milliseconds(wait));
      continue;
    }
    uint32_t id = next->first;
    lock.unlock();
    bool done = fetch(id);
    lock.lock();
    if (done) continue;
    auto it = waiting_.find(id);
    if (it == waiting_.end()) continue;
    Waiting& w = it->second;
    w.backoff_ms = w.backoff_ms == 0 ? kFirstRetryMs : std::min(w.backoff_ms * 2, kLastRetryMs);
    w.due_ms = steady_ms() + w.backoff_ms;
  }
}

SchemaRegistry::SubjectVersion SchemaRegistry::latest(const std::string& subject) {
  SubjectVersion out =
      get_schema(fmt::format("/subjects/{}/versions/latest", path_segment(subject)),
                 fmt::format("the latest schema of subject '{}'", subject),
                 "the registry has no "
                 "version of it");
  out.subject = subject;
  return out;
}

SchemaRegistry::SubjectVersion SchemaRegistry::schema(uint32_t id) {
  SubjectVersion out = get_schema(fmt::format("/schemas/ids/{}", id), fmt::format("schema {}", id),
                                  "the registry has no schema of that id");
  out.id = id;
  return out;
}

SchemaRegistry::SubjectVersion SchemaRegistry::get_schema(const std::string& path,
                                                          const std::string& what,
                                                          const char* not_found) {
  net::HttpRequest get;
  get.path = path;
  net::HttpReply reply = send(get);
  SubjectVersion out;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  int64_t id = 0;
  std::string_view schema, type;
  if (reply.status == 200 && !parser.parse(reply.body).get(e) &&
      !e["schema"].get_string().get(schema)) {
    if (!e["id"].get_int64().get(id) && id >= 0 && id <= UINT32_MAX)
      out.id = static_cast<uint32_t>(id);
    if (e["version"].get_int64().get(out.version)) out.version = 0;
    if (e["schemaType"].get_string().get(type) || type.empty()) type = "AVRO";
    out.type = type;
    out.schema = schema;
    try {
      size_t fetches = 0;
      resolve(e, out.references, 1, fetches);
    } catch (const Error& err) {
      if (err.code() == ErrorCode::kIo) throw;
      throw Error(ErrorCode::kConfig,
                  fmt::format("schema registry {}: {}: {}", options_.url, what, err.what()));
    }
    return out;
  }
  bool later = reply.status >= 500 || reply.status == 429;
  std::string why = reply.status == 404 ? not_found
                    : reply.status == 200
                        ? "the registry's answer holds no schema: " + shown(reply.body)
                        : fmt::format("HTTP {}: {}", reply.status, registry_message(reply.body));
  throw Error(later ? ErrorCode::kIo : ErrorCode::kConfig,
              fmt::format("schema registry {}: {}: {}", options_.url, what, why));
}

void SchemaRegistry::resolve(simdjson::dom::element answer, format::SchemaReferences& out,
                             int depth, size_t& fetches) {
  simdjson::dom::array refs;
  if (answer["references"].get_array().get(refs)) return;  // none
  if (depth > kMaxReferenceDepth)
    throw Error(ErrorCode::kDecode,
                fmt::format("schema references nested over {} deep", kMaxReferenceDepth));
  for (simdjson::dom::element r : refs) {
    std::string_view name, subject;
    int64_t version = 0;
    if (r["name"].get_string().get(name) || r["subject"].get_string().get(subject) ||
        r["version"].get_int64().get(version)) {
      throw Error(ErrorCode::kDecode, "a schema reference without its name, subject and version: " +
                                          shown(simdjson::to_string(r)));
    }
    bool known = std::any_of(out.begin(), out.end(),
                             [&](const format::SchemaReference& k) { return k.name == name; });
    if (known) continue;
    if (++fetches > kMaxReferences) {
      throw Error(ErrorCode::kDecode,
                  fmt::format("over {} schema references to fetch", kMaxReferences));
    }
    net::HttpRequest get;
    get.path = fmt::format("/subjects/{}/versions/{}", path_segment(subject), version);
    net::HttpReply reply = send(get);
    std::string what =
        fmt::format("the referenced schema '{}' (subject '{}' version {})", name, subject, version);
    if (reply.status != 200 && reply.status != 404)  // not an answer, as for ids
      throw Error(ErrorCode::kIo,
                  fmt::format("{}: HTTP {}: {}", what, reply.status, registry_message(reply.body)));
    simdjson::dom::parser parser;  // its own: `answer` lives in the caller's
    simdjson::dom::element e;
    std::string_view text;
    if (reply.status != 200 || parser.parse(reply.body).get(e) ||
        e["schema"].get_string().get(text)) {
      throw Error(ErrorCode::kDecode,
                  fmt::format("{}: HTTP {}: {}", what, reply.status, registry_message(reply.body)));
    }
    std::string schema(text);
    resolve(e, out, depth + 1, fetches);  // what it refers to comes first
    out.push_back({std::string(name), std::move(schema)});
  }
}

uint32_t SchemaRegistry::register_schema(const std::string& subject, const std::string& schema,
                                         std::string_view type) {
  net::HttpRequest post;
  post.method = "POST";
  // Subject names are topic names plus a suffix: letters, digits, '.', '_', '-' need no escaping.
  post.path = fmt::format("/subjects/{}/versions", subject);
  post.content_type = "application/vnd.schemaregistry.v1+json";
  post.body = "{\"schema\":" + json_string(schema);
  if (type != "AVRO") post.body += ",\"schemaType\":" + json_string(type);
  post.body += '}';
  net::HttpReply reply = send(post);
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  int64_t id = 0;
  if (reply.status != 200 || parser.parse(reply.body).get(e) || e["id"].get_int64().get(id) ||
      id < 0 || id > UINT32_MAX) {
    // A registry that is busy or down (5xx, 429) may take it later; any other answer is its own.
    bool later = reply.status >= 500 || reply.status == 429;
    throw Error(
        later ? ErrorCode::kIo : ErrorCode::kConfig,
        fmt::format("schema registry {}: registering the schema of subject '{}': HTTP {}: {}",
                    options_.url, subject, reply.status, registry_message(reply.body)));
  }
  std::lock_guard lock(mu_);
  Lookup registered;
  registered.type = type;
  if (type == "AVRO") registered.schema = format::avro::Schema::parse(schema);
  if (type == "PROTOBUF") registered.proto = format::protobuf::Schema::parse(schema);
  known_[static_cast<uint32_t>(id)] = {registered};
  return static_cast<uint32_t>(id);
}

}  // namespace sluice::server::kafka
