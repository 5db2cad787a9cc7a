#include "server/http/admin_api.hpp"

#include "format/json.hpp"
#include "server/http/metrics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

namespace sluice::server::http {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Appends `"key": ` (the key is a literal without characters to escape).
void key(std::string& out, const char* k) {
  out += '"';
  out += k;
  out += "\": ";
}

void field(std::string& out, const char* k, std::string_view v) {
  key(out, k);
  format::append_json_string(v, out);
  out += ", ";
}

void field(std::string& out, const char* k, uint64_t v) {
  key(out, k);
  out += std::to_string(v);
  out += ", ";
}

// An offset or a lag: null when unknown (negative).
void offset_field(std::string& out, const char* k, int64_t v) {
  key(out, k);
  out += v >= 0 ? std::to_string(v) : "null";
  out += ", ";
}

void close_object(std::string& out) {
  if (out.size() >= 2 && out.compare(out.size() - 2, 2, ", ") == 0) out.resize(out.size() - 2);
  out += '}';
}

void counts_json(std::string& out, const JobCounts& c) {
  key(out, "counts");
  out += '{';
  field(out, "records_in", c.records_in);
  field(out, "records_out", c.records_out);
  field(out, "filtered", c.filtered);
  field(out, "rejected", c.rejected);
  field(out, "dead_lettered", c.dead_lettered);
  field(out, "skipped", c.skipped);
  field(out, "late", c.late);
  field(out, "replayed", c.replayed);
  field(out, "bytes_in", c.bytes_in);
  field(out, "bytes_out", c.bytes_out);
  close_object(out);
  out += ", ";
}

void latency_json(std::string& out, const LatencyHistogram::Snapshot& s) {
  uint64_t count = 0;
  for (uint64_t c : s)
    count += c;
  key(out, "latency_seconds");
  out += '{';
  field(out, "count", count);
  for (auto [name, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9}, std::pair{"p99", 0.99}}) {
    key(out, name);
    out += count > 0 ? fmt::format("{}", LatencyHistogram::quantile(s, q)) : "null";
    out += ", ";
  }
  close_object(out);
  out += ", ";
}

void partition_json(std::string& out, const PartitionStatus& p, int64_t now) {
  out += '{';
  field(out, "topic", p.topic);
  key(out, "partition");
  out += std::to_string(p.partition) + ", ";
  offset_field(out, "position", p.position);
  offset_field(out, "committed", p.committed);
  offset_field(out, "high_watermark", p.high_watermark);
  offset_field(out, "lag", p.lag);
  key(out, "watermark");
  out += p.watermark != INT64_MIN ? std::to_string(p.watermark) : "null";
  out += ", ";
  key(out, "watermark_lag_seconds");
  out += p.watermark != INT64_MIN ? fmt::format("{}", static_cast<double>(now - p.watermark) / 1e3)
                                  : "null";
  out += ", ";
  key(out, "paused");
  out += p.paused ? "true, " : "false, ";
  field(out, "pauses", p.pauses);
  field(out, "in_flight", p.in_flight);
  field(out, "open_windows", p.open_windows);
  field(out, "groups", p.groups);
  field(out, "state_bytes", p.state_bytes);
  if (!p.restored_from.empty()) {  // durable state
    field(out, "snapshots", p.snapshots);
    field(out, "snapshot_bytes", p.snapshot_bytes);
    field(out, "changelog_records", p.changelog_records);
    field(out, "restored_from", p.restored_from);
    offset_field(out, "restored_offset", p.restored_offset);
    field(out, "restored_bytes", p.restored_bytes);
    field(out, "restored_records", p.restored_records);
    key(out, "restore_seconds");
    out += fmt::format("{}, ", p.restore_seconds);
  }
  counts_json(out, p.counts);
  close_object(out);
}

const JobStatus* find_job(const std::vector<JobStatus>& jobs, const std::string& name) {
  for (const JobStatus* j : unique_jobs(jobs)) {
    if (j->name == name) return j;
  }
  return nullptr;
}

}  // namespace

