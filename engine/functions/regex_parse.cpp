// Regular expression parser: pattern text -> syntax tree (compiled by regex_compile.cpp).

#include "functions/regex_impl.hpp"
#include "functions/utf8_impl.hpp"

#include <algorithm>

namespace sluice::functions::regex {

namespace {

constexpr size_t kMaxGroups = 100;
constexpr int kMaxDepth = 100;
constexpr int kMaxRepeat = 1000;
constexpr uint32_t kMaxCp = 0x10FFFF;
constexpr uint32_t kCaseLimit = 0x460;  // no case mapping above this (see utf8_impl.hpp)

struct Flags {
  bool icase = false, dotall = false, multiline = false;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void add_range(CharClass& c, uint32_t lo, uint32_t hi) {
  c.ranges.emplace_back(lo, hi);
}

// \d \w \s and their complements, as ranges.
bool add_named_set(CharClass& c, char e) {
  using R = std::vector<std::pair<uint32_t, uint32_t>>;
  R set;
  switch (e | 0x20) {
    case 'd':
      set = {{'0', '9'}};
      break;
    case 'w':
      set = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
      break;
    case 's':
      set = {{'\t', '\r'}, {' ', ' '}};
      break;
    default:
      return false;
  }
  if (e >= 'a') {
    c.ranges.insert(c.ranges.end(), set.begin(), set.end());
    return true;
  }
  uint32_t next = 0;  // complement of the sorted set
  for (auto [lo, hi] : set) {
    if (lo > next) add_range(c, next, lo - 1);
    next = hi + 1;
  }
  add_range(c, next, kMaxCp);
  return true;
}

void normalize(CharClass& c, bool icase) {
  if (icase) {
    size_t n = c.ranges.size();
    for (size_t i = 0; i < n; ++i) {
      for (uint32_t cp = c.ranges[i].first; cp <= std::min(c.ranges[i].second, kCaseLimit); ++cp) {
        uint32_t up = utf8::to_upper(cp), low = utf8::to_lower(cp);
        if (up != cp) add_range(c, up, up);
        if (low != cp) add_range(c, low, low);
      }
    }
  }
  std::sort(c.ranges.begin(), c.ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (auto r : c.ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  c.ranges = std::move(merged);
  for (uint32_t cp = 0; cp < 128; ++cp) {
    bool in = false;
    for (auto [lo, hi] : c.ranges)
      in = in || (cp >= lo && cp <= hi);
    if (in != c.negated) c.ascii[cp >> 6] |= uint64_t{1} << (cp & 63);
  }
}

class Parser {
 public:
  Parser(std::string_view pattern, Program* prog) : p_(pattern), prog_(prog) {}

  bool parse(Node* root, std::string* error) {
    bool ok = parse_alt(root) && (at_end() || fail("unmatched ')'"));
    if (!ok) *error = err_;
    return ok;
  }

 private:
  bool at_end() const { return pos_ >= p_.size(); }
  char peek() const { return at_end() ? '\0' : p_[pos_]; }
  bool eat(char c) {
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  bool fail(std::string msg) {
    if (err_.empty()) err_ = std::move(msg);
    return false;
  }
  uint32_t next_cp() { return utf8::decode(p_, pos_); }

  bool parse_alt(Node* out) {
    Node first;
    if (!parse_concat(&first)) return false;
    if (peek() != '|') {
      *out = std::move(first);
      return true;
    }
    out->kind = Kind::kAlt;
    out->kids.push_back(std::move(first));
    while (eat('|')) {
      Node next;
      if (!parse_concat(&next)) return false;
      out->kids.push_back(std::move(next));
    }
    return true;
  }

  bool parse_concat(Node* out) {
    out->kind = Kind::kConcat;
    while (!at_end() && peek() != '|' && peek() != ')') {
      Node atom;
      bool is_flag_group = false;
      if (!parse_atom(&atom, &is_flag_group)) return false;
      if (is_flag_group) continue;
      if (!parse_quantifier(&atom)) return false;
      out->kids.push_back(std::move(atom));
    }
    return true;
  }

  bool parse_atom(Node* out, bool* is_flag_group) {
    char c = peek();
    switch (c) {
      case '(':
        return parse_group(out, is_flag_group);
      case '[':
        ++pos_;
        return parse_class(out);
      case '\\':
        ++pos_;
        return parse_escape(out);
      case '.':
        ++pos_;
        out->kind = Kind::kAny;
        out->flag = flags_.dotall;
        return true;
      case '^':
      case '$':
        ++pos_;
        out->kind = Kind::kAssert;
        out->assert_op = c == '^' ? Op::kBol : Op::kEol;
        out->flag = flags_.multiline;
        return true;
      case '*':
      case '+':
      case '?':
        return fail(std::string("nothing to repeat before '") + c + "'");
      default:
        set_char(out, next_cp());
        return true;
    }
  }

  void set_char(Node* out, uint32_t cp) {
    out->kind = Kind::kChar;
    bool has_case = flags_.icase && (utf8::to_lower(cp) != cp || utf8::to_upper(cp) != cp);
    out->flag = has_case;
    out->value = has_case ? utf8::to_lower(cp) : cp;
  }

  bool parse_flags(Flags* f) {
    bool on = true;
    for (; !at_end() && peek() != ')' && peek() != ':'; ++pos_) {
      switch (peek()) {
        case '-':
          on = false;
          break;
        case 'i':
          f->icase = on;
          break;
        case 's':
          f->dotall = on;
          break;
        case 'm':
          f->multiline = on;
          break;
        default:
          return fail(std::string("unsupported group flag '") + peek() + "'");
      }
    }
    return !at_end() || fail("missing ')'");
  }

  bool parse_group(Node* out, bool* is_flag_group) {
    ++pos_;  // '('
    if (++depth_ > kMaxDepth) return fail("groups nested too deeply");
    Flags saved = flags_;
    int group = -1;
    if (eat('?')) {
      if (peek() == '=' || peek() == '!' || p_.substr(pos_).starts_with("<=") ||
          p_.substr(pos_).starts_with("<!")) {
        return fail("lookaround is not supported");
      }
      if (eat('<')) {
        size_t end = p_.find('>', pos_);
        if (end == std::string_view::npos || end == pos_) return fail("bad group name");
        pos_ = end + 1;
        group = static_cast<int>(++prog_->groups);
      } else if (!eat(':')) {
        if (!parse_flags(&flags_)) return false;
        if (eat(')')) {  // (?i): applies to the rest of the enclosing group
          --depth_;
          *is_flag_group = true;
          return true;
        }
        ++pos_;  // ':'
      }
    } else {
      group = static_cast<int>(++prog_->groups);
    }
    if (prog_->groups > kMaxGroups) return fail("too many groups");
    Node body;
    if (!parse_alt(&body)) return false;
    if (!eat(')')) return fail("missing ')'");
    flags_ = saved;
    --depth_;
    out->kind = Kind::kGroup;
    out->group = group;
    out->kids.push_back(std::move(body));
    return true;
  }

  bool parse_number(int* out) {
    if (!is_digit(peek())) return false;
    long v = 0;
    while (is_digit(peek())) {
      v = std::min<long>(v * 10 + (p_[pos_++] - '0'), 1000000);
    }
    *out = static_cast<int>(v);
    return true;
  }

  // {n}, {n,}, {n,m}; anything else leaves `{` to be read as a literal.
  bool parse_braces(int* min, int* max) {
    size_t start = pos_;
    ++pos_;
    if (!parse_number(min)) {
      pos_ = start;
      return false;
    }
    *max = *min;
    if (eat(',')) {
      *max = -1;
      if (is_digit(peek())) parse_number(max);
    }
    if (!eat('}')) {
      pos_ = start;
      return false;
    }
    return true;
  }

  bool parse_quantifier(Node* atom) {
    int min = 0, max = 0;
    char c = peek();
    if (c == '*') {
      max = -1;
    } else if (c == '+') {
      min = 1, max = -1;
    } else if (c == '?') {
      max = 1;
    } else if (c != '{' || !parse_braces(&min, &max)) {
      return true;
    }
    if (c != '{') ++pos_;
    if (min > kMaxRepeat || max > kMaxRepeat) return fail("repetition count too large");
    if (max != -1 && max < min) return fail("repetition range out of order");
    if (atom->kind == Kind::kAssert) return fail("nothing to repeat");
    Node rep;
    rep.kind = Kind::kRepeat;
    rep.min = min;
    rep.max = max;
    rep.greedy = !eat('?');
    if (peek() == '+') return fail("possessive quantifiers are not supported");
    if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') {
      int a = 0, b = 0;
      size_t save = pos_;
      if (peek() != '{' || parse_braces(&a, &b)) return fail("nothing to repeat");
      pos_ = save;
    }
    rep.kids.push_back(std::move(*atom));
    *atom = std::move(rep);
    return true;
  }

  bool hex(size_t digits, uint32_t* out) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
      char c = peek();
      int d = is_digit(c)                              ? c - '0'
              : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                       : -1;
      if (d < 0) return fail("bad hexadecimal escape");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    *out = v;
    return true;
  }

  // Escapes that stand for one character; false (without error) when `e` is not one.
  bool char_escape(char e, uint32_t* cp, bool* ok) {
    *ok = true;
    switch (e) {
      case 'n':
        *cp = '\n';
        return true;
      case 't':
        *cp = '\t';
        return true;
      case 'r':
        *cp = '\r';
        return true;
      case 'f':
        *cp = '\f';
        return true;
      case 'v':
        *cp = '\v';
        return true;
      case '0':
        *cp = 0;
        return true;
      case 'x':
        *ok = hex(2, cp);
        return true;
      case 'u':
        *ok = hex(4, cp);
        return true;
      default:
        break;
    }
    if (is_alnum(e)) return false;
    *cp = static_cast<unsigned char>(e);
    return true;
  }

  bool new_class(Node* out, CharClass cls) {
    normalize(cls, flags_.icase);
    out->kind = Kind::kClass;
    out->value = static_cast<uint32_t>(prog_->classes.size());
    prog_->classes.push_back(std::move(cls));
    return true;
  }

  bool parse_escape(Node* out) {
    if (at_end()) return fail("pattern ends with '\\'");
    char e = p_[pos_];
    if (static_cast<unsigned char>(e) >= 0x80) {
      set_char(out, next_cp());
      return true;
    }
    ++pos_;
    CharClass cls;
    if (add_named_set(cls, e)) return new_class(out, std::move(cls));
    if (e == 'b' || e == 'B' || e == 'A' || e == 'z') {
      out->kind = Kind::kAssert;
      out->assert_op = e == 'b'   ? Op::kWordB
                       : e == 'B' ? Op::kNotWordB
                       : e == 'A' ? Op::kBol
                                  : Op::kEol;
      return true;
    }
    if (e == 'Q') return parse_quoted(out);
    if (e >= '1' && e <= '9') return fail("backreferences are not supported");
    uint32_t cp = 0;
    bool ok = true;
    if (!char_escape(e, &cp, &ok)) return fail(std::string("unsupported escape '\\") + e + "'");
    if (ok) set_char(out, cp);
    return ok;
  }

  // \Q...\E: everything up to \E (or the end) is literal.
  bool parse_quoted(Node* out) {
    size_t end = p_.find("\\E", pos_);
    std::string_view lit = p_.substr(pos_, end == std::string_view::npos ? end : end - pos_);
    pos_ = end == std::string_view::npos ? p_.size() : end + 2;
    out->kind = Kind::kGroup;
    Node seq;
    seq.kind = Kind::kConcat;
    for (size_t i = 0; i < lit.size();) {
      Node ch;
      set_char(&ch, utf8::decode(lit, i));
      seq.kids.push_back(std::move(ch));
    }
    out->kids.push_back(std::move(seq));
    return true;
  }

  // One class member: a character (returned in `cp`) or a named set added to `cls` (`is_set`).
  bool parse_class_atom(CharClass& cls, uint32_t* cp, bool* is_set) {
    *is_set = false;
    if (at_end()) return fail("unterminated character class");
    if (peek() != '\\') {
      *cp = next_cp();
      return true;
    }
    ++pos_;
    if (at_end()) return fail("unterminated character class");
    char e = p_[pos_];
    if (static_cast<unsigned char>(e) >= 0x80) {
      *cp = next_cp();
      return true;
    }
    ++pos_;
    if (add_named_set(cls, e)) {
      *is_set = true;
      return true;
    }
    if (e == 'b') {
      *cp = '\b';
      return true;
    }
    bool ok = true;
    if (!char_escape(e, cp, &ok)) return fail(std::string("unsupported escape '\\") + e + "'");
    return ok;
  }

  bool parse_class(Node* out) {
    CharClass cls;
    cls.negated = eat('^');
    for (bool first = true;; first = false) {
      if (at_end()) return fail("unterminated character class");
      if (!first && eat(']')) break;
      uint32_t lo = 0;
      bool is_set = false;
      if (!parse_class_atom(cls, &lo, &is_set)) return false;
      if (is_set) continue;
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;
        bool hi_set = false;
        if (!parse_class_atom(cls, &hi, &hi_set)) return false;
        if (hi_set || hi < lo) return fail("invalid character class range");
      }
      add_range(cls, lo, hi);
    }
    return new_class(out, std::move(cls));
  }

  std::string_view p_;
  size_t pos_ = 0;
  Program* prog_;
  std::string err_;
  Flags flags_;
  int depth_ = 0;
};

}  // namespace

bool parse_regex(std::string_view pattern, Program* prog, Node* root, std::string* error) {
  Parser parser(pattern, prog);
  return parser.parse(root, error);
}

}  // namespace sluice::functions::regex
