#include "case_runner.hpp"

#include "common/error.hpp"
#include "config/job_config.hpp"
#include "server/run/file_run.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>

#include "report.hpp"

namespace sluice::sqltest {
namespace {

// YAML double-quoted scalar: exact for any text (escapes are the JSON ones plus \xNN).
std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void append_options(const std::vector<std::string>& opts, const char* indent, std::string& y) {
  for (const auto& o : opts)
    y += indent + o + "\n";
}

bool write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (const auto& l : lines)
    f << l << '\n';
  return static_cast<bool>(f);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream f(path, std::ios::binary);
  std::string l;
  while (std::getline(f, l))
    lines.push_back(l);
  return lines;
}

// The `error_code` field of one dead-letter record (with `@offset` when `with_offset`), or a
// marker saying why it has none.
std::string dead_letter_code(const std::string& line, bool with_offset) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line).get(doc)) return "<not JSON: " + line + ">";
  std::string_view code;
  if (doc["error_code"].get(code)) return "<no error_code: " + line + ">";
  if (!with_offset) return std::string(code);
  int64_t offset = 0;
  if (doc["offset"].get(offset)) return "<no offset: " + line + ">";
  return std::string(code) + "@" + std::to_string(offset);
}

struct Outcome {
  std::optional<server::RunStats> stats;  // set when the job ran
  std::optional<std::string> code;        // set when it threw
  Location location;
  std::string message;
};

void check_counts(const ExpectedCounts& want, const server::RunStats& got, Report& r) {
  auto one = [&](const char* name, std::optional<uint64_t> w, uint64_t g) {
    if (w && *w != g)
      r.line("count " + std::string(name) + ": expected " + std::to_string(*w) + ", got " +
             std::to_string(g));
  };
  one("in", want.in, got.records_in);
  one("out", want.out, got.records_out);
  one("filtered", want.filtered, got.filtered);
  one("rejected", want.rejected, got.rejected);
  one("dead", want.dead, got.dead_lettered);
  one("accepted", want.accepted, got.accepted);
  one("late", want.late, got.late);
}

std::string location_text(Location l) {
  return l.known() ? std::to_string(l.line) + ":" + std::to_string(l.column) : "-";
}

void check_error(const ExpectedError& want, const Outcome& got, Report& r) {
  if (!got.code) {
    r.line("expected error " + want.code + ", but the job ran (" +
           std::to_string(got.stats->records_out) + " rows out)");
    return;
  }
  std::string actual = *got.code + " at " + location_text(got.location) + ": " + got.message;
  bool ok = *got.code == want.code;
  if (want.location_check == LocationCheck::kNone) ok &= !got.location.known();
  if (want.location_check == LocationCheck::kAt) {
    ok &= got.location.line == want.line && got.location.column == want.column;
  }
  ok &= got.message.find(want.message_part) != std::string::npos;
  if (ok) return;
  std::string loc = want.location_check == LocationCheck::kAny ? "*"
                    : want.location_check == LocationCheck::kNone
                        ? "-"
                        : std::to_string(want.line) + ":" + std::to_string(want.column);
  r.line("error differs:");
  r.line("  expected: " + want.code + " at " + loc + ": ..." + want.message_part + "...");
  r.line("  actual:   " + actual);
}

// Loads and runs the job; any exception becomes the outcome's error.
Outcome execute(const std::string& yaml, const std::string& yaml_path, uint32_t batch_rows) {
  Outcome got;
  try {
    config::JobConfig job = config::load_job_text(yaml, yaml_path);
    std::ostringstream stdout_sink;
    server::RunOptions options;
    if (batch_rows > 0) options.batch_rows = batch_rows;
    got.stats = server::run_job(job, stdout_sink, options);
  } catch (const Error& e) {
    got.code = std::string(error_code_name(e.code()));
    got.location = e.location();
    got.message = e.detail();
  } catch (const std::exception& e) {
    got.code = "<std::exception>";
    got.message = e.what();
  }
  return got;
}

void check_dead_letters(const std::vector<std::string>& want, const std::string& path, Report& r) {
  std::vector<std::string> codes;
  for (const auto& l : read_lines(path)) {
    size_t i = codes.size();
    bool with_offset = i < want.size() && want[i].find('@') != std::string::npos;
    codes.push_back(dead_letter_code(l, with_offset));
  }
  r.diff("dead-letter error codes", want, codes);
}

}  // namespace

