// sql_runner: runs data-driven SQL test files (tests/sql/*.test, see tests/sql/README.md).
// Usage: sql_runner [--filter TEXT] [--keep] [--show-yaml] [--verbose] FILE.test...
// Exits non-zero when any case fails or a file has format problems; ends with `N passed, M failed`.

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "case_runner.hpp"
#include "test_file.hpp"

namespace {

struct Options {
  std::vector<std::string> files;
  std::string filter;  // run only cases whose name contains it
  bool keep = false;   // keep the temporary directory
  bool show_yaml = false;
  bool verbose = false;
};

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc)
      o->filter = argv[++i];
    else if (a == "--keep")
      o->keep = true;
    else if (a == "--show-yaml")
      o->show_yaml = true;
    else if (a == "--verbose" || a == "-v")
      o->verbose = true;
    else if (!a.empty() && a[0] == '-')
      return false;
    else
      o->files.push_back(a);
  }
  return !o->files.empty();
}

std::string make_work_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-sqltest-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

struct Totals {
  int passed = 0, failed = 0, skipped = 0;
};

// Counts one case's result; a case marked known_bug is expected to fail.
void record(const std::string& file, const sluice::sqltest::TestCase& tc,
            const sluice::sqltest::CaseResult& result, bool verbose, Totals& totals) {
  if (tc.known_bug.empty()) {
    if (result.passed) {
      ++totals.passed;
      if (verbose) std::printf("ok   %s: %s\n", file.c_str(), tc.name.c_str());
    } else {
      ++totals.failed;
      std::printf("%s\n", result.report.c_str());
    }
  } else if (result.passed) {
    ++totals.failed;
    std::printf("FIXED %s:%d: %s: passes now; remove its known_bug line\n", file.c_str(), tc.line,
                tc.name.c_str());
  } else {
    ++totals.skipped;
    std::printf("KNOWN BUG %s:%d: %s: %s\n", file.c_str(), tc.line, tc.name.c_str(),
                tc.known_bug.c_str());
    if (verbose) std::printf("%s\n", result.report.c_str());
  }
  std::fflush(stdout);
}

void run_file(const std::string& file, const Options& opt, sluice::sqltest::CaseRunner& runner,
              int& index, Totals& totals) {
  std::vector<std::string> problems;
  auto cases = sluice::sqltest::parse_test_file(file, &problems);
  for (const auto& p : problems)
    std::printf("FORMAT %s\n", p.c_str());
  totals.failed += static_cast<int>(problems.size());
  for (const auto& tc : cases) {
    if (!opt.filter.empty() && tc.name.find(opt.filter) == std::string::npos) continue;
    ++index;
    if (opt.show_yaml) {
      std::printf("--- %s\n%s", tc.name.c_str(), runner.job_yaml(tc, index).c_str());
    }
    record(file, tc, runner.run(tc, index), opt.verbose, totals);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse_args(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: sql_runner [--filter TEXT] [--keep] [--show-yaml] [--verbose] "
                 "FILE.test...\n");
    return 2;
  }
  spdlog::set_level(opt.verbose ? spdlog::level::info : spdlog::level::warn);
  const std::string dir = make_work_dir();
  if (dir.empty()) {
    std::perror("sql_runner: mkdtemp");
    return 2;
  }
  sluice::sqltest::CaseRunner runner(dir);
  Totals totals;
  int index = 0;
  for (const auto& file : opt.files)
    run_file(file, opt, runner, index, totals);
  if (opt.keep)
    std::printf("work files kept in %s\n", dir.c_str());
  else
    std::filesystem::remove_all(dir);
  std::printf("%d passed, %d failed, %d skipped\n", totals.passed, totals.failed, totals.skipped);
  return totals.failed == 0 ? 0 : 1;
}
