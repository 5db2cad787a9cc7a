// Sliding-window latency quantiles (server/status/latency_window.hpp): the window is now minus the
// newest snapshot at least 60 s old; younger jobs and restarted ones get their whole histogram;
// the sampler's timer on an io_context; /metrics and the jobs JSON use the window.

#include "server/status/latency_window.hpp"

#include "server/http/admin_api.hpp"
#include "server/http/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace sluice;
using server::JobState;
using server::JobStatus;
using server::LatencyHistogram;
using server::LatencyWindows;

namespace {

using namespace std::chrono_literals;

JobStatus job_with(uint64_t fast, uint64_t slow, uint64_t generation = 1) {
  JobStatus j;
  j.name = "s2";
  j.file = "/jobs/s2.yaml";
  j.state = JobState::kRunning;
  j.generation = generation;
  j.latency[LatencyHistogram::bucket(1000)] = fast;     // 1 ms
  j.latency[LatencyHistogram::bucket(2000000)] = slow;  // 2 s
  return j;
}

uint64_t total(const LatencyHistogram::Snapshot& s) {
  uint64_t n = 0;
  for (uint64_t c : s)
    n += c;
  return n;
}

}  // namespace

TEST_CASE("latency window: now minus the newest snapshot at least a window old", "[http]") {
  LatencyWindows w(60s);
  auto t0 = LatencyWindows::Clock::time_point{} + 1000s;
  // A slow start (100 records at 2 s), then only fast records (1 ms).
  w.sample(t0, {job_with(0, 100)});
  for (int i = 1; i <= 20; ++i)
    w.sample(t0 + i * 5s, {job_with(static_cast<uint64_t>(i) * 1000, 100)});

  // At t0 + 100 s the base is the snapshot at t0 + 40 s (8000 fast records): 12000 in the window.
  std::vector<JobStatus> now = {job_with(20000, 100)};
  w.apply(t0 + 100s, now);
  REQUIRE(now[0].latency_window.has_value());
  CHECK(total(*now[0].latency_window) == 12000);
  CHECK(LatencyHistogram::quantile(*now[0].latency_window, 0.99) < 0.01);
  // Since the start, p99 would be the slow records'.
  CHECK(LatencyHistogram::quantile(now[0].latency, 0.999) > 1.0);

  // Nothing new in the last minute: an empty window, no quantile.
  now = {job_with(20000, 100)};
  w.sample(t0 + 165s, now);
  w.apply(t0 + 170s, now);
  CHECK(total(*now[0].latency_window) == 0);
  CHECK(LatencyHistogram::quantile(*now[0].latency_window, 0.5) < 0);
}

TEST_CASE("latency window: young, restarted and unknown jobs get their whole histogram", "[http]") {
  LatencyWindows w(60s);
  auto t0 = LatencyWindows::Clock::time_point{} + 1000s;
  w.sample(t0, {job_with(10, 0)});
  std::vector<JobStatus> now = {job_with(50, 1)};
  w.apply(t0 + 30s, now);  // younger than the window
  CHECK(total(*now[0].latency_window) == 51);

  // A new generation (the file changed, the job restarted with fresh counts).
  w.sample(t0 + 70s, {job_with(5000, 1)});
  now = {job_with(3, 0, 2)};
  w.apply(t0 + 140s, now);
  CHECK(total(*now[0].latency_window) == 3);

  // Counts that went back without a generation change: never a negative window.
  now = {job_with(1, 0)};
  w.apply(t0 + 140s, now);
  CHECK(total(*now[0].latency_window) == 1);

  // A job the sampler never saw.
  JobStatus other = job_with(7, 0);
  other.file = "/jobs/other.yaml";
  now = {other};
  w.apply(t0 + 140s, now);
  CHECK(total(*now[0].latency_window) == 7);
}

