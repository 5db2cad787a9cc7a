#include "config/job_config.hpp"
#include "config/yaml_reader_impl.hpp"
#include "types/data_type.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using sluice::ErrorCode;
using sluice::Location;
using sluice::config::ConfigError;
using sluice::config::JobConfig;
using sluice::config::load_job_file;
using sluice::config::load_job_text;
using sluice::config::Mark;
using sluice::config::OnError;
using sluice::format::TimestampInput;
using sluice::format::TimestampOutput;
using sluice::types::DataType;

namespace {

// The error text of loading `text` as "job.yaml"; fails the test when it loads.
std::string errors_of(const std::string& text) {
  try {
    load_job_text(text, "job.yaml");
  } catch (const ConfigError& e) {
    CHECK(e.code() == ErrorCode::kConfig);
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

// Sections of a minimal valid job; tests append the section they are about.
const std::string kSource =
    "source:\n"
    "  type: file\n"
    "  path: data/trades.jsonl\n"
    "  schema:\n"
    "    symbol: STRING\n";
const std::string kSourceAndSink = kSource + "sink:\n  type: stdout\n";

const std::string kValidHead = "name: j\nsql: SELECT 1\n";

std::string show(Mark m) {
  return std::to_string(m.line) + ":" + std::to_string(m.column);
}

}  // namespace

TEST_CASE("a complete job file loads with every value", "[config]") {
  const std::string text =
      "name: trades-by-symbol\n"               // 1
      "sql: |\n"                               // 2
      "  SELECT symbol, COUNT(*) AS trades\n"  // 3
      "  FROM trades GROUP BY symbol\n"        // 4
      "on_error: fail\n"                       // 5
      "source:\n"                              // 6
      "  name: trades_in\n"                    // 7
      "  type: file\n"                         // 8
      "  path: data/trades.jsonl\n"            // 9
      "  format: json\n"                       // 10
      "  timestamp_format: epoch_seconds\n"    // 11
      "  schema:\n"                            // 12
      "    symbol: STRING\n"                   // 13
      "    price: DECIMAL(18,4)\n"             // 14
      "    ts: TIMESTAMP\n"                    // 15
      "sink:\n"                                // 16
      "  type: file\n"                         // 17
      "  path: ../out/x.jsonl\n"               // 18
      "  format: json\n"                       // 19
      "  timestamp_format: epoch_millis\n"     // 20
      "dead_letter:\n"                         // 21
      "  type: file\n"                         // 22
      "  path: /var/dlq/x.dlq.jsonl\n";        // 23
  JobConfig job = load_job_text(text, "jobs/prod/t.yaml");
  CHECK(job.file == "jobs/prod/t.yaml");
  CHECK(job.name == "trades-by-symbol");
  CHECK(job.sql == "SELECT symbol, COUNT(*) AS trades\nFROM trades GROUP BY symbol\n");
  CHECK(job.on_error == OnError::kFail);
  CHECK(job.source.name == "trades_in");
  CHECK(job.source.type == "file");
  CHECK(job.source.path == "jobs/prod/data/trades.jsonl");
  CHECK(job.source.format == "json");
  CHECK(job.source.timestamp_input == TimestampInput::kEpochSeconds);
  REQUIRE(job.source.schema.size() == 3);
  CHECK(job.source.schema[0].name == "symbol");
  CHECK(job.source.schema[0].type == DataType::string());
  CHECK(job.source.schema[1].name == "price");
  CHECK(job.source.schema[1].type == DataType::decimal(18, 4));
  CHECK(job.source.schema[2].name == "ts");
  CHECK(job.source.schema[2].type == DataType::timestamp());
  REQUIRE(job.source.schema_marks.size() == 3);
  CHECK(show(job.source.schema_marks[1]) == "14:12");
  CHECK(show(job.source.mark) == "7:3");
  CHECK(job.sink.type == "file");
  CHECK(job.sink.path == "jobs/out/x.jsonl");
  CHECK(job.sink.timestamp_format == TimestampOutput::kEpochMillis);
  CHECK(show(job.sink.mark) == "17:3");
  REQUIRE(job.dead_letter.has_value());
  CHECK(job.dead_letter->type == "file");
  CHECK(job.dead_letter->path == "/var/dlq/x.dlq.jsonl");
}

TEST_CASE("optional keys take their defaults", "[config]") {
  JobConfig job = load_job_text(kValidHead + kSourceAndSink, "job.yaml");
  CHECK(job.on_error == OnError::kSkip);
  CHECK(job.source.name == "trades");  // the stem of data/trades.jsonl
  CHECK(job.source.path == "data/trades.jsonl");
  CHECK(job.source.format == "json");
  CHECK(job.source.timestamp_input == TimestampInput::kAuto);
  CHECK(job.sink.type == "stdout");
  CHECK(job.sink.path.empty());
  CHECK(job.sink.format == "json");
  CHECK(job.sink.timestamp_format == TimestampOutput::kIso8601);
  CHECK_FALSE(job.dead_letter.has_value());

  SECTION("on_error defaults to dead_letter when there is a dead_letter section") {
    JobConfig dlq = load_job_text(
        kValidHead + kSourceAndSink + "dead_letter:\n  type: file\n  path: x.dlq\n", "job.yaml");
    CHECK(dlq.on_error == OnError::kDeadLetter);
    CHECK(dlq.dead_letter->path == "x.dlq");
    JobConfig skip = load_job_text(
        kValidHead + "on_error: skip\n" + kSourceAndSink + "dead_letter:\n  type: stdout\n",
        "job.yaml");
    CHECK(skip.on_error == OnError::kSkip);
  }
}

TEST_CASE("relative paths resolve against the job file's directory", "[config]") {
  auto source_path = [](const std::string& path, const std::string& file) {
    std::string text = kValidHead + "source:\n  type: file\n  path: " + path +
                       "\n  schema: {a: INT}\nsink: {type: stdout}\n";
    return load_job_text(text, file).source.path;
  };
  CHECK(source_path("in.jsonl", "job.yaml") == "in.jsonl");
  CHECK(source_path("in.jsonl", "jobs/job.yaml") == "jobs/in.jsonl");
  CHECK(source_path("../data/in.jsonl", "/etc/sluice/jobs/job.yaml") ==
        "/etc/sluice/data/in.jsonl");
  CHECK(source_path("/data/in.jsonl", "jobs/job.yaml") == "/data/in.jsonl");
}

TEST_CASE("load_job_file reads the file and resolves paths next to it", "[config]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sluice_config_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "job.yaml";
  std::ofstream(file) << kValidHead << kSourceAndSink;
  JobConfig job = load_job_file(file.string());
  CHECK(job.source.path == (dir / "data/trades.jsonl").string());
  CHECK(job.source.name == "trades");
  fs::remove_all(dir);

  try {
    load_job_file((dir / "missing.yaml").string());
    FAIL("expected an error");
  } catch (const sluice::Error& e) {
    CHECK(e.code() == ErrorCode::kIo);
    CHECK(std::string(e.what()) == "cannot read job file '" + (dir / "missing.yaml").string() +
                                       "': No such file or directory");
  }
}

TEST_CASE("unknown keys are reported with a did-you-mean hint", "[config]") {
  CHECK(errors_of(kValidHead + "soruce:\n  type: file\n" + "sink: {type: stdout}\n") ==
        "job.yaml:1:1: missing required key 'source'\n"
        "job.yaml:3:1: unknown key 'soruce' (did you mean 'source'?)");
  CHECK(errors_of(kValidHead + kSourceAndSink + "colour: red\n") ==
        "job.yaml:10:1: unknown key 'colour'");
  CHECK(errors_of(kValidHead + "source:\n  type: file\n  pth: a.jsonl\n  schema: {a: INT}\n"
                               "sink: {type: stdout, timestamp_fromat: iso8601}\n") ==
        "job.yaml:4:3: source: missing required key 'path'\n"
        "job.yaml:5:3: source: unknown key 'pth' (did you mean 'path'?)\n"
        "job.yaml:7:22: sink: unknown key 'timestamp_fromat' (did you mean 'timestamp_format'?)");
}

TEST_CASE("missing required keys are reported at their parent map", "[config]") {
  CHECK(errors_of("name: j\nsink: {type: stdout}\n") ==
        "job.yaml:1:1: missing required key 'sql'\n"
        "job.yaml:1:1: missing required key 'source'");
  CHECK(errors_of(kValidHead + "source:\n  path: a.jsonl\nsink:\n  path: b\n") ==
        "job.yaml:4:3: source: missing required key 'type'\n"
        "job.yaml:4:3: source: missing required key 'schema'\n"
        "job.yaml:6:3: sink: missing required key 'type'");
}

TEST_CASE("values of the wrong shape are reported with what was found", "[config]") {
  const std::string sink = "sink: {type: stdout}\n";
  CHECK(errors_of(kValidHead + "source: [a, b]\n" + sink) ==
        "job.yaml:3:9: source: expected a map, found a sequence");
  CHECK(errors_of("name: [x]\nsql: SELECT 1\n" + kSourceAndSink) ==
        "job.yaml:1:7: name: expected a string, found a sequence");
  CHECK(errors_of("name: j\nsql:\n" + kSourceAndSink) ==
        "job.yaml:2:1: sql: expected a string, found an empty value");
  CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  schema:\n" + sink) ==
        "job.yaml:6:3: source.schema: expected a map, found an empty value");
  CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  schema: {}\n" + sink) ==
        "job.yaml:6:11: source.schema: expected at least one column");
  CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  schema: {a: [INT]}\n" + sink) ==
        "job.yaml:6:15: source.schema.a: expected a type name, found a sequence");
  CHECK(errors_of(kValidHead + kSourceAndSink + "dead_letter: stdout\n") ==
        "job.yaml:10:14: dead_letter: expected a map, found 'stdout'");
}

