// Durable state with a changelog, without a broker: a pipeline's checkpoints write the keys that
// changed to the changelog partition of its own number, its offset commits only once they are
// acknowledged, and a state rebuilt from the changelog (checkpoint/changelog_restore) is the one
// at the committed offset, whatever a run that stopped half way through a checkpoint left behind.

#include "common/error.hpp"
#include "server/checkpoint/changelog_restore.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "pipeline_rig.hpp"

using namespace sluice;
using server::checkpoint::ChangelogRestore;
using server::pipeline::Progress;
using server::pipeline::StateCheckpoint;
using testing::FakeSink;

namespace {

const std::string kCounts =
    "name: c\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
    "source: {type: kafka, topic: in, name: t, partitioned_by: [k], schema: {k: STRING}}\n"
    "sink: {type: kafka, topic: out, key: [k]}\n";

std::string k_json(const std::string& k) {
  return "{\"k\":\"" + k + "\"}";
}

test::RigOptions changelog_opts() {
  return test::opts([](test::RigOptions& o) { o.changelog = true; });
}

// Feeds `keys` (one record each), acknowledges the output and takes a checkpoint; the changelog
// records are left unacknowledged.
void feed(test::Rig& rig, const std::vector<std::string>& keys) {
  for (const auto& k : keys)
    rig.source->append(k_json(k));
  rig.run();
  rig.out.deliver();
  rig.run();
  rig.progress();  // the checkpoint goes out
}

// The changelog as a topic holds it: everything the sinks took, in order (offset = index).
struct Topic {
  std::vector<FakeSink::Taken> records;
  void append(const FakeSink& sink) {
    records.insert(records.end(), sink.taken().begin(), sink.taken().end());
  }
};

// A state rebuilt from `topic` for the committed offset `committed`.
struct Rebuilt {
  std::unique_ptr<exec::QueryState> state;
  uint64_t applied = 0, later = 0;
};

Rebuilt rebuild(const exec::Query& q, const Topic& topic, int64_t committed) {
  Rebuilt r{q.make_state()};
  q.track_changes(*r.state);
  ChangelogRestore restore(q, *r.state, -1, committed, {}, "test changelog");
  for (size_t i = 0; i < topic.records.size(); ++i) {
    const auto& t = topic.records[i];
    std::string_view v = t.value;
    restore.add(static_cast<int64_t>(i), *t.key, t.tombstone ? nullptr : &v,
                std::stoll(t.headers.at("sluice.checkpoint")));
  }
  restore.finish();
  r.applied = restore.applied();
  r.later = restore.later();
  return r;
}

std::shared_ptr<const exec::Query> counts_query() {
  return server::compile_job(config::load_job_text(kCounts, "job.yaml"));
}

Progress at(int64_t offset) {
  Progress p;
  p.offset = offset;
  p.done = offset;
  auto cp = std::make_shared<StateCheckpoint>();
  cp->offset = offset;
  p.checkpoint = cp;
  return p;
}

// The counts a state holds for `keys`: each fed once more through a pipeline, minus that one.
std::map<std::string, int> counts_of(std::unique_ptr<exec::QueryState> state, int64_t offset,
                                     const std::vector<std::string>& keys) {
  test::Rig rig(kCounts, test::opts([&](test::RigOptions& o) {
                  o.restored = at(offset);
                  o.state = std::move(state);
                }));
  rig.source->set_next_offset(offset);
  for (const auto& k : keys)
    rig.source->append(k_json(k));
  rig.start();
  std::map<std::string, int> counts;
  for (const auto& t : rig.out.taken()) {
    auto n = t.value.find("\"n\":");
    counts[*t.key] = std::stoi(t.value.substr(n + 4)) - 1;
  }
  return counts;
}

}  // namespace

TEST_CASE(
    "changelog pipeline: a checkpoint writes the changed keys, and commits once they are "
    "acknowledged",
    "[changelog]") {
  test::Rig rig(kCounts, changelog_opts());
  for (const char* k : {"a", "b", "a"})
    rig.source->append(k_json(k));
  rig.start();
  rig.out.deliver();
  rig.run();
  Progress p = rig.progress();  // the checkpoint at offset 3 goes out
  CHECK(p.offset == -1);
  REQUIRE(rig.changelog.taken().size() == 2);  // a and b, once each
  for (const auto& t : rig.changelog.taken()) {
    CHECK(t.headers.at("sluice.checkpoint") == "3");
    CHECK(t.partition == 0);
    CHECK_FALSE(t.tombstone);
  }
  CHECK(rig.pipeline->metrics().changelog_records.get() == 2);
  CHECK(rig.progress().offset == -1);  // not acknowledged yet
  rig.changelog.deliver();
  rig.run();
  p = rig.progress();
  REQUIRE(p.checkpoint);
  CHECK(p.offset == 3);
  CHECK(p.checkpoint->offset == 3);
  CHECK(p.checkpoint->changelog_end == 2);  // after the records at 0 and 1
  CHECK(p.checkpoint->state.empty());       // no full snapshot: the interval has not passed

  // Only b changes next; nothing read, nothing written.
  feed(rig, {"b"});
  REQUIRE(rig.changelog.taken().size() == 3);
  CHECK(rig.changelog.taken()[2].headers.at("sluice.checkpoint") == "4");
  CHECK(rig.progress().offset == 3);
  rig.changelog.deliver();
  rig.run();
  CHECK(rig.progress().offset == 4);
  rig.progress();
  CHECK(rig.changelog.taken().size() == 3);

  // A failed changelog write fails the job and commits nothing after it.
  feed(rig, {"a"});
  rig.changelog.deliver(1, server::pipeline::DeliveryStatus::kFailed, "broker gone");
  rig.run();
  CHECK(rig.host->failed());
  CHECK(rig.progress().offset == 4);
}