std::string job_json(const JobStatus& job, int64_t now) {
  std::string out = "{";
  field(out, "name", job.name);
  field(out, "file", job.file);
  field(out, "state", job_state_name(job.state));
  key(out, "error");
  if (job.error.empty()) {
    out += "null";
  } else {
    format::append_json_string(job.error, out);
  }
  out += ", ";
  field(out, "generation", job.generation);
  key(out, "paused");
  out += job.paused ? "true, " : "false, ";
  key(out, "kafka_reachable");
  out += job.kafka_reachable ? "true, " : "false, ";
  field(out, "producer_queue", job.producer_queue);
  counts_json(out, job.counts);
  field(out, "routed", job.routed);
  field(out, "guarantee", job.guarantee);
  field(out, "commits", job.commits);
  field(out, "commit_failures", job.commit_failures);
  if (job.guarantee != "at_least_once") {
    field(out, "transaction_aborts", job.transaction_aborts);
    key(out, "transaction_seconds");
    out += fmt::format("{}, ", job.transaction_seconds);
  }
  field(out, "rebalances", job.rebalances);
  field(out, "delivery_errors", job.delivery_errors);
  key(out, "restoring");
  out += "[";
  for (size_t i = 0; i < job.restoring.size(); ++i) {
    const RestoringPartition& p = job.restoring[i];
    out += i ? ", {" : "{";
    field(out, "topic", p.topic);
    field(out, "partition", static_cast<uint64_t>(p.partition));
    field(out, "records", p.records);
    key(out, "seconds");
    out += fmt::format("{}}}", p.seconds);
  }
  out += "], ";
  field(out, "sql", job.sql);
  auto topic_object = [&](const char* name, const std::string& topic) {
    key(out, name);
    if (topic.empty()) {
      out += "null, ";
      return;
    }
    out += "{";
    field(out, "topic", topic);
    close_object(out);
    out += ", ";
  };
  topic_object("source", job.source_topic);
  topic_object("sink", job.sink_topic);
  topic_object("dead_letter", job.dead_letter_topic);
  key(out, "rates");
  out += fmt::format("{{\"in_per_second\": {}, \"out_per_second\": {}}}, ",
                     job.rate_in ? fmt::format("{:.1f}", *job.rate_in) : "null",
                     job.rate_out ? fmt::format("{:.1f}", *job.rate_out) : "null");
  latency_json(out, job.latency_window ? *job.latency_window : job.latency);  // last 60 s
  key(out, "partitions");
  out += '[';
  for (size_t i = 0; i < job.partitions.size(); ++i) {
    if (i > 0) out += ", ";
    partition_json(out, job.partitions[i], now);
  }
  out += "], ";
  close_object(out);
  return out;
}

Readiness readiness(const std::vector<JobStatus>& jobs, bool scanned) {
  Readiness r;
  if (!scanned) return {false, "starting"};
  for (const JobStatus* j : unique_jobs(jobs)) {
    if (j->state == JobState::kInvalid) continue;
    if (j->state == JobState::kRunning && j->kafka_reachable && j->restoring.empty()) continue;
    r.ready = false;
    if (!r.reason.empty()) r.reason += "; ";
    if (j->state == JobState::kRunning && !j->restoring.empty()) {
      std::vector<int32_t> ids;
      for (const auto& p : j->restoring)
        ids.push_back(p.partition);
      r.reason += fmt::format("job {} is restoring the state of partitions [{}]", j->name,
                              fmt::join(ids, ","));
      continue;
    }
    if (j->state == JobState::kRunning) {
      r.reason += fmt::format("job {} cannot reach Kafka (all brokers down)", j->name);
      continue;
    }
    r.reason += fmt::format("job {} is {}", j->name, job_state_name(j->state));
    if (j->state == JobState::kFailed && !j->error.empty()) r.reason += ": " + j->error;
  }
  return r;
}

void add_admin_routes(HttpServer& server, StatusSource status, std::function<bool()> scanned) {
  server.handle("GET", "/healthz",
                [](const Request&) { return Response::json(200, "{\"status\": \"ok\"}\n"); });
  server.handle("GET", "/readyz", [status, scanned](const Request&) {
    Readiness r = readiness(status(), !scanned || scanned());
    if (r.ready) return Response::json(200, "{\"status\": \"ready\"}\n");
    std::string body = "{\"status\": \"not ready\", \"reason\": ";
    format::append_json_string(r.reason, body);
    body += "}\n";
    return Response::json(503, std::move(body));
  });
  server.handle("GET", "/jobs", [status](const Request&) {
    auto jobs = status();
    int64_t now = now_ms();
    std::string body = "{\"jobs\": [";
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (i > 0) body += ", ";
      body += job_json(jobs[i], now);
    }
    body += "]}\n";
    return Response::json(200, std::move(body));
  });
  server.handle("GET", "/jobs/{name}", [status](const Request& req) {
    auto jobs = status();
    const std::string& name = req.params.at("name");
    const JobStatus* job = find_job(jobs, name);
    if (job == nullptr) return Response::error(404, fmt::format("no job named '{}'", name));
    return Response::json(200, job_json(*job, now_ms()) + "\n");
  });
  server.handle("GET", "/metrics", [status](const Request&) {
    Response r;
    r.content_type = kMetricsContentType;
    r.body = render_metrics(status(), now_ms());
    return r;
  });
}

}  // namespace sluice::server::http