TEST_CASE("bad values are quoted in the message", "[config]") {
  SECTION("unknown schema type carries parse_type_name's reason") {
    std::string reason;
    REQUIRE_FALSE(sluice::types::parse_type_name("DECIMAL(40,2)", &reason));
    CHECK(errors_of(kValidHead +
                    "source:\n  type: file\n  path: a\n  schema:\n"
                    "    id: BIGINT\n    price: DECIMAL(40,2)\nsink: {type: stdout}\n") ==
          "job.yaml:8:12: source.schema.price: unknown type 'DECIMAL(40,2)'" +
              (reason.empty() ? "" : ": " + reason));
  }
  SECTION("choices list what is expected") {
    CHECK(errors_of(kValidHead + "on_error: retry\n" + kSourceAndSink) ==
          "job.yaml:3:11: on_error: 'retry' is not an on_error policy (expected dead_letter, skip "
          "or fail)");
    CHECK(errors_of(kValidHead + kSourceAndSink + "dead_letter: {type: kafak}\n") ==
          "job.yaml:10:21: dead_letter.type: 'kafak' is not a sink type (expected file, stdout or "
          "kafka)");
    CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  timestamp_format: unix\n"
                                 "  schema: {a: INT}\nsink:\n  type: stdout\n  format: csv\n") ==
          "job.yaml:6:21: source.timestamp_format: 'unix' is not a timestamp format (expected "
          "auto, epoch_millis, epoch_seconds or iso8601)\n"
          "job.yaml:10:11: sink.format: 'csv' is not a format (expected json, avro, json_sr or "
          "protobuf)");
  }
  SECTION("avro is a format of Kafka topics, and not of dead letters") {
    CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  format: avro\n" +
                    "  schema: {a: INT}\nsink: {type: stdout, format: avro}\n" +
                    "dead_letter: {type: kafka, topic: d, format: avro}\n") ==
          "job.yaml:6:11: source.format: avro values are read and written in the Schema Registry "
          "wire format, which Kafka topics carry; a file endpoint takes json\n"
          "job.yaml:8:30: sink.format: avro values are read and written in the Schema Registry "
          "wire format, which Kafka topics carry; a stdout endpoint takes json\n"
          "job.yaml:9:46: dead_letter.format: a dead letter keeps the record's own bytes");
    sluice::config::JobConfig ok = load_job_text(
        kValidHead + "source: {type: kafka, topic: t, format: avro, schema: {a: INT}}\n" +
            "sink: {type: kafka, topic: o, format: avro}\n",
        "job.yaml");
    CHECK(ok.source.format == "avro");
    CHECK(ok.sink.format == "avro");
  }
  SECTION("a sink's subjects: where a schema is registered, with a subject's name") {
    sluice::config::JobConfig ok = load_job_text(
        kValidHead + "source: {type: kafka, topic: t, schema: {a: INT}}\n" +
            "sink: {type: kafka, topic: o, format: protobuf, value_subject: shop.Out, key: [a], "
            "key_format: avro, key_subject: o-key.v2}\n",
        "job.yaml");
    CHECK(ok.sink.value_subject == "shop.Out");
    CHECK(ok.sink.key_subject == "o-key.v2");
    CHECK(errors_of(kValidHead + "source: {type: kafka, topic: t, schema: {a: INT}}\n" +
                    "sink: {type: kafka, topic: o, value_subject: x, key_subject: y, key: [a]}\n" +
                    "dead_letter: {type: kafka, topic: d, value_subject: z}\n") ==
          "job.yaml:4:46: sink.value_subject: needs a format whose schema is registered (avro, "
          "json_sr, protobuf)\n"
          "job.yaml:4:62: sink.key_subject: needs key_format: avro or protobuf\n"
          "job.yaml:5:38: dead_letter: unknown key 'value_subject'");
    CHECK(errors_of(kValidHead + "source: {type: kafka, topic: t, schema: {a: INT}}\n" +
                    "sink: {type: kafka, topic: o, format: avro, value_subject: 'a/b'}\n") ==
          "job.yaml:4:60: sink.value_subject: 'a/b' is not a subject name (use 1 to 255 "
          "letters, digits, '.', '_' and '-')");
  }
  SECTION("protobuf is a format of Kafka topics") {
    CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  format: protobuf\n" +
                    "  schema: {a: INT}\nsink: {type: stdout, format: protobuf}\n") ==
          "job.yaml:6:11: source.format: protobuf values are read and written in the Schema "
          "Registry wire format, which Kafka topics carry; a file endpoint takes json\n"
          "job.yaml:8:30: sink.format: protobuf values are read and written in the Schema "
          "Registry wire format, which Kafka topics carry; a stdout endpoint takes json");
    sluice::config::JobConfig ok = load_job_text(
        kValidHead + "source: {type: kafka, topic: t, format: protobuf, schema: {a: INT}}\n" +
            "sink: {type: kafka, topic: o, format: protobuf}\n",
        "job.yaml");
    CHECK(ok.source.format == "protobuf");
    CHECK(ok.sink.format == "protobuf");
    CHECK(ok.sink.value_subject.empty());
    CHECK(sluice::config::registry_type(ok.source.format) == "PROTOBUF");
    CHECK(sluice::config::registry_type("json").empty());
  }
  SECTION("job name, empty sql and paths") {
    CHECK(errors_of("name: trades by symbol\nsql: \"  \"\n" + kSourceAndSink) ==
          "job.yaml:1:7: name: 'trades by symbol' is not a valid job name (use 1 to 200 letters, "
          "digits, '.', '_' and '-', not starting with '.' or '-')\n"
          "job.yaml:2:6: sql: the query is empty");
    CHECK_THAT(errors_of("name: " + std::string(201, 'a') + "\nsql: x\n" + kSourceAndSink),
               Catch::Contains("is not a valid job name"));
    CHECK(load_job_text("name: " + std::string(200, 'a') + "\nsql: x\n" + kSourceAndSink, "j")
              .name.size() == 200);
    CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: ''\n  schema: {a: INT}\n" +
                    "sink:\n  type: stdout\n  path: out.jsonl\n") ==
          "job.yaml:5:9: source.path: must not be empty\n"
          "job.yaml:9:9: sink.path: not allowed when type is 'stdout'");
    CHECK(errors_of(kValidHead + kSource + "sink: {type: file}\n") ==
          "job.yaml:8:7: sink: missing required key 'path'");
  }
  SECTION("on_error: dead_letter needs a dead_letter section") {
    CHECK(errors_of(kValidHead + "on_error: dead_letter\n" + kSourceAndSink) ==
          "job.yaml:3:11: on_error: 'dead_letter' needs a dead_letter section");
  }
}

