#pragma once
// An independent check that text is one JSON value as RFC 8259 defines it (UTF-8, numbers of any
// size and precision, escapes, no control characters in strings), for the fuzz targets' checks
// of what sluice writes. simdjson is not used for this: it is what sluice itself reads JSON
// with, and it refuses integers beyond 64 bits, which are valid JSON.

#include <simdjson.h>

#include <string_view>

namespace sluice::fuzz {

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}

  // True when the whole text is one JSON value (with optional surrounding whitespace) and an
  // object when `object` is set.
  bool valid(bool object = false) {
    if (!simdjson::validate_utf8(s_.data(), s_.size())) return false;
    space();
    if (object && (at_end() || s_[pos_] != '{')) return false;
    if (!value(0)) return false;
    space();
    return at_end();
  }

 private:
  static constexpr int kMaxDepth = 1024;

  bool at_end() const { return pos_ >= s_.size(); }
  bool eat(char c) {
    if (at_end() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void space() {
    while (!at_end() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  bool digits() {
    size_t start = pos_;
    while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9')
      ++pos_;
    return pos_ > start;
  }
  bool number() {
    eat('-');
    if (eat('0')) {
      // no leading zeros
    } else if (at_end() || s_[pos_] < '1' || s_[pos_] > '9' || !digits()) {
      return false;
    }
    if (eat('.') && !digits()) return false;
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
    }
    return true;
  }
  static bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  bool string() {
    if (!eat('"')) return false;
    while (!at_end()) {
      auto c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (at_end()) return false;
      char e = s_[pos_++];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i)
          if (at_end() || !hex(s_[pos_++])) return false;
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  template <typename Member>
  bool sequence(char close, int depth, Member member) {
    space();
    if (eat(close)) return true;
    do {
      space();
      if (!member(depth + 1)) return false;
      space();
    } while (eat(','));
    return eat(close);
  }
  bool value(int depth) {
    if (depth > kMaxDepth || at_end()) return false;
    switch (s_[pos_]) {
      case '{':
        ++pos_;
        return sequence('}', depth, [this](int d) {
          if (!string()) return false;
          space();
          if (!eat(':')) return false;
          space();
          return value(d);
        });
      case '[':
        ++pos_;
        return sequence(']', depth, [this](int d) { return value(d); });
      case '"':
        return string();
      case 't':
        return word("true");
      case 'f':
        return word("false");
      case 'n':
        return word("null");
      default:
        return number();
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

inline bool valid_json(std::string_view text, bool object = false) {
  return JsonChecker(text).valid(object);
}

}  // namespace sluice::fuzz
