#include "functions/utf8_impl.hpp"

namespace sluice::functions::utf8 {

namespace {

// Latin Extended-A alternates upper/lower case in runs; `upper_even` says which parity is upper.
struct CaseRun {
  uint32_t first, last;
  bool upper_even;
};
constexpr CaseRun kLatinExtA[] = {{0x0100, 0x0137, true},
                                  {0x0139, 0x0148, false},
                                  {0x014A, 0x0177, true},
                                  {0x0179, 0x017E, false}};

// Dotted/dotless i and kra have no length-preserving partner.
bool latin_ext_a_exception(uint32_t cp) {
  return cp == 0x0130 || cp == 0x0131 || cp == 0x0138;
}

}  // namespace

uint32_t to_upper(uint32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp == 0xFF) return 0x178;
  if (cp >= 0x100 && cp <= 0x17E && !latin_ext_a_exception(cp)) {
    for (const CaseRun& r : kLatinExtA) {
      if (cp >= r.first && cp <= r.last) {
        bool even = cp % 2 == 0;
        return even == r.upper_even ? cp : cp - 1;
      }
    }
    return cp;
  }
  if (cp == 0x3C2) return 0x3A3;  // final sigma
  if (cp >= 0x3B1 && cp <= 0x3C9) return cp - 0x20;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  return cp;
}

uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x100 && cp <= 0x17E && !latin_ext_a_exception(cp)) {
    for (const CaseRun& r : kLatinExtA) {
      if (cp >= r.first && cp <= r.last) {
        bool even = cp % 2 == 0;
        return even == r.upper_even ? cp + 1 : cp;
      }
    }
    return cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

}  // namespace sluice::functions::utf8