TEST_CASE("job names: one rule, safe as a file name, consumer group, client.id and topic prefix",
          "[config]") {
  // A name becomes <jobs_dir>/<name>.yaml, the consumer group, the client.id, a metric label and
  // the topic <name>-repartition (at most 249 characters in Kafka).
  for (std::string bad :
       {".", "..", "-x", ".hidden", "-", "a/b", "../x", "a b", "é", "a:b", "a*"}) {
    INFO(bad);
    CHECK(errors_of("name: '" + bad + "'\nsql: SELECT 1\n" + kSourceAndSink) ==
          "job.yaml:1:7: name: '" + bad +
              "' is not a valid job name (use 1 to 200 letters, digits, '.', '_' and '-', not "
              "starting with '.' or '-')");
  }
  for (std::string good : {"a", "A9", "_x", "x.y", "x-", "trades-by_symbol.v2", "9"}) {
    INFO(good);
    CHECK(load_job_text("name: '" + good + "'\nsql: SELECT 1\n" + kSourceAndSink, "j").name ==
          good);
  }
}

TEST_CASE("a YAML document nested too deeply is reported with the depth, the limit and where",
          "[config]") {
  constexpr size_t kMaxYamlDepth = 64;  // config/yaml_reader_impl.hpp, documented in README
  // The root map is level 1; `name: [[[...` puts the first '[' at level 2, on column 7.
  for (size_t n : {kMaxYamlDepth, size_t{600}, size_t{100000}}) {
    INFO(n);
    std::string text = "name: " + std::string(n, '[') + std::string(n, ']') + "\nsql: x\n";
    CHECK(errors_of(text) ==
          fmt::format("job.yaml:1:{}: the YAML document nests deeper than {} levels (a sequence "
                      "at level {})",
                      7 + kMaxYamlDepth - 1, kMaxYamlDepth, kMaxYamlDepth + 1));
  }
  // Block maps, one per line, under the root's `kafka:` (line 10): the map on line 11 + i, with
  // its key at column i + 3, is level i + 2. A block map starts at its first key.
  std::string block = kValidHead + kSourceAndSink + "kafka:\n";
  for (size_t i = 0; i < 3 * kMaxYamlDepth; ++i)
    block += std::string(i + 2, ' ') + "a:\n";
  size_t i = kMaxYamlDepth - 1;
  CHECK(errors_of(block) ==
        fmt::format("job.yaml:{}:{}: the YAML document nests deeper than {} levels (a map at "
                    "level {})",
                    11 + i, i + 3, kMaxYamlDepth, kMaxYamlDepth + 1));
  // Flow maps: the first '{' is level 2 on column 8, and each next one 4 columns further.
  std::string flow = "name: j\nkafka: ";
  for (size_t k = 0; k < 1000; ++k)
    flow += "{a: ";
  CHECK(errors_of(flow + "1" + std::string(1000, '}') + "\n") ==
        fmt::format("job.yaml:2:{}: the YAML document nests deeper than {} levels (a map at level "
                    "{})",
                    8 + 4 * (kMaxYamlDepth - 1), kMaxYamlDepth, kMaxYamlDepth + 1));
  // Above yaml-cpp's own recursion limit (when a caller allows more), its error is explained too;
  // its position is where yaml-cpp's scanner was (here past the brackets), so only the file is
  // checked.
  {
    sluice::config::IssueList issues("deep.yaml");
    std::string text = std::string(900, '[') + std::string(900, ']') + "\n";
    CHECK_FALSE(sluice::config::parse_document(text, issues, 1000));
    try {
      issues.throw_if_any();
      FAIL("expected an issue");
    } catch (const ConfigError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("deep.yaml:") &&
                               Catch::EndsWith(": the YAML document nests deeper than the YAML "
                                               "parser's limit of 500 levels"));
    }
  }
  // At the limit it loads (and is then checked as usual).
  std::string at_limit = "name: " + std::string(kMaxYamlDepth - 1, '[') +
                         std::string(kMaxYamlDepth - 1, ']') + "\nsql: x\n";
  CHECK_THAT(errors_of(at_limit), Catch::Contains("job.yaml:1:7: name: expected a string"));
}

