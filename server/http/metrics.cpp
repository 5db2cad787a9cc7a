#include "server/http/metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace sluice::server::http {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// The bounds in µs, compared exactly with the log-linear buckets' integer bounds.
constexpr std::array<uint64_t, 18> kBoundsUs = {
    100,    250,    500,    1000,    2500,    5000,    10000,    25000,    50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000};

constexpr std::array<uint64_t, 16> kBatchBoundsUs = {10,     25,     50,     100,    250,   500,
                                                     1000,   2500,   5000,   10000,  25000, 50000,
                                                     100000, 250000, 500000, 1000000};
constexpr std::array<uint64_t, 13> kBatchRecordBounds = {1,   2,   4,   8,    16,   32,  64,
                                                         128, 256, 512, 1024, 2048, 4096};

// A log-linear snapshot into cumulative buckets of `bounds` (in the snapshot's unit; dividing by
// `divisor` gives the exposed unit). `integers`: the values are exact integers, so bucket [lo, hi)
// fits a bound >= hi - 1; else it needs a bound >= hi.
template <size_t N>
CumulativeHistogram cumulate(const LatencyHistogram::Snapshot& s,
                             const std::array<uint64_t, N>& bounds, double divisor, bool integers) {
  std::array<uint64_t, N> per_bucket{};
  CumulativeHistogram h;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (s[i] == 0) continue;
    uint64_t lo = LatencyHistogram::lower(i);
    uint64_t hi = i + 1 < LatencyHistogram::kBuckets ? LatencyHistogram::lower(i + 1) : lo * 2;
    uint64_t top = integers ? hi - 1 : hi;
    h.count += s[i];
    double mid = integers ? (static_cast<double>(lo) + static_cast<double>(top)) / 2
                          : (static_cast<double>(lo) + static_cast<double>(hi)) / 2;
    h.sum += static_cast<double>(s[i]) * mid / divisor;
    for (size_t b = 0; b < N; ++b) {
      if (bounds[b] >= top) {
        per_bucket[b] += s[i];
        break;
      }
    }  // above the last bound: only in +Inf (the count)
  }
  uint64_t cumulative = 0;
  for (size_t b = 0; b < N; ++b) {
    cumulative += per_bucket[b];
    h.buckets.emplace_back(static_cast<double>(bounds[b]) / divisor, cumulative);
  }
  return h;
}

void add_histogram(MetricFamily& f, const ClientMetric::Label& label,
                   const CumulativeHistogram& h) {
  ClientMetric m;
  m.label = {label};
  m.histogram.sample_count = h.count;
  m.histogram.sample_sum = h.sum;
  for (const auto& [bound, count] : h.buckets)
    m.histogram.bucket.push_back({count, bound});
  f.metric.push_back(std::move(m));  // the serializer adds the +Inf bucket (the count)
}

constexpr JobState kStates[] = {JobState::kStarting, JobState::kRunning, JobState::kStopping,
                                JobState::kStopped,  JobState::kFailed,  JobState::kInvalid};

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_counter(MetricFamily& f, Labels labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = v;
  f.metric.push_back(std::move(m));
}

void add_gauge(MetricFamily& f, Labels labels, double v) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

// utime + stime of /proc/self/stat (fields 14 and 15), in seconds; -1 when unreadable.
double process_cpu_seconds() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  long ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(utime + stime) / static_cast<double>(ticks) : -1;
}

