#pragma once
// SchemaRegistry: a client of a Confluent-compatible Schema Registry (Confluent's, Apicurio's
// ccompat API, Karapace) over HTTP. Pipelines look writer schemas up by id (pipeline::SchemaSource)
// without blocking: ids not in the cache are fetched by the client's own thread, one request at a
// time, and each waiting pipeline is called back. An id the registry does not have (404), or whose
// Avro schema does not parse, is an error for `negative_ttl_ms` (then asked again): its records
// are DECODE rejections meanwhile (as are those whose schema is of a type the job does not read). A
// registry that cannot be reached, or answers anything else (5xx, 401, 403, 429, ...), is asked
// again for that id (1 s, doubling to 30 s, per id: other ids are fetched meanwhile); the pipelines
// that need it wait, and a warning is logged per failure. The control-plane call (register_schema)
// blocks its caller, bounded by the timeout: a job stage's control thread makes it. Thread-safe.
// One per daemon; it outlives the jobs using it.
//
// Schema references (Avro named types, Protobuf imports from other subjects) are fetched with the
// schema that names them, by subject and version, on the same thread, and given to its parser; a
// reference the registry does not have makes the id unreadable, one it cannot answer for now has
// the id asked again.

#include "server/net/http_client.hpp"
#include "server/pipeline/value_format.hpp"

#include <simdjson.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::server::kafka {

struct RegistryOptions {
  std::string url;                  // http://HOST:PORT[/PATH], the base of the Confluent API
  std::string username, password;   // HTTP basic authentication when username is set
  int64_t timeout_ms = 5000;        // per request
  int64_t negative_ttl_ms = 60000;  // how long an unreadable id stays an error
};

class SchemaRegistry final : public pipeline::SchemaSource {
 public:
  // Throws sluice::Error (kConfig) for a URL it cannot use.
  explicit SchemaRegistry(RegistryOptions options);
  ~SchemaRegistry() override;
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;

  Lookup find(uint32_t id) override;
  void request(uint32_t id, std::function<void()> ready) override;

  // Registers a schema of `type` ("AVRO", "JSON") under `subject` (or finds it there) and returns
  // its id. Throws sluice::Error (kIo: unreachable, or 5xx/429, worth asking again; kConfig:
  // refused, with the registry's message).
  uint32_t register_schema(const std::string& subject, const std::string& schema,
                           std::string_view type = "AVRO");

  // The latest version of `subject` (GET /subjects/<subject>/versions/latest), for a source whose
  // columns come from it. Blocks its caller, bounded by the timeout. Throws sluice::Error (kIo:
  // unreachable, or 5xx/429; kConfig: the subject has no version, or another answer, with the
  // registry's message).
  struct SubjectVersion {
    std::string subject;
    int64_t version = 0;
    uint32_t id = 0;
    std::string type;  // "AVRO", "JSON", "PROTOBUF"
    std::string schema;
    format::SchemaReferences references;  // the schemas it refers to, fetched
  };
  SubjectVersion latest(const std::string& subject);
  // The schema of `id` (GET /schemas/ids/<id>), with its references, as latest() (version 0):
  // for a sink's configured schema id.
  SubjectVersion schema(uint32_t id);

  const std::string& url() const { return options_.url; }

 private:
  net::HttpReply send(const net::HttpRequest& request);
  void run();
  // One fetch of `id`; false when it should be tried again later.
  bool fetch(uint32_t id);
  // Appends the schemas the registry's `answer` (a schema with "references") refers to, each after
  // those it refers to itself, fetching every version (blocking; `fetches` counts the requests,
  // at most 256). Throws Error kIo when the registry cannot answer now, kDecode when a reference
  // cannot be read.
  void resolve(simdjson::dom::element answer, format::SchemaReferences& out, int depth,
               size_t& fetches);
  // GET `path`, a schema with its references; errors as latest()'s, naming `what`.
  SubjectVersion get_schema(const std::string& path, const std::string& what,
                            const char* not_found);

  struct Known {
    Lookup lookup;
    int64_t expires_ms = INT64_MAX;  // steady clock; errors only
  };
  struct Waiting {
    std::vector<std::function<void()>> ready;
    int64_t due_ms = 0;  // steady clock: when to ask (again)
    int64_t backoff_ms = 0;
  };
  RegistryOptions options_;
  net::HttpUrl url_;
  std::string authorization_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<uint32_t, Known> known_;
  std::map<uint32_t, Waiting> waiting_;  // ids to fetch
  std::thread worker_;
};

}  // namespace sluice::server::kafka
