// Durable state without a broker: the local state store (atomic snapshot files, the newest
// readable one, corrupt and foreign files skipped) and a durable partition pipeline (its progress
// commits only offsets a snapshot covers, once their output is acknowledged; a pipeline restored
// from a snapshot goes on counting where the snapshot left off).

#include "server/checkpoint/state_store.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline_rig.hpp"
#include "temp_dir.hpp"

using namespace sluice;
using server::checkpoint::StateStore;
using server::pipeline::Progress;
using server::pipeline::StateCheckpoint;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

StateCheckpoint checkpoint(int64_t offset, std::string state) {
  StateCheckpoint cp;
  cp.offset = offset;
  cp.watermark = offset * 10;
  cp.state = std::move(state);
  return cp;
}

std::vector<std::string> files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void flip_byte(const fs::path& file, std::streamoff at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.get(c);
  f.seekp(at);
  f.put(static_cast<char>(c ^ 0x40));
}

const std::string kCounts =
    "name: c\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
    "source: {type: kafka, topic: in, name: t, partitioned_by: [k], schema: {k: STRING}}\n"
    "sink: {type: kafka, topic: out, key: [k]}\n";

std::string k_json(const char* k) {
  return std::string("{\"k\":\"") + k + "\"}";
}

}  // namespace

TEST_CASE("state store: snapshots are written atomically; the newest and the committed one stay",
          "[state]") {
  TempDir tmp;
  StateStore store(tmp.path.string(), "in");
  // Each written once the one before it was confirmed as committed.
  int64_t committed = -1;
  for (int64_t offset : {5, 17, 40}) {
    REQUIRE(
        store.write(3, checkpoint(offset, "state@" + std::to_string(offset)), committed).empty());
    committed = offset;
  }
  CHECK(files(tmp.path / "3") ==
        std::vector<std::string>{"00000000000000000017.snapshot", "00000000000000000040.snapshot"});
  StateCheckpoint with_sources = checkpoint(41, "s");
  with_sources.sources = {{0, 17}, {5, 1234567890123}};
  REQUIRE(store.write(4, with_sources, -1).empty());
  std::vector<std::string> warnings;
  auto cp = store.read(4, 1000, warnings);
  REQUIRE(cp);
  CHECK(cp->sources == with_sources.sources);
  cp = store.read(3, 1000, warnings);
  REQUIRE(cp);
  CHECK(warnings.empty());
  CHECK(cp->offset == 40);
  CHECK(cp->watermark == 400);
  CHECK(cp->state == "state@40");
  CHECK_FALSE(store.read(5, 1000, warnings));  // another partition: nothing
  // Only snapshots at or before the committed offset count (a later one was never committed).
  cp = store.read(3, 39, warnings);
  REQUIRE(cp);
  CHECK(cp->offset == 17);
  CHECK_FALSE(store.read(3, 16, warnings));
  CHECK(warnings.empty());
}

TEST_CASE("state store: pruning keeps what the committed offset needs", "[state]") {
  TempDir tmp;
  StateStore store(tmp.path.string(), "in");
  fs::path dir = tmp.path / "0";
  SECTION("commits not confirmed: everything since the confirmed one stays") {
    for (int64_t offset : {10, 20, 30, 40})
      REQUIRE(store.write(0, checkpoint(offset, "s"), 10).empty());
    CHECK(files(dir).size() == 4);
    REQUIRE(store.write(0, checkpoint(50, "s"), 30).empty());
    CHECK(files(dir) == std::vector<std::string>{"00000000000000000030.snapshot",
                                                 "00000000000000000040.snapshot",
                                                 "00000000000000000050.snapshot"});
  }
  SECTION("offsets reset back: later snapshots are an abandoned history") {
    REQUIRE(store.write(0, checkpoint(1000, "s"), -1).empty());
    REQUIRE(store.write(0, checkpoint(2000, "s"), 1000).empty());
    REQUIRE(store.write(0, checkpoint(100, "new"), 0).empty());
    CHECK(files(dir) == std::vector<std::string>{"00000000000000000100.snapshot"});
    std::vector<std::string> warnings;
    auto cp = store.read(0, 100, warnings);
    REQUIRE(cp);
    CHECK(cp->state == "new");
  }
  SECTION("a temporary file a crash left is removed when the partition is read") {
    REQUIRE(store.write(0, checkpoint(10, "s"), -1).empty());
    std::ofstream(dir / ".00000000000000000020.snapshot.tmp") << "partial";
    std::vector<std::string> warnings;
    CHECK(store.read(0, 100, warnings));
    CHECK(files(dir) == std::vector<std::string>{"00000000000000000010.snapshot"});
  }
}

