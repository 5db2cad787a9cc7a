#pragma once
// An in-memory pipeline::SchemaSource: lookups answer what the test put in; request() only records
// the callbacks until the test answers, as a registry fetching over the network would.

#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"
#include "server/pipeline/value_format.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::testing {

class FakeSchemas final : public server::pipeline::SchemaSource {
 public:
  Lookup find(uint32_t id) override {
    std::lock_guard lock(mu_);
    auto it = known_.find(id);
    return it != known_.end() ? it->second : Lookup{};
  }
  void request(uint32_t id, std::function<void()> ready) override {
    std::lock_guard lock(mu_);
    ++requests[id];
    waiting_[id].push_back(std::move(ready));
  }
  // `type`: AVRO and PROTOBUF (parsed), JSON. A non-empty `error` makes the id unreadable.
  void answer(uint32_t id, const std::string& schema, const std::string& error = "",
              const std::string& type = "AVRO") {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mu_);
      Lookup l;
      l.error = error;
      if (error.empty()) {
        l.type = type;
        if (type == "AVRO") l.schema = format::avro::Schema::parse(schema);
        if (type == "PROTOBUF") l.proto = format::protobuf::Schema::parse(schema);
      }
      known_[id] = l;
      ready = std::move(waiting_[id]);
      waiting_.erase(id);
    }
    for (auto& f : ready)
      f();
  }
  std::map<uint32_t, int> requests;

 private:
  std::mutex mu_;
  std::map<uint32_t, Lookup> known_;
  std::map<uint32_t, std::vector<std::function<void()>>> waiting_;
};

}  // namespace sluice::testing
