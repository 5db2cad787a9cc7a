// The server config file (config/server_config.*), ${ENV} substitution (config/env_subst.*), the
// Kafka keys of job files, and how `sluice run` / `sluice validate` treat Kafka jobs.

#include "config/server_config.hpp"

#include "config/env_subst.hpp"
#include "config/job_config.hpp"
#include "server/cli/cli.hpp"
#include "server/run/file_run.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config_test_util.hpp"

using sluice::Error;
using sluice::ErrorCode;
using sluice::config::ConfigError;
using sluice::config::EnvLookup;
using sluice::config::JobConfig;
using sluice::config::KafkaProperties;
using sluice::config::load_job_text;
using sluice::config::load_server_file;
using sluice::config::load_server_text;
using sluice::config::ServerConfig;

using namespace sluice::config::testing;

namespace {

std::filesystem::path temp_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("sluice-server-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

struct CliResult {
  int code;
  std::string out, err;
};

CliResult cli(std::vector<const char*> args) {
  args.insert(args.begin(), "sluice");
  std::ostringstream out, err;
  int code = sluice::server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
  return {code, out.str(), err.str()};
}

// A valid Kafka job: kafka source, sink and dead-letter topic; tests edit it.
const std::string kKafkaJob =
    "name: trades-agg\n"                                               // 1
    "sql: SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol\n"  // 2
    "source:\n"                                                        // 3
    "  type: kafka\n"                                                  // 4
    "  topic: trades\n"                                                // 5
    "  format: json\n"                                                 // 6
    "  schema: {symbol: STRING, price: DOUBLE}\n"                      // 7
    "  partitioned_by: [symbol]\n"                                     // 8
    "sink:\n"                                                          // 9
    "  type: kafka\n"                                                  // 10
    "  topic: trades-agg\n"                                            // 11
    "  key: [symbol]\n"                                                // 12
    "dead_letter: {type: kafka, topic: trades.dlq}\n"                  // 13
    "kafka:\n"                                                         // 14
    "  auto.offset.reset: earliest\n"                                  // 15
    "  fetch.min.bytes: 1\n";                                          // 16

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Server config

TEST_CASE("a complete server config loads with every value", "[config]") {
  const std::string text =
      "kafka:\n"
      "  bootstrap.servers: ${KAFKA_BROKERS:-localhost:9092}\n"
      "  security.protocol: ${PROTO}\n"
      "  linger.ms: 5\n"
      "jobs_dir: jobs/\n"
      "http: { listen: '0.0.0.0:9100' }\n"
      "threads: 4\n"
      "state_dir: /var/lib/sluice\n"
      "state_snapshot_interval: 250ms\n";
  ServerConfig c =
      load_server_text(text, "/etc/sluice/sluice.yaml", env_of({{"PROTO", "plaintext"}}));
  CHECK(c.file == "/etc/sluice/sluice.yaml");
  CHECK(c.kafka == KafkaProperties{{"bootstrap.servers", "localhost:9092"},
                                   {"security.protocol", "plaintext"},
                                   {"linger.ms", "5"}});
  CHECK(c.jobs_dir == "/etc/sluice/jobs/");
  CHECK(c.http.host == "0.0.0.0");
  CHECK(c.http.port == 9100);
  CHECK(c.http.mark.line == 6);
  CHECK(c.threads == 4);
  CHECK(c.effective_threads() == 4);
  CHECK(c.state_dir == "/var/lib/sluice");
  CHECK(c.state_snapshot_interval_ms == 250);
}

TEST_CASE("the README's server config loads as written", "[config]") {
  const std::string text =
      "kafka:                          # librdkafka defaults for every job\n"
      "  bootstrap.servers: ${KAFKA_BROKERS:-localhost:9092}\n"
      "jobs_dir: jobs/                 # every *.yaml in it is a job\n"
      "http: { listen: 127.0.0.1:9464 }   # metrics and admin API\n"
      "threads: 0                      # 0 (the default) = one per core\n"
      "state_dir: /var/lib/sluice\n"
      "state_snapshot_interval: 5s     # how often durable state is saved\n";
  ServerConfig c = load_server_text(text, "sluice.yaml", env_of({{"KAFKA_BROKERS", "k:1,k:2"}}));
  CHECK(c.kafka == KafkaProperties{{"bootstrap.servers", "k:1,k:2"}});
  CHECK(c.jobs_dir == "jobs/");
  CHECK(c.http.host == "127.0.0.1");
  CHECK(c.http.port == 9464);
  CHECK(c.threads == 0);
  CHECK(c.state_dir == "/var/lib/sluice");
}

TEST_CASE("every server key has a default; directories resolve next to the file", "[config]") {
  for (const std::string text : {"", "# nothing yet\n", "---\n"}) {
    ServerConfig c = load_server_text(text, "conf/sluice.yaml", kNoEnv);
    CHECK(c.kafka.empty());
    CHECK(c.jobs_dir == "conf/jobs");
    CHECK(c.state_dir == "conf/state");
    CHECK(c.state_snapshot_interval_ms == 5000);
    CHECK(c.http.host == "127.0.0.1");
    CHECK(c.http.port == 9464);
    CHECK(c.threads == 0);
    CHECK(c.effective_threads() >= 1);
  }
  ServerConfig here =
      load_server_text("jobs_dir: ../jobs\nstate_dir: ./s\n", "sluice.yaml", kNoEnv);
  CHECK(here.jobs_dir == "../jobs");
  CHECK(here.state_dir == "s");
  ServerConfig nested = load_server_text("jobs_dir: a/../b\n", "/x/y/sluice.yaml", kNoEnv);
  CHECK(nested.jobs_dir == "/x/y/b");
}

TEST_CASE("listen addresses: host:port, [ipv6]:port, names", "[config]") {
  auto listen = [](const std::string& value) {
    ServerConfig c =
        load_server_text("http:\n  listen: \"" + value + "\"\n", "sluice.yaml", kNoEnv);
    return c.http.host + " " + std::to_string(c.http.port);
  };
  CHECK(listen("127.0.0.1:1") == "127.0.0.1 1");
  CHECK(listen("localhost:65535") == "localhost 65535");
  CHECK(listen("[::1]:9464") == "::1 9464");
  CHECK(listen("[fe80::1:2]:80") == "fe80::1:2 80");
  CHECK(listen("metrics.internal-1:9464") == "metrics.internal-1 9464");
}

TEST_CASE("file loading: a real file and an unreadable one", "[config]") {
  auto dir = temp_dir();
  write(dir / "sluice.yaml", "jobs_dir: j\nthreads: 2\n");
  ServerConfig c = load_server_file((dir / "sluice.yaml").string(), kNoEnv);
  CHECK(c.jobs_dir == (dir / "j").string());
  CHECK(c.threads == 2);
  try {
    load_server_file((dir / "missing.yaml").string());
    FAIL("expected an Error");
  } catch (const ConfigError&) {
    FAIL("expected kIo, not a ConfigError");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kIo);
    CHECK_THAT(e.what(), Catch::Contains("cannot read server config file") &&
                             Catch::Contains("missing.yaml"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("server config errors: every problem at once, with positions", "[config]") {
  SECTION("unknown keys get a did-you-mean hint") {
    CHECK(server_errors("job_dir: j\nthread: 2\nhttp:\n  listn: a:1\n") ==
          "sluice.yaml:1:1: unknown key 'job_dir' (did you mean 'jobs_dir'?)\n"
          "sluice.yaml:2:1: unknown key 'thread' (did you mean 'threads'?)\n"
          "sluice.yaml:4:3: http: unknown key 'listn' (did you mean 'listen'?)");
  }
  SECTION("the snapshot interval") {
    for (const char* bad : {"50ms", "2h", "soon", "-1s"})
      CHECK(server_errors(std::string("state_snapshot_interval: ") + bad + "\n") ==
            std::string("sluice.yaml:1:26: state_snapshot_interval: expected a duration from "
                        "100ms to 1h (e.g. 5s), found '") +
                bad + "'");
  }
  SECTION("listen addresses") {
    auto listen_error = [](const std::string& value) {
      return server_errors("http:\n  listen: '" + value + "'\n");
    };
    CHECK(listen_error("9464") ==
          "sluice.yaml:2:11: http.listen: expected host:port, such as 127.0.0.1:9464");
    CHECK(listen_error("127.0.0.1:0") ==
          "sluice.yaml:2:11: http.listen: the port must be a number from 1 to 65535, found '0'");
    CHECK_THAT(listen_error("127.0.0.1:65536"), Catch::Contains("found '65536'"));
    CHECK_THAT(listen_error("127.0.0.1:"), Catch::Contains("found ''"));
    CHECK_THAT(listen_error("127.0.0.1:http"), Catch::Contains("found 'http'"));
    CHECK_THAT(listen_error("127.0.0.1:-1"), Catch::Contains("found '-1'"));
    CHECK_THAT(listen_error(":9464"),
               Catch::Contains("the host is missing (use 0.0.0.0 to listen on every interface)"));
    CHECK_THAT(listen_error("::1:9464"),
               Catch::Contains("an IPv6 address needs brackets, as in [::1]:9464"));
    CHECK_THAT(listen_error("[::1:9464"),
               Catch::Contains("'[::1' is not a bracketed IPv6 address, such as [::1]"));
    CHECK_THAT(listen_error("[zz]:9464"),
               Catch::Contains("'[zz]' is not a bracketed IPv6 address"));
    CHECK_THAT(listen_error("my host:9464"),
               Catch::Contains("'my host' is not a host name or IP address"));
    CHECK(server_errors("http: 127.0.0.1:9464\n") ==
          "sluice.yaml:1:7: http: expected a map, found '127.0.0.1:9464'");
  }
  SECTION("threads") {
    const std::string expected = "expected a whole number from 0 (one thread per core) to 1024";
    for (const char* bad : {"-1", "1.5", "many", "1025", "''", "99999999999"}) {
      CAPTURE(bad);
      CHECK_THAT(server_errors(std::string("threads: ") + bad + "\n"),
                 Catch::StartsWith("sluice.yaml:1:10: threads: " + expected));
    }
    CHECK(load_server_text("threads: 1024\n", "s.yaml", kNoEnv).threads == 1024);
    CHECK(server_errors("threads: [1]\n") ==
          "sluice.yaml:1:10: threads: expected a string, found a sequence");
  }
  SECTION("schema_registry") {
    ServerConfig c = load_server_text(
        "schema_registry:\n  url: http://r:8081/apis/ccompat/v7\n  username: u\n"
        "  password: p\n  timeout: 2s\n",
        "s.yaml", kNoEnv);
    CHECK(c.schema_registry.url == "http://r:8081/apis/ccompat/v7");
    CHECK(c.schema_registry.username == "u");
    CHECK(c.schema_registry.password == "p");
    CHECK(c.schema_registry.timeout_ms == 2000);
    CHECK(load_server_text("", "s.yaml", kNoEnv).schema_registry.url.empty());
    CHECK(server_errors("schema_registry:\n  url: https://r\n  password: p\n  timeout: 2m\n"
                        "  colour: red\n") ==
          "sluice.yaml:2:8: schema_registry.url: expected http://HOST:PORT[/PATH], found "
          "'https://r'\n"
          "sluice.yaml:3:13: schema_registry.password: a password needs a username\n"
          "sluice.yaml:4:12: schema_registry.timeout: expected a duration from 100ms to 1m (e.g. "
          "5s), found '2m'\n"
          "sluice.yaml:5:3: schema_registry: unknown key 'colour'");
  }
  SECTION("directories") {
    CHECK(server_errors("jobs_dir: ''\nstate_dir: {}\n") ==
          "sluice.yaml:1:11: jobs_dir: must not be empty\n"
          "sluice.yaml:2:12: state_dir: expected a string, found a map");
  }
  SECTION("kafka properties are flat name -> scalar value") {
    CHECK(server_errors("kafka:\n"
                        "  bootstrap:\n"
                        "    servers: a:9092\n"
                        "  acks: [all]\n"
                        "  linger.ms:\n"
                        "  group.id: g\n"
                        "  enable.auto.commit: 'true'\n") ==
          "sluice.yaml:3:5: kafka.bootstrap: expected a property value, found a map (properties "
          "are flat: write 'bootstrap.name: value', not a nested map)\n"
          "sluice.yaml:4:9: kafka.acks: expected a property value, found a sequence\n"
          "sluice.yaml:5:3: kafka.linger.ms: expected a property value, found an empty value\n"
          "sluice.yaml:6:3: kafka.group.id: the consumer group is not a librdkafka property "
          "here; each job's consumer group is its group_id key (default: the job name)\n"
          "sluice.yaml:7:3: kafka.enable.auto.commit: cannot be set: sluice commits offsets "
          "itself, only once the output they cover is acknowledged");
    CHECK(server_errors("kafka: localhost:9092\n") ==
          "sluice.yaml:1:8: kafka: expected a map, found 'localhost:9092'");
  }
  SECTION("the document itself") {
    CHECK(server_errors("- a\n- b\n") == "sluice.yaml:1:1: expected a map, found a sequence");
    CHECK_THAT(server_errors("threads: [1\n"), Catch::StartsWith("sluice.yaml:"));
    CHECK(server_errors("threads: 1\n---\nthreads: 2\n") ==
          "sluice.yaml:2:1: expected one YAML document, found a second one");
  }
  SECTION("a document nested too deeply: the level, the limit (64) and where") {
    // `kafka:` is level 2 (the root map is 1); its value's '[' on column 8 is level 2, and the
    // 64th '[' (column 71) is level 65.
    for (size_t n : {64, 500, 5000}) {
      CAPTURE(n);
      CHECK(
          server_errors("threads: 1\nkafka: " + std::string(n, '[') + std::string(n, ']') + "\n") ==
          "sluice.yaml:2:71: the YAML document nests deeper than 64 levels (a sequence at "
          "level 65)");
    }
    std::string deep = "http:\n";
    for (size_t i = 0; i < 600; ++i)
      deep += std::string(i + 2, ' ') + "a:\n";
    // The map on line 2 + i (key at column 3 + i) is level 2 + i: level 65 is on line 65.
    CHECK(server_errors(deep) ==
          "sluice.yaml:65:66: the YAML document nests deeper than 64 levels (a map at level 65)");
  }
  SECTION("all at once, in file order") {
    ConfigError error({});
    try {
      load_server_text("threads: x\nkafka:\n  a: ${UNSET}\njobs_dir: ''\nhttp: {listen: a}\n",
                       "s.yaml", kNoEnv);
      FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
      REQUIRE(e.issues().size() == 4);
      CHECK(e.issues()[0].key_path == "threads");
      CHECK(e.issues()[1].key_path == "kafka.a");
      CHECK(e.issues()[2].key_path == "jobs_dir");
      CHECK(e.issues()[3].key_path == "http.listen");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ${ENV} substitution

TEST_CASE("substitution forms", "[config]") {
  EnvLookup env = env_of({{"HOST", "broker-1"}, {"EMPTY", ""}, {"PORT", "9093"}});
  auto value = [&](const std::string& yaml_value) {
    ServerConfig c = load_server_text("kafka:\n  p: " + yaml_value + "\n", "s.yaml", env);
    REQUIRE(c.kafka.size() == 1);
    return c.kafka[0].second;
  };
  CHECK(value("${HOST}") == "broker-1");
  CHECK(value("${EMPTY}") == "");
  CHECK(value("${UNSET:-localhost:9092}") == "localhost:9092");
  CHECK(value("${EMPTY:-fallback}") == "fallback");  // :- also covers set-but-empty
  CHECK(value("${HOST:-fallback}") == "broker-1");
  CHECK(value("${UNSET:-}") == "");
  CHECK(value("${HOST}:${PORT},${HOST}:${PORT:-1}") == "broker-1:9093,broker-1:9093");
  CHECK(value("pa$$word") == "pa$word");
  CHECK(value("$${HOST}") == "${HOST}");
  CHECK(value("$$$${HOST}") == "$${HOST}");
  CHECK(value("$$${HOST}") == "$broker-1");
  CHECK(value("a$b $HOST $") == "a$b $HOST $");  // a lone '$' stays as written
  CHECK(value("'${HOST}'") == "broker-1");       // quoted values too
  CHECK(value("\"x ${HOST} y\"") == "x broker-1 y");
  CHECK(value("|\n    line ${HOST}") == "line broker-1\n");
  // Values become typed after substitution.
  CHECK(load_server_text("threads: ${N:-3}\n", "s.yaml", kNoEnv).threads == 3);
  CHECK(load_server_text("http:\n  listen: ${H:-0.0.0.0}:${PORT}\n", "s.yaml", env).http.port ==
        9093);
  // An alias shares its anchor's value: substituted once, not again through the alias.
  ServerConfig aliases =
      load_server_text("kafka:\n  a: &v \"$$${HOST}$$$${HOST}\"\n  b: *v\n", "s.yaml", env);
  CHECK(aliases.kafka == KafkaProperties{{"a", "$broker-1$${HOST}"}, {"b", "$broker-1$${HOST}"}});
  // Nested aliases are walked once each (2^40 paths otherwise).
  std::string lols = "x: &l0 ['${HOST}', b]\n";
  for (int i = 1; i <= 40; ++i) {
    lols += fmt::format("x{0}: &l{0} [*l{1}, *l{1}]\n", i, i - 1);
  }
  CHECK_THAT(server_errors(lols, env), Catch::Contains("unknown key 'x40'"));
  // Keys are never substituted.
  ServerConfig keys = load_server_text("kafka:\n  ${HOST}: v\n", "s.yaml", env);
  CHECK(keys.kafka == KafkaProperties{{"${HOST}", "v"}});
}

TEST_CASE("the process environment is the default lookup", "[config]") {
  ::setenv("SLUICE_TEST_SERVER_CONFIG_BROKERS", "envhost:1234", 1);
  ::unsetenv("SLUICE_TEST_SERVER_CONFIG_UNSET");
  ServerConfig c = load_server_text(
      "kafka:\n  bootstrap.servers: ${SLUICE_TEST_SERVER_CONFIG_BROKERS}\n"
      "  client.id: ${SLUICE_TEST_SERVER_CONFIG_UNSET:-sluice}\n",
      "s.yaml");
  CHECK(c.kafka == KafkaProperties{{"bootstrap.servers", "envhost:1234"}, {"client.id", "sluice"}});
  ::unsetenv("SLUICE_TEST_SERVER_CONFIG_BROKERS");
}

TEST_CASE("an unset variable is an error at its position", "[config]") {
  const std::string message =
      "environment variable 'KAFKA_BROKERS' is not set (set it, or give a default: "
      "${KAFKA_BROKERS:-default})";
  CHECK(server_errors("kafka:\n  bootstrap.servers: ${KAFKA_BROKERS}\n") ==
        "sluice.yaml:2:22: kafka.bootstrap.servers: " + message);
  // In the middle of a value, quoted, and the second of two references.
  CHECK(server_errors("state_dir: /data/${KAFKA_BROKERS}/x\n") ==
        "sluice.yaml:1:18: state_dir: " + message);
  CHECK(server_errors("state_dir: \"/data/${KAFKA_BROKERS}\"\n") ==
        "sluice.yaml:1:19: state_dir: " + message);
  CHECK(server_errors("jobs_dir: ${J:-jobs}/${KAFKA_BROKERS}\n") ==
        "sluice.yaml:1:22: jobs_dir: " + message);
  CHECK(server_errors("jobs_dir: ${KAFKA_BROKERS:-}${KAFKA_BROKERS}\n") ==
        "sluice.yaml:1:29: jobs_dir: " + message);
  // In a block scalar: on its line.
  CHECK(server_errors("state_dir: >\n  /data/\n  ${KAFKA_BROKERS}\n") ==
        "sluice.yaml:3:3: state_dir: " + message);
  // Every unset variable is reported, each once per value.
  CHECK(server_errors("jobs_dir: ${A}\nstate_dir: ${B}\n") ==
        "sluice.yaml:1:11: jobs_dir: environment variable 'A' is not set (set it, or give a "
        "default: ${A:-default})\n"
        "sluice.yaml:2:12: state_dir: environment variable 'B' is not set (set it, or give a "
        "default: ${B:-default})");
}

TEST_CASE("malformed references are errors", "[config]") {
  CHECK(server_errors("jobs_dir: a${X\n") ==
        "sluice.yaml:1:12: jobs_dir: unterminated '${' (write '$$' for a '$')");
  for (const char* bad : {"${}", "${1X}", "${X-y}", "${X:y}", "${ X}", "${X Y}"}) {
    CAPTURE(bad);
    CHECK_THAT(server_errors(std::string("jobs_dir: ") + bad + "\n"),
               Catch::StartsWith("sluice.yaml:1:11: jobs_dir: '") &&
                   Catch::EndsWith("' is not a variable reference (expected ${NAME} or "
                                   "${NAME:-default}; write '$$' for a '$')"));
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka keys of job files

TEST_CASE("a kafka job loads with every kafka key", "[config]") {
  JobConfig job = load_job_text(kKafkaJob, "jobs/agg.yaml", kNoEnv);
  CHECK(job.uses_kafka());
  CHECK(job.source.type == "kafka");
  CHECK(job.source.topic == "trades");
  CHECK(job.source.path.empty());
  CHECK(job.source.name == "trades");  // defaults to the topic
  CHECK(job.source.partitioned_by == std::vector<std::string>{"symbol"});
  CHECK(job.sink.type == "kafka");
  CHECK(job.sink.topic == "trades-agg");
  CHECK(job.sink.key == std::vector<std::string>{"symbol"});
  REQUIRE(job.sink.key_marks.size() == 1);
  CHECK(job.sink.key_marks[0].line == 12);
  CHECK(job.sink.key_marks[0].column == 9);
  REQUIRE(job.dead_letter);
  CHECK(job.dead_letter->type == "kafka");
  CHECK(job.dead_letter->topic == "trades.dlq");
  CHECK(job.on_error == sluice::config::OnError::kDeadLetter);
  CHECK(job.kafka == KafkaProperties{{"auto.offset.reset", "earliest"}, {"fetch.min.bytes", "1"}});
  CHECK(job.group_id == "trades-agg");  // defaults to the job name

  JobConfig named =
      load_job_text(replace(replace(kKafkaJob, "  topic: trades\n", "  topic: trades\n  name: t\n"),
                            "kafka:\n", "group_id: analytics-v2\nkafka:\n"),
                    "j.yaml", kNoEnv);
  CHECK(named.source.name == "t");
  CHECK(named.group_id == "analytics-v2");

  // Mixed: a file source may write to kafka, and a kafka source to a file or stdout.
  JobConfig to_stdout = load_job_text(
      replace(kKafkaJob, "sink:\n  type: kafka\n  topic: trades-agg\n  key: [symbol]\n",
              "sink: {type: stdout}\n"),
      "j.yaml", kNoEnv);
  CHECK(to_stdout.sink.key.empty());
  CHECK(to_stdout.uses_kafka());
  JobConfig file_job = load_job_text(
      "name: f\nsql: SELECT 1\nsource: {type: file, path: a.jsonl, schema: {a: INT}}\n"
      "sink: {type: stdout}\n",
      "j.yaml", kNoEnv);
  CHECK_FALSE(file_job.uses_kafka());
  CHECK(file_job.group_id == "f");
  CHECK(file_job.kafka.empty());
}

TEST_CASE("topic names follow Kafka's rules", "[config]") {
  auto with_topic = [](const std::string& topic) {
    return replace(kKafkaJob, "  topic: trades\n", "  topic: '" + topic + "'\n");
  };
  for (const std::string& good :
       std::vector<std::string>{"a", "A.b_c-9", std::string(249, 'x'), "..."}) {
    CHECK(load_job_text(with_topic(good), "j.yaml", kNoEnv).source.topic == good);
  }
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a b", "trades/1",
                                                         "tr\xC3\xA4"
                                                         "des",
                                                         std::string(250, 'x')}) {
    CAPTURE(bad);
    CHECK(job_errors(with_topic(bad)) ==
          "job.yaml:5:10: source.topic: '" + bad +
              "' is not a valid Kafka topic name (use letters, digits, '.', '_' and '-'; at most "
              "249 characters; not '.' or '..')");
  }
}

TEST_CASE("kafka job errors", "[config]") {
  SECTION("topic is required for kafka, path forbidden; and the other way round") {
    CHECK(job_errors(replace(kKafkaJob, "  topic: trades\n", "  path: t.jsonl\n")) ==
          "job.yaml:4:3: source: missing required key 'topic'\n"
          "job.yaml:5:9: source.path: not allowed when type is 'kafka'");
    CHECK(job_errors(replace(kKafkaJob, "  topic: trades-agg\n", "")) ==
          "job.yaml:10:3: sink: missing required key 'topic'");
    CHECK(job_errors(replace(kKafkaJob, "{type: kafka, topic: trades.dlq}", "{type: kafka}")) ==
          "job.yaml:13:14: dead_letter: missing required key 'topic'");
    CHECK(job_errors(replace(kKafkaJob, "  type: kafka\n  topic: trades\n",
                             "  type: file\n  path: a.jsonl\n  topic: trades\n")) ==
          "job.yaml:6:10: source.topic: not allowed when type is 'file'\n"
          "job.yaml:9:19: source.partitioned_by: not allowed when type is 'file'");
    CHECK(job_errors(
              replace(kKafkaJob, "  type: kafka\n  topic: trades-agg\n", "  type: stdout\n")) ==
          "job.yaml:11:8: sink.key: not allowed when type is 'stdout'");
  }
  SECTION("partitioned_by names schema columns") {
    CHECK(job_errors(replace(kKafkaJob, "[symbol]\nsink", "[symbol, symbl, qty]\nsink")) ==
          "job.yaml:8:28: source.partitioned_by: 'symbl' is not a column of source.schema (did "
          "you mean symbol?)\n"
          "job.yaml:8:35: source.partitioned_by: 'qty' is not a column of source.schema");
    CHECK(job_errors(replace(kKafkaJob, "[symbol]\nsink", "[]\nsink")) ==
          "job.yaml:8:19: source.partitioned_by: expected a non-empty list of column names, "
          "found an empty list");
    CHECK(job_errors(replace(kKafkaJob, "[symbol]\nsink", "symbol\nsink")) ==
          "job.yaml:8:19: source.partitioned_by: expected a non-empty list of column names, "
          "found 'symbol'");
    CHECK(job_errors(replace(kKafkaJob, "[symbol]\nsink", "[symbol, symbol]\nsink")) ==
          "job.yaml:8:28: source.partitioned_by: column 'symbol' is listed twice");
  }
  SECTION("sink key: a list of names; dead_letter has no key") {
    CHECK(job_errors(replace(kKafkaJob, "key: [symbol]", "key: ['', [a]]")) ==
          "job.yaml:12:9: sink.key: expected a column name, found ''\n"
          "job.yaml:12:13: sink.key: expected a column name, found a sequence");
    CHECK(job_errors(replace(kKafkaJob, "topic: trades.dlq}", "topic: trades.dlq, key: [a]}")) ==
          "job.yaml:13:47: dead_letter: unknown key 'key'");
  }
  SECTION("a job may not write to the topic it reads") {
    CHECK(job_errors(replace(replace(kKafkaJob, "  topic: trades-agg\n", "  topic: trades\n"),
                             "trades.dlq", "trades")) ==
          "job.yaml:11:10: sink.topic: 'trades' is also source.topic: the job would read its own "
          "output\n"
          "job.yaml:13:35: dead_letter.topic: 'trades' is also source.topic: the job would read "
          "its own output");
  }
  SECTION("kafka properties and group_id") {
    CHECK(job_errors(kKafkaJob + "  group.id: g\n  fetch.max.bytes: {a: 1}\ngroup_id: ''\n") ==
          "job.yaml:17:3: kafka.group.id: the consumer group is not a librdkafka property here; "
          "set the job's group_id key\n"
          "job.yaml:18:20: kafka.fetch.max.bytes: expected a property value, found a map "
          "(properties are flat: write 'fetch.max.bytes.name: value', not a nested map)\n"
          "job.yaml:19:11: group_id: must not be empty (leave it out to use the job name)");
    CHECK(job_errors(kKafkaJob + "  enable.auto.offset.store: 'false'\n") ==
          "job.yaml:17:3: kafka.enable.auto.offset.store: cannot be set: sluice commits offsets "
          "itself, only once the output they cover is acknowledged");
    CHECK(job_errors(kKafkaJob + "kafak: {}\n") ==
          "job.yaml:17:1: unknown key 'kafak' (did you mean 'kafka'?)");
  }
}

TEST_CASE("job files substitute ${ENV} in every value but sql", "[config]") {
  EnvLookup env = env_of({{"ENV", "prod"}, {"COL", "symbol"}});
  std::string text = replace(kKafkaJob, "  topic: trades\n", "  topic: ${ENV}.trades\n");
  text = replace(text, "  key: [symbol]\n", "  key:\n    - ${COL}\n");
  text = replace(text, "earliest", "${OFFSET_RESET:-latest}");
  text = replace(text, "COUNT(*) AS n", "'${NOT_SUBSTITUTED}' AS s, COUNT(*) AS n");
  JobConfig job = load_job_text(text, "j.yaml", env);
  CHECK(job.source.topic == "prod.trades");
  CHECK(job.source.name == "prod.trades");
  CHECK(job.sink.key == std::vector<std::string>{"symbol"});
  CHECK(job.kafka[0].second == "latest");
  CHECK(job.sql.find("'${NOT_SUBSTITUTED}'") != std::string::npos);
  // Substituted values are then checked like written ones, at the value's position.
  CHECK(job_errors(replace(kKafkaJob, "  topic: trades\n", "  topic: ${T:-a b}\n")) ==
        "job.yaml:5:10: source.topic: 'a b' is not a valid Kafka topic name (use letters, "
        "digits, '.', '_' and '-'; at most 249 characters; not '.' or '..')");
  CHECK(job_errors(replace(kKafkaJob, "  topic: trades\n", "  topic: x${T}\n")) ==
        "job.yaml:5:11: source.topic: environment variable 'T' is not set (set it, or give a "
        "default: ${T:-default})");
}

// ---------------------------------------------------------------------------------------------
// sluice run / validate with kafka jobs

TEST_CASE("run refuses kafka jobs; validate binds them", "[config]") {
  auto dir = temp_dir();
  write(dir / "kafka.yaml", kKafkaJob);
  auto run = cli({"run", (dir / "kafka.yaml").c_str()});
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  CHECK(run.err == (dir / "kafka.yaml").string() +
                       ": sluice run reads bounded file sources; jobs with a kafka source or sink "
                       "run under the daemon (sluice serve), which is not available yet\n");

  // A file source writing to kafka is refused too, before anything is read or written.
  write(dir / "to_kafka.yaml",
        "name: to-kafka\nsql: SELECT a FROM missing\n"
        "source: {type: file, path: missing.jsonl, schema: {a: INT}}\n"
        "sink: {type: kafka, topic: out}\n");
  auto to_kafka = cli({"run", (dir / "to_kafka.yaml").c_str()});
  CHECK(to_kafka.code == 1);
  CHECK_THAT(to_kafka.err,
             Catch::Contains("jobs with a kafka source or sink run under the daemon"));

  auto ok = cli({"validate", (dir / "kafka.yaml").c_str(), (dir / "to_kafka.yaml").c_str()});
  CHECK(ok.err == "");
  CHECK(ok.code == 0);
  CHECK(ok.out ==
        (dir / "kafka.yaml").string() + ": ok\n" + (dir / "to_kafka.yaml").string() + ": ok\n");

  // Kafka sources have a record timestamp: a window without a time column binds.
  write(dir / "window.yaml",
        replace(kKafkaJob, "GROUP BY symbol", "GROUP BY symbol WINDOW TUMBLING(1m)"));
  CHECK(cli({"validate", (dir / "window.yaml").c_str()}).code == 0);

  // The sink key must be an output column; SQL errors keep their file position.
  write(dir / "bad_key.yaml", replace(kKafkaJob, "key: [symbol]", "key: [symbol, price]"));
  auto bad_key = cli({"validate", (dir / "bad_key.yaml").c_str()});
  CHECK(bad_key.code == 1);
  CHECK(bad_key.err == (dir / "bad_key.yaml").string() +
                           ":12:17: sink.key: 'price' is not an output column of the query "
                           "(columns: symbol, n)\n");
  write(dir / "bad_sql.yaml", replace(kKafkaJob, "COUNT(*) AS n", "COUNT(*) AS n, pricee"));
  auto bad_sql = cli({"validate", (dir / "bad_sql.yaml").c_str()});
  CHECK(bad_sql.code == 1);
  CHECK_THAT(bad_sql.err, Catch::StartsWith((dir / "bad_sql.yaml").string() + ":2:") &&
                              Catch::Contains("unknown column 'pricee'"));

  // run_job itself refuses, whoever calls it.
  JobConfig job = load_job_text(kKafkaJob, (dir / "kafka.yaml").string(), kNoEnv);
  std::ostringstream out;
  try {
    sluice::server::run_job(job, out);
    FAIL("expected an Error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::kConfig);
  }
  std::filesystem::remove_all(dir);
}
