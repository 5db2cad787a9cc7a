#include "plan/state_fingerprint.hpp"

#include "sql/lexer.hpp"

namespace sluice::plan {

namespace {

class Fnv1a {
 public:
  void add(std::string_view s) {
    for (char c : s)
      byte(static_cast<unsigned char>(c));
    byte(0);  // a separator: ("ab","c") and ("a","bc") differ
  }
  void byte(unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ULL;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

void add_source(Fnv1a& h, const SourceSchema& source) {
  h.add("columns");
  for (const auto& c : source.columns) {
    h.add(sql::to_upper(c.name));  // columns are matched ignoring case
    h.add(c.type.to_string());
  }
  // Only a key that is not read as the bytes of a STRING changes it, so the states of jobs from
  // before key formats keep theirs.
  bool plain = source.key_format.empty() || source.key_format == "kafka";
  if (source.key_type != types::DataType::string() || !plain) {
    h.add("key");
    h.add(source.key_format);
    h.add(source.key_type.to_string());
  }
  if (source.table) h.add("table");
}

}  // namespace

uint64_t state_fingerprint(std::string_view sql, const SourceSchema& source) {
  return state_fingerprint(sql, std::vector<SourceSchema>{source});
}

uint64_t state_fingerprint(std::string_view sql, const std::vector<SourceSchema>& sources) {
  Fnv1a h;
  h.add("sluice state 1");
  for (const sql::Token& t : sql::tokenize(sql)) {
    h.byte(static_cast<unsigned char>(t.kind));
    h.add(t.kind == sql::TokenKind::kIdentifier ? sql::to_upper(t.value) : t.value);
  }
  for (const SourceSchema& s : sources)
    add_source(h, s);
  return h.value();
}

}  // namespace sluice::plan
