// The partition pipeline without a broker: in-memory source and sinks (tests/fakes), a manual
// clock, and the strand run by io_context::poll on the test thread, so every step is
// deterministic. Covers ordered acknowledgements and the progress they publish, windows closed by
// output still in flight, flow control (backpressure, a full sink, the admin pause, a source that
// starts paused), records too large for a sink, the event-time skew bound, failures and counts.

#include "config/job_config.hpp"
#include "server/pipeline/partition_pipeline.hpp"
#include "server/plan/job_plan.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline_rig.hpp"

using namespace sluice;
using server::pipeline::DeliveryStatus;
using server::pipeline::Progress;

namespace {

using test::id_json;
using test::kIds;
using test::opts;
using test::Rig;
using test::RigOptions;

}  // namespace

TEST_CASE("pipeline: the progress moves only over acknowledged batches, in input order",
          "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) { o.batch_records = 2; }));
  for (int i = 0; i < 4; ++i)
    rig.source->append(id_json(i));
  rig.start();
  REQUIRE(rig.out.taken().size() == 4);
  CHECK(rig.progress().offset == -1);  // nothing acknowledged yet
  rig.out.deliver_taken(2);
  rig.out.deliver_taken(3);  // the second batch first
  rig.run();
  CHECK(rig.progress().offset == -1);
  rig.out.deliver();
  rig.run();
  Progress p = rig.progress();
  CHECK(p.offset == 4);
  CHECK(p.done == 4);
  CHECK(rig.counts().records_out == 4);
  CHECK(rig.pipeline->metrics().in_flight.get() == 0);
}

TEST_CASE("pipeline: a window closed by a batch whose output is in flight holds the progress back",
          "[pipeline]") {
  Rig rig(
      "name: w\nsql: SELECT k, _window_start, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out, timestamp_format: epoch_millis}\n",
      opts([&](RigOptions& o) { o.batch_records = 1; }));
  rig.source->append("{\"k\":\"a\",\"ts\":1000}");
  rig.source->append("{\"k\":\"a\",\"ts\":2000}");
  rig.source->append("{\"k\":\"a\",\"ts\":12000}");  // closes [0, 10 s): its row goes out
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  // Committing offset 2 with watermark 12 s would take the window for emitted after a crash, and
  // its records 0 and 1 would not be read again: the progress stays at the watermark the
  // acknowledged batches reached, and before the closed window's records.
  Progress p = rig.progress();
  CHECK(p.offset == 0);
  CHECK(p.watermark == 2000);
  CHECK(p.done == 2);
  rig.out.deliver();
  rig.run();
  p = rig.progress();
  CHECK(p.offset == 2);  // the open window [10 s, 20 s) holds record 2
  CHECK(p.watermark == 12000);
  CHECK(p.done == 3);
}

TEST_CASE("pipeline: a restored progress restores the watermark and recognises replays",
          "[pipeline]") {
  Progress restored{1, 12000, 3, nullptr};
  Rig rig(
      "name: w\nsql: SELECT k, _window_start, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out, timestamp_format: epoch_millis}\n",
      opts([&](RigOptions& o) {
        o.batch_records = 1;
        o.restored = restored;
      }));
  rig.source->append("{\"k\":\"a\",\"ts\":1000}");  // offset 0 (not read again after a restart)
  rig.source->append("{\"k\":\"a\",\"ts\":2000}");  // offset 1: its window closed: replayed
  rig.start();
  CHECK(rig.counts().replayed == 2);
  CHECK(rig.counts().late == 0);
  CHECK(rig.out.taken().empty());
}

TEST_CASE("pipeline: a watermark restored far in the future is not trusted", "[pipeline]") {
  Progress restored{1, 4102444800000, 1,
                    nullptr};  // 2100-01-01: a poisoned watermark of an old version
  Rig rig(
      "name: w\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out}\n",
      opts([&](RigOptions& o) {
        o.batch_records = 1;
        o.restored = restored;
      }));
  rig.source->append("{\"k\":\"a\",\"ts\":1699999990000}");
  rig.start();
  CHECK(rig.counts().late == 0);
  CHECK(rig.counts().replayed == 0);
}