TEST_CASE("state store: a size field near 2^64 is refused, not read past the end", "[state]") {
  TempDir tmp;
  StateStore store(tmp.path.string(), "in");
  REQUIRE(store.write(0, checkpoint(7, "abc"), -1).empty());
  fs::path file = tmp.path / "0" / "00000000000000000007.snapshot";
  // The header: magic, version, topic (length + 2 bytes), offset, watermark, source positions
  // (a count: none), then the size.
  std::streamoff size_at = 4 + 4 + 4 + 2 + 8 + 8 + 4;
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(size_at);
    const char huge[8] = {'\xfc', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff'};
    f.write(huge, 8);
  }
  fs::resize_file(file, static_cast<uintmax_t>(size_at + 8));
  std::vector<std::string> warnings;
  CHECK_FALSE(store.read(0, 100, warnings));
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("truncated"));
}

TEST_CASE("state store: a corrupt, truncated or foreign snapshot is skipped for an older one",
          "[state]") {
  TempDir tmp;
  StateStore store(tmp.path.string(), "in");
  REQUIRE(store.write(0, checkpoint(10, "older"), -1).empty());
  REQUIRE(store.write(0, checkpoint(20, std::string(1000, 'x')), 10).empty());
  fs::path newest = tmp.path / "0" / "00000000000000000020.snapshot";
  std::vector<std::string> warnings;

  SECTION("a flipped byte in the state") {
    flip_byte(newest, 500);
    auto cp = store.read(0, 1000, warnings);
    REQUIRE(cp);
    CHECK(cp->offset == 10);
    CHECK(cp->state == "older");
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("checksum mismatch"));
  }
  SECTION("truncated") {
    fs::resize_file(newest, fs::file_size(newest) - 7);
    auto cp = store.read(0, 1000, warnings);
    REQUIRE(cp);
    CHECK(cp->offset == 10);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("truncated"));
  }
  SECTION("renamed: the offset inside differs from the name") {
    fs::rename(newest, tmp.path / "0" / "00000000000000000030.snapshot");
    auto cp = store.read(0, 1000, warnings);
    REQUIRE(cp);
    CHECK(cp->offset == 10);
    CHECK_THAT(warnings.at(0), Catch::Contains("differs from the file name"));
  }
  SECTION("another topic's offsets") {
    StateStore other(tmp.path.string(), "other-topic");
    CHECK_FALSE(other.read(0, 1000, warnings));
    REQUIRE(warnings.size() == 2);
    CHECK_THAT(warnings[0], Catch::Contains("a snapshot of topic 'in', not 'other-topic'"));
  }
  SECTION("a left-over temporary file and other files are not snapshots") {
    std::ofstream(tmp.path / "0" / ".00000000000000000099.snapshot.tmp") << "partial";
    std::ofstream(tmp.path / "0" / "notes.txt") << "x";
    auto cp = store.read(0, 1000, warnings);
    REQUIRE(cp);
    CHECK(cp->offset == 20);
    CHECK(warnings.empty());
  }
}

TEST_CASE("state store: a directory that cannot be written is an error, not a crash", "[state]") {
  TempDir tmp;
  std::ofstream(tmp.path / "file") << "x";  // a file where the job's directory should be
  StateStore store((tmp.path / "file").string(), "in");
  std::string why = store.write(0, checkpoint(1, "s"), -1);
  CHECK_THAT(why, Catch::Contains("creating"));
}

TEST_CASE("durable pipeline: the progress commits only what an acknowledged snapshot covers",
          "[state]") {
  test::Rig rig(kCounts, test::opts([](test::RigOptions& o) {
                  o.batch_records = 2;
                  o.durable = true;
                  o.snapshot_interval_ms = 1000;
                }));
  for (const char* k : {"a", "b", "a"})
    rig.source->append(k_json(k));
  rig.start();
  REQUIRE(rig.out.taken().size() == 3);
  rig.out.deliver();
  rig.run();
  // Acknowledged, but no snapshot yet (the interval has not passed): nothing to commit.
  CHECK(rig.progress().offset == -1);
  rig.clock.advance_ms(1000);
  Progress p = rig.progress();  // the snapshot is taken now, at offset 3, its output acknowledged
  REQUIRE(p.checkpoint);
  CHECK(p.offset == 3);
  CHECK(p.checkpoint->offset == 3);
  CHECK(rig.pipeline->metrics().snapshots.get() == 1);

  // More input whose output is in flight when the next snapshot is taken: that snapshot waits.
  rig.source->append(k_json("b"));
  rig.run();
  rig.clock.advance_ms(1000);
  p = rig.progress();
  CHECK(p.offset == 3);
  rig.out.deliver();
  rig.run();
  p = rig.progress();
  CHECK(p.offset == 4);
  REQUIRE(p.checkpoint);
  CHECK(p.checkpoint->offset == 4);
}