TEST_CASE("duplicate keys are reported", "[config]") {
  CHECK(errors_of(kValidHead + "name: k\n" + kSourceAndSink) ==
        "job.yaml:3:1: duplicate key 'name'");
  CHECK(errors_of(kValidHead + "source:\n  type: file\n  path: a\n  schema:\n    a: INT\n"
                               "    a: STRING\nsink: {type: stdout}\n") ==
        "job.yaml:8:5: source.schema: duplicate key 'a'");
}

TEST_CASE("broken documents are reported with a position", "[config]") {
  CHECK(errors_of("") ==
        "job.yaml:1:1: the file is empty (expected a map with name, sql, source and sink)");
  CHECK(errors_of("# only a comment\n") ==
        "job.yaml:1:1: the file is empty (expected a map with name, sql, source and sink)");
  CHECK(errors_of("- name: j\n- sql: x\n") == "job.yaml:1:1: expected a map, found a sequence");
  CHECK(errors_of("hello\n") == "job.yaml:1:1: expected a map, found 'hello'");
  CHECK(errors_of(",\nname: j\n") == "job.yaml:1:1: expected a map, found an empty value");
  CHECK(errors_of("name: j\nsql: [SELECT 1\nsource: x\n") ==
        "job.yaml:3:7: end of sequence flow not found");
  CHECK(errors_of("name: j\n  sql: x\n") == "job.yaml:2:6: illegal map value");
  CHECK(errors_of(kValidHead + kSourceAndSink + "---\nname: k\n") ==
        "job.yaml:10:1: expected one YAML document, found a second one");
}