TEST_CASE("pipeline: a full sink is flow control: the batch waits, nothing blocks, nothing is lost",
          "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) {
            o.batch_records = 10;
            o.out_capacity = 3;
          }));
  for (int i = 0; i < 10; ++i)
    rig.source->append(id_json(i));
  rig.start();
  CHECK(rig.out.taken().size() == 3);
  CHECK(rig.out.waiters() == 1);
  rig.source->append(id_json(10));  // wakes the pipeline: it must not read while it waits
  rig.run();
  CHECK(rig.source->unread() == 1);
  for (int round = 0; round < 10 && rig.out.taken().size() < 11; ++round) {
    rig.out.deliver();
    rig.run();
  }
  CHECK(rig.out.taken().size() == 11);
  CHECK(rig.source->unread() == 0);
  rig.out.deliver();
  rig.run();
  CHECK(rig.progress().offset == 11);
  CHECK(rig.counts().records_out == 11);
}

TEST_CASE("pipeline: backpressure pauses the source and resumes it at half", "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) {
            o.batch_records = 4;
            o.max_in_flight = 5;
          }));
  for (int i = 0; i < 12; ++i)
    rig.source->append(id_json(i));
  rig.start();
  CHECK(rig.out.taken().size() == 8);  // the second batch took it over the bound
  CHECK(rig.source->paused());
  CHECK(rig.pipeline->metrics().paused.load());
  rig.out.deliver(4);  // the first batch: 4 records left in flight, above half the bound
  rig.run();
  CHECK(rig.source->paused());
  rig.out.deliver(4);
  rig.run();
  CHECK_FALSE(rig.source->paused());
  CHECK(rig.out.taken().size() == 12);
  CHECK(rig.pipeline->metrics().pauses.get() == 1);
}

TEST_CASE("pipeline: start sets the source's pause state, whatever the source started with",
          "[pipeline]") {
  SECTION("a partition assigned again still paused by its last pipeline is resumed") {
    Rig rig(kIds, opts([&](RigOptions& o) { o.source_starts_paused = true; }));
    rig.source->append(id_json(1));
    rig.start(false);
    CHECK_FALSE(rig.source->paused());
    CHECK(rig.out.taken().size() == 1);
  }
  SECTION("a job paused by the admin API starts paused") {
    Rig rig(kIds);
    rig.source->append(id_json(1));
    rig.start(true);
    CHECK(rig.source->paused());
    CHECK(rig.out.taken().empty());
    rig.pipeline->user_pause(false);
    rig.run();
    CHECK_FALSE(rig.source->paused());
    CHECK(rig.out.taken().size() == 1);
  }
}

TEST_CASE("pipeline: an output over the sink's limit is dead-lettered, cut to fit", "[pipeline]") {
  Rig rig(
      "name: big\nsql: SELECT id, s FROM t\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, s: STRING}}\n"
      "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n",
      opts([&](RigOptions& o) {
        o.out_max_bytes = 100;
        o.dlq_max_bytes = 400;
      }));
  rig.source->append("{\"id\":1,\"s\":\"small\"}", "k1");
  std::string big = "{\"id\":2,\"s\":\"" + std::string(600, 'x') + "\"}";
  rig.source->append(big, "k2");
  rig.source->append("{\"id\":3,\"s\":\"small\"}", "k3");
  rig.start();
  CHECK(rig.out.taken().size() == 2);
  REQUIRE(rig.dlq.taken().size() == 1);
  const auto& d = rig.dlq.taken()[0];
  CHECK(d.headers.at("sluice.error.code") == "RECORD_TOO_LARGE");
  CHECK(d.headers.at("sluice.source.offset") == "1");
  CHECK(d.headers.at("sluice.value.truncated") == std::to_string(big.size()));
  CHECK(d.key == std::optional<std::string>("k2"));
  CHECK(big.rfind(d.value, 0) == 0);  // a prefix of the original
  size_t size = d.value.size() + d.key->size();
  for (const auto& [k, v] : d.headers)
    size += k.size() + v.size();
  CHECK(size <= 400);
  rig.out.deliver();
  rig.dlq.deliver();
  rig.run();
  CHECK(rig.progress().offset == 3);
  auto c = rig.counts();
  CHECK(c.records_out == 2);
  CHECK(c.rejected == 1);
  CHECK(c.dead_lettered == 1);
}

