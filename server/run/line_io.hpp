#pragma once
// Line-oriented I/O for bounded file sources and file/stdout sinks. Used on one thread.

#include <cstdio>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server {

// Reads a JSON Lines file in large blocks and hands out whole lines. Views stay valid until the
// next call to `next`. A final line without a newline is still a line.
class LineReader {
 public:
  explicit LineReader(const std::string& path, size_t block_size = 4 << 20);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Fills `lines` with up to `max_lines` lines; returns false at end of file.
  bool next(std::vector<std::string_view>& lines, size_t max_lines);

 private:
  bool refill();

  std::FILE* file_ = nullptr;
  std::string buffer_;
  size_t begin_ = 0;  // first unread byte in buffer_
  size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  size_t block_size_;
};

// Where encoded records go: one record per line.
class LineSink {
 public:
  virtual ~LineSink() = default;
  virtual void write(std::string_view line) = 0;
  virtual void flush() = 0;
};

// Creates missing parent directories; throws sluice::Error(kIo) when the file cannot be opened.
std::unique_ptr<LineSink> open_file_sink(const std::string& path);
std::unique_ptr<LineSink> stream_sink(std::ostream& out);

}  // namespace sluice::server