TEST_CASE("every problem of a file is reported at once, in file order", "[config]") {
  const std::string text =
      "name: j\n"           // 1
      "sql: SELECT 1\n"     // 2
      "sink:\n"             // 3
      "  type: kafak\n"     // 4
      "source:\n"           // 5
      "  type: file\n"      // 6
      "  schema:\n"         // 7
      "    price: MONEY\n"  // 8
      "    qty: INT\n"      // 9
      "on_eror: fail\n";    // 10
  try {
    load_job_text(text, "j.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.issues().size() == 4);
    CHECK(e.issues()[0].to_string() ==
          "j.yaml:4:9: sink.type: 'kafak' is not a sink type (expected file, stdout or kafka)");
    CHECK(e.issues()[1].to_string() == "j.yaml:6:3: source: missing required key 'path'");
    CHECK(e.issues()[2].key_path == "source.schema.price");
    CHECK(show(e.issues()[2].mark) == "8:12");
    CHECK(e.issues()[3].to_string() ==
          "j.yaml:10:1: unknown key 'on_eror' (did you mean 'on_error'?)");
    std::string joined;
    for (const auto& issue : e.issues())
      joined += (joined.empty() ? "" : "\n") + issue.to_string();
    CHECK(std::string(e.what()) == joined);
  }
}

TEST_CASE("issues print without the parts they lack", "[config]") {
  sluice::config::ConfigIssue issue{"a.yaml", {3, 4}, "", "bad"};
  CHECK(issue.to_string() == "a.yaml:3:4: bad");
  issue.mark = {};
  issue.key_path = "sink";
  CHECK(issue.to_string() == "a.yaml: sink: bad");
}

namespace {

JobConfig with_sql(const std::string& sql_part) {
  return load_job_text("name: j\n" + sql_part + kSourceAndSink, "job.yaml");
}

std::string file_pos(const JobConfig& job, uint32_t line, uint32_t column) {
  return show(job.sql_to_file(Location{line, column}));
}

}  // namespace

TEST_CASE("sql_to_file maps literal block SQL to the file", "[config]") {
  JobConfig job = with_sql(
      "sql: |   # the query\n"  // 2
      "    SELECT a,\n"         // 3
      "      b\n"               // 4
      "\n"                      // 5
      "    FROM trades\n");     // 6
  REQUIRE(job.sql == "SELECT a,\n  b\n\nFROM trades\n");
  CHECK(job.sql_origin.block);
  CHECK(job.sql_origin.block_indent == 4);
  CHECK(show(job.sql_origin.first_char) == "3:5");
  CHECK(file_pos(job, 1, 1) == "3:5");
  CHECK(file_pos(job, 1, 8) == "3:12");
  CHECK(file_pos(job, 2, 3) == "4:7");
  CHECK(file_pos(job, 3, 1) == "5:5");  // the blank line
  CHECK(file_pos(job, 4, 6) == "6:10");
  CHECK(file_pos(job, 5, 1) == "7:5");  // end of the text
  CHECK(file_pos(job, 0, 0) == "0:0");

  JobConfig explicit_indent = with_sql("sql: |2-\n    SELECT 1\n");
  CHECK(explicit_indent.sql == "  SELECT 1");
  CHECK(file_pos(explicit_indent, 1, 3) == "3:5");
}

TEST_CASE("sql_to_file maps folded block SQL to the file", "[config]") {
  JobConfig job = with_sql(
      "sql: >\n"           // 2
      "  SELECT a\n"       // 3
      "  FROM t\n"         // 4
      "\n"                 // 5
      "  WHERE a > 1\n");  // 6
  REQUIRE(job.sql == "SELECT a FROM t\nWHERE a > 1\n");
  CHECK(file_pos(job, 1, 1) == "3:3");
  CHECK(file_pos(job, 1, 10) == "4:3");
  CHECK(file_pos(job, 1, 15) == "4:8");
  CHECK(file_pos(job, 2, 7) == "6:9");
}

TEST_CASE("sql_to_file maps plain and quoted SQL to the file", "[config]") {
  JobConfig plain = with_sql("sql: SELECT a FROM t   # comment\n");
  REQUIRE(plain.sql == "SELECT a FROM t");
  CHECK_FALSE(plain.sql_origin.block);
  CHECK(file_pos(plain, 1, 1) == "2:6");
  CHECK(file_pos(plain, 1, 15) == "2:20");

  JobConfig quoted = with_sql("sql:   \"SELECT a FROM t\"\n");
  CHECK(file_pos(quoted, 1, 1) == "2:9");
  CHECK(file_pos(quoted, 1, 10) == "2:18");

  JobConfig single = with_sql("sql: 'SELECT ''x'' AS s'\n");
  REQUIRE(single.sql == "SELECT 'x' AS s");
  CHECK(file_pos(single, 1, 3) == "2:9");

  JobConfig multi = with_sql(
      "sql: SELECT a\n"    // 2
      "       FROM t\n");  // 3
  REQUIRE(multi.sql == "SELECT a FROM t");
  CHECK(file_pos(multi, 1, 8) == "2:13");
  CHECK(file_pos(multi, 1, 10) == "3:8");

  // Escapes: line 1 is exact up to the first escape, later lines keep their column.
  JobConfig escaped = with_sql("sql: \"SELECT a\\nFROM t\"\n");
  REQUIRE(escaped.sql == "SELECT a\nFROM t");
  CHECK(file_pos(escaped, 1, 3) == "2:9");
  CHECK(file_pos(escaped, 2, 1) == "3:1");
}

TEST_CASE("a type split by a flow map's comma gets a quoting hint", "[config]") {
  const std::string yaml =
      "name: j\n"
      "sql: SELECT a FROM s\n"
      "source: {name: s, type: file, path: in.jsonl, schema: {a: DECIMAL(18,4)}}\n"
      "sink: {type: stdout}\n";
  try {
    sluice::config::load_job_text(yaml, "job.yaml");
    FAIL("expected a ConfigError");
  } catch (const sluice::config::ConfigError& e) {
    std::string what = e.what();
    CHECK(what.find("source.schema.a: unknown type 'DECIMAL(18'") != std::string::npos);
    CHECK(what.find("quote the type, as in 'DECIMAL(18,4)'") != std::string::npos);
  }
}
