// Pike VM: runs all NFA threads in lock step over the input, one UTF-8 character at a time.
// Threads are kept in priority order, so the first thread to reach kMatch is the match Perl/Java
// would report; lower-priority threads are then dropped.

#include "functions/regex_impl.hpp"
#include "functions/utf8_impl.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::functions::regex {

namespace {

constexpr size_t kNone = std::string_view::npos;

// Capture arrays are tiny (2 slots per group); a library call per copy would dominate.
inline void copy_caps(const size_t* from, size_t n, size_t* to) {
  switch (n) {
    case 0:
      return;
    case 2:
      to[0] = from[0], to[1] = from[1];
      return;
    case 4:
      to[0] = from[0], to[1] = from[1], to[2] = from[2], to[3] = from[3];
      return;
    default:
      std::memcpy(to, from, n * sizeof(size_t));
  }
}

struct ThreadList {
  std::vector<uint32_t> pcs;  // consuming or matching instructions, in priority order
  std::vector<size_t> caps;   // pcs.size() * ncap
  size_t count = 0;
  uint64_t gen = 0;  // marks of this list's visited instructions carry this generation

  void clear(uint64_t g) {
    count = 0;
    gen = g;
  }
  void push(uint32_t pc, const size_t* c, size_t ncap) {
    if (pcs.size() <= count) {
      pcs.resize(count + 1);
      caps.resize((count + 1) * ncap);
    }
    pcs[count] = pc;
    copy_caps(c, ncap, caps.data() + count * ncap);
    ++count;
  }
};

struct Frame {
  uint32_t pc;
  bool restore;
  uint32_t slot;
  size_t value;
};

// Per-thread working memory, reused by every search on this thread.
struct Scratch {
  ThreadList lists[2];
  std::vector<uint64_t> marks;
  uint64_t gen = 0;
  std::vector<size_t> work;
  std::vector<Frame> stack;

  void prepare(size_t ninsts, size_t ncap) {
    if (marks.size() < ninsts) marks.resize(ninsts, 0);
    if (stack.size() < 2 * ninsts + 1) stack.resize(2 * ninsts + 1);
    for (ThreadList& l : lists) {
      // Capture width may differ from the previous search: restart the storage layout.
      l.pcs.clear();
      l.caps.clear();
      l.count = 0;
    }
    work.assign(ncap, kNone);
  }
};

bool is_word(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

class Vm {
 public:
  Vm(const Program& prog, std::string_view text, size_t ncap, Scratch& s)
      : prog_(prog), text_(text), ncap_(ncap), s_(s) {}

  // Adds the thread at `pc0` (with captures `caps`, modified and restored) and everything it
  // reaches without consuming input to `l`.
  void add(ThreadList& l, uint32_t pc0, size_t pos, size_t* caps) {
    // Each instruction is visited once per list and pushes at most two frames, so the stack
    // prepared for 2 * ninsts + 1 frames never overflows.
    Frame* stack = s_.stack.data();
    uint64_t* marks = s_.marks.data();
    size_t top = 0;
    stack[top++] = {pc0, false, 0, 0};
    while (top > 0) {
      Frame f = stack[--top];
      if (f.restore) {
        caps[f.slot] = f.value;
        continue;
      }
      if (marks[f.pc] == l.gen) continue;
      marks[f.pc] = l.gen;
      const Inst& in = prog_.insts[f.pc];
      uint32_t next = f.pc + 1;
      switch (in.op) {
        case Op::kJmp:
          stack[top++] = {in.x, false, 0, 0};
          break;
        case Op::kSplit:
          stack[top++] = {in.y, false, 0, 0};
          stack[top++] = {in.x, false, 0, 0};
          break;
        case Op::kSave:
          if (in.x < ncap_) {
            stack[top++] = {0, true, in.x, caps[in.x]};
            caps[in.x] = pos;
          }
          stack[top++] = {next, false, 0, 0};
          break;
        default:
          if (is_assertion(in.op)) {
            if (assertion_holds(in, pos)) stack[top++] = {next, false, 0, 0};
          } else {
            l.push(f.pc, caps, ncap_);
          }
      }
    }
  }

  bool consumes(const Inst& in, uint32_t c) const {
    switch (in.op) {
      case Op::kChar:
        return (in.flag ? utf8::to_lower(c) : c) == in.x;
      case Op::kAny:
        return c != '\n';
      case Op::kAnyNl:
        return true;
      case Op::kClass:
        return prog_.classes[in.x].contains(c);
      default:
        return false;
    }
  }

 private:
  static bool is_assertion(Op op) {
    return op == Op::kBol || op == Op::kEol || op == Op::kWordB || op == Op::kNotWordB;
  }

  bool assertion_holds(const Inst& in, size_t pos) const {
    size_t n = text_.size();
    switch (in.op) {
      case Op::kBol:
        return pos == 0 || (in.flag && text_[pos - 1] == '\n');
      case Op::kEol:
        return pos == n || (in.flag && text_[pos] == '\n');
      default: {
        bool before = pos > 0 && is_word(text_[pos - 1]);
        bool after = pos < n && is_word(text_[pos]);
        return (before != after) == (in.op == Op::kWordB);
      }
    }
  }

  const Program& prog_;
  std::string_view text_;
  size_t ncap_;
  Scratch& s_;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// With no thread alive, moves `pos` to the next place a match can start (keeping to character
// boundaries); false when there is none.
bool skip_to_start(const Program& p, std::string_view text, size_t* pos) {
  if (!p.prefix.empty()) {
    *pos = text.find(p.prefix, *pos);
    return *pos != kNone;
  }
  if (!p.has_first) return true;
  size_t i = *pos;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    if (p.may_start_with(b)) break;
    i += b < 0x80 ? 1 : utf8::seq_len(text, i);
  }
  *pos = i;
  return i < text.size();
}

bool may_start_at(const Program& p, std::string_view text, size_t pos) {
  if (!p.has_first) return true;
  return pos < text.size() && p.may_start_with(static_cast<unsigned char>(text[pos]));
}

}  // namespace

bool CharClass::contains(uint32_t cp) const {
  if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
  auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(cp, UINT32_MAX));
  bool in = it != ranges.begin() && cp <= std::prev(it)->second;
  return in != negated;
}

