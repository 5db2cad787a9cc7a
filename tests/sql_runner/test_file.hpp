#pragma once
// The data-driven SQL test format (tests/sql/*.test, documented in tests/sql/README.md): parsing a
// file into cases. Single-threaded test tooling.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::sqltest {

// Expected RunStats fields; unset ones are not checked.
struct ExpectedCounts {
  std::optional<uint64_t> in, out, filtered, rejected, dead, accepted, late;
};

// How an expected error's location is checked.
enum class LocationCheck {
  kAny,   // `*`: not checked
  kNone,  // `-`: the error must carry no location
  kAt,    // `L:C`
};

struct ExpectedError {
  std::string code;  // ErrorCode name, e.g. "SQL_UNKNOWN_COLUMN"
  LocationCheck location_check = LocationCheck::kAny;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message_part;  // must occur in the message (case-sensitive); may be empty
};

// A source after the main one (`t`), for joins: `schema.NAME:`, `input.NAME:` and
// `sources.NAME.KEY: VALUE` lines.
struct ExtraSource {
  std::string name;
  std::vector<std::pair<std::string, std::string>> schema;
  std::vector<std::string> input;
  std::vector<std::string> options;  // "key: value" lines for its map in `sources:`
  bool has_schema = false, has_input = false;
};

struct TestCase {
  std::string file;
  int line = 0;  // of the `===` header
  std::string name;
  std::vector<std::pair<std::string, std::string>> schema;  // column name, type text
  std::vector<std::string> source_options;  // "key: value" lines for the job's `source:` map
  std::vector<std::string> sink_options;    // "key: value" lines for `sink:`
  std::vector<std::string> job_options;     // "key: value" lines at the top level
  std::vector<std::string> input;           // JSON Lines, verbatim
  std::vector<ExtraSource> extra_sources;   // with any, the job has `sources:` (t first)
  std::string query;
  std::optional<ExpectedError> error;  // set: the job must fail with this error
  std::vector<std::string> expected;   // output lines (when no error)
  ExpectedCounts counts;
  std::optional<std::vector<std::string>> dead_letters;  // error codes, in order
  std::string known_bug;    // non-empty: expected to fail until the engine bug it names is fixed
  uint32_t batch_rows = 0;  // `batch: N`: records per batch (0: the runner's default)
};

// Parses one .test file. Format problems are returned in `problems` ("file:line: message"); the
// cases that parsed are returned all the same.
std::vector<TestCase> parse_test_file(const std::string& path, std::vector<std::string>* problems);

}  // namespace sluice::sqltest
