#include "report.hpp"

#include <algorithm>

namespace sluice::sqltest {
namespace {

// Edit script between a and b from an LCS table; fine for the few hundred lines a case has.
std::vector<std::string> lcs_diff(const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> t(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      t[i][j] = a[i] == b[j] ? t[i + 1][j + 1] + 1 : std::max(t[i + 1][j], t[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out.push_back("    " + a[i++]);
      ++j;
    } else if (j == m || (i < n && t[i + 1][j] >= t[i][j + 1])) {
      out.push_back("  - " + a[i++]);
    } else {
      out.push_back("  + " + b[j++]);
    }
  }
  return out;
}

}  // namespace

void Report::diff(const std::string& what, const std::vector<std::string>& expected,
                  const std::vector<std::string>& actual) {
  if (expected == actual) return;
  line(what + " differs (- expected, + actual; " + std::to_string(expected.size()) + " expected, " +
       std::to_string(actual.size()) + " actual lines):");
  for (const auto& l : lcs_diff(expected, actual))
    line(l);
}

std::string Report::finish(const TestCase& tc) const {
  std::string out = "FAIL " + tc.file + ":" + std::to_string(tc.line) + ": " + tc.name + "\n";
  out += "  query:\n";
  size_t start = 0;
  while (start <= tc.query.size()) {
    size_t nl = tc.query.find('\n', start);
    if (nl == std::string::npos) nl = tc.query.size();
    out += "    " + tc.query.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  return out + body_;
}

}  // namespace sluice::sqltest
