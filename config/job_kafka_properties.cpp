#include "config/job_kafka_properties.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::config {
namespace {

// sluice's producer is idempotent (enable.idempotence=true), which librdkafka allows only with
// acks=all.
constexpr std::string_view kAcks[] = {"all", "-1"};
constexpr std::string_view kAcksReason =
    "sluice's producer is idempotent, which needs every in-sync replica's acknowledgement";
// Every partitioner that hashes the key: a key's records go to one partition, in order (the
// repartition stage relies on it). `random` would scatter them.
constexpr std::string_view kKeyPartitioners[] = {
    "consistent", "consistent_random", "murmur2", "murmur2_random", "fnv1a", "fnv1a_random"};
constexpr std::string_view kPartitionerReason =
    "sluice sends all records of a key to one partition, in order, and its repartition stage "
    "depends on it";

constexpr std::string_view kBatching = "producer batching";
constexpr std::string_view kCompression = "producer compression";
constexpr std::string_view kProducerQueue = "producer queue";
constexpr std::string_view kDelivery = "producer acknowledgements, retries and timeouts";
constexpr std::string_view kPartitioning = "output partitioning";
constexpr std::string_view kGroup = "consumer group membership";
constexpr std::string_view kFetch = "consumer fetching and prefetch";
constexpr std::string_view kReading = "what the consumer reads";
constexpr std::string_view kNetwork = "connections, sizes and metadata";

// The allow-list. Aliases are listed with their librdkafka name next to each other.
constexpr JobKafkaProperty kAllowed[] = {
    {"linger.ms", kBatching, {}, {}},
    {"queue.buffering.max.ms", kBatching, {}, {}},
    {"batch.num.messages", kBatching, {}, {}},
    {"batch.size", kBatching, {}, {}},
    {"sticky.partitioning.linger.ms", kBatching, {}, {}},
    {"compression.type", kCompression, {}, {}},
    {"compression.codec", kCompression, {}, {}},
    {"compression.level", kCompression, {}, {}},
    {"queue.buffering.max.messages", kProducerQueue, {}, {}},
    {"queue.buffering.max.kbytes", kProducerQueue, {}, {}},
    {"acks", kDelivery, kAcks, kAcksReason},
    {"request.required.acks", kDelivery, kAcks, kAcksReason},
    {"retries", kDelivery, {}, {}},
    {"message.send.max.retries", kDelivery, {}, {}},
    {"retry.backoff.ms", kDelivery, {}, {}},
    {"request.timeout.ms", kDelivery, {}, {}},
    {"message.timeout.ms", kDelivery, {}, {}},
    {"delivery.timeout.ms", kDelivery, {}, {}},
    {"max.in.flight.requests.per.connection", kDelivery, {}, {}},
    {"max.in.flight", kDelivery, {}, {}},
    {"partitioner", kPartitioning, kKeyPartitioners, kPartitionerReason},
    {"auto.offset.reset", kReading, {}, {}},
    {"isolation.level", kReading, {}, {}},
    {"check.crcs", kReading, {}, {}},
    {"group.instance.id", kGroup, {}, {}},
    {"partition.assignment.strategy", kGroup, {}, {}},
    {"session.timeout.ms", kGroup, {}, {}},
    {"heartbeat.interval.ms", kGroup, {}, {}},
    {"max.poll.interval.ms", kGroup, {}, {}},
    {"coordinator.query.interval.ms", kGroup, {}, {}},
    {"fetch.wait.max.ms", kFetch, {}, {}},
    {"fetch.min.bytes", kFetch, {}, {}},
    {"fetch.max.bytes", kFetch, {}, {}},
    {"fetch.message.max.bytes", kFetch, {}, {}},
    {"max.partition.fetch.bytes", kFetch, {}, {}},
    {"fetch.error.backoff.ms", kFetch, {}, {}},
    {"queued.min.messages", kFetch, {}, {}},
    {"queued.max.messages.kbytes", kFetch, {}, {}},
    {"client.rack", kNetwork, {}, {}},
    {"message.max.bytes", kNetwork, {}, {}},
    {"receive.message.max.bytes", kNetwork, {}, {}},
    {"message.copy.max.bytes", kNetwork, {}, {}},
    {"socket.timeout.ms", kNetwork, {}, {}},
    {"socket.connection.setup.timeout.ms", kNetwork, {}, {}},
    {"socket.keepalive.enable", kNetwork, {}, {}},
    {"socket.nagle.disable", kNetwork, {}, {}},
    {"socket.send.buffer.bytes", kNetwork, {}, {}},
    {"socket.receive.buffer.bytes", kNetwork, {}, {}},
    {"connections.max.idle.ms", kNetwork, {}, {}},
    {"reconnect.backoff.ms", kNetwork, {}, {}},
    {"reconnect.backoff.max.ms", kNetwork, {}, {}},
    {"topic.metadata.refresh.interval.ms", kNetwork, {}, {}},
    {"metadata.max.age.ms", kNetwork, {}, {}},
    {"topic.metadata.propagation.max.ms", kNetwork, {}, {}},
};

// Why everything else is refused: the first matching rule (an exact name, or a prefix ending in
// '.' or '_') gives the reason; `operator_setting` adds where it belongs instead.
struct Refusal {
  std::string_view name;
  std::string_view reason;
  bool operator_setting;
};

constexpr std::string_view kRunsCommand = "it runs a shell command on the daemon's machine";
constexpr std::string_view kLoadsCode = "it loads code into the daemon";
constexpr std::string_view kSecurity =
    "it is a security setting (TLS, SASL, credentials, or the files that hold them)";
constexpr std::string_view kBrokers = "it says which brokers the clients reach and how";
constexpr std::string_view kFile = "it names a file on the daemon's machine";
constexpr std::string_view kGuarantees =
    "sluice sets it itself: its delivery guarantees (idempotent output, offsets committed only "
    "once the output is acknowledged) depend on it";
constexpr std::string_view kLogging = "logging and statistics are the operator's to set";
constexpr std::string_view kProgram = "only the program sets it, through librdkafka's API";

constexpr Refusal kRefusals[] = {
    {"sasl.kerberos.kinit.cmd", kRunsCommand, true},
    {"plugin.library.paths", kLoadsCode, true},
    {"interceptors", kLoadsCode, true},
    {"ssl.engine.location", kLoadsCode, true},
    {"ssl.providers", kLoadsCode, true},
    {"ssl.", kSecurity, true},
    {"ssl_", kSecurity, true},
    {"sasl.", kSecurity, true},
    {"security.protocol", kSecurity, true},
    {"enable.ssl.certificate.verification", kSecurity, true},
    {"enable.sasl.oauthbearer.unsecure.jwt", kSecurity, true},
    {"bootstrap.servers", kBrokers, true},
    {"metadata.broker.list", kBrokers, true},
    {"client.dns.lookup", kBrokers, true},
    {"broker.address.family", kBrokers, true},
    {"broker.address.ttl", kBrokers, true},
    {"api.version.", kBrokers, true},
    {"broker.version.fallback", kBrokers, true},
    {"allow.auto.create.topics", kBrokers, true},
    {"offset.store.", kFile, false},
    {"enable.idempotence", kGuarantees, false},
    {"transactional.id", kGuarantees, false},
    {"transaction.timeout.ms", kGuarantees, false},
    {"enable.gapless.guarantee", kGuarantees, false},
    {"delivery.report.only.error", kGuarantees, false},
    {"queuing.strategy", kGuarantees, false},
    {"queue.buffering.backpressure.threshold", kGuarantees, false},
    {"enable.partition.eof", kGuarantees, false},
    {"auto.commit.", kGuarantees, false},
    {"client.id", kGuarantees, false},
    {"debug", kLogging, true},
    {"log_level", kLogging, true},
    {"log.", kLogging, true},
    {"statistics.interval.ms", kLogging, true},
    {"enabled_events", kProgram, false},
    {"opaque", kProgram, false},
    {"default_topic_conf", kProgram, false},
};

bool matches(const Refusal& rule, std::string_view name) {
  char last = rule.name.back();
  if (last == '.' || last == '_') return name.starts_with(rule.name);
  return name == rule.name;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(std::span<const std::string_view> values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i];
  }
  return out;
}

