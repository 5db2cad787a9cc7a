// What a job file may do to the daemon: the allow-list of its kafka: properties
// (config/job_kafka_properties.*), no secret in any message (substituted values, librdkafka's
// "Invalid value" texts), no environment for posted jobs (config::posted_job_env), and job files
// that resolve outside the jobs directory (server/jobs/job_files.*).

#include "config/env_subst.hpp"
#include "config/job_config.hpp"
#include "config/job_kafka_properties.hpp"
#include "config/server_config.hpp"
#include "server/cli/cli.hpp"
#include "server/jobs/job_files.hpp"
#include "server/kafka/property_check.hpp"
#include "server/kafka/rdkafka_conf.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config_test_util.hpp"

using sluice::Error;
using sluice::config::ConfigError;
using sluice::config::EnvLookup;
using sluice::config::load_job_text;
using sluice::config::load_server_text;

namespace fs = std::filesystem;

using namespace sluice::config::testing;

namespace {

constexpr const char* kSecret = "hunter2-Zq81vX";

// A valid Kafka job; `kafka` is appended as the body of its kafka: map (line 6 on).
std::string job_with(const std::string& kafka) {
  return "name: t\n"                                                         // 1
         "sql: SELECT a FROM s\n"                                            // 2
         "source: {type: kafka, topic: in, name: s, schema: {a: BIGINT}}\n"  // 3
         "sink: {type: kafka, topic: out}\n"                                 // 4
         "kafka:\n" +                                                        // 5
         kafka;
}

fs::path temp_dir(const std::string& name) {
  auto dir =
      fs::temp_directory_path() / ("sluice-job-security-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The allow-list

TEST_CASE("job files may set only client-tuning kafka properties", "[config][security]") {
  SECTION("allowed properties load") {
    auto job = load_job_text(job_with("  linger.ms: 20\n"
                                      "  compression.type: lz4\n"
                                      "  session.timeout.ms: 6000\n"
                                      "  auto.offset.reset: earliest\n"
                                      "  group.instance.id: host-1\n"
                                      "  acks: all\n"
                                      "  partitioner: murmur2_random\n"
                                      "  client.rack: eu-west-1a\n"),
                             "job.yaml", kNoEnv);
    CHECK(job.kafka.size() == 8);
    REQUIRE(job.kafka_marks.size() == 8);
    CHECK(job.kafka_marks[0].line == 6);
    CHECK(job.kafka_marks[0].column == 14);
  }
  SECTION("refused properties: an issue at the key, with the reason and where it belongs") {
    const std::string server =
        "; set it in the server config's kafka map, which the operator "
        "owns and which applies to every job";
    CHECK(job_errors(job_with("  sasl.kerberos.kinit.cmd: \"sh -c 'touch /tmp/x'\"\n"
                              "  plugin.library.paths: /tmp/evil.so\n"
                              "  ssl.ca.location: /etc/shadow\n"
                              "  bootstrap.servers: evil:9092\n"
                              "  enable.idempotence: 'false'\n"
                              "  debug: all\n"
                              "  error_cb: x\n"
                              "  no.such.property: 1\n")) ==
          "job.yaml:6:3: kafka.sasl.kerberos.kinit.cmd: not allowed in a job file: it runs a "
          "shell command on the daemon's machine" +
              server +
              "\n"
              "job.yaml:7:3: kafka.plugin.library.paths: not allowed in a job file: it loads "
              "code into the daemon" +
              server +
              "\n"
              "job.yaml:8:3: kafka.ssl.ca.location: not allowed in a job file: it is a security "
              "setting (TLS, SASL, credentials, or the files that hold them)" +
              server +
              "\n"
              "job.yaml:9:3: kafka.bootstrap.servers: not allowed in a job file: it says which "
              "brokers the clients reach and how" +
              server +
              "\n"
              "job.yaml:10:3: kafka.enable.idempotence: not allowed in a job file: sluice sets it "
              "itself: its delivery guarantees (idempotent output, offsets committed only once "
              "the output is acknowledged) depend on it\n"
              "job.yaml:11:3: kafka.debug: not allowed in a job file: logging and statistics are "
              "the operator's to set" +
              server +
              "\n"
              "job.yaml:12:3: kafka.error_cb: not allowed in a job file: only the program sets "
              "it, through librdkafka's API\n"
              "job.yaml:13:3: kafka.no.such.property: not allowed in a job file: it is not one "
              "of the client-tuning properties a job file may set (see the README, \"Kafka "
              "properties of a job\"); if it should apply to every job, set it in the server "
              "config's kafka map");
  }
  SECTION("every security, broker and delivery property is refused") {
    for (const char* name : {"security.protocol",
                             "sasl.mechanisms",
                             "sasl.mechanism",
                             "sasl.username",
                             "sasl.password",
                             "sasl.jaas.config",
                             "sasl.kerberos.keytab",
                             "sasl.oauthbearer.config",
                             "sasl.oauthbearer.token.endpoint.url",
                             "ssl.key.location",
                             "ssl.key.password",
                             "ssl.keystore.location",
                             "ssl.certificate.location",
                             "ssl.crl.location",
                             "ssl.engine.location",
                             "ssl.providers",
                             "ssl_key",
                             "enable.ssl.certificate.verification",
                             "enable.sasl.oauthbearer.unsecure.jwt",
                             "interceptors",
                             "metadata.broker.list",
                             "client.dns.lookup",
                             "broker.address.family",
                             "api.version.request",
                             "broker.version.fallback",
                             "offset.store.path",
                             "offset.store.method",
                             "group.id",
                             "enable.auto.commit",
                             "enable.auto.offset.store",
                             "auto.commit.interval.ms",
                             "transactional.id",
                             "delivery.report.only.error",
                             "queuing.strategy",
                             "client.id",
                             "enable.partition.eof",
                             "statistics.interval.ms",
                             "log_level",
                             "log.queue",
                             "opaque",
                             "dr_msg_cb"}) {
      CAPTURE(name);
      CHECK_FALSE(sluice::config::refuse_job_kafka_property(name, "x").empty());
      CHECK_THAT(job_errors(job_with(std::string("  ") + name + ": x\n")),
                 Catch::StartsWith(std::string("job.yaml:6:3: kafka.") + name + ": "));
    }
  }
  SECTION("acks and partitioner: only the values sluice's guarantees allow, at the value") {
    CHECK(job_errors(job_with("  acks: 1\n  partitioner: random\n")) ==
          "job.yaml:6:9: kafka.acks: must be all or -1 in a job file: sluice's producer is "
          "idempotent, which needs every in-sync replica's acknowledgement\n"
          "job.yaml:7:16: kafka.partitioner: must be consistent, consistent_random, murmur2, "
          "murmur2_random, fnv1a or fnv1a_random in a job file: sluice sends all records of a "
          "key to one partition, in order, and its repartition stage depends on it");
    CHECK(load_job_text(job_with("  acks: ALL\n  request.required.acks: '-1'\n"), "j.yaml", kNoEnv)
              .kafka.size() == 2);
  }
  SECTION("no message quotes a value") {
    for (std::string name : {"sasl.password", "ssl.key.pem", "acks", "partitioner"}) {
      CAPTURE(name);
      CHECK_THAT(job_errors(job_with("  " + name + ": " + kSecret + "\n")),
                 !Catch::Contains(kSecret));
    }
  }
  SECTION("the server config's kafka map is the operator's: not restricted") {
    auto server = load_server_text(
        "kafka:\n  security.protocol: SASL_SSL\n  sasl.kerberos.kinit.cmd: kinit -R\n"
        "  plugin.library.paths: monitoring-interceptor\n  ssl.ca.location: /etc/ca.pem\n",
        "sluice.yaml", kNoEnv);
    CHECK(server.kafka.size() == 4);
  }
}

TEST_CASE("every allowed property is a librdkafka property and listed in the README",
          "[config][security]") {
  std::string readme = read_text(fs::path(SLUICE_TEST_DATA) / ".." / "README.md");
  auto section = readme.find("### Kafka properties of a job");
  REQUIRE(section != std::string::npos);
  std::string listed = readme.substr(section, readme.find("\n### ", section + 1) - section);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& property : sluice::config::job_kafka_properties()) {
    std::string name(property.name);
    CAPTURE(name);
    // Setting a known property to a wrong value is INVALID; an unknown one is UNKNOWN.
    char err[512];
    CHECK(rd_kafka_conf_set(conf, name.c_str(), "not-a-value", err, sizeof err) !=
          RD_KAFKA_CONF_UNKNOWN);
    CHECK(listed.find("`" + name + "`") != std::string::npos);
    CHECK(sluice::config::refuse_job_kafka_property(
              name, property.values.empty() ? "1" : property.values[0])
              .empty());
  }
  rd_kafka_conf_destroy(conf);
}

// ---------------------------------------------------------------------------------------------
// No secret in a message

TEST_CASE("librdkafka's refusals name the property and the reason, never the value",
          "[kafka][security]") {
  auto job = load_job_text(job_with("  linger.ms: 5\n"
                                    "  compression.type: " +
                                    std::string(kSecret) +
                                    "\n"
                                    "  session.timeout.ms: " +
                                    std::string(kSecret) +
                                    "\n"
                                    "  socket.keepalive.enable: " +
                                    std::string(kSecret) + "\n"),
                           "job.yaml", kNoEnv);
  std::string message;
  try {
    sluice::server::kafka::check_job_properties(job);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message ==
        "job.yaml:7:21: kafka.compression.type: librdkafka refused the value (allowed: none, "
        "gzip, snappy, lz4, zstd)\n"
        "job.yaml:8:23: kafka.session.timeout.ms: librdkafka refused the value (allowed: 1 .. "
        "3600000)\n"
        "job.yaml:9:28: kafka.socket.keepalive.enable: librdkafka refused the value (allowed: "
        "true, false)");
  CHECK_NOTHROW(sluice::server::kafka::check_job_properties(
      load_job_text(job_with("  compression.type: zstd\n"), "job.yaml", kNoEnv)));

  // The client builder: the server config's properties are not allow-listed, and still no value
  // appears in its errors.
  using sluice::server::kafka::KafkaConf;
  for (const auto& [name, expected] : std::vector<std::pair<std::string, std::string>>{
           {"compression.type", "librdkafka refused the value (allowed: none, gzip"},
           {"socket.timeout.ms", "librdkafka refused the value (allowed: 10 .. 300000)"},
           {"security.protocol", "librdkafka refused the value (allowed: plaintext, ssl"},
           {"no.such.thing", "not a property of librdkafka"}}) {
    CAPTURE(name);
    try {
      KafkaConf conf({{name, kSecret}}, "job 't'");
      FAIL("expected an Error");
    } catch (const Error& e) {
      CHECK_THAT(std::string(e.what()),
                 Catch::StartsWith("job 't': kafka property '" + name + "': " + expected) &&
                     !Catch::Contains(kSecret));
    }
  }
  // Creating the client: librdkafka's checks there may quote a value; it is redacted.
  KafkaConf conf({{"security.protocol", "sasl_plaintext"}, {"sasl.mechanisms", kSecret}},
                 "job 't'");
  try {
    rd_kafka_destroy(conf.create(RD_KAFKA_PRODUCER));
    FAIL("expected an Error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "job 't': cannot create the Kafka producer: Unsupported SASL mechanism: <the value of "
          "sasl.mechanisms>");
  }
}

TEST_CASE("a value substituted from the environment never appears in an error",
          "[config][security]") {
  EnvLookup env = env_of({{"SECRET", kSecret}, {"N", "abc"}, {"TOPIC", "orders"}});
  // Server config: a secret in the wrong place is reported by its reference.
  CHECK(server_errors("threads: ${SECRET}\nhttp:\n  listen: 127.0.0.1:${SECRET}\n", env) ==
        "sluice.yaml:1:10: threads: expected a whole number from 0 (one thread per core) to "
        "1024, found '${SECRET}'\n"
        "sluice.yaml:3:11: http.listen: the port must be a number from 1 to 65535, found "
        "'${SECRET}'");
  CHECK(server_errors("threads: ${N}\n", env) ==
        "sluice.yaml:1:10: threads: expected a whole number from 0 (one thread per core) to "
        "1024, found '${N}'");
  // Job files loaded by the daemon from jobs_dir.
  CHECK(job_errors("name: t\nsql: SELECT a FROM s\n"
                   "source: {type: kafka, topic: '${TOPIC}-${SECRET}!', schema: {a: BIGINT}}\n"
                   "sink: {type: '${SECRET}'}\n",
                   env) ==
        "job.yaml:3:30: source.topic: '${TOPIC}-${SECRET}!' is not a valid Kafka topic name (use "
        "letters, digits, '.', '_' and '-'; at most 249 characters; not '.' or '..')\n"
        "job.yaml:4:14: sink.type: '${SECRET}' is not a sink type (expected file, stdout or "
        "kafka)");
  // Defaults are written in the file, not secrets: they are quoted as they are.
  CHECK_THAT(server_errors("threads: ${UNSET:-many}\n", env), Catch::Contains("found 'many'"));
}

TEST_CASE("sluice validate: a refused property exits 1 and names it; no value is echoed",
          "[cli][security]") {
  fs::path dir = temp_dir("validate");
  write(dir / "kinit.yaml",
        job_with("  sasl.kerberos.kinit.cmd: \"touch " + (dir / "marker").string() + "\"\n"));
  ::setenv("SLUICE_TEST_VALIDATE_SECRET", kSecret, 1);
  write(dir / "secret.yaml", job_with("  compression.type: ${SLUICE_TEST_VALIDATE_SECRET}\n"));
  write(dir / "literal.yaml", job_with("  sasl.password: " + std::string(kSecret) + "\n"));
  write(dir / "good.yaml", job_with("  compression.type: lz4\n"));
  std::vector<std::string> files = {"kinit.yaml", "secret.yaml", "literal.yaml", "good.yaml"};
  std::vector<std::string> paths;
  std::vector<const char*> args = {"sluice", "validate"};
  for (const auto& f : files)
    paths.push_back((dir / f).string());
  for (const auto& p : paths)
    args.push_back(p.c_str());
  std::ostringstream out, err;
  int code = sluice::server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
  ::unsetenv("SLUICE_TEST_VALIDATE_SECRET");
  CHECK(code == 1);
  CHECK(out.str() == paths[3] + ": ok\n");
  CHECK_THAT(err.str(),
             Catch::Contains(paths[0] + ":6:3: kafka.sasl.kerberos.kinit.cmd: not allowed in a "
                                        "job file: it runs a shell command"));
  CHECK_THAT(err.str(),
             Catch::Contains(paths[1] + ":6:21: kafka.compression.type: librdkafka refused the "
                                        "value (allowed: none, gzip, snappy, lz4, zstd)"));
  CHECK_THAT(err.str(), Catch::Contains(paths[2] + ":6:3: kafka.sasl.password: not allowed"));
  CHECK_THAT(err.str(), !Catch::Contains(kSecret));
  CHECK_FALSE(fs::exists(dir / "marker"));
  fs::remove_all(dir.parent_path());
}

// ---------------------------------------------------------------------------------------------
// Posted jobs read no environment

TEST_CASE("posted jobs: ${VAR} only for variables with the operator's prefix",
          "[config][security]") {
  EnvLookup process = env_of({{"SLUICE_TOKEN", kSecret}, {"SLUICE_JOB_TOPIC", "orders"}});
  EnvLookup none = sluice::config::posted_job_env("", process);
  const std::string refused =
      "the admin API does not substitute environment variables in posted jobs (write $$ for a "
      "literal '$'; the server config's http.job_env_prefix can allow variables that start with "
      "a prefix)";
  CHECK(job_errors(job_with("  client.rack: ${SLUICE_TOKEN}\n"), none) ==
        "job.yaml:6:16: kafka.client.rack: '${SLUICE_TOKEN}': " + refused);
  // A default does not make it allowed: the lookup itself is refused.
  CHECK(job_errors(job_with("  client.rack: x${SLUICE_TOKEN:-r1}\n"), none) ==
        "job.yaml:6:17: kafka.client.rack: '${SLUICE_TOKEN}': " + refused);
  CHECK_THAT(job_errors("name: ${SLUICE_JOB_TOPIC}\nsql: x\n", none),
             Catch::Contains("job.yaml:1:7: name: '${SLUICE_JOB_TOPIC}': " + refused));
  // $$ is a literal '$', as in every file.
  auto literal = load_job_text(job_with("  client.rack: $${SLUICE_TOKEN}\n"), "j.yaml", none);
  CHECK(literal.kafka[0].second == "${SLUICE_TOKEN}");

  EnvLookup prefixed = sluice::config::posted_job_env("SLUICE_JOB_", process);
  auto job = load_job_text(
      "name: t\nsql: SELECT a FROM s\n"
      "source: {type: kafka, topic: '${SLUICE_JOB_TOPIC}', name: s, schema: {a: BIGINT}}\n"
      "sink: {type: kafka, topic: out}\n",
      "j.yaml", prefixed);
  CHECK(job.source.topic == "orders");
  CHECK(job_errors(job_with("  client.rack: ${SLUICE_TOKEN:-x}\n"), prefixed) ==
        "job.yaml:6:16: kafka.client.rack: '${SLUICE_TOKEN}': posted jobs may read only the "
        "environment variables whose names start with 'SLUICE_JOB_' (the server config's "
        "http.job_env_prefix; write $$ for a literal '$')");
}

TEST_CASE("http.job_env_prefix in the server config", "[config][security]") {
  CHECK(load_server_text("", "s.yaml", kNoEnv).http_job_env_prefix.empty());
  CHECK(load_server_text("http:\n  job_env_prefix: SLUICE_JOB_\n", "s.yaml", kNoEnv)
            .http_job_env_prefix == "SLUICE_JOB_");
  CHECK(server_errors("http:\n  job_env_prefix: ''\n") ==
        "sluice.yaml:2:19: http.job_env_prefix: must not be empty (leave it out: posted jobs "
        "then read no environment variable)");
  CHECK(server_errors("http:\n  job_env_prefix: 'A-'\n") ==
        "sluice.yaml:2:19: http.job_env_prefix: expected the start of environment variable "
        "names (letters, digits and '_', not starting with a digit), such as SLUICE_JOB_");
}

// ---------------------------------------------------------------------------------------------
// The jobs directory

TEST_CASE("job files that resolve outside the jobs directory are not read", "[daemon][security]") {
  using sluice::server::read_job_files;
  fs::path root = temp_dir("jobs-dir");
  fs::path jobs = root / "jobs";
  fs::create_directories(jobs);
  write(root / "secret.txt", std::string("password: ") + kSecret + "\n  [broken yaml\n");
  write(jobs / "plain.yaml", "name: plain\n");
  fs::create_symlink(root / "secret.txt", jobs / "abs.yaml");
  fs::create_symlink("../secret.txt", jobs / "rel.yaml");
  fs::create_symlink("/etc/passwd", jobs / "passwd.yml");
  // A Kubernetes ConfigMap mount: every link stays within the directory.
  fs::create_directories(jobs / "..2024_01_01_00_00_00.1");
  write(jobs / "..2024_01_01_00_00_00.1" / "cm.yaml", "name: cm\n");
  fs::create_directory_symlink("..2024_01_01_00_00_00.1", jobs / "..data");
  fs::create_symlink("..data/cm.yaml", jobs / "cm.yaml");
  // A link to another file of the directory is fine too; dot files and FIFOs are skipped.
  fs::create_symlink("plain.yaml", jobs / "alias.yaml");
  write(jobs / ".hidden.yaml", "name: hidden\n");
  REQUIRE(::mkfifo((jobs / "fifo.yaml").c_str(), 0600) == 0);

  auto files = read_job_files(jobs.string());
  std::vector<std::string> names;
  for (const auto& [path, file] : files)
    names.push_back(fs::path(path).filename().string());
  CHECK(names == std::vector<std::string>{"abs.yaml", "alias.yaml", "cm.yaml", "passwd.yml",
                                          "plain.yaml", "rel.yaml"});
  CHECK(files[(jobs / "plain.yaml").string()].text == "name: plain\n");
  CHECK(files[(jobs / "alias.yaml").string()].text == "name: plain\n");
  CHECK(files[(jobs / "cm.yaml").string()].text == "name: cm\n");
  CHECK(files[(jobs / "cm.yaml").string()].refused.empty());
  for (const char* outside : {"abs.yaml", "rel.yaml", "passwd.yml"}) {
    CAPTURE(outside);
    const auto& file = files[(jobs / outside).string()];
    CHECK(file.text.empty());
    CHECK_THAT(file.refused, Catch::StartsWith("not read: the file resolves to ") &&
                                 Catch::Contains(", outside the jobs directory ") &&
                                 !Catch::Contains(kSecret) && !Catch::Contains("root:"));
  }

  // The jobs directory may itself be a symlink (a mount point elsewhere).
  fs::create_directory_symlink(jobs, root / "jobs-link");
  auto via_link = read_job_files((root / "jobs-link").string());
  CHECK(via_link[(root / "jobs-link" / "cm.yaml").string()].text == "name: cm\n");
  CHECK_FALSE(via_link[(root / "jobs-link" / "abs.yaml").string()].refused.empty());

  // Too large to be a job file: refused without being read.
  write(jobs / "big.yaml", std::string(sluice::server::kMaxJobFileBytes + 1, '#'));
  CHECK_THAT(read_job_files(jobs.string())[(jobs / "big.yaml").string()].refused,
             Catch::StartsWith("not read: the file has 1048577 bytes"));
  fs::remove_all(root.parent_path());
}
