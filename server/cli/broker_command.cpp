#include "server/cli/broker_command.hpp"

#include "common/error.hpp"
#include "server/devtools/broker_control.hpp"
#include "server/devtools/mock_broker.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <optional>
#include <ostream>
#include <string_view>

namespace sluice::server {
namespace {

constexpr std::string_view kBrokerUsage =
    R"(usage: sluice broker [--brokers N] [--topic NAME:PARTITIONS ...] [--control stdin]

Runs a Kafka-protocol test broker (librdkafka's mock cluster) on 127.0.0.1 until SIGTERM or
Ctrl-C. The first line of stdout is `bootstrap: HOST:PORT[,HOST:PORT...]`.

Options:
  --brokers N               number of brokers, 1..64 (default 1)
  --topic NAME:PARTITIONS   create a topic with that many partitions (repeatable); other topics
                            are created on first use
  --control stdin           read fault-injection commands from stdin, one a line, each answered
                            on stdout by `ok` or `error: <why>` (EOF ends the reading only):
                              down BROKER_ID | up BROKER_ID
                              errors API_KEY_NAME COUNT ERROR_NAME  (e.g. Produce 5 NOT_LEADER_OR_FOLLOWER)
                              leader TOPIC PARTITION BROKER_ID
                              create TOPIC PARTITIONS
  -h, --help                show this help

Exit codes: 0 stopped by a signal, 1 the broker could not start, 2 usage error.
)";

struct BrokerOptions {
  int brokers = 1;
  std::vector<devtools::TopicSpec> topics;
  bool control_stdin = false;
  bool help = false;
};

Error usage(std::string message) {
  return Error(ErrorCode::kUsage, std::move(message));
}

// A positive decimal integer, the whole of `text`.
std::optional<int> parse_positive(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

devtools::TopicSpec parse_topic(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos)
    throw usage(fmt::format("--topic '{}': expected NAME:PARTITIONS, e.g. trades:3", spec));
  auto partitions = parse_positive(std::string_view(spec).substr(colon + 1));
  if (!partitions)
    throw usage(fmt::format("--topic '{}': partitions must be a positive integer", spec));
  return {spec.substr(0, colon), *partitions};
}

// Accepts `--opt value` and `--opt=value`.
BrokerOptions parse_args(const std::vector<std::string>& args) {
  BrokerOptions opts;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (auto eq = name.find('='); name.starts_with("--") && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "-h" || name == "--help") {
      opts.help = true;
      continue;
    }
    if (name != "--brokers" && name != "--topic" && name != "--control")
      throw usage(name.starts_with("-") ? fmt::format("unknown option '{}'", name)
                                        : fmt::format("unexpected argument '{}'", name));
    if (!value) {
      if (i + 1 == args.size()) throw usage(fmt::format("{} needs a value", name));
      value = args[++i];
    }
    if (name == "--topic") {
      opts.topics.push_back(parse_topic(*value));
      continue;
    }
    if (name == "--control") {
      if (*value != "stdin")
        throw usage(fmt::format("--control '{}': the only control channel is 'stdin'", *value));
      opts.control_stdin = true;
      continue;
    }
    auto brokers = parse_positive(*value);
    if (!brokers) throw usage(fmt::format("--brokers '{}': expected a positive integer", *value));
    opts.brokers = *brokers;
  }
  return opts;
}

// Blocks SIGTERM and SIGINT for the lifetime of the object; `wait()` returns the one received.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int wait() const {
    int sig = 0;
    sigwait(&set_, &sig);  // fails only for an invalid set
    return sig;
  }

 private:
  sigset_t set_{};
  sigset_t previous_{};
};

}  // namespace

int run_broker_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  BrokerOptions opts;
  try {
    opts = parse_args(args);
  } catch (const Error& e) {
    err << "sluice broker: " << e.what() << "\n\n" << kBrokerUsage;
    return 2;
  }
  if (opts.help) {
    out << kBrokerUsage;
    return 0;
  }
  // Block before librdkafka starts its threads, so they inherit the mask and only sigwait sees
  // the signal.
  StopSignals signals;
  devtools::MockBroker broker;
  try {
    out << "bootstrap: " << broker.start(opts.brokers, opts.topics) << "\n" << std::flush;
  } catch (const Error& e) {
    err << "sluice broker: " << e.what() << "\n";
    return e.code() == ErrorCode::kUsage ? 2 : 1;
  }
  // Started after the mask is set, so the reader thread never takes the stop signals either.
  std::optional<devtools::ControlReader> control;
  if (opts.control_stdin) control.emplace(broker, STDIN_FILENO, out);
  int sig = signals.wait();
  if (control) control->stop();
  broker.stop();
  err << fmt::format("sluice broker: stopped by {}\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return 0;
}

}  // namespace sluice::server
