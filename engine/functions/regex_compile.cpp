// Regular expression compiler: syntax tree -> Pike VM program, plus the facts the matcher's fast
// paths use (literal prefix, anchoring, possible first bytes).

#include "functions/regex_impl.hpp"
#include "functions/utf8_impl.hpp"

#include <algorithm>

namespace sluice::functions::regex {

namespace {

constexpr size_t kMaxInsts = 10000;

class Emitter {
 public:
  explicit Emitter(Program* prog) : prog_(prog) {}

  bool emit(const Node& n) {
    switch (n.kind) {
      case Kind::kEmpty:
        return true;
      case Kind::kChar:
        return add({Op::kChar, n.flag, n.value, 0});
      case Kind::kAny:
        return add({n.flag ? Op::kAnyNl : Op::kAny, false, 0, 0});
      case Kind::kClass:
        return add({Op::kClass, false, n.value, 0});
      case Kind::kAssert:
        return add({n.assert_op, n.flag, 0, 0});
      case Kind::kGroup:
        return emit_group(n);
      case Kind::kConcat:
        for (const Node& k : n.kids) {
          if (!emit(k)) return false;
        }
        return true;
      case Kind::kAlt:
        return emit_alt(n);
      case Kind::kRepeat:
        return emit_repeat(n);
    }
    return false;
  }

  bool add(Inst i) {
    if (insts().size() >= kMaxInsts) return false;
    insts().push_back(i);
    return true;
  }
  std::vector<Inst>& insts() { return prog_->insts; }
  auto here() const { return static_cast<uint32_t>(prog_->insts.size()); }

 private:
  bool emit_group(const Node& n) {
    if (n.group < 0) return emit(n.kids[0]);
    auto slot = static_cast<uint32_t>(n.group) * 2;
    return add({Op::kSave, false, slot, 0}) && emit(n.kids[0]) &&
           add({Op::kSave, false, slot + 1, 0});
  }

  bool emit_alt(const Node& n) {
    std::vector<uint32_t> jumps;
    for (size_t i = 0; i < n.kids.size(); ++i) {
      bool last = i + 1 == n.kids.size();
      uint32_t split = here();
      if (!last && !add({Op::kSplit, false, split + 1, 0})) return false;
      if (!emit(n.kids[i])) return false;
      if (last) break;
      jumps.push_back(here());
      if (!add({Op::kJmp, false, 0, 0})) return false;
      insts()[split].y = here();
    }
    for (uint32_t j : jumps)
      insts()[j].x = here();
    return true;
  }

  void set_split(uint32_t at, uint32_t body, uint32_t skip, bool greedy) {
    insts()[at].x = greedy ? body : skip;
    insts()[at].y = greedy ? skip : body;
  }

  bool emit_repeat(const Node& n) {
    const Node& body = n.kids[0];
    int fixed = n.max == -1 ? std::max(n.min - 1, 0) : n.min;
    for (int i = 0; i < fixed; ++i) {
      if (!emit(body)) return false;
    }
    if (n.max == -1 && n.min > 0) {  // x+: body, then loop back
      uint32_t start = here();
      if (!emit(body) || !add({Op::kSplit, false, 0, 0})) return false;
      set_split(here() - 1, start, here(), n.greedy);
      return true;
    }
    if (n.max == -1) {  // x*
      uint32_t split = here();
      if (!add({Op::kSplit, false, 0, 0}) || !emit(body) || !add({Op::kJmp, false, split, 0})) {
        return false;
      }
      set_split(split, split + 1, here(), n.greedy);
      return true;
    }
    std::vector<uint32_t> splits;  // x{n,m}: m-n optional copies, each skipping to the end
    for (int i = n.min; i < n.max; ++i) {
      splits.push_back(here());
      if (!add({Op::kSplit, false, 0, 0}) || !emit(body)) return false;
    }
    for (uint32_t s : splits)
      set_split(s, s + 1, here(), n.greedy);
    return true;
  }

  Program* prog_;
};

// Literal prefix, anchoring and pure-literal detection for the matcher's fast paths.
void analyze(const Node& root, Program* prog) {
  const Node* first = &root;
  size_t count = 1;
  if (root.kind == Kind::kConcat) {
    first = root.kids.empty() ? nullptr : root.kids.data();
    count = root.kids.size();
  }
  if (first && first->kind == Kind::kAssert && first->assert_op == Op::kBol && !first->flag) {
    prog->anchored = true;
    return;
  }
  size_t i = 0;
  char buf[4];
  for (; i < count && first[i].kind == Kind::kChar && !first[i].flag; ++i) {
    prog->prefix.append(buf, utf8::encode(first[i].value, buf));
  }
  prog->literal = i == count && prog->groups == 0;
}

void set_byte(Program* prog, unsigned b) {
  prog->first_bytes[b >> 6] |= uint64_t{1} << (b & 63);
}

void add_first_char(Program* prog, uint32_t cp) {
  char buf[4];
  utf8::encode(cp, buf);
  set_byte(prog, static_cast<unsigned char>(buf[0]));
}

// Collects the bytes a match can start with by following every path from the start that consumes
// no input. Assertions are passed through (conservative). No filter when a path can match without
// consuming or starts with `.`.
void compute_first_bytes(Program* prog) {
  std::vector<bool> seen(prog->insts.size());
  std::vector<uint32_t> todo = {0};
  while (!todo.empty()) {
    uint32_t pc = todo.back();
    todo.pop_back();
    if (seen[pc]) continue;
    seen[pc] = true;
    const Inst& in = prog->insts[pc];
    switch (in.op) {
      case Op::kSplit:
        todo.push_back(in.x), todo.push_back(in.y);
        break;
      case Op::kJmp:
        todo.push_back(in.x);
        break;
      case Op::kChar:
        add_first_char(prog, in.x);
        if (in.flag) add_first_char(prog, utf8::to_upper(in.x));
        break;
      case Op::kClass: {
        const CharClass& c = prog->classes[in.x];
        for (unsigned b = 0; b < 128; ++b) {
          if (c.contains(b)) set_byte(prog, b);
        }
        if (c.negated || (!c.ranges.empty() && c.ranges.back().second >= 128)) {
          for (unsigned b = 128; b < 256; ++b)
            set_byte(prog, b);
        }
        break;
      }
      case Op::kAny:
      case Op::kAnyNl:
      case Op::kMatch:
        return;  // has_first stays false
      default:
        todo.push_back(pc + 1);
        break;  // kSave and assertions
    }
  }
  prog->has_first = true;
}

}  // namespace

bool compile_program(std::string_view pattern, Program* prog, std::string* error) {
  Node root;
  if (!parse_regex(pattern, prog, &root, error)) return false;
  Emitter em(prog);
  bool ok = em.add({Op::kSave, false, 0, 0}) && em.emit(root) && em.add({Op::kSave, false, 1, 0}) &&
            em.add({Op::kMatch, false, 0, 0});
  if (!ok) {
    *error = "pattern too large";
    return false;
  }
  analyze(root, prog);
  if (!prog->anchored) compute_first_bytes(prog);
  return true;
}

}  // namespace sluice::functions::regex
