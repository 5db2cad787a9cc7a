#include "server/kafka/rdkafka_conf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>

namespace sluice::server::kafka {
namespace {

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// The "Range" column of librdkafka's own property table (rd_kafka_conf_properties_show, the
// source of its CONFIGURATION.md), by property name: "1 .. 3600000", "none, gzip, ...". Read
// once.
const std::map<std::string, std::string>& property_ranges() {
  static const std::map<std::string, std::string> ranges = [] {
    std::map<std::string, std::string> out;
    char* buffer = nullptr;
    std::size_t size = 0;
    FILE* f = open_memstream(&buffer, &size);
    if (f == nullptr) return out;
    rd_kafka_conf_properties_show(f);
    std::fclose(f);
    std::unique_ptr<char, decltype(&std::free)> owned(buffer, &std::free);
    std::istringstream in(std::string(buffer, size));
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> cols;
      std::istringstream fields(line);
      for (std::string col; std::getline(fields, col, '|');)
        cols.push_back(trim(col));
      if (cols.size() < 4 || cols[2].empty()) continue;
      out.emplace(cols[0], cols[2]);  // the first (global) entry wins over a topic-level one
    }
    return out;
  }();
  return ranges;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::string conf_error_reason(const std::string& name, rd_kafka_conf_res_t res,
                              std::string_view message) {
  if (res == RD_KAFKA_CONF_UNKNOWN)
    return fmt::format("not a property of librdkafka {}", rd_kafka_version_str());
  if (contains(message, "not supported in this build"))
    return "not supported by this build of librdkafka";
  if (contains(message, "dedicated") || contains(message, "not settable"))
    return "only the program can set it, through librdkafka's API";
  if (contains(message, "empty value")) return "must not be empty";
  const auto& ranges = property_ranges();
  auto range = ranges.find(name);
  if (range == ranges.end()) return "librdkafka refused the value";
  return fmt::format("librdkafka refused the value (allowed: {})", range->second);
}

KafkaConf::KafkaConf(const config::KafkaProperties& props, std::string owner, ErrorCode code)
    : conf_(rd_kafka_conf_new()), owner_(std::move(owner)), code_(code) {
  try {
    for (const auto& [name, value] : props)
      set(name, value);
  } catch (...) {
    rd_kafka_conf_destroy(conf_);  // no destructor runs for a constructor that throws
    conf_ = nullptr;
    throw;
  }
}

KafkaConf::~KafkaConf() {
  if (conf_ != nullptr) rd_kafka_conf_destroy(conf_);
}

void KafkaConf::set(const std::string& name, const std::string& value) {
  char err[512];
  rd_kafka_conf_res_t res = rd_kafka_conf_set(conf_, name.c_str(), value.c_str(), err, sizeof err);
  if (res != RD_KAFKA_CONF_OK)
    throw Error(code_, fmt::format("{}: kafka property '{}': {}", owner_, name,
                                   conf_error_reason(name, res, err)));
  values_.emplace_back(name, value);
}

void KafkaConf::set_default(const config::KafkaProperties& props, const std::string& name,
                            const std::string& value) {
  bool given =
      std::any_of(props.begin(), props.end(), [&](const auto& p) { return p.first == name; });
  if (!given) set(name, value);
}

rd_kafka_t* KafkaConf::create(rd_kafka_type_t type) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf_, err, sizeof err);
  if (rk == nullptr) {
    // librdkafka's checks at creation name properties, but a failing one (a TLS key, a SASL
    // mechanism) may quote its value: every value set that could be a secret is redacted, longest
    // first. Short values and booleans would only garble the message.
    std::string message = err;
    std::sort(values_.begin(), values_.end(),
              [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
    for (const auto& [name, value] : values_) {
      if (value.size() < 4 || value == "true" || value == "false") continue;
      std::string replacement = fmt::format("<the value of {}>", name);
      for (std::size_t at = message.find(value); at != std::string::npos;
           at = message.find(value, at + replacement.size()))
        message.replace(at, value.size(), replacement);
    }
    throw Error(ErrorCode::kConfig,
                fmt::format("{}: cannot create the Kafka {}: {}", owner_,
                            type == RD_KAFKA_CONSUMER ? "consumer" : "producer", message));
  }
  conf_ = nullptr;  // owned by the client now
  return rk;
}

}  // namespace sluice::server::kafka