// Resident set size from /proc/self/statm (second field, pages); -1 when unreadable.
double process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(in >> size >> resident)) return -1;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// The series of one job's pipelines. A repartitioned job runs two pipelines per partition number:
// the router's on the source topic and the query's on `<job>-repartition`. As the job's totals do,
// a record is counted in once, at the router; the query stage counts the rest.
struct Families {
  MetricFamily records = family(
      "sluice_records_total",
      "Records per pipeline by outcome. in: records read; out: output records acknowledged by the "
      "broker; filtered, rejected (failed to decode or evaluate), late, replayed: input records; "
      "dead_letter: records written to the dead-letter topic (rejected or late); skipped: "
      "rejected records skipped (on_error: skip).",
      MetricType::Counter);
  MetricFamily bytes =
      family("sluice_bytes_total", "Record value bytes per pipeline: in (read), out (produced).",
             MetricType::Counter);
  MetricFamily lag =
      family("sluice_consumer_lag", "High watermark minus the next offset to read, per partition.",
             MetricType::Gauge);
  MetricFamily watermark_lag =
      family("sluice_watermark_lag_seconds",
             "Wall clock minus the pipeline's event-time watermark (only when it has one).",
             MetricType::Gauge);
  MetricFamily paused =
      family("sluice_pipeline_paused", "1 while backpressure pauses the partition, else 0.",
             MetricType::Gauge);
  MetricFamily pauses = family("sluice_backpressure_pauses_total",
                               "Times backpressure paused the partition.", MetricType::Counter);
  MetricFamily in_flight =
      family("sluice_in_flight_records", "Output records produced and not yet acknowledged.",
             MetricType::Gauge);
  MetricFamily latency = family(
      "sluice_end_to_end_latency_seconds",
      "Record timestamp to broker acknowledgement of its output, per job, cumulative since the "
      "job started (use rate() for a window). _sum is estimated from the midpoints of sluice's "
      "log-linear buckets (4 per power of two).",
      MetricType::Histogram);
  MetricFamily quantiles = family(
      "sluice_end_to_end_latency_quantile_seconds",
      "Quantiles of the end-to-end latency over the last 60 s (sliding, sampled every 5 s: 60 to "
      "65 s; since the start for a younger job), per job, interpolated in sluice's log-linear "
      "buckets; NaN when no record was acknowledged in the window. _count and _sum are since the "
      "start, as for the histogram.",
      MetricType::Summary);
  MetricFamily commits =
      family("sluice_commits_total", "Offset commits that succeeded.", MetricType::Counter);
  MetricFamily commit_failures =
      family("sluice_commit_failures_total", "Offset commits that failed.", MetricType::Counter);
  MetricFamily transaction_aborts =
      family("sluice_transaction_aborts_total",
             "Exactly once: transactions aborted (the partitions restarted from their last "
             "commit).",
             MetricType::Counter);
  MetricFamily transaction_seconds =
      family("sluice_transaction_seconds_total",
             "Exactly once: time spent committing transactions, from the barrier that parks the "
             "partitions to the broker's answer (divided by sluice_commits_total: the mean).",
             MetricType::Counter);
  MetricFamily rebalances =
      family("sluice_rebalances_total", "Consumer group rebalances (assignments and revocations).",
             MetricType::Counter);
  MetricFamily delivery_errors =
      family("sluice_delivery_errors_total",
             "Batches with an output or dead-letter record the broker did not acknowledge.",
             MetricType::Counter);
  MetricFamily state = family(
      "sluice_job_state", "1 for the job's current state, 0 for the others.", MetricType::Gauge);
  MetricFamily batch_latency = family(
      "sluice_batch_processing_seconds",
      "Per batch, from reading it to handing its last output to the producer (decode, query, "
      "encode, produce), per job since it started. _sum is estimated from bucket midpoints.",
      MetricType::Histogram);
  MetricFamily batch_records =
      family("sluice_batch_records", "Records per batch read from a partition, per job.",
             MetricType::Histogram);
  MetricFamily restoring = family(
      "sluice_state_restoring_partitions",
      "Partitions of the job whose durable state is being restored (their pipelines start after).",
      MetricType::Gauge);
  MetricFamily producer_queue =
      family("sluice_producer_queue_records",
             "Messages (and requests) in the job's producer queues not yet acknowledged or served.",
             MetricType::Gauge);
  MetricFamily open_windows =
      family("sluice_state_open_windows",
             "Windows (and sessions) the partition's query holds open, as of its last commit "
             "point (about once a second).",
             MetricType::Gauge);
  MetricFamily groups = family("sluice_state_groups",
                               "Groups in the partition's query state, summed over its open "
                               "windows (partitions for OVER), as of its last commit point.",
                               MetricType::Gauge);
  MetricFamily state_bytes = family(
      "sluice_state_bytes",
      "Approximate bytes of the partition's query state (hash tables, keys, aggregate states), as "
      "of its last commit point.",
      MetricType::Gauge);
  MetricFamily snapshots = family(
      "sluice_state_snapshots_total",
      "State snapshots the partition's pipeline took (durable state only).", MetricType::Counter);
  MetricFamily snapshot_bytes = family(
      "sluice_state_snapshot_bytes",
      "Bytes of the partition's last state snapshot (durable state only).", MetricType::Gauge);
  MetricFamily changelog_records = family(
      "sluice_state_changelog_records_total",
      "Changelog records (changed keys) the partition's pipeline wrote (durable state only).",
      MetricType::Counter);
  MetricFamily restore_seconds =
      family("sluice_state_restore_seconds",
             "Seconds the partition's state took to restore from its local snapshot and changelog "
             "when it was assigned (durable state only).",
             MetricType::Gauge);
  MetricFamily restored_records =
      family("sluice_state_restored_records",
             "Changelog records applied when the partition's state was restored (0: none).",
             MetricType::Gauge);
  MetricFamily restored_bytes =
      family("sluice_state_restored_bytes",
             "Bytes of the snapshot the partition's state was restored from (0: started empty).",
             MetricType::Gauge);
  MetricFamily generation =
      family("sluice_job_config_generation",
             "The job file's generation: it grows each time the file changes.", MetricType::Gauge);
};

