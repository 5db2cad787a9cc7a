#include "config/yaml_reader_impl.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

namespace sluice::config {

Mark mark_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {static_cast<uint32_t>(mark.line) + 1, static_cast<uint32_t>(mark.column) + 1};
}

Mark mark_of(const YAML::Node& node) {
  return mark_of(node.Mark());
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar: {
      constexpr std::size_t kMaxQuoted = 60;
      const std::string& text = node.Scalar();
      if (text.size() <= kMaxQuoted) return "'" + text + "'";
      return "'" + text.substr(0, kMaxQuoted) + "...'";
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "an empty value";
}

// Optimal string alignment distance, case-insensitive: a swap of two letters counts as one edit,
// so 'soruce' is one edit from 'source'.
static std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) { return std::tolower(x) == std::tolower(y); };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    std::size_t allowed = candidate.size() <= 4 ? 1 : 2;
    if (distance > allowed || (best && distance >= best_distance)) continue;
    best = candidate;
    best_distance = distance;
  }
  return best;
}

std::string join_alternatives(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

namespace {

// Nesting beyond the limit: where, and what was opened there.
struct TooDeep {
  YAML::Mark mark;
  const char* what;
};

// Counts documents and checks the nesting depth without building nodes; remembers where the
// second document starts. Throws TooDeep at the first map or sequence nested beyond `max_depth`,
// long before yaml-cpp's own recursion limit (which reports only "bad file").
class DocumentScan : public YAML::EventHandler {
 public:
  explicit DocumentScan(std::size_t max_depth) : max_depth_(max_depth) {}

  int documents = 0;
  YAML::Mark second_start;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second_start = mark;
    depth_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark, "a sequence");
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark, "a map");
  }
  void OnMapEnd() override { --depth_; }

 private:
  void open(const YAML::Mark& mark, const char* what) {
    if (++depth_ > max_depth_) throw TooDeep{mark, what};
  }

  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

void add_too_deep(IssueList& issues, Mark mark, std::size_t max_depth, std::string_view what) {
  issues.add(mark, "",
             "the YAML document nests deeper than " + std::to_string(max_depth) + " levels (" +
                 std::string(what) + " at level " + std::to_string(max_depth + 1) + ")");
}

}  // namespace

std::optional<YAML::Node> parse_document(const std::string& text, IssueList& issues,
                                         std::size_t max_depth) {
  try {
    // The events of the first two documents first: a document nested too deeply is refused before
    // yaml-cpp builds (recursively) its nodes. Not YAML::LoadAll: yaml-cpp 0.7 loops forever on
    // some invalid input there (yaml-cpp #1319); two documents at most are parsed here.
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentScan scan(max_depth);
    bool second = parser.HandleNextDocument(scan) && parser.HandleNextDocument(scan);
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return root;
    if (second) {
      issues.add(mark_of(scan.second_start), "", "expected one YAML document, found a second one");
    }
    return root;
  } catch (const TooDeep& e) {
    add_too_deep(issues, mark_of(e.mark), max_depth, e.what);
    return std::nullopt;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own limit, when `max_depth` is above it; its mark is where its scanner was.
    issues.add(mark_of(e.mark), "",
               "the YAML document nests deeper than the YAML parser's limit of " +
                   std::to_string(e.depth()) + " levels");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    issues.add(mark_of(e.mark), "", e.msg);
    return std::nullopt;
  }
}

bool is_blank_document(std::string_view text) {
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    if (line.compare(start, 3, "---") != 0 && line.compare(start, 3, "...") != 0) return false;
  }
  return true;
}

void IssueList::add(Mark mark, std::string key_path, std::string message) {
  for (const std::string& muted : muted_) {
    bool below = key_path.size() > muted.size() && key_path.compare(0, muted.size(), muted) == 0 &&
                 key_path[muted.size()] == '.';
    if (key_path == muted || below) return;
  }
  issues_.push_back({file_, mark, std::move(key_path), std::move(message)});
}

void IssueList::redact(std::string value, std::string replacement) {
  if (value.empty()) return;
  redactions_.emplace_back(std::move(value), std::move(replacement));
}

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

