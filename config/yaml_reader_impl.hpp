#pragma once
// Building blocks for checking YAML config files (job files and the server file):
// `IssueList` collects every problem of one file, `MapReader` reads one YAML map key by key and
// reports unknown, duplicate and missing keys and values of the wrong shape.
// Both live for one load on one thread; not thread-safe.

#include "config/job_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::config {

// 1-based position of `node`, {0, 0} when yaml-cpp has none.
Mark mark_of(const YAML::Node& node);
Mark mark_of(const YAML::Mark& mark);

// "a map", "a sequence", "an empty value" or the quoted scalar ("'kafak'").
std::string describe(const YAML::Node& node);

// "a", "a or b", "a, b or c".
std::string join_alternatives(const std::vector<std::string_view>& names);

// The candidate closest to `word` when it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

class IssueList {
 public:
  explicit IssueList(std::string file) : file_(std::move(file)) {}
  void add(Mark mark, std::string key_path, std::string message);
  // Drops issues added later for `key_path` or below it: its value was already reported as
  // wrong (an unset ${VAR}), and checking the unsubstituted text would only add noise.
  void mute(std::string key_path) { muted_.push_back(std::move(key_path)); }
  // `value` came from the environment and may be a secret: every message replaces it with
  // `replacement` (its `${NAME}`). Values shorter than 4 characters are replaced only where a
  // message quotes them whole ('4'), so that they do not garble other text.
  void redact(std::string value, std::string replacement);
  bool empty() const { return issues_.empty(); }
  // Throws ConfigError with every issue, in file order, if there is any.
  void throw_if_any();

 private:
  std::string file_;
  std::vector<ConfigIssue> issues_;
  std::vector<std::string> muted_;
  std::vector<std::pair<std::string, std::string>> redactions_;  // value, replacement
};

// How deeply maps and sequences may nest in a job or server file (the root map is level 1). Real
// files need 4; the limit keeps a hostile file from exhausting the parser's stack, and is far
// below yaml-cpp's own recursion limit, whose error says only "bad file".
inline constexpr std::size_t kMaxYamlDepth = 64;

// Parses the one YAML document of `text`; a null node when the text holds none. Syntax errors
// and nesting beyond `max_depth` (then nullopt: "the YAML document nests deeper than 64 levels (a
// map at level 65)" at that map's position) and a second document are reported to `issues`.
std::optional<YAML::Node> parse_document(const std::string& text, IssueList& issues,
                                         std::size_t max_depth = kMaxYamlDepth);

// The whole file as text; throws Error(kIo) "cannot read <what> '<path>': <reason>".
std::string read_config_file(const std::string& path, std::string_view what);

// True when `text` holds nothing but blank lines, comments and document markers.
bool is_blank_document(std::string_view text);

enum class Need { kOptional, kRequired };

// One allowed value of a `MapReader::choice` key. `supported = false` names a value a later
// version accepts (e.g. format `avro`): the message then says so instead of "unknown".
template <class T>
struct Option {
  std::string_view name;
  T value;
  bool supported = true;
};

// Reads one YAML map. Every read declares its key as allowed, so a section is read by one line
// per key and `finish()` then reports every key no read asked for (with a did-you-mean hint).
// Read every key unconditionally, before `finish()`. Absent keys are left untouched in the
// output; a required absent key is reported at the map's position. When the node is not a map
// (or is absent), that is reported once and every read finds nothing.
class MapReader {
 public:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  // `path` is the map's key path ("" for the document, "source", "source.schema"); `mark`, when
  // known, replaces the node's own position in messages.
  MapReader(const YAML::Node& node, std::string path, IssueList& issues, Mark mark = {});

  // The value node of `key`; an undefined node when absent.
  YAML::Node value(std::string_view key, Need need = Need::kOptional);
  // A scalar value, as text.
  bool string(std::string_view key, std::string* out, Need need = Need::kOptional);
  // A nested map, read by the returned reader (which reports its own shape problems).
  MapReader map(std::string_view key, Need need = Need::kOptional);

  // A scalar that must be one of `options`; `noun` names the kind ("a sink type").
  template <class T, std::size_t N, class Out>
  bool choice(std::string_view key, std::string_view noun, const Option<T> (&options)[N], Out* out,
              Need need = Need::kOptional) {
    std::string text;
    if (!string(key, &text, need)) return false;
    for (const Option<T>& option : options) {
      if (option.name != text) continue;
      if (!option.supported) return unsupported(key, text, names_of(options, true));
      *out = Out(option.value);
      return true;
    }
    return not_one_of(key, text, noun, names_of(options, true));
  }

  // Reports keys that no read declared. Call once, after every read.
  void finish();

  bool is_map() const { return is_map_; }
  Mark mark() const { return mark_; }
  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const;
  // Every entry in file order (duplicates dropped), for maps with free-form keys (a schema).
  const std::vector<Entry>& entries() const { return entries_; }
  // Position to report a problem with an entry's value at: empty values sit at their key.
  static Mark value_mark(const Entry& entry);
  IssueList& issues() { return *issues_; }

 private:
  const Entry* find(std::string_view key, Need need);
  bool unsupported(std::string_view key, const std::string& text,
                   const std::vector<std::string_view>& supported);
  bool not_one_of(std::string_view key, const std::string& text, std::string_view noun,
                  const std::vector<std::string_view>& names);
  template <class T, std::size_t N>
  static std::vector<std::string_view> names_of(const Option<T> (&options)[N], bool supported) {
    std::vector<std::string_view> names;
    for (const Option<T>& option : options) {
      if (option.supported == supported) names.push_back(option.name);
    }
    return names;
  }

  std::string path_;
  IssueList* issues_;
  Mark mark_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> declared_;
};

}  // namespace sluice::config