void add_partition(Families& f, const JobStatus& job, const PartitionStatus& p, bool repartitioned,
                   int64_t now_ms) {
  Labels base = {
      {"job_name", job.name}, {"topic", p.topic}, {"partition", std::to_string(p.partition)}};
  auto with = [&](const char* name, const char* value) {
    Labels l = base;
    l.push_back({name, value});
    return l;
  };
  bool query_stage = repartitioned && p.topic == job.name + "-repartition";
  bool router = repartitioned && !query_stage;
  const JobCounts& c = p.counts;
  auto outcome = [&](const char* name, uint64_t v) {
    add_counter(f.records, with("outcome", name), static_cast<double>(v));
  };
  if (!query_stage) {
    outcome("in", c.records_in);
    add_counter(f.bytes, with("direction", "in"), static_cast<double>(c.bytes_in));
  }
  if (!router) {
    outcome("out", c.records_out);
    outcome("filtered", c.filtered);
    outcome("late", c.late);
    outcome("replayed", c.replayed);
    add_counter(f.bytes, with("direction", "out"), static_cast<double>(c.bytes_out));
  }
  outcome("rejected", c.rejected);
  outcome("dead_letter", c.dead_lettered);
  outcome("skipped", c.skipped);
  if (p.lag >= 0) add_gauge(f.lag, base, static_cast<double>(p.lag));
  if (p.watermark != INT64_MIN)
    add_gauge(f.watermark_lag, base, static_cast<double>(now_ms - p.watermark) / 1e3);
  add_gauge(f.paused, base, p.paused ? 1 : 0);
  add_counter(f.pauses, base, static_cast<double>(p.pauses));
  add_gauge(f.in_flight, base, static_cast<double>(p.in_flight));
  if (!router) {
    add_gauge(f.open_windows, base, static_cast<double>(p.open_windows));
    add_gauge(f.groups, base, static_cast<double>(p.groups));
    add_gauge(f.state_bytes, base, static_cast<double>(p.state_bytes));
  }
  if (!p.restored_from.empty()) {
    add_counter(f.snapshots, base, static_cast<double>(p.snapshots));
    add_gauge(f.snapshot_bytes, base, static_cast<double>(p.snapshot_bytes));
    add_counter(f.changelog_records, base, static_cast<double>(p.changelog_records));
    add_gauge(f.restore_seconds, base, p.restore_seconds);
    add_gauge(f.restored_bytes, base, static_cast<double>(p.restored_bytes));
    add_gauge(f.restored_records, base, static_cast<double>(p.restored_records));
  }
}

void add_job(Families& f, const JobStatus& job, int64_t now_ms) {
  Labels base = {{"job_name", job.name}};
  for (JobState s : kStates) {
    Labels l = base;
    l.push_back({"state", job_state_name(s)});
    add_gauge(f.state, l, s == job.state ? 1 : 0);
  }
  add_gauge(f.generation, base, static_cast<double>(job.generation));
  if (job.state == JobState::kInvalid) return;
  add_counter(f.commits, base, static_cast<double>(job.commits));
  add_counter(f.commit_failures, base, static_cast<double>(job.commit_failures));
  if (job.guarantee != "at_least_once") {
    add_counter(f.transaction_aborts, base, static_cast<double>(job.transaction_aborts));
    add_counter(f.transaction_seconds, base, job.transaction_seconds);
  }
  add_counter(f.rebalances, base, static_cast<double>(job.rebalances));
  add_counter(f.delivery_errors, base, static_cast<double>(job.delivery_errors));

  bool repartitioned = false;
  for (const auto& p : job.partitions)
    repartitioned = repartitioned || p.topic == job.name + "-repartition";
  for (const auto& p : job.partitions)
    add_partition(f, job, p, repartitioned, now_ms);

  CumulativeHistogram h = to_cumulative(job.latency);
  ClientMetric m;
  m.label = base;
  m.histogram.sample_count = h.count;
  m.histogram.sample_sum = h.sum;
  for (const auto& [bound, count] : h.buckets)
    m.histogram.bucket.push_back({count, bound});
  // The serializer adds the +Inf bucket (the count).
  f.latency.metric.push_back(std::move(m));
  ClientMetric q;
  q.label = base;
  q.summary.sample_count = h.count;
  q.summary.sample_sum = h.sum;
  const LatencyHistogram::Snapshot& window = job.latency_window ? *job.latency_window : job.latency;
  for (double quantile : {0.5, 0.9, 0.99}) {
    double v = LatencyHistogram::quantile(window, quantile);
    q.summary.quantile.push_back({quantile, v < 0 ? std::numeric_limits<double>::quiet_NaN() : v});
  }
  f.quantiles.metric.push_back(std::move(q));
  add_histogram(f.batch_latency, base[0], batch_latency_histogram(job.batch_latency));
  add_histogram(f.batch_records, base[0], batch_records_histogram(job.batch_records));
  add_gauge(f.producer_queue, base, static_cast<double>(job.producer_queue));
  add_gauge(f.restoring, base, static_cast<double>(job.restoring.size()));
}

}  // namespace