std::unique_ptr<const Regex> Regex::compile(std::string_view pattern, std::string* error) {
  Program prog;
  if (!compile_program(pattern, &prog, error)) return nullptr;
  return std::make_unique<const Regex>(std::string(pattern), std::move(prog));
}

bool Regex::matches(std::string_view text) const {
  return run(text, 0, {}, true);
}

bool Regex::search(std::string_view text, size_t from, std::span<size_t> caps) const {
  std::fill(caps.begin(), caps.end(), kNone);
  if (from > text.size()) return false;
  return run(text, from, caps, false);
}

bool Regex::run(std::string_view text, size_t from, std::span<size_t> caps, bool any) const {
  const Program& p = prog_;
  if (p.literal) {
    size_t at = text.find(p.prefix, from);
    if (at == kNone) return false;
    if (caps.size() >= 2) caps[0] = at, caps[1] = at + p.prefix.size();
    return true;
  }
  size_t ncap = any ? 0 : std::min(caps.size() & ~size_t{1}, 2 * (p.groups + 1));
  Scratch& s = scratch();
  s.prepare(p.insts.size(), ncap);
  Vm vm(p, text, ncap, s);
  ThreadList* clist = &s.lists[0];
  ThreadList* nlist = &s.lists[1];
  clist->clear(++s.gen);
  bool matched = false;
  for (size_t pos = from;;) {
    if (!matched && (!p.anchored || pos == 0)) {
      if (clist->count == 0 && !skip_to_start(p, text, &pos)) break;
      if (may_start_at(p, text, pos)) {
        std::fill(s.work.begin(), s.work.end(), kNone);
        vm.add(*clist, 0, pos, s.work.data());
      }
    }
    if (clist->count == 0) {
      // A leading assertion can kill the new thread; a later start may still match.
      if (matched || p.anchored || pos >= text.size()) break;
      pos += utf8::seq_len(text, pos);
      clist->clear(++s.gen);
      continue;
    }
    bool at_end = pos >= text.size();
    size_t next = pos;
    uint32_t c = at_end ? 0 : utf8::decode(text, next);
    nlist->clear(++s.gen);
    for (size_t t = 0; t < clist->count; ++t) {
      const Inst& in = p.insts[clist->pcs[t]];
      size_t* tc = clist->caps.data() + t * ncap;
      if (in.op == Op::kMatch) {
        if (any) return true;
        copy_caps(tc, ncap, caps.data());
        matched = true;
        break;  // lower-priority threads cannot win any more
      }
      if (!at_end && vm.consumes(in, c)) {
        copy_caps(tc, ncap, s.work.data());
        vm.add(*nlist, clist->pcs[t] + 1, next, s.work.data());
      }
    }
    std::swap(clist, nlist);
    if (at_end) break;
    pos = next;
  }
  return matched;
}

}  // namespace sluice::functions::regex
