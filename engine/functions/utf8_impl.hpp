#pragma once
// Private to engine/functions: UTF-8 walking and simple case mapping. A "character" is one well-
// formed UTF-8 sequence; every byte that does not start one counts as a character of its own, so
// invalid input never stalls or crashes a loop. Stateless, thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::functions::utf8 {

// Length of the sequence starting at s[pos] (1..4); 1 for an invalid or truncated sequence.
inline size_t seq_len(std::string_view s, size_t pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? (c < 0xF5 ? 4 : 0) : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || pos + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[pos + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

// Decodes the character at `pos` and advances `pos`. An invalid byte b decodes to 0xDC00 + b (a
// lone surrogate, which never occurs in valid UTF-8), so it only equals itself.
inline uint32_t decode(std::string_view s, size_t& pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    ++pos;
    return c;
  }
  size_t n = seq_len(s, pos);
  if (n == 1) {
    ++pos;
    return 0xDC00u + c;
  }
  uint32_t cp = c & (0x7Fu >> n);
  for (size_t k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3Fu);
  pos += n;
  return cp;
}

// Writes `cp` as UTF-8 (4 bytes of room needed); returns the byte count. Decoded invalid bytes
// (0xDC80..0xDCFF) are written back as the original byte.
inline size_t encode(uint32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp >= 0xDC80 && cp <= 0xDCFF) {
    out[0] = static_cast<char>(cp - 0xDC00);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Number of ASCII bytes starting at `pos` (8 at a time: most text is ASCII).
inline size_t ascii_run(std::string_view s, size_t pos) {
  size_t i = pos;
  for (uint64_t w = 0; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80)
    ++i;
  return i - pos;
}

inline size_t char_count(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size();) {
    size_t run = ascii_run(s, pos);
    n += run;
    pos += run;
    if (pos < s.size()) {
      pos += seq_len(s, pos);
      ++n;
    }
  }
  return n;
}

// Byte offset after skipping `k` characters from byte `pos`; stops at the end.
inline size_t skip_chars(std::string_view s, size_t pos, uint64_t k) {
  while (k > 0 && pos < s.size()) {
    size_t run = ascii_run(s, pos);
    if (run >= k) return pos + k;
    k -= run;
    pos += run;
    if (pos < s.size()) {
      pos += seq_len(s, pos);
      --k;
    }
  }
  return pos;
}

// Simple one-to-one case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. Every
// mapping keeps the UTF-8 length (1-byte to 1-byte, 2-byte to 2-byte), so UPPER/LOWER never
// change a string's byte size. Other characters map to themselves.
uint32_t to_upper(uint32_t cp);
uint32_t to_lower(uint32_t cp);

}  // namespace sluice::functions::utf8
