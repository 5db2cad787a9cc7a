// The partition pipeline at exactly-once barriers (PipelineSpec::transactional), without a broker
// (pipeline_rig.hpp): it reads ahead while a transaction commits, holding the output back, and
// drops what it held when the barrier is abandoned.

#include <catch2/catch.hpp>

#include "pipeline_rig.hpp"

using namespace sluice;
using test::id_json;
using test::kIds;
using test::opts;
using test::Rig;
using test::RigOptions;

TEST_CASE("pipeline: at an exactly-once barrier it reads on, holding the output back",
          "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) {
            o.batch_records = 2;
            o.transactional = true;
          }));
  for (int i = 0; i < 4; ++i)
    rig.source->append(id_json(i));
  rig.start();
  REQUIRE(rig.out.taken().size() == 4);
  rig.pipeline->request_barrier(1);
  for (int i = 4; i < 14; ++i)
    rig.source->append(id_json(i));
  rig.run();
  // Read and computed meanwhile, not sent: it belongs to the next transaction. At most
  // kHeldBatches batches (of 2 records here) are read ahead.
  constexpr size_t kAhead = 2 * server::pipeline::PartitionPipeline::kHeldBatches;
  static_assert(kAhead < 10);
  CHECK(rig.counts().records_in == 4 + kAhead);
  CHECK(rig.out.taken().size() == 4);
  CHECK(rig.pipeline->parked() == 0);  // its output before the barrier is not acknowledged yet
  rig.out.deliver();
  rig.run();
  CHECK(rig.pipeline->parked() == 1);
  CHECK(rig.pipeline->progress().offset == 4);  // the barrier's position, not what came after
  rig.pipeline->release_barrier();
  rig.run();
  REQUIRE(rig.out.taken().size() == 14);  // what it held, then the rest
  for (int i = 4; i < 14; ++i)
    CHECK(rig.out.taken()[i].value == id_json(i));  // in input order
  rig.out.deliver();
  rig.run();
  CHECK(rig.progress().offset == 14);
  CHECK_FALSE(rig.host->failed());
}

TEST_CASE("pipeline: an abandoned barrier drops what it held back, and the pipeline drains",
          "[pipeline]") {
  Rig rig(kIds, opts([&](RigOptions& o) {
            o.batch_records = 2;
            o.transactional = true;
          }));
  for (int i = 0; i < 2; ++i)
    rig.source->append(id_json(i));
  rig.start();
  rig.pipeline->request_barrier(1);
  for (int i = 2; i < 6; ++i)
    rig.source->append(id_json(i));
  rig.run();
  CHECK(rig.counts().records_in == 6);
  rig.out.deliver();
  rig.run();
  REQUIRE(rig.pipeline->parked() == 1);
  // The transaction aborted: what was held back is never sent; the pipeline stops at once.
  rig.pipeline->abandon();
  rig.pipeline->request_stop();
  rig.run();
  CHECK(rig.pipeline->drained());
  CHECK(rig.out.taken().size() == 2);
  CHECK(rig.pipeline->metrics().in_flight.get() == 0);
  CHECK_FALSE(rig.host->failed());
}
