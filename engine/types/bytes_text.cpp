#include "types/bytes_text.hpp"

#include <array>
#include <cstdint>

namespace sluice::types {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_sextets() {
  std::array<int8_t, 256> t{};
  for (auto& v : t)
    v = -1;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kSextets = make_sextets();

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

char* write_base64(std::string_view in, char* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  for (; n >= 3; p += 3, n -= 3) {
    uint32_t w = static_cast<uint32_t>(p[0]) << 16 | static_cast<uint32_t>(p[1]) << 8 | p[2];
    *out++ = kAlphabet[w >> 18];
    *out++ = kAlphabet[(w >> 12) & 63];
    *out++ = kAlphabet[(w >> 6) & 63];
    *out++ = kAlphabet[w & 63];
  }
  if (n > 0) {
    uint32_t w =
        static_cast<uint32_t>(p[0]) << 16 | (n == 2 ? static_cast<uint32_t>(p[1]) << 8 : 0);
    *out++ = kAlphabet[w >> 18];
    *out++ = kAlphabet[(w >> 12) & 63];
    *out++ = n == 2 ? kAlphabet[(w >> 6) & 63] : '=';
    *out++ = '=';
  }
  return out;
}

void append_base64(std::string_view in, std::string& out) {
  size_t at = out.size();
  out.resize(at + base64_size(in.size()));
  write_base64(in, out.data() + at);
}

bool decode_base64(std::string_view in, char* out, size_t* written) {
  size_t n = in.size();
  if (n % 4 == 0 && n > 0 && in[n - 1] == '=') n -= in[n - 2] == '=' ? 2 : 1;
  if (n % 4 == 1) return false;
  char* const start = out;
  uint32_t w = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int v = kSextets[static_cast<unsigned char>(in[i])];
    if (v < 0) return false;
    w = (w << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *out++ = static_cast<char>((w >> bits) & 0xFF);
    }
  }
  *written = static_cast<size_t>(out - start);
  return (w & ((1u << bits) - 1)) == 0;
}

bool decode_base64(std::string_view in, std::string& out) {
  out.resize(base64_max_decoded(in.size()));
  size_t n = 0;
  bool ok = decode_base64(in, out.data(), &n);
  out.resize(ok ? n : 0);
  return ok;
}

void append_hex(std::string_view in, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : in) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
}

bool decode_hex(std::string_view in, std::string& out) {
  if (in.size() % 2 != 0) return false;
  out.clear();
  out.reserve(in.size() / 2);
  for (size_t i = 0; i < in.size(); i += 2) {
    int hi = hex_digit(in[i]), lo = hex_digit(in[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace sluice::types