void IssueList::throw_if_any() {
  if (issues_.empty()) return;
  constexpr std::size_t kMinBare = 4;
  std::stable_sort(redactions_.begin(), redactions_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (ConfigIssue& issue : issues_) {
    for (const auto& [value, replacement] : redactions_) {
      if (value.size() >= kMinBare)
        replace_all(issue.message, value, replacement);
      else
        replace_all(issue.message, "'" + value + "'", "'" + replacement + "'");
    }
  }
  // Sections are checked in a fixed order; users read a file top to bottom.
  std::stable_sort(issues_.begin(), issues_.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
    if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
    return a.mark.column < b.mark.column;
  });
  throw ConfigError(std::move(issues_));
}

MapReader::MapReader(const YAML::Node& node, std::string path, IssueList& issues, Mark mark)
    : path_(std::move(path)), issues_(&issues), mark_(mark) {
  if (!node.IsDefined()) return;  // absent: the parent reported it if it was required
  if (mark_.line == 0) mark_ = mark_of(node);
  if (!node.IsMap()) {
    issues_->add(mark_, path_, "expected a map, found " + describe(node));
    return;
  }
  is_map_ = true;
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    if (!key.IsScalar()) {
      issues_->add(mark_of(key), path_, "expected a key, found " + describe(key));
      continue;
    }
    // yaml-cpp keeps every pair of a map with repeated keys; the first one wins.
    auto same_key = [&](const Entry& e) { return e.key == key.Scalar(); };
    if (std::any_of(entries_.begin(), entries_.end(), same_key)) {
      issues_->add(mark_of(key), path_, "duplicate key '" + key.Scalar() + "'");
      continue;
    }
    entries_.push_back({key.Scalar(), key, pair.second});
  }
}

std::string MapReader::key_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

Mark MapReader::value_mark(const Entry& entry) {
  // yaml-cpp places an empty value at the next token, often on a later line.
  return entry.value.IsNull() ? mark_of(entry.key_node) : mark_of(entry.value);
}

const MapReader::Entry* MapReader::find(std::string_view key, Need need) {
  if (std::find(declared_.begin(), declared_.end(), key) == declared_.end()) {
    declared_.emplace_back(key);
  }
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  if (is_map_ && need == Need::kRequired) {
    issues_->add(mark_, path_, "missing required key '" + std::string(key) + "'");
  }
  return nullptr;
}

YAML::Node MapReader::value(std::string_view key, Need need) {
  const Entry* entry = find(key, need);
  return entry ? entry->value : YAML::Node(YAML::NodeType::Undefined);
}

bool MapReader::string(std::string_view key, std::string* out, Need need) {
  const Entry* entry = find(key, need);
  if (!entry) return false;
  if (!entry->value.IsScalar()) {
    issues_->add(value_mark(*entry), key_path(key),
                 "expected a string, found " + describe(entry->value));
    return false;
  }
  *out = entry->value.Scalar();
  return true;
}

MapReader MapReader::map(std::string_view key, Need need) {
  const Entry* entry = find(key, need);
  if (!entry) return MapReader(YAML::Node(YAML::NodeType::Undefined), key_path(key), *issues_);
  return MapReader(entry->value, key_path(key), *issues_, value_mark(*entry));
}

bool MapReader::unsupported(std::string_view key, const std::string& text,
                            const std::vector<std::string_view>& supported) {
  issues_->add(mark_of(value(key)), key_path(key),
               "'" + text + "' is not supported by this version (supported: " +
                   join_alternatives(supported) + ")");
  return false;
}

bool MapReader::not_one_of(std::string_view key, const std::string& text, std::string_view noun,
                           const std::vector<std::string_view>& names) {
  issues_->add(mark_of(value(key)), key_path(key),
               "'" + text + "' is not " + std::string(noun) + " (expected " +
                   join_alternatives(names) + ")");
  return false;
}

void MapReader::finish() {
  for (const Entry& entry : entries_) {
    if (std::find(declared_.begin(), declared_.end(), entry.key) != declared_.end()) continue;
    std::string message = "unknown key '" + entry.key + "'";
    if (auto hint = closest_match(entry.key, declared_)) {
      message += " (did you mean '" + *hint + "'?)";
    }
    issues_->add(mark_of(entry.key_node), path_, std::move(message));
  }
}

std::string read_config_file(const std::string& path, std::string_view what) {
  auto fail = [&](int error) {
    throw Error(ErrorCode::kIo,
                "cannot read " + std::string(what) + " '" + path + "': " + std::strerror(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) fail(errno);
  std::string text;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
    text.append(buffer, n);
  if (std::ferror(file.get())) fail(errno);
  return text;
}

}  // namespace sluice::config
