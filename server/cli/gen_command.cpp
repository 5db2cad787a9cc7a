#include "server/cli/gen_command.hpp"

#include "common/error.hpp"
#include "server/devtools/generator.hpp"
#include "server/devtools/scenarios.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <optional>
#include <ostream>
#include <string_view>

namespace sluice::server {
namespace {

constexpr std::string_view kGenUsage =
    R"(usage: sluice gen --scenario S0|S1|S2|S3a|S3b --records N [--first I] --out FILE
       sluice gen --scenario ID --records N [--first I] --bootstrap HOST:PORT[,...] [--topic NAME]
                  [--rate R] [--property NAME=VALUE ...]
       sluice gen --scenario ID --print-job [--topic NAME] [--bootstrap HOST:PORT[,...]]

Generates records first .. first+N-1 of a benchmark scenario (perf/README.md): as JSON Lines to
FILE ("-" for stdout), or to a Kafka topic (key: the scenario's key column, value: the JSON line).
--print-job prints a Kafka job file (YAML) running the scenario's query on that topic (with
--bootstrap, the brokers in a comment: they belong in the server config's kafka map).

Options:
  --scenario ID           S0, S1, S2, S3a or S3b
  --records N             number of records
  --first I               first record index (default 0)
  --out FILE              write JSON Lines
  --bootstrap LIST        produce to these Kafka brokers (fails after 10 s if none answers)
  --topic NAME            topic (default: the scenario's id in lower case + "-in", e.g. s2-in)
  --rate R                at most R records per second (default 0: unlimited)
  --property NAME=VALUE   a librdkafka producer property (repeatable), e.g. compression.type=lz4
  --print-job             print the scenario's Kafka job file and exit
  -h, --help              show this help

Prints a one-line summary to stderr. Exit codes: 0 success, 1 failure (file not writable, no
broker reachable, delivery errors), 2 usage error.
)";

constexpr auto kReachTimeout = std::chrono::seconds(10);

struct GenOptions {
  const devtools::Scenario* scenario = nullptr;
  std::optional<int64_t> records;
  int64_t first = 0;
  std::string out;
  std::string bootstrap;
  std::string topic;
  double rate = 0;
  devtools::ProducerProperties properties;
  bool print_job = false;
  bool help = false;
};

Error usage(std::string message) {
  return Error(ErrorCode::kUsage, std::move(message));
}

template <typename T>
T parse_number(const std::string& name, const std::string& text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    throw usage(fmt::format("{} '{}': expected a non-negative number", name, text));
  return value;
}

std::string lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const devtools::Scenario& scenario_named(const std::string& id) {
  if (const auto* s = devtools::find_scenario(id)) return *s;
  throw usage(fmt::format("--scenario '{}': expected one of S0, S1, S2, S3a, S3b", id));
}

void set_option(GenOptions& o, const std::string& name, const std::string& value) {
  if (name == "--scenario") o.scenario = &scenario_named(value);
  if (name == "--records") o.records = parse_number<int64_t>(name, value);
  if (name == "--first") o.first = parse_number<int64_t>(name, value);
  if (name == "--out") o.out = value;
  if (name == "--bootstrap") o.bootstrap = value;
  if (name == "--topic") o.topic = value;
  if (name == "--rate") o.rate = parse_number<double>(name, value);
  if (name == "--property") {
    auto eq = value.find('=');
    if (eq == std::string::npos || eq == 0)
      throw usage(fmt::format("--property '{}': expected NAME=VALUE", value));
    o.properties.emplace_back(value.substr(0, eq), value.substr(eq + 1));
  }
}

void check_combination(const GenOptions& o) {
  if (o.help) return;
  if (o.scenario == nullptr) throw usage("--scenario is required");
  if (o.print_job) {
    if (o.records || !o.out.empty()) throw usage("--print-job takes no --records or --out");
    return;
  }
  if (!o.records) throw usage("--records is required");
  if (o.out.empty() == o.bootstrap.empty()) throw usage("give exactly one of --out or --bootstrap");
  if (!o.out.empty() && (!o.topic.empty() || o.rate > 0 || !o.properties.empty()))
    throw usage("--topic, --rate and --property need --bootstrap");
}

// Accepts `--opt value` and `--opt=value`.
GenOptions parse_args(const std::vector<std::string>& args) {
  static const std::vector<std::string> kWithValue = {"--scenario", "--records",   "--first",
                                                      "--out",      "--bootstrap", "--topic",
                                                      "--rate",     "--property"};
  GenOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "-h" || name == "--help") {
      o.help = true;
    } else if (name == "--print-job") {
      o.print_job = true;
    } else if (std::find(kWithValue.begin(), kWithValue.end(), name) != kWithValue.end()) {
      if (!value) {
        if (i + 1 == args.size()) throw usage(fmt::format("{} needs a value", name));
        value = args[++i];
      }
      set_option(o, name, *value);
    } else {
      throw usage(name.starts_with("-") ? fmt::format("unknown option '{}'", name)
                                        : fmt::format("unexpected argument '{}'", name));
    }
  }
  check_combination(o);
  return o;
}

std::string default_topic(const devtools::Scenario& s) {
  return lower(s.id) + "-in";
}

// Set by SIGINT/SIGTERM while producing.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

// Installs the stop handler for SIGINT and SIGTERM; restores the previous ones when destroyed.
class StopOnSignal {
 public:
  StopOnSignal() {
    g_stop.store(false);
    struct sigaction sa {};
    sa.sa_handler = &on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

double rate_of(uint64_t records, double seconds) {
  return seconds > 0 ? static_cast<double>(records) / seconds : 0;
}

int write_records(const GenOptions& o, std::ostream& err) {
  auto start = std::chrono::steady_clock::now();
  uint64_t bytes = devtools::write_file(*o.scenario, o.out, o.first, *o.records);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  err << fmt::format("sluice gen: {}: {} records ({} bytes) to {} in {:.3f} s ({:.0f} records/s)\n",
                     o.scenario->id, *o.records, bytes, o.out, seconds,
                     rate_of(static_cast<uint64_t>(*o.records), seconds));
  return 0;
}

int produce_records(const GenOptions& o, std::ostream& err) {
  std::string topic = o.topic.empty() ? default_topic(*o.scenario) : o.topic;
  devtools::TopicGenerator gen(*o.scenario, o.bootstrap, topic, o.properties);
  gen.check_reachable(kReachTimeout);
  devtools::GenerateStats s;
  {
    StopOnSignal signals;
    s = gen.produce(o.first, *o.records, o.rate, g_stop);
  }
  err << fmt::format(
      "sluice gen: {}: {} records to topic '{}', {} delivered, {} delivery errors{} in {:.3f} s "
      "({:.0f} records/s)\n",
      o.scenario->id, s.produced, topic, s.delivered, s.delivery_errors,
      s.stopped ? " (stopped by a signal)" : "", s.seconds, rate_of(s.delivered, s.seconds));
  if (!s.ok()) {
    err << "sluice gen: delivery failed: " << s.first_error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

std::string scenario_job_yaml(const std::string& id, const std::string& topic,
                              const std::string& bootstrap) {
  const devtools::Scenario& s = scenario_named(id);
  std::string name = lower(s.id);
  std::string yaml = fmt::format("# {}: {} (generate the input with `sluice gen --scenario {}`)\n",
                                 s.id, s.title, s.id);
  yaml += fmt::format("name: {}\nsql: |\n  {}\nsource:\n  type: kafka\n  topic: {}\n", name, s.sql,
                      topic.empty() ? default_topic(s) : topic);
  yaml += fmt::format("  name: {}\n  format: json\n  schema:\n", s.source);
  bool has_trade_time = false;
  for (const auto& c : s.columns) {
    std::string type = c.type.to_string();
    // DECIMAL(12,2) holds a comma: quote it so YAML keeps it one scalar.
    if (type.find(',') != std::string::npos) type = "'" + type + "'";
    yaml += fmt::format("    {}: {}\n", c.name, type);
    has_trade_time = has_trade_time || c.name == "trade_time";
  }
  if (has_trade_time) yaml += "  event_time: trade_time\n";
  if (s.keyed()) yaml += fmt::format("  partitioned_by: [{}]\n", s.key_column);
  yaml += fmt::format("sink:\n  type: kafka\n  topic: {}-out\n  format: json\n", name);
  if (s.keyed()) yaml += fmt::format("  key: [{}]\n", s.key_column);
  if (!bootstrap.empty())
    yaml += fmt::format(
        "# brokers: the server config's kafka map sets them (bootstrap.servers: '{}')\n",
        bootstrap);
  yaml += "kafka:\n  auto.offset.reset: earliest\n";
  return yaml;
}

int run_gen_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  GenOptions o;
  try {
    o = parse_args(args);
  } catch (const Error& e) {
    err << "sluice gen: " << e.what() << "\n\n" << kGenUsage;
    return 2;
  }
  if (o.help) {
    out << kGenUsage;
    return 0;
  }
  try {
    if (o.print_job) {
      out << scenario_job_yaml(o.scenario->id, o.topic, o.bootstrap);
      return 0;
    }
    return o.out.empty() ? produce_records(o, err) : write_records(o, err);
  } catch (const Error& e) {
    err << "sluice gen: " << e.what() << "\n";
    return e.code() == ErrorCode::kUsage ? 2 : 1;
  }
}

}  // namespace sluice::server
