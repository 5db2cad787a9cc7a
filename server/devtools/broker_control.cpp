#include "server/devtools/broker_control.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>

namespace sluice::server::devtools {
namespace {

constexpr size_t kMaxLine = 4096;

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

// A decimal integer >= `min`, the whole of `text`; throws kUsage naming `what` otherwise.
int parse_int(const std::string& text, int min, std::string_view what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min)
    throw Error(ErrorCode::kUsage,
                fmt::format("{} '{}': expected an integer >= {}", what, text, min));
  return value;
}

void expect_args(const std::vector<std::string>& words, size_t n, std::string_view usage) {
  if (words.size() != n + 1)
    throw Error(ErrorCode::kUsage,
                fmt::format("{} takes {} argument{}: {}", words[0], n, n == 1 ? "" : "s", usage));
}

void dispatch(MockBroker& broker, const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  if (cmd == "down" || cmd == "up") {
    expect_args(w, 1, fmt::format("{} BROKER_ID", cmd));
    int id = parse_int(w[1], 1, "broker id");
    if (cmd == "down")
      broker.set_broker_down(id);
    else
      broker.set_broker_up(id);
  } else if (cmd == "errors") {
    expect_args(w, 3, "errors API_KEY_NAME COUNT ERROR_NAME");
    broker.push_request_errors(w[1], parse_int(w[2], 1, "count"), w[3]);
  } else if (cmd == "leader") {
    expect_args(w, 3, "leader TOPIC PARTITION BROKER_ID");
    broker.set_partition_leader(w[1], parse_int(w[2], 0, "partition"),
                                parse_int(w[3], 1, "broker id"));
  } else if (cmd == "create") {
    expect_args(w, 2, "create TOPIC PARTITIONS");
    broker.create_topic(w[1], parse_int(w[2], 1, "partitions"));
  } else {
    throw Error(
        ErrorCode::kUsage,
        fmt::format("unknown command '{}': expected down, up, errors, leader or create", cmd));
  }
}

}  // namespace

std::string run_control_command(MockBroker& broker, std::string_view line) {
  auto words = split_words(line);
  if (words.empty() || words[0].starts_with("#")) return {};
  try {
    dispatch(broker, words);
    return "ok";
  } catch (const Error& e) {
    return fmt::format("error: {}", e.what());
  }
}

ControlReader::ControlReader(MockBroker& broker, int fd, std::ostream& out)
    : broker_(broker), fd_(fd), out_(out), thread_([this] { run(); }) {}

ControlReader::~ControlReader() {
  stop();
}

void ControlReader::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

// poll() with a timeout rather than a blocking read, so that stop() never waits on a writer that
// keeps the pipe open without writing.
void ControlReader::run() {
  std::string pending;
  std::array<char, 4096> buf{};
  while (!stopping_) {
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, kPollMillis);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (ready == 0) continue;
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF or a dead fd: no more commands, the broker keeps running
    pending.append(buf.data(), static_cast<size_t>(n));
    handle_lines(pending);
  }
  if (!stopping_ && !pending.empty()) {  // a last line without its newline
    pending += '\n';
    handle_lines(pending);
  }
}

void ControlReader::handle_lines(std::string& pending) {
  size_t start = 0;
  for (size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
    std::string answer =
        run_control_command(broker_, std::string_view(pending).substr(start, nl - start));
    if (!answer.empty()) out_ << answer << "\n" << std::flush;
    start = nl + 1;
  }
  pending.erase(0, start);
  if (pending.size() > kMaxLine) {
    out_ << "error: line longer than " << kMaxLine << " bytes\n" << std::flush;
    pending.clear();
  }
}

}  // namespace sluice::server::devtools
