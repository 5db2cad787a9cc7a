// The `main` of every fuzz target in builds without libFuzzer: runs LLVMFuzzerTestOneInput once
// per file named on the command line (directories: every regular file below them, in name
// order; names starting with '.' are skipped). ctest runs it over the committed corpus and
// regressions, so every input that ever crashed a target stays a test of the normal suite, in every
// build.
//   <target>_fuzz_replay [-v] FILE|DIR...
// Exit code 0 when every input ran; a crashing input aborts the process (with a sanitizer report
// in sanitizer builds) after its name was printed.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// With AddressSanitizer, its report ends the process without a signal: name the input then too.
#if defined(__SANITIZE_ADDRESS__)
#define SLUICE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLUICE_ASAN 1
#endif
#endif
#ifdef SLUICE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// The input being run, for the crash handlers (a fixed buffer: they may only call write()).
char current[4096];

void say_current() {
  if (current[0] == '\0') return;
  const char prefix[] = "\nreplay: crashed on input ";
  ssize_t ignored = write(2, prefix, sizeof prefix - 1);
  ignored = write(2, current, std::strlen(current));
  ignored = write(2, "\n", 1);
  (void)ignored;
}

void on_signal(int sig) {
  say_current();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void collect(const fs::path& p, std::vector<fs::path>& out) {
  if (fs::is_directory(p)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && !e.path().filename().string().starts_with("."))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  } else if (fs::exists(p)) {
    out.push_back(p);
  } else {
    std::fprintf(stderr, "replay: no such file or directory: %s\n", p.c_str());
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0)
      verbose = true;
    else
      collect(argv[i], inputs);
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    std::signal(sig, on_signal);
#ifdef SLUICE_ASAN
  __sanitizer_set_death_callback(say_current);
#endif
  auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (const auto& path : inputs) {
    std::snprintf(current, sizeof current, "%s", path.c_str());
    if (verbose) std::fprintf(stderr, "replay: %s\n", current);
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", current);
      return 2;
    }
    bytes += data.size();
    // A copy of exactly `size` bytes, so that reading past the input is caught by ASan.
    std::vector<uint8_t> copy(data.begin(), data.end());
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
  }
  current[0] = '\0';
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("replay: %zu inputs (%zu bytes) in %.0f ms, no crash\n", inputs.size(), bytes, ms);
  return 0;
}
