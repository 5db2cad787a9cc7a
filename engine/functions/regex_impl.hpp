#pragma once
// Private to engine/functions: a small regular expression engine for REGEXP_LIKE / REGEXP_EXTRACT
// / REGEXP_REPLACE. It compiles to a program run by a Pike VM (Thompson NFA with captures), so
// matching time is linear in the input and no input can blow the stack (std::regex recurses per
// character and takes exponential time on some patterns).
//
// Syntax: the common subset of ECMAScript and Java regular expressions: literals, `.`, classes
// `[a-z]` `[^...]`, escapes \d \D \w \W \s \S \b \B \n \t \r \f \v \0 \xHH \uHHHH \Q...\E \A \z,
// anchors ^ $, groups ( ) (?: ) (?<name> ), alternation |, quantifiers * + ? {n} {n,} {n,m} and
// their lazy forms (x*?), inline flags (?i) (?s) (?m) and (?i: ...). Backreferences, lookaround
// and possessive quantifiers are rejected at compile time. Matching is by UTF-8 character;
// leftmost match with Perl/Java priorities (greedy/lazy).
//
// A compiled Regex is immutable and may be used by many threads at once; matching uses
// thread-local scratch memory, so steady-state matching allocates nothing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::functions::regex {

enum class Op : uint8_t {
  kChar,      // x = code point (folded when `fold`)
  kAny,       // any character but \n
  kAnyNl,     // any character
  kClass,     // x = class index
  kSplit,     // try x first, then y
  kJmp,       // x
  kSave,      // x = capture slot
  kBol,       // start of input (or of a line when `fold` is reused as multiline flag)
  kEol,       // end of input (or of a line)
  kWordB,     // \b
  kNotWordB,  // \B
  kMatch,
};

struct Inst {
  Op op;
  bool flag = false;  // kChar/kClass: case-insensitive; kBol/kEol: multiline
  uint32_t x = 0;
  uint32_t y = 0;
};

struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // sorted, merged, inclusive
  bool negated = false;
  uint64_t ascii[2] = {0, 0};  // membership of 0..127, negation applied
  bool contains(uint32_t cp) const;
};

struct Program {
  std::vector<Inst> insts;
  std::vector<CharClass> classes;
  size_t groups = 0;      // capturing groups, group 0 excluded
  std::string prefix;     // literal every match starts with (case-sensitive), may be empty
  bool anchored = false;  // every match starts at offset 0
  bool literal = false;   // the whole pattern is `prefix`
  // Bytes a match can start with (bit b of first_bytes[b / 64]); only valid when has_first.
  bool has_first = false;
  uint64_t first_bytes[4] = {0, 0, 0, 0};
  bool may_start_with(unsigned char b) const { return (first_bytes[b >> 6] >> (b & 63)) & 1; }
};

class Regex {
 public:
  // Returns nullptr and sets `error` (e.g. "missing ')'") when the pattern is invalid or uses an
  // unsupported feature.
  static std::unique_ptr<const Regex> compile(std::string_view pattern, std::string* error);

  size_t group_count() const { return prog_.groups; }
  const std::string& pattern() const { return pattern_; }

  // True when the pattern matches somewhere in `text`.
  bool matches(std::string_view text) const;
  // Leftmost match starting at byte `from` or later. Fills caps[2g], caps[2g+1] with the byte
  // range of group g for 2g+1 < caps.size() (npos when the group did not take part).
  bool search(std::string_view text, size_t from, std::span<size_t> caps) const;

  explicit Regex(std::string pattern, Program prog)
      : pattern_(std::move(pattern)), prog_(std::move(prog)) {}

 private:
  bool run(std::string_view text, size_t from, std::span<size_t> caps, bool any) const;

  std::string pattern_;
  Program prog_;
};

// Syntax tree: built by parse_regex (regex_parse.cpp), compiled by compile_program
// (regex_compile.cpp).
enum class Kind : uint8_t { kEmpty, kChar, kAny, kClass, kAssert, kGroup, kConcat, kAlt, kRepeat };

struct Node {
  Kind kind = Kind::kEmpty;
  bool flag = false;  // kChar: case-insensitive; kAny: dot-all; kAssert: multiline
  Op assert_op = Op::kBol;
  uint32_t value = 0;    // kChar code point, kClass index (into Program::classes)
  int group = -1;        // kGroup: capture index, -1 when not capturing
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
  bool greedy = true;
  std::vector<Node> kids;
};

// Parses `pattern` into `root`, adding classes and group counts to `prog`. False with `error` set
// (e.g. "missing ')'") on failure.
bool parse_regex(std::string_view pattern, Program* prog, Node* root, std::string* error);
// Parses and compiles into `prog`. False with `error` set on failure.
bool compile_program(std::string_view pattern, Program* prog, std::string* error);

}  // namespace sluice::functions::regex
