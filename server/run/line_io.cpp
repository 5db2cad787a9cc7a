#include "server/run/line_io.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::server {

LineReader::LineReader(const std::string& path, size_t block_size) : block_size_(block_size) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw Error(ErrorCode::kIo, "cannot read source file '" + path + "': " + std::strerror(errno));
  }
  buffer_.resize(block_size_);
}

LineReader::~LineReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool LineReader::refill() {
  // Move the unread tail to the front, grow when one line is longer than the buffer.
  size_t tail = end_ - begin_;
  std::memmove(buffer_.data(), buffer_.data() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  size_t n = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  end_ += n;
  if (n == 0) eof_ = true;
  return n > 0;
}

bool LineReader::next(std::vector<std::string_view>& lines, size_t max_lines) {
  lines.clear();
  while (lines.size() < max_lines) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      size_t len = static_cast<const char*>(nl) - start;
      lines.emplace_back(start, len > 0 && start[len - 1] == '\r' ? len - 1 : len);
      begin_ += len + 1;
      continue;
    }
    if (!lines.empty()) break;  // hand out what we have before moving the buffer
    if (eof_ || !refill()) {
      if (end_ > begin_) {  // last line without a newline
        lines.emplace_back(buffer_.data() + begin_, end_ - begin_);
        begin_ = end_;
      }
      break;
    }
  }
  return !lines.empty();
}

namespace {

class FileSink final : public LineSink {
 public:
  explicit FileSink(const std::string& path) {
    std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
      throw Error(ErrorCode::kIo, "cannot write sink file '" + path + "': " + std::strerror(errno));
    }
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    path_ = path;
  }
  ~FileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  void write(std::string_view line) override {
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fputc('\n', file_);
  }
  void flush() override {
    if (std::fflush(file_) != 0) {
      throw Error(ErrorCode::kIo,
                  "cannot write sink file '" + path_ + "': " + std::strerror(errno));
    }
  }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

class StreamSink final : public LineSink {
 public:
  explicit StreamSink(std::ostream& out) : out_(out) {}
  void write(std::string_view line) override {
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.put('\n');
  }
  void flush() override { out_.flush(); }

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<LineSink> open_file_sink(const std::string& path) {
  return std::make_unique<FileSink>(path);
}
std::unique_ptr<LineSink> stream_sink(std::ostream& out) {
  return std::make_unique<StreamSink>(out);
}

}  // namespace sluice::server
