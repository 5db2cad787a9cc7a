#include "test_file.hpp"

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace sluice::sqltest {
namespace {

bool starts_with(const std::string& s, std::string_view p) {
  return s.rfind(p, 0) == 0;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return std::string(s.substr(b, e - b));
}

bool is_blank(const std::string& s) {
  return trim(s).empty();
}

// A line that starts a section or sets a key. Verbatim sections (input, query, expect) end at the
// first such line, so they must never appear inside them.
bool is_keyword_line(const std::string& s) {
  static const char* kPrefixes[] = {
      "=== ",       "schema:", "input:", "query:", "expect:", "error:",  "counts:", "dead_letter:",
      "known_bug:", "source.", "sink.",  "job.",   "batch:",  "schema.", "input.",  "sources."};
  for (const char* p : kPrefixes) {
    if (!starts_with(s, p)) continue;
    // source./sink./job. lines must look like `prefix.key: value`.
    if (p[std::char_traits<char>::length(p) - 1] == '.') return s.find(':') != std::string::npos;
    return true;
  }
  return s == "===";
}

void drop_trailing_blanks(std::vector<std::string>& lines) {
  while (!lines.empty() && is_blank(lines.back()))
    lines.pop_back();
}

// Defaults from the lines before the first `===` and the cases after it share this shape.
struct Block {
  TestCase tc;
  bool has_schema = false;
  bool has_input = false;
  bool has_expect = false;
};

enum class Mode { kTop, kSchema, kInput, kQuery, kExpect };

class Parser {
 public:
  Parser(std::string path, std::vector<std::string>* problems)
      : path_(std::move(path)), problems_(problems) {}

  std::vector<TestCase> parse(std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      feed(line);
    }
    finish_block();
    return std::move(cases_);
  }

 private:
  void problem(const std::string& msg) {
    problems_->push_back(path_ + ":" + std::to_string(line_no_) + ": " + msg);
  }

  void feed(const std::string& line) {
    switch (mode_) {
      case Mode::kSchema:
        if (is_blank(line)) return;
        if (std::isspace(static_cast<unsigned char>(line[0]))) return schema_line(line);
        break;
      case Mode::kInput:
        if (!is_keyword_line(line)) return input_lines().push_back(line);
        drop_trailing_blanks(input_lines());
        break;
      case Mode::kQuery:
        if (!is_keyword_line(line)) return query_lines_.push_back(line);
        end_query();
        break;
      case Mode::kExpect:
        if (is_blank(line) || line[0] == '#') return;
        if (!is_keyword_line(line)) return cur_.tc.expected.push_back(line);
        break;
      case Mode::kTop:
        break;
    }
    mode_ = Mode::kTop;
    top_line(line);
  }

  void top_line(const std::string& line) {
    if (is_blank(line) || line[0] == '#') return;
    if (starts_with(line, "===")) return start_case(trim(line.substr(3)));
    size_t colon = line.find(':');
    if (colon == std::string::npos) return problem("expected a section or key, found: " + line);
    std::string key = line.substr(0, colon);
    std::string rest = trim(line.substr(colon + 1));
    target_ = nullptr;
    if (starts_with(key, "schema.") || starts_with(key, "input.")) {
      bool schema = starts_with(key, "schema.");
      target_ = &extra(key.substr(key.find('.') + 1));
      (schema ? target_->has_schema : target_->has_input) = true;
      if (schema) target_->schema.clear();
      if (!schema) target_->input.clear();
      mode_ = schema ? Mode::kSchema : Mode::kInput;
    } else if (starts_with(key, "sources.")) {
      std::string name_key = key.substr(8);
      size_t dot = name_key.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == name_key.size())
        return problem("expected sources.NAME.KEY: VALUE, found: " + line);
      set_option(extra(name_key.substr(0, dot)).options, name_key.substr(dot + 1), rest);
    } else if (key == "schema") {
      cur_.has_schema = true;
      cur_.tc.schema.clear();
      mode_ = Mode::kSchema;
    } else if (key == "input") {
      cur_.has_input = true;
      cur_.tc.input.clear();
      mode_ = Mode::kInput;
    } else if (key == "query") {
      query_lines_.clear();
      if (!rest.empty()) {
        query_lines_.push_back(rest);
        end_query();
      } else {
        mode_ = Mode::kQuery;
      }
    } else if (key == "expect") {
      cur_.has_expect = true;
      mode_ = Mode::kExpect;
    } else if (key == "error") {
      error_line(rest);
    } else if (key == "counts") {
      counts_line(rest);
    } else if (key == "dead_letter") {
      dead_letter_line(rest);
    } else if (key == "batch") {
      if (!parse_uint(rest, &cur_.tc.batch_rows) || cur_.tc.batch_rows == 0)
        problem("batch: needs a positive number of records");
    } else if (key == "known_bug") {
      if (rest.empty()) problem("known_bug: needs a description of the bug");
      cur_.tc.known_bug = rest;
    } else if (!option_line(key, rest)) {
      problem("unknown key '" + key + "'");
    }
  }

  void schema_line(const std::string& line) {
    std::string t = trim(line);
    size_t sp = t.find_first_of(" \t");
    if (sp == std::string::npos) return problem("schema line needs `name TYPE`: " + t);
    (target_ ? target_->schema : cur_.tc.schema).emplace_back(t.substr(0, sp), trim(t.substr(sp)));
  }

  std::vector<std::string>& input_lines() { return target_ ? target_->input : cur_.tc.input; }

  // The extra source of that name in the block being read, added when new.
  ExtraSource& extra(const std::string& name) {
    for (ExtraSource& e : cur_.tc.extra_sources) {
      if (e.name == name) return e;
    }
    ExtraSource& e = cur_.tc.extra_sources.emplace_back();
    e.name = name;
    return e;
  }

  void end_query() {
    drop_trailing_blanks(query_lines_);
    std::string q;
    for (size_t i = 0; i < query_lines_.size(); ++i) {
      if (i) q += '\n';
      q += query_lines_[i];
    }
    cur_.tc.query = std::move(q);
  }

  static bool parse_uint(std::string_view s, uint32_t* out) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  // error: CODE LOC [message part], LOC = L:C | - | *
  void error_line(const std::string& rest) {
    std::istringstream ss(rest);
    ExpectedError e;
    std::string loc;
    if (!(ss >> e.code >> loc)) return problem("error: needs `CODE LINE:COL|-|* [message]`");
    std::getline(ss, e.message_part);
    e.message_part = trim(e.message_part);
    if (loc == "*") {
      e.location_check = LocationCheck::kAny;
    } else if (loc == "-") {
      e.location_check = LocationCheck::kNone;
    } else {
      size_t c = loc.find(':');
      if (c == std::string::npos || !parse_uint(std::string_view(loc).substr(0, c), &e.line) ||
          !parse_uint(std::string_view(loc).substr(c + 1), &e.column)) {
        return problem("bad error location '" + loc + "' (want L:C, - or *)");
      }
      e.location_check = LocationCheck::kAt;
    }
    cur_.tc.error = std::move(e);
  }

  void counts_line(const std::string& rest) {
    std::istringstream ss(rest);
    std::string item;
    ExpectedCounts& c = cur_.tc.counts;
    while (ss >> item) {
      size_t eq = item.find('=');
      uint32_t v = 0;
      if (eq == std::string::npos || !parse_uint(std::string_view(item).substr(eq + 1), &v)) {
        problem("bad count '" + item + "' (want name=N)");
        continue;
      }
      std::string k = item.substr(0, eq);
      if (k == "in")
        c.in = v;
      else if (k == "out")
        c.out = v;
      else if (k == "filtered")
        c.filtered = v;
      else if (k == "rejected")
        c.rejected = v;
      else if (k == "dead")
        c.dead = v;
      else if (k == "accepted")
        c.accepted = v;
      else if (k == "late")
        c.late = v;
      else
        problem("unknown count '" + k + "'");
    }
  }

  void dead_letter_line(const std::string& rest) {
    std::istringstream ss(rest);
    std::vector<std::string> codes;
    std::string code;
    while (ss >> code)
      codes.push_back(code);
    cur_.tc.dead_letters = std::move(codes);
  }

  static void set_option(std::vector<std::string>& opts, const std::string& key,
                         const std::string& value) {
    std::string line = key + ": " + value;
    for (auto& o : opts) {
      if (starts_with(o, key + ":")) {
        o = line;
        return;
      }
    }
    opts.push_back(line);
  }

  bool option_line(const std::string& key, const std::string& value) {
    size_t dot = key.find('.');
    if (dot == std::string::npos || dot + 1 == key.size()) return false;
    std::string scope = key.substr(0, dot), k = key.substr(dot + 1);
    if (scope == "source")
      set_option(cur_.tc.source_options, k, value);
    else if (scope == "sink")
      set_option(cur_.tc.sink_options, k, value);
    else if (scope == "job")
      set_option(cur_.tc.job_options, k, value);
    else
      return false;
    return true;
  }

  void start_case(std::string name) {
    finish_block();
    in_case_ = true;
    cur_ = Block{};
    cur_.tc.file = path_;
    cur_.tc.line = line_no_;
    cur_.tc.name = name.empty() ? "line " + std::to_string(line_no_) : std::move(name);
  }

  void finish_block() {
    if (mode_ == Mode::kQuery) end_query();
    if (mode_ == Mode::kInput) drop_trailing_blanks(input_lines());
    mode_ = Mode::kTop;
    target_ = nullptr;
    if (!in_case_) {
      defaults_ = cur_;
      return;
    }
    bool has_expect = cur_.has_expect;
    TestCase tc = apply_defaults(std::move(cur_));
    check_case(tc, has_expect);
    cases_.push_back(std::move(tc));
  }

  TestCase apply_defaults(Block b) const {
    TestCase tc = std::move(b.tc);
    if (!b.has_schema) tc.schema = defaults_.tc.schema;
    if (!b.has_input) tc.input = defaults_.tc.input;
    auto merge = [](const std::vector<std::string>& defs, std::vector<std::string>& opts) {
      for (const auto& d : defs) {
        std::string k = d.substr(0, d.find(':'));
        bool overridden = false;
        for (const auto& o : opts)
          overridden |= starts_with(o, k + ":");
        if (!overridden) opts.insert(opts.begin(), d);
      }
    };
    // Extra sources: the file's, each part the case does not set taken from them.
    for (const ExtraSource& d : defaults_.tc.extra_sources) {
      ExtraSource* e = nullptr;
      for (ExtraSource& c : tc.extra_sources)
        e = c.name == d.name ? &c : e;
      if (e == nullptr) {
        tc.extra_sources.push_back(d);
        continue;
      }
      if (!e->has_schema) e->schema = d.schema;
      if (!e->has_input) e->input = d.input;
      merge(d.options, e->options);
    }
    merge(defaults_.tc.source_options, tc.source_options);
    merge(defaults_.tc.sink_options, tc.sink_options);
    merge(defaults_.tc.job_options, tc.job_options);
    return tc;
  }

  void check_case(const TestCase& tc, bool has_expect) {
    auto where = path_ + ":" + std::to_string(tc.line) + ": case '" + tc.name + "': ";
    if (tc.query.empty()) problems_->push_back(where + "no query");
    if (tc.schema.empty()) problems_->push_back(where + "no schema (and no file default)");
    if (tc.error && has_expect) problems_->push_back(where + "both expect: and error:");
    if (!tc.error && !has_expect) problems_->push_back(where + "needs expect: or error:");
  }

  std::string path_;
  std::vector<std::string>* problems_;
  int line_no_ = 0;
  Mode mode_ = Mode::kTop;
  bool in_case_ = false;
  Block defaults_;
  Block cur_;
  ExtraSource* target_ = nullptr;  // the extra source a schema./input. section fills
  std::vector<std::string> query_lines_;
  std::vector<TestCase> cases_;
};

}  // namespace

std::vector<TestCase> parse_test_file(const std::string& path, std::vector<std::string>* problems) {
  std::ifstream in(path);
  if (!in) {
    problems->push_back(path + ": cannot open");
    return {};
  }
  return Parser(path, problems).parse(in);
}

}  // namespace sluice::sqltest
