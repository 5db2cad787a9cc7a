// Jobs that cannot run side by side: two jobs in one consumer group (a job's group_id, default its
// name, and `<group>-repartition` of a repartitioned job), one name twice, a job writing another
// job's repartition topic. Checked by `sluice validate` over several files, by the daemon's
// JobManager (the job already running keeps running; the other file is reported invalid and
// starts once the first is gone) and by POST /jobs (tests/unit/admin_api_test.cpp).

#include "server/jobs/job_conflicts.hpp"

#include "config/server_config.hpp"
#include "server/cli/cli.hpp"
#include "server/devtools/mock_broker.hpp"
#include "server/jobs/job_manager.hpp"
#include "server/plan/job_plan.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "job_manager_rig.hpp"
#include "temp_dir.hpp"

using namespace sluice;
using namespace sluice::server;
namespace fs = std::filesystem;

namespace {

struct TempDir : test::TempDir {
  TempDir() : test::TempDir("sluice-conflicts") {}
};

// A stateless Kafka job: `name`, reading `topic`, writing `<topic>-out`; `extra` adds top-level
// keys (group_id).
std::string stateless_job(const std::string& name, const std::string& topic,
                          const std::string& extra = "") {
  return "name: " + name +
         "\n"
         "sql: SELECT id FROM t\n"
         "source: {type: kafka, topic: " +
         topic +
         ", name: t, schema: {id: BIGINT}}\n"
         "sink: {type: kafka, topic: " +
         topic + "-out}\n" + extra;
}

// A job whose GROUP BY needs repartitioning (the source is not partitioned by `k`): it writes
// `<name>-repartition` and reads it in the group `<group>-repartition`.
std::string repartitioned_job(const std::string& name, const std::string& topic,
                              const std::string& extra = "") {
  return "name: " + name +
         "\n"
         "sql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
         "source: {type: kafka, topic: " +
         topic +
         ", name: t, schema: {k: STRING}}\n"
         "sink: {type: kafka, topic: " +
         topic + "-counts}\n" + extra;
}

struct CliResult {
  int code;
  std::string out, err;
};

CliResult validate(const std::vector<std::string>& files) {
  std::vector<const char*> args = {"sluice", "validate"};
  for (const auto& f : files)
    args.push_back(f.c_str());
  std::ostringstream out, err;
  int code = run_cli(static_cast<int>(args.size()), args.data(), out, err);
  return {code, out.str(), err.str()};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using test::eventually;

}  // namespace

TEST_CASE("job claims: the name, the consumer groups, the repartition topic, the outputs",
          "[conflicts]") {
  auto claims_of = [](const std::string& text, const std::string& file) {
    config::JobConfig job = config::load_job_text(text, file);
    return job_claims(job, *compile_job(job));
  };
  JobClaims plain = claims_of(stateless_job("p", "tp"), "p.yaml");
  CHECK(plain.file == "p.yaml");
  CHECK(plain.name == "p");
  CHECK(plain.name_mark.line == 1);
  CHECK(plain.group == "p");
  CHECK(plain.group_mark.line == 0);  // the job name: no group_id key
  CHECK(plain.repartition_group.empty());
  CHECK(plain.repartition_topic.empty());
  REQUIRE(plain.outputs.size() == 1);
  CHECK(plain.outputs[0].topic == "tp-out");
  CHECK(plain.outputs[0].key_path == "sink.topic");
  CHECK(plain.outputs[0].mark.line == 4);

  JobClaims grouped = claims_of(repartitioned_job("r", "tr",
                                                  "group_id: g\n"
                                                  "dead_letter: {type: kafka, topic: "
                                                  "dlq}\n"),
                                "r.yaml");
  CHECK(grouped.group == "g");
  CHECK(grouped.group_mark.line == 5);
  CHECK(grouped.repartition_group == "g-repartition");
  CHECK(grouped.repartition_topic == "r-repartition");
  REQUIRE(grouped.outputs.size() == 2);
  CHECK(grouped.outputs[1].topic == "dlq");
  CHECK(grouped.outputs[1].key_path == "dead_letter.topic");

  // A file source has no consumer group; a Kafka source already partitioned by the GROUP BY key
  // needs no repartition stage.
  JobClaims file_job = claims_of(
      "name: f\nsql: SELECT id FROM t\nsource: {type: file, path: in.jsonl, name: t, schema: {id: "
      "BIGINT}}\nsink: {type: stdout}\n",
      "f.yaml");
  CHECK(file_job.group.empty());
  CHECK(file_job.outputs.empty());
  JobClaims keyed =
      claims_of(repartitioned_job("k", "tk").replace(repartitioned_job("k", "tk").find("schema:"),
                                                     7, "partitioned_by: [k], schema:"),
                "k.yaml");
  CHECK(keyed.group == "k");
  CHECK(keyed.repartition_group.empty());

  // The helpers the daemon's consumers use (a JobConfig built in code may leave group_id empty).
  config::JobConfig bare;
  bare.name = "n";
  CHECK(consumer_group(bare) == "n");
  CHECK(repartition_group(bare) == "n-repartition");
  bare.group_id = "g";
  CHECK(repartition_group(bare) == "g-repartition");
}

TEST_CASE("find_conflicts: which pairs of jobs collide, reported in the first one's file",
          "[conflicts]") {
  auto claims_of = [](const std::string& text, const std::string& file) {
    config::JobConfig job = config::load_job_text(text, file);
    return job_claims(job, *compile_job(job));
  };
  auto a = claims_of(stateless_job("a", "ta", "group_id: b\n"), "a.yaml");
  auto b = claims_of(stateless_job("b", "tb"), "b.yaml");
  auto c = claims_of(stateless_job("c", "tc", "group_id: a\n"), "c.yaml");
  // a joins b's default group; each direction is reported in its own file.
  auto ab = find_conflicts(a, b);
  REQUIRE(ab.size() == 1);
  CHECK(ab[0].file == "a.yaml");
  CHECK(ab[0].key_path == "group_id");
  CHECK(ab[0].mark.line == 5);
  auto ba = find_conflicts(b, a);
  REQUIRE(ba.size() == 1);
  CHECK(ba[0].to_string() ==
        "b.yaml:1:7: name: consumer group 'b' (the job name; group_id sets another) is also used "
        "by job 'a' (a.yaml): two jobs in one consumer group split the partitions of both their "
        "topics, and each drops the records meant for the other");
  // A name is not a group when group_id sets another one: c's group 'a' is free (a uses 'b').
  CHECK(find_conflicts(c, a).empty());
  CHECK(find_conflicts(a, c).empty());
  CHECK(find_conflicts(b, c).empty());

  // Two repartitioned jobs in one group collide twice: the group and its -repartition group.
  auto r1 = claims_of(repartitioned_job("r1", "t1", "group_id: shared\n"), "r1.yaml");
  auto r2 = claims_of(repartitioned_job("r2", "t2", "group_id: shared\n"), "r2.yaml");
  auto rr = find_conflicts(r2, r1);
  REQUIRE(rr.size() == 2);
  CHECK(rr[0].message.starts_with("consumer group 'shared' is also used by job 'r1' (r1.yaml)"));
  CHECK(
      rr[1].message.starts_with("consumer group 'shared-repartition' (of this job's "
                                "repartition stage) is also used by the repartition stage of "
                                "job 'r1' (r1.yaml)"));
  // A plain job may read another job's repartition topic (it only watches), not write it.
  auto reader = claims_of(stateless_job("reader", "r1-repartition"), "reader.yaml");
  CHECK(find_conflicts(reader, r1).empty());
  auto writer = claims_of(
      stateless_job("writer", "w")
          .replace(stateless_job("writer", "w").find("topic: w-out"), 12, "topic: r1-repartition"),
      "writer.yaml");
  auto wr = find_conflicts(writer, r1);
  REQUIRE(wr.size() == 1);
  CHECK(wr[0].key_path == "sink.topic");
  CHECK(wr[0].mark.line == 4);
  auto rw = find_conflicts(r1, writer);
  REQUIRE(rw.size() == 1);
  CHECK(
      rw[0].message.starts_with("this job's repartition topic 'r1-repartition' is also written "
                                "by job 'writer' (writer.yaml, sink.topic)"));
  // Nor another job's changelog topic (a durable aggregate's state).
  CHECK(r1.changelog_topic == "r1-changelog");
  auto spoiler = claims_of(
      stateless_job("spoiler", "w")
          .replace(stateless_job("spoiler", "w").find("topic: w-out"), 12, "topic: r1-changelog"),
      "spoiler.yaml");
  auto sr = find_conflicts(spoiler, r1);
  REQUIRE(sr.size() == 1);
  CHECK(sr[0].message.starts_with("'r1-changelog' is the changelog topic of job 'r1'"));
  auto rs = find_conflicts(r1, spoiler);
  REQUIRE(rs.size() == 1);
  CHECK(
      rs[0].message.starts_with("this job's changelog topic 'r1-changelog' is also written by "
                                "job 'spoiler' (spoiler.yaml, sink.topic): this job would "
                                "restore these records as its state"));
  CHECK(reader.changelog_topic.empty());  // stateless: no changelog
  // One name in two files: one issue, at the name.
  auto twin = claims_of(stateless_job("b", "other", "group_id: other\n"), "twin.yaml");
  auto tb = find_conflicts(twin, b);
  REQUIRE(tb.size() == 1);
  CHECK(tb[0].to_string() == "twin.yaml:1:7: name: job name 'b' is already used by b.yaml");
  // File jobs have no group: only their names can collide.
  auto f1 = claims_of(
      "name: f1\nsql: SELECT id FROM t\nsource: {type: file, path: in.jsonl, name: t, schema: "
      "{id: BIGINT}}\nsink: {type: stdout}\ngroup_id: b\n",
      "f1.yaml");
  CHECK(find_conflicts(f1, b).empty());
}

TEST_CASE("validate: a consumer group used by two jobs is refused, naming both", "[conflicts]") {
  TempDir dir;
  // `a` joins the group `b`, which job `b` uses by default: each would get part of the other's
  // partitions and drop what it cannot use.
  auto a = dir.write("a.yaml", stateless_job("a", "ta", "group_id: b\n"));
  auto b = dir.write("b.yaml", stateless_job("b", "tb"));
  auto r = validate({a, b});
  CHECK(r.code == 1);
  CHECK(r.out == a + ": ok\n");
  INFO(r.err);
  // The later file is refused (as the daemon keeps the job that runs first), at its group: here
  // the job name, which is its group by default.
  CHECK(contains(r.err, b +
                            ":1:7: name: consumer group 'b' (the job name; group_id sets another) "
                            "is also used by job 'a' (" +
                            a + ")"));

  r = validate({b, a});
  CHECK(r.code == 1);
  CHECK(r.out == b + ": ok\n");
  CHECK(contains(r.err,
                 a + ":5:11: group_id: consumer group 'b' is also used by job 'b' (" + b + ")"));

  // Each file is fine on its own, and distinct groups are fine together.
  CHECK(validate({a}).code == 0);
  CHECK(validate({b}).code == 0);
  auto c = dir.write("c.yaml", stateless_job("c", "ta", "group_id: c-group\n"));
  CHECK(validate({a, c}).code == 0);
}

TEST_CASE("validate: a repartitioned job's second group and its repartition topic", "[conflicts]") {
  TempDir dir;
  // Job x repartitions: its query stage reads x-repartition in the group x-repartition, which a
  // job called x-repartition uses too.
  auto x = dir.write("x.yaml", repartitioned_job("x", "tx"));
  auto xr = dir.write("xr.yaml", stateless_job("x-repartition", "ty"));
  auto r = validate({x, xr});
  CHECK(r.code == 1);
  INFO(r.err);
  CHECK(contains(r.err, xr +
                            ":1:7: name: consumer group 'x-repartition' (the job name; group_id "
                            "sets another) is also used by the repartition stage of job 'x' (" +
                            x + ")"));
  r = validate({xr, x});
  CHECK(r.code == 1);
  CHECK(contains(r.err, x +
                            ":1:7: name: consumer group 'x-repartition' (of this job's "
                            "repartition stage; group_id sets another) is also used by job "
                            "'x-repartition' (" +
                            xr + ")"));
  // The same through group_id: a repartitioned job in group g and a job in group g-repartition.
  auto g = dir.write("g.yaml", repartitioned_job("g1", "tg", "group_id: g\n"));
  auto g2 = dir.write("g2.yaml", stateless_job("g2", "tg2", "group_id: g-repartition\n"));
  r = validate({g, g2});
  CHECK(r.code == 1);
  CHECK(contains(r.err, g2 +
                            ":5:11: group_id: consumer group 'g-repartition' is also used by the "
                            "repartition stage of job 'g1' (" +
                            g + ")"));

  // A job writing x's repartition topic would mix its rows into x's input.
  auto w = dir.write("w.yaml", stateless_job("w", "tw") +
                                   "dead_letter: {type: kafka, topic: "
                                   "x-repartition}\n");
  r = validate({x, w});
  CHECK(r.code == 1);
  CHECK(contains(r.err, w +
                            ":5:35: dead_letter.topic: 'x-repartition' is the repartition topic "
                            "of job 'x' (" +
                            x + ")"));
  r = validate({w, x});
  CHECK(r.code == 1);
  CHECK(contains(r.err, x +
                            ":1:7: name: this job's repartition topic 'x-repartition' is also "
                            "written by job 'w' (" +
                            w + ", dead_letter.topic)"));

  // One job reading or writing its own repartition topic would loop.
  auto self = dir.write("self.yaml", repartitioned_job("s", "s-repartition"));
  r = validate({self});
  CHECK(r.code == 1);
  CHECK(contains(r.err, self + ":3:30: source.topic: 's-repartition' is this job's repartition "
                               "topic"));
}

TEST_CASE("validate: one job name in two files is refused", "[conflicts]") {
  TempDir dir;
  auto one = dir.write("one.yaml", stateless_job("same", "t1"));
  auto two = dir.write("two.yaml", stateless_job("same", "t2", "group_id: other\n"));
  auto r = validate({one, two});
  CHECK(r.code == 1);
  CHECK(r.out == one + ": ok\n");
  CHECK(contains(r.err, two + ":1:7: name: job name 'same' is already used by " + one));
}

TEST_CASE(
    "daemon: the job running first keeps its group; the conflicting file is invalid until "
    "the other is gone",
    "[conflicts][daemon][kafka]") {
  devtools::MockBroker broker;
  // The test broker cannot create topics through the Admin API: x's repartition topic is here.
  std::string bootstrap =
      broker.start(1, {{"ta", 1}, {"tb", 1}, {"tx", 1}, {"ty", 1}, {"x-repartition", 1}});
  TempDir dir;
  auto b = dir.write("b.yaml", stateless_job("b", "tb"));
  // Present at the first scan together: the first file by name wins, deterministically.
  auto x = dir.write("r.yaml", repartitioned_job("x", "tx"));
  auto xr = dir.write("s.yaml", stateless_job("x-repartition", "ty"));

  config::ServerConfig server;
  server.jobs_dir = dir.path.string();
  server.kafka = {{"bootstrap.servers", bootstrap}};
  JobManagerOptions options;
  options.scan_interval_ms = 100;
  test::JobManagerRig rig(server, options);
  JobManager& jobs = rig.jobs;

  auto status_of = [&](const std::string& file) -> std::optional<JobStatus> {
    for (auto& st : jobs.status())
      if (st.file == file) return st;
    return std::nullopt;
  };
  auto runs = [&](const std::string& file) {
    auto st = status_of(file);
    return st && st->state != JobState::kInvalid && st->state != JobState::kStopping &&
           st->state != JobState::kStopped && st->state != JobState::kFailed;
  };
  auto invalid = [&](const std::string& file) {
    auto st = status_of(file);
    return st && st->state == JobState::kInvalid;
  };

  REQUIRE(eventually([&] { return runs(b) && runs(x) && status_of(xr); }));
  CHECK(invalid(xr));
  CHECK(contains(status_of(xr)->error, "consumer group 'x-repartition'"));
  CHECK(contains(status_of(xr)->error, "job 'x' (" + x + ")"));

  // A file added later that joins b's group: reported invalid, naming b; b keeps running.
  uint64_t b_generation = status_of(b)->generation;
  auto a = dir.write("a.yaml", stateless_job("a", "ta", "group_id: b\n"));
  REQUIRE(eventually([&] { return status_of(a).has_value(); }));
  INFO(status_of(a)->error);
  CHECK(invalid(a));
  CHECK(contains(status_of(a)->error, a +
                                          ":5:11: group_id: consumer group 'b' is also used by "
                                          "job 'b' (" +
                                          b + ")"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few scans
  CHECK(runs(b));
  CHECK(status_of(b)->generation == b_generation);
  CHECK(invalid(a));

  // Once b's file is gone and b has stopped, a starts on a later scan.
  fs::remove(b);
  CHECK(eventually([&] { return !status_of(b) && runs(a); }, 30));
  CHECK(eventually([&] { return runs(a); }));

  CHECK(rig.shutdown());
}
