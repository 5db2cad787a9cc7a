#pragma once
// Builds the failure report of one SQL test case: free lines plus line diffs of expected vs actual
// output. Single-threaded test tooling.

#include <string>
#include <vector>

#include "test_file.hpp"

namespace sluice::sqltest {

class Report {
 public:
  void line(const std::string& text) { body_ += "  " + text + "\n"; }

  // Adds a `-` expected / `+` actual diff (longest common subsequence) when the lists differ.
  void diff(const std::string& what, const std::vector<std::string>& expected,
            const std::vector<std::string>& actual);

  bool empty() const { return body_.empty(); }
  // Grows with every line added: compare before and after a check.
  size_t size() const { return body_.size(); }

  // Header (file:line, case name, query) followed by the collected lines.
  std::string finish(const TestCase& tc) const;

 private:
  std::string body_;
};

}  // namespace sluice::sqltest