TEST_CASE("latency window: /metrics and the jobs JSON report the window's quantiles", "[http]") {
  LatencyWindows w(60s);
  auto t0 = LatencyWindows::Clock::time_point{} + 1000s;
  w.sample(t0, {job_with(0, 1000)});
  std::vector<JobStatus> now = {job_with(1000, 1000)};
  w.apply(t0 + 61s, now);
  std::string text = server::http::render_metrics(now, 0);
  // Window: 1000 records at 1 ms. Since the start p99 would be about 2 s.
  auto at =
      text.find("sluice_end_to_end_latency_quantile_seconds{job_name=\"s2\",quantile=\"0.99\"} ");
  REQUIRE(at != std::string::npos);
  double p99 = std::stod(text.substr(text.find("} ", at) + 2));
  CHECK(p99 > 0.0009);
  CHECK(p99 < 0.002);
  CHECK(text.find("sluice_end_to_end_latency_seconds_count{job_name=\"s2\"} 2000") !=
        std::string::npos);  // the histogram stays cumulative
  std::string json = server::http::job_json(now[0], 0);
  CHECK(json.find("\"latency_seconds\": {\"count\": 1000, \"p50\": 0.000") != std::string::npos);
}

TEST_CASE("latency sampler: a timer on the io_context takes the snapshots", "[http]") {
  boost::asio::io_context io;
  LatencyWindows w(60s);
  int calls = 0;
  server::LatencySampler sampler(
      io, w,
      [&] {
        if (++calls == 3) io.stop();
        return std::vector<JobStatus>{job_with(static_cast<uint64_t>(calls) * 10, 0)};
      },
      10ms);
  sampler.start();
  io.run_for(5s);
  CHECK(calls == 3);
  sampler.stop();
  std::vector<JobStatus> now = {job_with(100, 0)};
  w.apply(LatencyWindows::Clock::now() + 120s, now);  // base: the last sample (30 records)
  CHECK(total(*now[0].latency_window) == 70);
}

TEST_CASE(
    "latency window: input and output rates over the window, and the job's query and topics "
    "in its JSON",
    "[http]") {
  LatencyWindows w(60s);
  auto t0 = LatencyWindows::Clock::time_point{} + 1000s;
  auto at = [](uint64_t in, uint64_t out) {
    JobStatus j = job_with(0, 0);
    j.counts.records_in = in;
    j.counts.records_out = out;
    return j;
  };
  std::vector<JobStatus> young = {at(0, 0)};
  w.apply(t0, young);
  CHECK_FALSE(young[0].rate_in.has_value());  // no sample yet

  // 1000 in and 500 out per second, sampled every 5 s.
  for (int i = 0; i <= 20; ++i)
    w.sample(t0 + i * 5s, {at(static_cast<uint64_t>(i) * 5000, static_cast<uint64_t>(i) * 2500)});
  std::vector<JobStatus> now = {at(100000, 50000)};
  now[0].sql = "SELECT symbol FROM t";
  now[0].source_topic = "s2-in";
  now[0].sink_topic = "s2-out";
  w.apply(t0 + 100s, now);
  REQUIRE(now[0].rate_in.has_value());
  CHECK(*now[0].rate_in == Approx(1000));
  CHECK(*now[0].rate_out == Approx(500));

  std::string json = server::http::job_json(now[0], 0);
  CHECK(json.find("\"sql\": \"SELECT symbol FROM t\", ") != std::string::npos);
  CHECK(json.find("\"source\": {\"topic\": \"s2-in\"}, \"sink\": {\"topic\": \"s2-out\"}, "
                  "\"dead_letter\": null, ") != std::string::npos);
  CHECK(json.find("\"rates\": {\"in_per_second\": 1000.0, \"out_per_second\": 500.0}, ") !=
        std::string::npos);
}

TEST_CASE("latency sampler: stop() ends the ticks and the io_context runs out of work", "[http]") {
  // The daemon's shutdown needs the io_context to run out of work once the sampler is stopped.
  // (A tick that already fired when stop() cancels the timer is also covered by the stopped flag;
  // that race depends on timing and is not forced here.)
  for (int round = 0; round < 50; ++round) {
    boost::asio::io_context io;
    LatencyWindows w(60s);
    int ticks = 0;
    server::LatencySampler sampler(
        io, w,
        [&] {
          ++ticks;
          return std::vector<JobStatus>{};
        },
        1ms);
    sampler.start();
    boost::asio::steady_timer stopper(io, 5ms);
    stopper.async_wait([&](const boost::system::error_code&) { sampler.stop(); });
    auto started = std::chrono::steady_clock::now();
    io.run_for(10s);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(io.stopped());
  }
}