TEST_CASE("pipeline: a record the broker refuses for its size is dead-lettered from its report",
          "[pipeline]") {
  Rig rig(kIds);
  for (int i = 0; i < 3; ++i)
    rig.source->append(id_json(i));
  rig.start();
  rig.out.deliver(1);
  rig.out.deliver(1, DeliveryStatus::kTooLarge, "Broker: Message size too large");
  rig.out.deliver(1);
  rig.run();
  REQUIRE(rig.dlq.taken().size() == 1);
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.code") == "RECORD_TOO_LARGE");
  CHECK(rig.dlq.taken()[0].headers.at("sluice.source.offset") == "1");
  CHECK(rig.dlq.taken()[0].value == id_json(1));
  CHECK(rig.progress().offset == -1);  // the dead letter is not acknowledged yet
  rig.dlq.deliver();
  rig.run();
  CHECK(rig.progress().offset == 3);
  auto c = rig.counts();
  CHECK(c.records_out == 2);
  CHECK(c.rejected == 1);
  CHECK(c.dead_lettered == 1);
  CHECK(c.records_in == c.records_out + c.rejected);
}

TEST_CASE("pipeline: without a dead-letter sink a record too large is skipped and counted",
          "[pipeline]") {
  Rig rig(
      "name: big\nsql: SELECT id, s FROM t\non_error: skip\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, s: STRING}}\n"
      "sink: {type: kafka, topic: out}\n",
      opts([&](RigOptions& o) {
        o.out_max_bytes = 100;
        o.dead_letter = false;
      }));
  rig.source->append("{\"id\":2,\"s\":\"" + std::string(600, 'x') + "\"}");
  rig.source->append("{\"id\":3,\"s\":\"small\"}");
  rig.start();
  rig.out.deliver();
  rig.run();
  CHECK(rig.progress().offset == 2);
  CHECK(rig.counts().skipped == 1);
  CHECK(rig.counts().records_out == 1);
}

TEST_CASE("pipeline: an event time far ahead is rejected and does not move the watermark",
          "[pipeline]") {
  Rig rig(
      "name: w\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n",
      opts([&](RigOptions& o) { o.batch_records = 1; }));
  int64_t now = rig.clock.wall_ms();
  rig.source->append("{\"k\":\"a\",\"ts\":" + std::to_string(now) + "}");
  // Ahead of the processing time by 2 h, beyond the default bound of 1 h ...
  rig.source->append("{\"k\":\"a\",\"ts\":" + std::to_string(now + 7'200'000) + "}");
  // ... unless the record's own timestamp is that far ahead too (the producer's clock).
  rig.source->append("{\"k\":\"a\",\"ts\":" + std::to_string(now + 1'800'000) + "}", "k",
                     now + 1'000'000);
  rig.start();
  REQUIRE(rig.dlq.taken().size() == 1);
  CHECK(rig.dlq.taken()[0].headers.at("sluice.error.code") == "EVENT_TIME");
  CHECK(rig.dlq.taken()[0].headers.at("sluice.source.offset") == "1");
  CHECK(static_cast<int64_t>(rig.pipeline->metrics().watermark.get()) == now + 1'800'000);
  CHECK(rig.counts().rejected == 1);
}