TEST_CASE(
    "changelog pipeline: stopping writes a last checkpoint with a full snapshot and drains "
    "once it is acknowledged",
    "[changelog]") {
  test::Rig rig(kCounts, changelog_opts());
  for (const char* k : {"a", "b", "a"})
    rig.source->append(k_json(k));
  rig.start();
  rig.out.deliver();
  rig.run();
  rig.pipeline->request_stop();
  rig.run();
  CHECK_FALSE(rig.pipeline->drained());
  CHECK(rig.changelog.taken().size() == 2);
  rig.changelog.deliver();
  rig.run();
  REQUIRE(rig.pipeline->drained());
  Progress p = rig.pipeline->progress();
  REQUIRE(p.checkpoint);
  CHECK(p.offset == 3);
  CHECK_FALSE(p.checkpoint->state.empty());
  CHECK(p.checkpoint->changelog_end == 2);
}

TEST_CASE("changelog pipeline: stopping right after a checkpoint still leaves a full snapshot",
          "[changelog]") {
  test::Rig rig(kCounts, changelog_opts());
  rig.start();
  feed(rig, {"a", "b"});
  rig.changelog.deliver();
  rig.run();
  REQUIRE(rig.progress().offset == 2);  // a checkpoint without a snapshot
  REQUIRE(rig.pipeline->progress().checkpoint->state.empty());
  rig.pipeline->request_stop();
  rig.run();  // nothing changed: a checkpoint of no records, with the snapshot
  CHECK(rig.changelog.taken().size() == 2);
  REQUIRE(rig.pipeline->drained());
  Progress p = rig.pipeline->progress();
  REQUIRE(p.checkpoint);
  CHECK(p.offset == 2);
  CHECK_FALSE(p.checkpoint->state.empty());
}

TEST_CASE(
    "changelog restore: the state at the committed offset, whatever an unfinished "
    "checkpoint left",
    "[changelog]") {
  auto q = counts_query();
  Topic topic;
  {
    test::Rig first(kCounts, changelog_opts());
    first.start();
    feed(first, {"a", "b", "a"});  // checkpoint 3: a, b
    first.changelog.deliver();
    first.run();
    feed(first, {"c", "a"});  // checkpoint 5: c, a
    first.changelog.deliver();
    first.run();
    REQUIRE(first.progress().offset == 5);
    feed(first, {"d", "b"});  // checkpoint 7: written, but the run stops before committing it
    topic.append(first.changelog);
    first.changelog.deliver();  // (lets the rig drain; the offset stays uncommitted)
    first.run();
  }
  REQUIRE(topic.records.size() == 6);

  // Committed 5: checkpoint 7 is not applied (d and b come from re-reading offsets 5 and 6).
  Rebuilt r = rebuild(*q, topic, 5);
  CHECK(r.applied == 4);
  CHECK(r.later == 2);
  {
    test::Rig second(kCounts, test::opts([&](test::RigOptions& o) {
                       o.changelog = true;
                       o.restored = at(5);
                       o.state = std::move(r.state);
                     }));
    second.source->set_next_offset(5);
    second.start();
    feed(second, {"d", "b", "e"});  // checkpoint 8: d, b, e, and no key twice
    REQUIRE(second.changelog.taken().size() == 3);
    second.changelog.deliver();
    second.run();
    REQUIRE(second.progress().offset == 8);
    topic.append(second.changelog);
  }
  Rebuilt all = rebuild(*q, topic, 8);
  CHECK(all.later == 0);
  CHECK(counts_of(std::move(all.state), 8, {"a", "b", "c", "d", "e"}) ==
        std::map<std::string, int>{{"a", 3}, {"b", 2}, {"c", 1}, {"d", 1}, {"e", 1}});

  // Committed 3 (the group's offsets reset back to it): c and d, written after it, are not in
  // the state; the next checkpoint writes them as tombstones unless re-read.
  Rebuilt back = rebuild(*q, Topic{{topic.records.begin(), topic.records.begin() + 6}}, 3);
  CHECK(back.applied == 2);
  test::Rig third(kCounts, test::opts([&](test::RigOptions& o) {
                    o.changelog = true;
                    o.restored = at(3);
                    o.state = std::move(back.state);
                  }));
  third.source->set_next_offset(3);
  third.start();
  feed(third, {"c"});  // re-read: c is back; a, b (touched) rewritten; d gone
  std::map<std::string, bool> tombstone;
  for (const auto& t : third.changelog.taken())
    tombstone[*t.key] = t.tombstone;
  REQUIRE(tombstone.size() == 4);
  int tombstones = 0;
  for (const auto& [key, dead] : tombstone)
    tombstones += dead ? 1 : 0;
  CHECK(tombstones == 1);
}

TEST_CASE("changelog restore: records it cannot read are errors, not a wrong state",
          "[changelog]") {
  auto q = counts_query();
  auto st = q->make_state();
  ChangelogRestore restore(*q, *st, -1, 10, {}, "test changelog");
  std::string key = q->changelog_key(0, "x");
  std::string_view v = "1";
  CHECK_THROWS_AS(restore.add(0, key, &v, std::nullopt), Error);  // no checkpoint header
  std::string source = q->changelog_key(exec::Query::kRuntimePart, ChangelogRestore::source_key(2));
  std::string_view bad = "x";
  CHECK_THROWS_AS(restore.add(1, source, &bad, 4), Error);
  std::string_view good = "41";
  restore.add(2, source, &good, 4);
  CHECK(restore.sources() == std::map<int32_t, int64_t>{{2, 41}});
  std::string_view damaged = "\x01";
  std::string group = q->changelog_key(0, "\x07");
  CHECK_THROWS_AS(restore.add(3, group, &damaged, 5), Error);
}