std::string CaseRunner::path_for(int index, const char* suffix) const {
  return work_dir_ + "/case" + std::to_string(index) + suffix;
}

std::string CaseRunner::job_yaml(const TestCase& tc, int index) const {
  std::string y = "name: " + yaml_quote("sqltest_" + std::to_string(index)) + "\n";
  y += "sql: " + yaml_quote(tc.query) + "\n";
  // One source as `source:`; with extra ones, all as `sources:`, t first.
  const char* in = tc.extra_sources.empty() ? "  " : "    ";
  auto source = [&](const std::string& name, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& schema,
                    const std::vector<std::string>& options) {
    y += (tc.extra_sources.empty() ? "  name: " : "  - name: ") + yaml_quote(name) + "\n";
    bool own_format = std::any_of(options.begin(), options.end(),
                                  [](const std::string& o) { return o.rfind("format:", 0) == 0; });
    y += in + std::string("type: file\n") + in + "path: " + yaml_quote(path) + "\n";
    if (!own_format) y += in + std::string("format: json\n");
    y += in + std::string("schema:\n");
    for (const auto& [col, type] : schema)
      y += in + std::string("  ") + yaml_quote(col) + ": " + yaml_quote(type) + "\n";
    append_options(options, in, y);
  };
  y += tc.extra_sources.empty() ? "source:\n" : "sources:\n";
  source("t", path_for(index, ".in.jsonl"), tc.schema, tc.source_options);
  for (size_t i = 0; i < tc.extra_sources.size(); ++i) {
    const ExtraSource& e = tc.extra_sources[i];
    source(e.name, path_for(index, (".in" + std::to_string(i + 1) + ".jsonl").c_str()), e.schema,
           e.options);
  }
  y += "sink:\n  type: file\n  path: " + yaml_quote(path_for(index, ".out.jsonl")) +
       "\n  format: json\n";
  append_options(tc.sink_options, "  ", y);
  if (tc.dead_letters) {
    y += "dead_letter:\n  type: file\n  path: " + yaml_quote(path_for(index, ".dlq.jsonl")) +
         "\n  format: json\n";
  }
  append_options(tc.job_options, "", y);
  return y;
}

CaseResult CaseRunner::run(const TestCase& tc, int index) {
  Report r;
  const std::string out_path = path_for(index, ".out.jsonl");
  const std::string dlq_path = path_for(index, ".dlq.jsonl");
  bool written = write_lines(path_for(index, ".in.jsonl"), tc.input);
  for (size_t i = 0; i < tc.extra_sources.size(); ++i) {
    written &= write_lines(path_for(index, (".in" + std::to_string(i + 1) + ".jsonl").c_str()),
                           tc.extra_sources[i].input);
  }
  if (!written) {
    r.line("cannot write the input files under " + work_dir_);
    return {false, r.finish(tc)};
  }
  const std::string yaml = job_yaml(tc, index);
  // The case's own batch size (the runner's default when it names none), then 1, 7 and 1,024
  // records per batch: the output is a function of the input order alone, so every batch size
  // gives the same output, counts and dead letters.
  const uint32_t own =
      tc.batch_rows > 0 ? tc.batch_rows : static_cast<uint32_t>(server::RunOptions{}.batch_rows);
  std::vector<uint32_t> batches = {own};
  for (uint32_t b : {1u, 7u, 1024u}) {
    if (b != own) batches.push_back(b);
  }
  Outcome got;
  for (uint32_t batch : batches) {
    std::remove(out_path.c_str());
    std::remove(dlq_path.c_str());
    got = execute(yaml, path_for(index, ".yaml"), batch);
    std::string at = batch == own ? "" : " (" + std::to_string(batch) + " per batch)";
    if (tc.error) {
      check_error(*tc.error, got, r);
      break;  // errors come before any record is read
    }
    if (got.code) {
      r.line("unexpected error " + *got.code + " at " + location_text(got.location) + ": " +
             got.message);
      break;
    }
    size_t before = r.size();
    r.diff("output" + at, tc.expected, read_lines(out_path));
    check_counts(tc.counts, *got.stats, r);
    if (tc.dead_letters) check_dead_letters(*tc.dead_letters, dlq_path, r);
    if (r.size() != before) {
      if (batch != own) r.line("records per batch: " + std::to_string(batch));
      break;
    }
  }
  if (r.empty()) return {true, ""};
  if (got.code && *got.code == "CONFIG") r.line("job YAML:\n" + yaml);
  return {false, r.finish(tc)};
}

}  // namespace sluice::sqltest