TEST_CASE(
    "durable pipeline: stopping snapshots everything acknowledged, and a pipeline restored "
    "from it counts on",
    "[state]") {
  std::shared_ptr<const StateCheckpoint> saved;
  {
    test::Rig rig(kCounts, test::opts([](test::RigOptions& o) { o.durable = true; }));
    for (const char* k : {"a", "b", "a"})
      rig.source->append(k_json(k));
    rig.start();
    rig.out.deliver();
    rig.run();
    rig.pipeline->request_stop();
    rig.run();
    REQUIRE(rig.pipeline->drained());
    Progress p = rig.pipeline->progress();
    REQUIRE(p.checkpoint);
    CHECK(p.offset == 3);
    saved = p.checkpoint;
  }
  auto job = config::load_job_text(kCounts, "job.yaml");
  auto query = server::compile_job(job);
  auto state = query->make_state();
  query->restore(*state, saved->state, "test snapshot");
  Progress restored;
  restored.offset = saved->offset;
  restored.done = saved->offset;
  restored.checkpoint = saved;
  test::Rig rig(kCounts, test::opts([&](test::RigOptions& o) {
                  o.durable = true;
                  o.restored = restored;
                  o.state = std::move(state);
                }));
  rig.source->set_next_offset(3);  // the restored pipeline reads on from the snapshot's offset
  rig.source->append(k_json("a"));
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  CHECK(rig.out.taken()[0].value == "{\"k\":\"a\",\"n\":3}");
  // Before anything new is snapshotted, the progress is the restored snapshot's.
  Progress p = rig.progress();
  CHECK(p.offset == 3);
  CHECK(p.checkpoint == saved);
}

TEST_CASE(
    "repartitioned query stage: copies a restarted router re-sent count once, also after a "
    "restore",
    "[state]") {
  auto record = [](const char* k, int32_t partition, int64_t offset) {
    testing::FakeSource::Record r;
    r.value = k_json(k);
    r.source_partition = partition;
    r.source_offset = offset;
    return r;
  };
  std::shared_ptr<const StateCheckpoint> saved;
  {
    test::Rig rig(kCounts, test::opts([](test::RigOptions& o) {
                    o.durable = true;
                    o.dedupe_sources = true;
                  }));
    rig.source->append(record("a", 0, 10));
    rig.source->append(record("a", 1, 10));  // another source partition: not a copy
    rig.source->append(record("a", 0, 11));
    rig.source->append(record("a", 0, 10));  // re-sent
    rig.source->append(record("a", 0, 11));  // re-sent
    rig.source->append(k_json("b"));         // no source header: always applied
    rig.start();
    REQUIRE(rig.out.taken().size() == 4);
    CHECK(rig.out.taken()[2].value == "{\"k\":\"a\",\"n\":3}");
    CHECK(rig.counts().replayed == 2);
    CHECK(rig.counts().records_in == 6);
    rig.out.deliver();
    rig.run();
    rig.pipeline->request_stop();
    rig.run();
    saved = rig.pipeline->progress().checkpoint;
    REQUIRE(saved);
    CHECK(saved->sources == std::vector<std::pair<int32_t, int64_t>>{{0, 11}, {1, 10}});
  }
  auto job = config::load_job_text(kCounts, "job.yaml");
  auto query = server::compile_job(job);
  auto state = query->make_state();
  query->restore(*state, saved->state, "test snapshot");
  Progress restored;
  restored.offset = restored.done = saved->offset;
  restored.checkpoint = saved;
  test::Rig rig(kCounts, test::opts([&](test::RigOptions& o) {
                  o.durable = true;
                  o.dedupe_sources = true;
                  o.restored = restored;
                  o.state = std::move(state);
                }));
  rig.source->set_next_offset(saved->offset);
  rig.source->append(record("a", 1, 10));  // a copy of one applied before the snapshot
  rig.source->append(record("a", 1, 11));
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  CHECK(rig.out.taken()[0].value == "{\"k\":\"a\",\"n\":4}");
  CHECK(rig.counts().replayed == 1);
}

TEST_CASE("a router marks each record it forwards with its source position", "[state]") {
  test::Rig rig(
      "name: r\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k\n"
      "source: {type: kafka, topic: in, name: t, schema: {k: STRING, v: BIGINT}}\n"
      "sink: {type: kafka, topic: out}\n",
      test::opts([](test::RigOptions& o) { o.route = true; }));
  rig.source->set_next_offset(41);
  rig.source->append("{\"k\":\"a\",\"v\":1}");
  rig.source->append("{\"k\":\"b\",\"v\":2}");
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  CHECK(rig.out.taken()[0].headers.at("sluice.source") == "0:41");
  CHECK(rig.out.taken()[1].headers.at("sluice.source") == "0:42");
  CHECK(rig.out.taken()[1].value == "{\"k\":\"b\",\"v\":2}");  // forwarded unchanged
}
