// The scenario data generator: file output (`write_file`, `sluice gen --out`) byte-identical to the
// scenarios' JSON lines, the record keys, the printed job files (load + compile_job), `sluice gen`
// usage errors, and TopicGenerator against the in-process mock broker: keyed produce to a
// 4-partition topic read back with a plain consumer, pacing, stop, and counted delivery errors.

#include "common/error.hpp"
#include "config/job_config.hpp"
#include "server/cli/cli.hpp"
#include "server/cli/gen_command.hpp"
#include "server/devtools/generator.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/devtools/scenarios.hpp"
#include "server/plan/job_plan.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "kafka_test_util.hpp"

namespace {

namespace devtools = sluice::server::devtools;
namespace kt = sluice::kafka_testing;
using sluice::server::devtools::GenerateStats;
using sluice::server::devtools::MockBroker;
using sluice::server::devtools::TopicGenerator;
using namespace std::chrono_literals;

std::filesystem::path temp_file(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("sluice-gen-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string json_lines(const devtools::Scenario& s, int64_t first, int64_t count) {
  std::string text;
  for (int64_t i = first; i < first + count; ++i) {
    s.append_json(i, text);
    text.push_back('\n');
  }
  return text;
}

std::string json_of(const devtools::Scenario& s, int64_t i) {
  std::string v;
  s.append_json(i, v);
  return v;
}

std::tuple<int, std::string, std::string> gen_cli(std::vector<const char*> args) {
  args.insert(args.begin(), {"sluice", "gen"});
  std::ostringstream out, err;
  int code = sluice::server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("write_file writes the scenarios' JSON lines byte for byte", "[gen]") {
  for (const auto& s : devtools::all_scenarios()) {
    INFO("scenario " << s.id);
    auto path = temp_file(s.id + ".jsonl");
    std::string expected = json_lines(s, 7, 3000);
    uint64_t bytes = sluice::server::devtools::write_file(s, path.string(), 7, 3000);
    CHECK(bytes == expected.size());
    CHECK(read_all(path) == expected);
  }
  // The command line writes the same bytes, and an empty range an empty file.
  auto path = temp_file("cli.jsonl");
  auto [code, out, err] =
      gen_cli({"--scenario", "S3a", "--records", "2500", "--first", "100", "--out", path.c_str()});
  CHECK(code == 0);
  CHECK(out.empty());
  CHECK(err.find("2500 records") != std::string::npos);
  CHECK(read_all(path) == json_lines(*devtools::find_scenario("S3a"), 100, 2500));
  CHECK(std::get<0>(gen_cli({"--scenario", "S0", "--records", "0", "--out", path.c_str()})) == 0);
  CHECK(read_all(path).empty());
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("write_file reports an unwritable path", "[gen]") {
  const auto& s0 = *devtools::find_scenario("S0");
  CHECK_THROWS_AS(sluice::server::devtools::write_file(s0, "/nonexistent-dir/x.jsonl", 0, 10),
                  sluice::Error);
  auto [code, out, err] =
      gen_cli({"--scenario", "S0", "--records", "10", "--out", "/nonexistent-dir/x.jsonl"});
  CHECK(code == 1);
  CHECK(err.find("cannot open '/nonexistent-dir/x.jsonl'") != std::string::npos);
}

TEST_CASE("scenario keys are the key column's text", "[gen]") {
  const std::map<std::string, std::string> key_column = {
      {"S0", ""}, {"S1", "symbol"}, {"S2", "symbol"}, {"S3a", "trader_id"}, {"S3b", "trader_id"}};
  REQUIRE(devtools::all_scenarios().size() == key_column.size());
  for (const auto& s : devtools::all_scenarios()) {
    INFO("scenario " << s.id);
    CHECK(s.key_column == key_column.at(s.id));
    CHECK(s.keyed() == !s.key_column.empty());
    CHECK(devtools::find_scenario(s.id) == &s);
    for (int64_t i : {0, 1, 19, 20, 199, 200, 12345}) {
      std::string_view key = s.key(i);
      if (!s.keyed()) {
        CHECK(key.empty());
        continue;
      }
      // The JSON value holds the key column as "column":"key".
      std::string field = "\"" + s.key_column + "\":\"" + std::string(key) + "\"";
      CHECK(json_of(s, i).find(field) != std::string::npos);
    }
  }
  CHECK(devtools::find_scenario("S2")->key(201) == "SYM1");
  CHECK(devtools::find_scenario("S3b")->key(21) == "TRADER1");
  CHECK(devtools::find_scenario("S4") == nullptr);
}

TEST_CASE("printed job files load and compile", "[gen]") {
  for (const auto& s : devtools::all_scenarios()) {
    INFO("scenario " << s.id);
    auto [code, yaml, err] = gen_cli({"--scenario", s.id.c_str(), "--print-job"});
    REQUIRE(code == 0);
    INFO(yaml);
    sluice::config::JobConfig job = sluice::config::load_job_text(yaml, s.id + ".yaml");
    CHECK_NOTHROW(sluice::server::compile_job(job));
    CHECK(job.source.type == "kafka");
    CHECK(job.source.name == s.source);
    CHECK(job.sql == s.sql + "\n");
    REQUIRE(job.source.schema.size() == s.columns.size());
    for (size_t c = 0; c < s.columns.size(); ++c) {
      CHECK(job.source.schema[c].name == s.columns[c].name);
      CHECK(job.source.schema[c].type == s.columns[c].type);
    }
    if (s.keyed()) {
      CHECK(job.source.partitioned_by == std::vector<std::string>{s.key_column});
      CHECK(job.sink.key == std::vector<std::string>{s.key_column});
    } else {
      CHECK(job.source.partitioned_by.empty());
    }
    CHECK(job.sink.type == "kafka");
    CHECK(job.sink.topic != job.source.topic);
    CHECK(job.kafka == sluice::config::KafkaProperties{{"auto.offset.reset", "earliest"}});
  }
  // Topic and bootstrap options go into the job.
  std::string yaml =
      sluice::server::scenario_job_yaml("S2", "trades", "127.0.0.1:9092,127.0.0.1:9093");
  sluice::config::JobConfig job = sluice::config::load_job_text(yaml, "s2.yaml");
  CHECK(job.name == "s2");
  CHECK(job.source.topic == "trades");
  CHECK(job.sink.topic == "s2-out");
  // The brokers are the server config's: named in a comment, not set in the job.
  CHECK(yaml.find("# brokers: the server config's kafka map sets them (bootstrap.servers: "
                  "'127.0.0.1:9092,127.0.0.1:9093')\n") != std::string::npos);
  CHECK(job.kafka == sluice::config::KafkaProperties{{"auto.offset.reset", "earliest"}});
  CHECK_NOTHROW(sluice::server::compile_job(job));
}

TEST_CASE("sluice gen usage errors exit 2", "[gen][cli]") {
  auto code_of = [](std::vector<const char*> args) {
    return std::get<0>(gen_cli(std::move(args)));
  };
  auto [code, out, err] = gen_cli({"--records", "10", "--out", "x"});
  CHECK(code == 2);
  CHECK(out.empty());
  CHECK(err.find("--scenario is required") != std::string::npos);
  CHECK(err.find("usage: sluice gen") != std::string::npos);
  CHECK(code_of({}) == 2);
  CHECK(code_of({"--scenario", "S9", "--records", "1", "--out", "x"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--out", "x"}) == 2);                      // no --records
  CHECK(code_of({"--scenario", "S0", "--records", "10"}) == 2);                 // no destination
  CHECK(code_of({"--scenario", "S0", "--records", "-1", "--out", "x"}) == 2);   // negative
  CHECK(code_of({"--scenario", "S0", "--records", "1e3", "--out", "x"}) == 2);  // not an integer
  CHECK(code_of({"--scenario", "S0", "--records", "1", "--out", "x", "--bootstrap", "h:1"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--records", "1", "--out", "x", "--rate", "5"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--records", "1", "--bootstrap", "h:1", "--rate", "x"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--records", "1", "--bootstrap", "h:1", "--property",
                 "novalue"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--print-job", "--records", "5"}) == 2);
  CHECK(code_of({"--scenario", "S0", "--records"}) == 2);  // missing value
  CHECK(code_of({"--scenario", "S0", "--fast"}) == 2);
  CHECK(code_of({"--scenario", "S0", "stray"}) == 2);
  // A property librdkafka rejects is a usage error too, found before any connection.
  CHECK(code_of({"--scenario", "S0", "--records", "1", "--bootstrap", "127.0.0.1:1", "--property",
                 "no.such.property=1"}) == 2);
  auto [hcode, hout, herr] = gen_cli({"--help"});
  CHECK(hcode == 0);
  CHECK(hout.find("usage: sluice gen") != std::string::npos);
}

TEST_CASE("TopicGenerator produces keyed S2 records to a 4-partition topic", "[kafka][gen]") {
  constexpr int kPartitions = 4;
  constexpr int64_t kRecords = 5000;
  constexpr int64_t kFirst = 1000;
  MockBroker broker;
  std::string bootstrap = broker.start(1, {{"s2-in", kPartitions}});
  const devtools::Scenario& s2 = *devtools::find_scenario("S2");
  std::atomic<bool> stop{false};
  TopicGenerator gen(s2, bootstrap, "s2-in");
  gen.check_reachable(5s);
  GenerateStats stats = gen.produce(kFirst, kRecords, 0, stop, 20s);
  CHECK(stats.ok());
  CHECK(stats.produced == kRecords);
  CHECK(stats.delivered == kRecords);
  CHECK(stats.delivery_errors == 0);
  CHECK(stats.first_error.empty());
  CHECK_FALSE(stats.stopped);

  std::vector<kt::Message> got = kt::consume(bootstrap, "s2-in", kPartitions, kRecords, 20s);
  REQUIRE(got.size() == kRecords);
  // S2 values repeat every 1,000 records, so check per key: a key's records arrive in produce
  // order (one partition each), so its values must be exactly the scenario's, in order.
  std::map<std::string, std::vector<std::string>> expected_by_key;
  for (int64_t i = kFirst; i < kFirst + kRecords; ++i)
    expected_by_key[std::string(s2.key(i))].push_back(json_of(s2, i));
  std::map<std::string, std::vector<std::string>> got_by_key;
  std::map<std::string, int32_t> key_partition;
  std::set<int32_t> partitions_used;
  for (const auto& m : got) {
    got_by_key[m.key].push_back(m.value);
    auto [kp, first_of_key] = key_partition.emplace(m.key, m.partition);
    CHECK(kp->second == m.partition);  // each key stays on one partition
    partitions_used.insert(m.partition);
  }
  CHECK(key_partition.size() == 200);
  CHECK(got_by_key == expected_by_key);
  CHECK(partitions_used.size() == kPartitions);
}

TEST_CASE("TopicGenerator sends S0 with a null key, paces, and stops", "[kafka][gen]") {
  MockBroker broker;
  std::string bootstrap = broker.start(1, {{"s0-in", 1}});
  const devtools::Scenario& s0 = *devtools::find_scenario("S0");
  TopicGenerator gen(s0, bootstrap, "s0-in");
  std::atomic<bool> stop{false};
  auto start = std::chrono::steady_clock::now();
  GenerateStats paced = gen.produce(0, 300, 1000, stop);  // 300 records at 1000/s: >= 0.299 s
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(paced.ok());
  CHECK(paced.delivered == 300);
  CHECK(took >= 290ms);
  CHECK(took < 5s);

  stop = true;
  GenerateStats stopped = gen.produce(300, 1000, 0, stop);
  CHECK(stopped.stopped);
  CHECK(stopped.produced == 0);
  CHECK(stopped.ok());

  std::vector<kt::Message> got = kt::consume(bootstrap, "s0-in", 1, 300, 15s);
  REQUIRE(got.size() == 300);
  for (size_t k = 0; k < got.size(); ++k) {
    CHECK(got[k].key.empty());
    CHECK(got[k].value == json_of(s0, static_cast<int64_t>(k)));
  }
}

TEST_CASE("TopicGenerator counts undeliverable records and reports unreachable brokers",
          "[kafka][gen]") {
  MockBroker broker;
  std::string bootstrap = broker.start(1, {});
  broker.stop();  // nothing listens on that port any more
  const devtools::Scenario& s2 = *devtools::find_scenario("S2");
  TopicGenerator gen(s2, bootstrap, "s2-in", {{"message.timeout.ms", "500"}});
  try {
    gen.check_reachable(500ms);
    FAIL("check_reachable did not throw");
  } catch (const sluice::Error& e) {
    CHECK(e.code() == sluice::ErrorCode::kIo);
    CHECK(std::string(e.what()).find(bootstrap) != std::string::npos);
  }
  std::atomic<bool> stop{false};
  GenerateStats stats = gen.produce(0, 100, 0, stop, 5s);
  CHECK_FALSE(stats.ok());
  CHECK(stats.produced == 100);
  CHECK(stats.delivered == 0);
  CHECK(stats.delivery_errors == 100);
  CHECK_FALSE(stats.first_error.empty());
  CHECK(stats.seconds < 10);
}

TEST_CASE("sluice gen --bootstrap produces and summarises", "[kafka][gen][cli]") {
  MockBroker broker;
  std::string bootstrap = broker.start(1, {{"s3-in", 2}});
  auto [code, out, err] = gen_cli({"--scenario", "S3b", "--records", "700", "--first", "50",
                                   "--bootstrap", bootstrap.c_str(), "--topic", "s3-in"});
  CHECK(code == 0);
  CHECK(out.empty());
  CHECK(err.find("700 records to topic 's3-in', 700 delivered, 0 delivery errors") !=
        std::string::npos);
  std::vector<kt::Message> got = kt::consume(bootstrap, "s3-in", 2, 700, 15s);
  REQUIRE(got.size() == 700);
  const devtools::Scenario& s3b = *devtools::find_scenario("S3b");
  std::multiset<std::string> expected, values;
  for (int64_t i = 50; i < 750; ++i)
    expected.insert(std::string(s3b.key(i)) + " " + json_of(s3b, i));
  for (const auto& m : got)
    values.insert(m.key + " " + m.value);
  CHECK(values == expected);
}
