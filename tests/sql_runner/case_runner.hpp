#pragma once
// Runs one SQL test case through the real job path: writes the input to a temporary JSON Lines
// file, builds the job YAML (source `t`, file sink, optional file dead-letter sink), loads it with
// config::load_job_text, runs server::run_job and compares output, counts, dead letters or the
// error. Single-threaded test tooling.

#include <string>

#include "test_file.hpp"

namespace sluice::sqltest {

struct CaseResult {
  bool passed = false;
  std::string report;  // why it failed, ready to print (empty when passed)
};

class CaseRunner {
 public:
  // `work_dir` must exist; each case writes its files there under a per-case prefix.
  explicit CaseRunner(std::string work_dir) : work_dir_(std::move(work_dir)) {}

  CaseResult run(const TestCase& tc, int index);

  // The job YAML the runner builds for a case (exposed for --show-yaml).
  std::string job_yaml(const TestCase& tc, int index) const;

 private:
  std::string path_for(int index, const char* suffix) const;

  std::string work_dir_;
};

}  // namespace sluice::sqltest
