#pragma once
// Checks inside fuzz targets: a property that must hold for every input. A failure prints what
// failed and aborts, which libFuzzer (and the replay runner) report as a crash with the input.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sluice::fuzz {

[[noreturn]] inline void check_failed(const char* cond, const char* file, int line,
                                      std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n  %.*s\n", file, line, cond,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace sluice::fuzz

// `detail` (anything convertible to std::string_view) is printed when `cond` is false.
#define FUZZ_CHECK(cond, detail)                                                  \
  do {                                                                            \
    if (!(cond)) ::sluice::fuzz::check_failed(#cond, __FILE__, __LINE__, detail); \
  } while (0)
