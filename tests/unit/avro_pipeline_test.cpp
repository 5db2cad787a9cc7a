// A partition pipeline with Avro values: a batch whose writer schema is not at hand waits for it
// without reading on, unreadable ids and malformed values are DECODE rejections, and an Avro sink
// writes the Schema Registry wire format.

#include "format/avro.hpp"
#include "types/value_ops.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <mutex>

#include "pipeline_rig.hpp"

using namespace sluice;
using sluice::test::opts;
using sluice::test::Rig;
using sluice::test::RigOptions;

namespace {

// Answers lookups from what the test put in; request() only records the callbacks until the test
// answers, as a registry fetching over the network would.
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
  void answer(uint32_t id, const std::string& schema, const std::string& error = "") {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mu_);
      known_[id] =
          error.empty() ? Lookup{format::avro::Schema::parse(schema), ""} : Lookup{nullptr, error};
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

const std::string kTradeSchema =
    R"({"type":"record","name":"T","fields":[{"name":"note","type":"string"},)"
    R"({"name":"id","type":"long"},{"name":"qty","type":["null","long"]}]})";

// A framed record of kTradeSchema: `note` is skipped by the job, `qty` null when negative.
std::string trade(uint32_t schema_id, int64_t id, int64_t qty) {
  std::vector<format::Column> cols = {{"note", types::DataType::string()},
                                      {"id", types::DataType::bigint()},
                                      {"qty", types::DataType::bigint()}};
  // The encoder's own schema is ["null", T] everywhere; write kTradeSchema's bytes by hand.
  std::string out;
  format::append_frame(schema_id, out);
  auto put_long = [&](int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    while (z >= 0x80) {
      out.push_back(static_cast<char>((z & 0x7f) | 0x80));
      z >>= 7;
    }
    out.push_back(static_cast<char>(z));
  };
  put_long(2);
  out += "hi";
  put_long(id);
  if (qty < 0) {
    put_long(0);
  } else {
    put_long(1);
    put_long(qty);
  }
  return out;
}

const std::string kAvroIn =
    "name: p\nsql: SELECT id, qty FROM t\n"
    "source: {type: kafka, topic: in, name: t, format: avro, schema: {id: BIGINT, qty: BIGINT}}\n"
    "sink: {type: kafka, topic: out}\n"
    "dead_letter: {type: kafka, topic: dlq}\n";

}  // namespace

TEST_CASE("pipeline: a batch waits for writer schemas not at hand, reading nothing meanwhile",
          "[pipeline][avro]") {
  auto schemas = std::make_shared<FakeSchemas>();
  Rig rig(kAvroIn, opts([&](RigOptions& o) {
            o.schemas = schemas;
            o.batch_records = 10;
          }));
  rig.source->append(trade(7, 1, 10));
  rig.source->append(trade(8, 2, 20));
  rig.source->append(std::string("\x01\0\0\0\x07x", 6));  // not the wire format
  rig.source->append(trade(7, 3, -1));
  rig.start();
  CHECK(rig.out.taken().empty());
  CHECK(schemas->requests == std::map<uint32_t, int>{{7, 1}, {8, 1}});
  rig.source->append(trade(7, 4, 40));  // a later batch: not read while the first waits
  rig.run();
  schemas->answer(7, kTradeSchema);
  rig.run();
  CHECK(rig.out.taken().empty());  // 8 is still being fetched
  CHECK(rig.counts().records_in == 0);
  schemas->answer(8, "", "the registry answered HTTP 404: Schema 8 not found");
  rig.run();
  REQUIRE(rig.out.taken().size() == 3);
  CHECK(rig.out.taken()[0].value == R"({"id":1,"qty":10})");
  CHECK(rig.out.taken()[1].value == R"({"id":3,"qty":null})");
  CHECK(rig.out.taken()[2].value == R"({"id":4,"qty":40})");
  REQUIRE(rig.dlq.taken().size() == 2);
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.code") == "DECODE");
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.message") ==
        "schema 8: the registry answered HTTP 404: Schema 8 not found");
  CHECK(rig.dlq.taken()[0].value == trade(8, 2, 20));  // the record's own bytes
  CHECK(rig.dlq.taken()[1].headers.at("sluice.error.message") ==
        "magic byte 1 where the Schema Registry wire format has 0");
  CHECK(schemas->requests == std::map<uint32_t, int>{{7, 1}, {8, 1}});  // asked once each
}

TEST_CASE("pipeline: an Avro sink writes the wire format with its schema's id",
          "[pipeline][avro]") {
  Rig rig(
      "name: p\nsql: SELECT id, id * 2 AS twice, CAST(id AS STRING) AS s FROM t\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
      "sink: {type: kafka, topic: out, format: avro}\n",
      opts([&](RigOptions& o) { o.avro_schema_id = 42; }));
  rig.source->append(R"({"id":5})");
  rig.source->append(R"({})");
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  std::vector<format::Column> cols = {{"id", types::DataType::bigint()},
                                      {"twice", types::DataType::bigint()},
                                      {"s", types::DataType::string()}};
  format::AvroEncoder expected(cols, "Out");
  format::AvroDecoder reader(format::avro::Schema::parse(expected.schema()), cols);
  std::vector<std::string> rows;
  for (const auto& t : rig.out.taken()) {
    format::Framed f;
    RecordError err;
    REQUIRE(format::unframe(t.value, &f, &err));
    CHECK(f.schema_id == 42);
    Arena arena;
    std::vector<types::Value> row(3);
    REQUIRE(reader.decode(f.payload, row.data(), arena, &err));
    rows.push_back(types::to_text(row[0]) + "|" + types::to_text(row[1]) + "|" +
                   types::to_text(row[2]));
  }
  CHECK(rows == std::vector<std::string>{"5|10|5", "NULL|NULL|NULL"});
}
