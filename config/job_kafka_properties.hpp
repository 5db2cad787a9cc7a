#pragma once
// The librdkafka properties a job file's `kafka:` map may set: client tuning only (batching,
// compression, fetch sizes, timeouts, group membership, retries, buffers). Everything else is
// refused with the reason: security settings and credentials, brokers, file paths, shell
// commands, plugins, callbacks, logging, and the properties sluice's delivery guarantees rest on.
// Those belong to the server config's `kafka:` map, which the operator owns and which is not
// restricted. A job file can be written by anyone who may POST /jobs; the server config cannot.
//
// The table is in job_kafka_properties.cpp, and README.md ("Kafka properties of a job") lists the
// same names. Pure functions over constant tables; any thread.

#include <span>
#include <string>
#include <string_view>

namespace sluice::config {

struct JobKafkaProperty {
  std::string_view name;
  std::string_view role;  // what it tunes, for the docs: "producer batching"
  // When non-empty, the only values allowed (compared case-insensitively), and why.
  std::span<const std::string_view> values;
  std::string_view values_reason;
};

// Every property a job file may set, in the README's order.
std::span<const JobKafkaProperty> job_kafka_properties();
// The allow-list's entry for `name`; nullptr when a job file may not set it.
const JobKafkaProperty* job_kafka_property(std::string_view name);

// Empty when a job file may set `name` to `value`; else why not, as the message of an issue at
// `kafka.<name>`. The message never contains the value (it may be a secret).
std::string refuse_job_kafka_property(std::string_view name, std::string_view value);

}  // namespace sluice::config
