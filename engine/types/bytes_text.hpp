#pragma once
// Text forms of BYTES values: base64 (RFC 4648, with padding; how JSON carries BYTES) and hex.
// Pure functions, safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::types {

inline constexpr size_t base64_size(size_t bytes) {
  return (bytes + 2) / 3 * 4;
}
// Writes base64_size(in.size()) characters at `out`; returns the end.
char* write_base64(std::string_view in, char* out);
void append_base64(std::string_view in, std::string& out);
// Standard alphabet; the padding may be left out. False on any other character or length, or
// when the unused bits of the last character are not zero (so one text means one byte string).
// The pointer form writes at most base64_max_decoded(in.size()) bytes and sets `written`.
inline constexpr size_t base64_max_decoded(size_t chars) {
  return chars / 4 * 3 + 2;
}
bool decode_base64(std::string_view in, char* out, size_t* written);
bool decode_base64(std::string_view in, std::string& out);

// Lower-case hex, two digits per byte.
void append_hex(std::string_view in, std::string& out);
// Either case; an even number of digits. False otherwise.
bool decode_hex(std::string_view in, std::string& out);

}  // namespace sluice::types