TEST_CASE("pipeline: a failed delivery fails the job and the progress stays before it",
          "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) { o.batch_records = 1; }));
  for (int i = 0; i < 3; ++i)
    rig.source->append(id_json(i));
  rig.start();
  rig.out.deliver(1);
  rig.out.deliver(1, DeliveryStatus::kFailed, "Broker: Topic authorization failed");
  rig.out.deliver(1);
  rig.run();
  CHECK(rig.host->failed());
  CHECK_THAT(rig.host->error, Catch::Contains("Topic authorization failed"));
  CHECK(rig.pipeline->metrics().delivery_errors.get() == 1);
  CHECK(rig.progress().offset == 1);
  CHECK(rig.counts().records_out == 2);  // what was delivered is counted
  CHECK(rig.host->drained == 1);         // the pipeline stopped itself
}

TEST_CASE("pipeline: on_error: fail stops at the record and never commits its batch",
          "[pipeline]") {
  Rig rig(
      "name: strict\nsql: SELECT id FROM t\non_error: fail\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT}}\n"
      "sink: {type: kafka, topic: out}\n",
      opts([&](RigOptions& o) {
        o.batch_records = 2;
        o.dead_letter = false;
      }));
  rig.source->append(id_json(0));
  rig.source->append(id_json(1));
  rig.source->append(id_json(2));
  rig.source->append("not json");
  rig.start();
  rig.out.deliver();
  rig.run();
  CHECK(rig.host->failed());
  CHECK_THAT(rig.host->error, Catch::Contains("offset 3"));
  CHECK(rig.progress().offset == 2);
  auto c = rig.counts();
  CHECK(c.records_in == 4);
  CHECK(c.records_out == 3);
  CHECK(c.rejected == 1);
}

TEST_CASE("pipeline: a send that fails outright fails the job", "[pipeline]") {
  Rig rig(kIds);
  rig.source->append(id_json(0));
  rig.out.fail_next("Local: Unknown topic");
  rig.start();
  CHECK(rig.host->failed());
  CHECK_THAT(rig.host->error, Catch::Contains("Unknown topic"));
  CHECK(rig.progress().offset == -1);
}

TEST_CASE("pipeline: a failed batch that closed a window keeps the progress before its records",
          "[pipeline]") {
  const std::string kWindows =
      "name: w\nsql: SELECT k, _window_start, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out, timestamp_format: epoch_millis}\n";
  Rig rig(kWindows, opts([&](RigOptions& o) { o.batch_records = 1; }));
  rig.source->append("{\"k\":\"a\",\"ts\":1000}");
  rig.source->append("{\"k\":\"a\",\"ts\":2000}");
  rig.source->append("{\"k\":\"a\",\"ts\":12000}");  // closes [0, 10 s): its row goes out
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  rig.out.deliver(1, DeliveryStatus::kFailed, "Broker: Topic authorization failed");
  rig.run();
  REQUIRE(rig.host->failed());
  REQUIRE(rig.host->drained == 1);
  // The window's row was never written: records 0 and 1 must be read again after a restart, with
  // the watermark before the window closed.
  Progress p = rig.pipeline->progress();
  CHECK(p.offset == 0);
  CHECK(p.watermark == 2000);
}

TEST_CASE("pipeline: on_error: fail in a batch that closed a window keeps the progress before it",
          "[pipeline]") {
  Rig rig(
      "name: w\nsql: SELECT k, _window_start, COUNT(*) AS n FROM t GROUP BY k "
      "WINDOW TUMBLING(ts, INTERVAL '10' SECOND)\non_error: fail\n"
      "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
      "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
      "sink: {type: kafka, topic: out, timestamp_format: epoch_millis}\n",
      opts([&](RigOptions& o) {
        o.batch_records = 2;
        o.dead_letter = false;
      }));
  rig.source->append("{\"k\":\"a\",\"ts\":1000}");
  rig.source->append("{\"k\":\"a\",\"ts\":2000}");
  rig.source->append("{\"k\":\"a\",\"ts\":12000}");  // closes [0, 10 s) ...
  rig.source->append("not json");                    // ... in the batch that fails the job
  rig.start();
  rig.out.deliver();
  rig.run();
  REQUIRE(rig.host->failed());
  REQUIRE(rig.host->drained == 1);
  Progress p = rig.pipeline->progress();
  CHECK(p.offset == 0);
  CHECK(p.watermark == 2000);
}