constexpr std::string_view kServerConfig =
    "; set it in the server config's kafka map, which the operator owns and which applies to "
    "every job";

std::string refuse_name(std::string_view name) {
  std::string prefix = "not allowed in a job file: ";
  if (name.ends_with("_cb")) return prefix + std::string(kProgram);
  auto rule = std::find_if(std::begin(kRefusals), std::end(kRefusals),
                           [&](const Refusal& r) { return matches(r, name); });
  if (rule == std::end(kRefusals)) {
    return prefix +
           "it is not one of the client-tuning properties a job file may set (see the README, "
           "\"Kafka properties of a job\"); if it should apply to every job, set it in the server "
           "config's kafka map";
  }
  return prefix + std::string(rule->reason) +
         std::string(rule->operator_setting ? kServerConfig : std::string_view());
}

}  // namespace

std::span<const JobKafkaProperty> job_kafka_properties() {
  return kAllowed;
}

const JobKafkaProperty* job_kafka_property(std::string_view name) {
  auto it = std::find_if(std::begin(kAllowed), std::end(kAllowed),
                         [&](const JobKafkaProperty& p) { return p.name == name; });
  return it == std::end(kAllowed) ? nullptr : &*it;
}

std::string refuse_job_kafka_property(std::string_view name, std::string_view value) {
  const JobKafkaProperty* allowed = job_kafka_property(name);
  if (allowed == nullptr) return refuse_name(name);
  if (allowed->values.empty()) return {};
  bool ok = std::any_of(allowed->values.begin(), allowed->values.end(),
                        [&](std::string_view v) { return equal_ignoring_case(v, value); });
  if (ok) return {};
  return "must be " + join(allowed->values) +
         " in a job file: " + std::string(allowed->values_reason);
}

}  // namespace sluice::config
