// The command line: exit codes, help, version, and error reporting of run/validate.

#include "server/cli/cli.hpp"

#include "common/version.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

struct Result {
  int code;
  std::string out, err;
};

Result cli(std::vector<const char*> args) {
  args.insert(args.begin(), "sluice");
  std::ostringstream out, err;
  int code = sluice::server::run_cli(static_cast<int>(args.size()), args.data(), out, err);
  return {code, out.str(), err.str()};
}

std::filesystem::path temp_dir() {
  auto dir =
      std::filesystem::temp_directory_path() / ("sluice-cli-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("help and version exit 0; usage errors exit 2", "[cli]") {
  auto help = cli({"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("usage: sluice") != std::string::npos);
  auto version = cli({"--version"});
  CHECK(version.code == 0);
  CHECK(version.out == std::string("sluice ") + sluice::kVersion + "\n");
  CHECK(cli({}).code == 2);
  CHECK(cli({"frobnicate"}).code == 2);
  CHECK(cli({"run"}).code == 2);
  CHECK(cli({"run", "a.yaml", "b.yaml"}).code == 2);
  CHECK(cli({"validate"}).code == 2);
  auto bad_opt = cli({"run", "--fast", "x.yaml"});
  CHECK(bad_opt.code == 2);
  CHECK(bad_opt.err.find("unknown option '--fast'") != std::string::npos);
}

TEST_CASE("validate reports SQL errors at their file position", "[cli]") {
  auto dir = temp_dir();
  write(dir / "bad.yaml",
        "name: bad\n"
        "sql: |\n"
        "  SELECT symbol,\n"
        "         pricee FROM trades\n"
        "source:\n"
        "  name: trades\n"
        "  type: file\n"
        "  path: in.jsonl\n"
        "  schema:\n"
        "    symbol: STRING\n"
        "    price: DOUBLE\n"
        "sink:\n"
        "  type: stdout\n");
  write(dir / "good.yaml",
        "name: good\n"
        "sql: SELECT symbol FROM trades\n"
        "source: {name: trades, type: file, path: in.jsonl, schema: {symbol: STRING}}\n"
        "sink: {type: stdout}\n");
  auto bad = (dir / "bad.yaml").string();
  auto good = (dir / "good.yaml").string();
  auto r = cli({"validate", good.c_str(), bad.c_str()});
  CHECK(r.code == 1);
  CHECK(r.out == good + ": ok\n");
  // Line 4 of the file, column 10 (after the block's 2-space indentation).
  CHECK(r.err.find(bad + ":4:10: sql: unknown column 'pricee'") != std::string::npos);
  CHECK(r.err.find("SQL_UNKNOWN_COLUMN") != std::string::npos);
  // The excerpt shows the SQL line with a caret under the offending token.
  size_t line_at = r.err.find("pricee FROM trades\n");
  REQUIRE(line_at != std::string::npos);
  size_t line_start = r.err.rfind('\n', line_at) + 1;
  size_t caret = r.err.find('^', line_at);
  REQUIRE(caret != std::string::npos);
  size_t next_line = r.err.find('\n', line_at) + 1;
  CHECK(caret - next_line == line_at - line_start);
}

TEST_CASE("run executes a job and prints a summary", "[cli]") {
  auto dir = temp_dir();
  write(dir / "in.jsonl", "{\"symbol\":\"A\",\"qty\":2}\nnot json\n{\"symbol\":\"B\",\"qty\":0}\n");
  write(
      dir / "job.yaml",
      "name: t\n"
      "sql: SELECT symbol, 10 / qty AS q FROM trades\n"
      "source: {name: trades, type: file, path: in.jsonl, schema: {symbol: STRING, qty: BIGINT}}\n"
      "sink: {type: file, path: out/o.jsonl}\n"
      "dead_letter: {type: file, path: out/dlq.jsonl}\n");
  auto job = (dir / "job.yaml").string();
  auto r = cli({"run", job.c_str()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("3 in, 1 out, 0 filtered, 2 rejected (2 dead-lettered)") != std::string::npos);
  std::ifstream out(dir / "out/o.jsonl");
  std::string line;
  std::getline(out, line);
  CHECK(line == "{\"symbol\":\"A\",\"q\":5}");
  std::ifstream dlq(dir / "out/dlq.jsonl");
  std::string first, second;
  std::getline(dlq, first);
  std::getline(dlq, second);
  CHECK(first.find("\"error_code\":\"DECODE\"") != std::string::npos);
  CHECK(first.find("\"offset\":1,\"record\":\"not json\"") != std::string::npos);
  CHECK(second.find("\"error_code\":\"DIVISION_BY_ZERO\"") != std::string::npos);
}

TEST_CASE("on_error: fail stops the run with the record's position", "[cli]") {
  auto dir = temp_dir();
  write(dir / "in2.jsonl", "{\"qty\":1}\n{\"qty\":0}\n");
  write(dir / "fail.yaml",
        "name: f\n"
        "on_error: fail\n"
        "sql: SELECT 1 / qty AS q FROM trades\n"
        "source: {name: trades, type: file, path: in2.jsonl, schema: {qty: BIGINT}}\n"
        "sink: {type: stdout}\n");
  auto job = (dir / "fail.yaml").string();
  auto r = cli({"run", job.c_str()});
  CHECK(r.code == 1);
  CHECK(r.err.find("record 2") != std::string::npos);
  CHECK(r.err.find("DIVISION_BY_ZERO") != std::string::npos);
}