TEST_CASE("pipeline: records arriving after a read that was not full are read", "[pipeline]") {
  // The source wakes the pipeline only after a read came back empty (source.hpp): a read of fewer
  // records than a batch is not one (a Kafka partition queue, for one, also counts the errors it
  // hands out instead of records).
  Rig rig(kIds);
  rig.source->append(id_json(0));
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  rig.source->append(id_json(1));
  rig.run();
  CHECK(rig.out.taken().size() == 2);
  CHECK(rig.source->unread() == 0);
}

// A hopping window with EMIT CHANGES writes one row per window a record falls in (here two).
constexpr const char* kHoppingJob =
    "name: w\nsql: SELECT k, COUNT(*) AS n FROM t GROUP BY k "
    "WINDOW HOPPING(ts, INTERVAL '10' SECOND, INTERVAL '5' SECOND) EMIT CHANGES\n"
    "source: {type: kafka, topic: in, name: t, partitioned_by: [k], "
    "schema: {k: STRING, ts: TIMESTAMP}, event_time: ts}\n"
    "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n";

TEST_CASE("pipeline: an input record whose several outputs are too large is rejected once",
          "[pipeline]") {
  Rig rig(kHoppingJob, opts([&](RigOptions& o) { o.out_max_bytes = 100; }));
  rig.source->append("{\"k\":\"" + std::string(600, 'x') + "\",\"ts\":7000}");
  rig.source->append("{\"k\":\"a\",\"ts\":7000}");
  rig.start();
  CHECK(rig.out.taken().size() == 2);  // the small record's two windows
  CHECK(rig.dlq.taken().size() == 1);
  auto c = rig.counts();
  CHECK(c.records_in == 2);
  CHECK(c.rejected == 1);
  CHECK(c.dead_lettered == 1);
}

TEST_CASE("pipeline: an input record whose several outputs the broker refuses is rejected once",
          "[pipeline]") {
  Rig rig(kHoppingJob);
  rig.source->append("{\"k\":\"a\",\"ts\":7000}");
  rig.start();
  REQUIRE(rig.out.taken().size() == 2);
  rig.out.deliver(2, DeliveryStatus::kTooLarge, "Broker: Message size too large");
  rig.run();
  CHECK(rig.dlq.taken().size() == 1);
  auto c = rig.counts();
  CHECK(c.records_in == 1);
  CHECK(c.rejected == 1);
  CHECK(c.dead_lettered == 1);
}

TEST_CASE("pipeline: the dead letter of a large record the broker refused says it was cut",
          "[pipeline]") {
  Rig rig(
      "name: big\nsql: SELECT id, s FROM t\n"
      "source: {type: kafka, topic: in, name: t, schema: {id: BIGINT, s: STRING}}\n"
      "sink: {type: kafka, topic: out}\ndead_letter: {type: kafka, topic: dlq}\n");
  rig.source->append("{\"id\":1,\"s\":\"" + std::string(200'000, 'x') + "\"}");
  rig.start();
  REQUIRE(rig.out.taken().size() == 1);
  size_t full = rig.out.taken()[0].value.size();
  rig.out.deliver(1, DeliveryStatus::kTooLarge, "Broker: Message size too large");
  rig.run();
  REQUIRE(rig.dlq.taken().size() == 1);
  const auto& d = rig.dlq.taken()[0];
  if (d.value.size() < full) {
    REQUIRE(d.headers.count("sluice.value.truncated") == 1);
    CHECK(d.headers.at("sluice.value.truncated") == std::to_string(full));
  }
}