const std::vector<double>& latency_bucket_bounds() {
  static const std::vector<double> bounds = [] {
    std::vector<double> b;
    for (uint64_t us : kBoundsUs)
      b.push_back(static_cast<double>(us) / 1e6);
    return b;
  }();
  return bounds;
}

CumulativeHistogram batch_latency_histogram(const LatencyHistogram::Snapshot& s) {
  return cumulate(s, kBatchBoundsUs, 1e6, false);
}

CumulativeHistogram batch_records_histogram(const LatencyHistogram::Snapshot& s) {
  return cumulate(s, kBatchRecordBounds, 1, true);
}

CumulativeHistogram to_cumulative(const LatencyHistogram::Snapshot& s) {
  std::array<uint64_t, kBoundsUs.size()> per_bucket{};
  CumulativeHistogram h;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    if (s[i] == 0) continue;
    uint64_t lo = LatencyHistogram::lower(i);
    uint64_t hi = i + 1 < LatencyHistogram::kBuckets ? LatencyHistogram::lower(i + 1) : lo * 2;
    h.count += s[i];
    h.sum += static_cast<double>(s[i]) * (static_cast<double>(lo) + static_cast<double>(hi)) / 2e6;
    for (size_t b = 0; b < kBoundsUs.size(); ++b) {
      if (kBoundsUs[b] >= hi) {
        per_bucket[b] += s[i];
        break;
      }
    }  // above the last bound: only in +Inf (the count)
  }
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kBoundsUs.size(); ++b) {
    cumulative += per_bucket[b];
    h.buckets.emplace_back(latency_bucket_bounds()[b], cumulative);
  }
  return h;
}

std::vector<const JobStatus*> unique_jobs(const std::vector<JobStatus>& jobs) {
  std::map<std::string, const JobStatus*> by_name;
  std::vector<std::string> order;
  for (const auto& j : jobs) {
    auto [it, fresh] = by_name.emplace(j.name, &j);
    if (fresh) {
      order.push_back(j.name);
    } else if (it->second->state == JobState::kInvalid && j.state != JobState::kInvalid) {
      it->second = &j;
    }
  }
  std::vector<const JobStatus*> out;
  for (const auto& name : order)
    out.push_back(by_name[name]);
  return out;
}

std::string render_metrics(const std::vector<JobStatus>& jobs, int64_t now_ms) {
  Families f;
  for (const JobStatus* job : unique_jobs(jobs))
    add_job(f, *job, now_ms);

  std::vector<MetricFamily> families = {std::move(f.records),
                                        std::move(f.bytes),
                                        std::move(f.latency),
                                        std::move(f.quantiles),
                                        std::move(f.lag),
                                        std::move(f.watermark_lag),
                                        std::move(f.paused),
                                        std::move(f.pauses),
                                        std::move(f.in_flight),
                                        std::move(f.batch_latency),
                                        std::move(f.batch_records),
                                        std::move(f.producer_queue),
                                        std::move(f.restoring),
                                        std::move(f.open_windows),
                                        std::move(f.groups),
                                        std::move(f.state_bytes),
                                        std::move(f.snapshots),
                                        std::move(f.snapshot_bytes),
                                        std::move(f.changelog_records),
                                        std::move(f.restore_seconds),
                                        std::move(f.restored_bytes),
                                        std::move(f.restored_records),
                                        std::move(f.commits),
                                        std::move(f.commit_failures),
                                        std::move(f.transaction_aborts),
                                        std::move(f.transaction_seconds),
                                        std::move(f.rebalances),
                                        std::move(f.delivery_errors),
                                        std::move(f.state),
                                        std::move(f.generation)};
  std::erase_if(families, [](const MetricFamily& m) { return m.metric.empty(); });
  double cpu = process_cpu_seconds();
  if (cpu >= 0) {
    families.push_back(family("sluice_process_cpu_seconds_total",
                              "User and system CPU time of the sluice process.",
                              MetricType::Counter));
    add_counter(families.back(), {}, cpu);
  }
  double rss = process_resident_bytes();
  if (rss >= 0) {
    families.push_back(family("sluice_process_resident_memory_bytes",
                              "Resident memory of the sluice process.", MetricType::Gauge));
    add_gauge(families.back(), {}, rss);
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace sluice::server::http
