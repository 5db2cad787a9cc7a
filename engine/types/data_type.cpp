#include "types/data_type.hpp"

#include "common/ascii.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>

namespace sluice::types {

std::string DataType::to_string() const {
  switch (id) {
    case TypeId::kNull:
      return "NULL";
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kBigInt:
      return "BIGINT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeId::kString:
      return "STRING";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
    case TypeId::kInterval:
      return "INTERVAL";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      return "TIME";
    case TypeId::kBytes:
      return "BYTES";
    case TypeId::kStruct:
    case TypeId::kArray:
    case TypeId::kMap:
      return nested ? nested->text : "UNKNOWN";
  }
  return "UNKNOWN";
}

namespace {

bool plain_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// One object per distinct nested type, kept for the life of the process: types come from job
// files and queries, so there are few.
DataType intern(NestedType type) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<NestedType>, std::less<>> types;
  std::lock_guard lock(mu);
  auto it = types.find(type.text);
  if (it == types.end()) {
    std::string key = type.text;
    it = types.emplace(std::move(key), std::make_unique<NestedType>(std::move(type))).first;
  }
  DataType t;
  t.id = it->second->id;
  t.nested = it->second.get();
  return t;
}

const std::vector<DataType::Field> kNoFields;

}  // namespace

DataType DataType::array(DataType element) {
  return intern({TypeId::kArray, element, {}, "ARRAY<" + element.to_string() + ">"});
}

DataType DataType::map(DataType value) {
  return intern({TypeId::kMap, value, {}, "MAP<STRING, " + value.to_string() + ">"});
}

DataType DataType::structure(std::vector<Field> fields) {
  std::string text = "STRUCT<";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) text += ", ";
    if (plain_name(fields[i].name)) {
      text += fields[i].name;
    } else {
      text += '`';
      for (char c : fields[i].name)
        text += c == '`' ? std::string("``") : std::string(1, c);
      text += '`';
    }
    text += ' ' + fields[i].type.to_string();
  }
  text += '>';
  return intern({TypeId::kStruct, {}, std::move(fields), std::move(text)});
}

DataType DataType::element() const {
  return nested ? nested->element : DataType{};
}

const std::vector<DataType::Field>& DataType::fields() const {
  return nested ? nested->fields : kNoFields;
}

int DataType::field_index(std::string_view name) const {
  const std::vector<Field>& f = fields();
  int folded = -1, matches = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i].name == name) return static_cast<int>(i);
    if (iequals(f[i].name, name)) {
      folded = static_cast<int>(i);
      ++matches;
    }
  }
  return matches == 1 ? folded : -1;
}

namespace {

// Small cursor over the type text; every token skips leading spaces.
struct TypeLexer {
  std::string_view text;
  size_t pos = 0;

  void skip_spaces() {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  std::string word() {
    skip_spaces();
    std::string out;
    while (pos < text.size() &&
           (std::isalpha(static_cast<unsigned char>(text[pos])) || text[pos] == '_')) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos]))));
      ++pos;
    }
    return out;
  }
  bool accept(char c) {
    skip_spaces();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  // Digits only; values above 1e6 are clamped (they are rejected by range checks anyway).
  bool number(int* out) {
    skip_spaces();
    size_t start = pos;
    long v = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      v = std::min(v * 10 + (text[pos] - '0'), 1000000L);
      ++pos;
    }
    *out = static_cast<int>(v);
    return pos > start;
  }
  bool at_end() {
    skip_spaces();
    return pos == text.size();
  }
};

std::optional<DataType> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

std::optional<DataType> base_type(const std::string& name) {
  if (name == "BOOLEAN" || name == "BOOL") return DataType::boolean();
  if (name == "BIGINT" || name == "INT" || name == "INTEGER" || name == "SMALLINT" ||
      name == "TINYINT" || name == "LONG")
    return DataType::bigint();
  if (name == "DOUBLE" || name == "FLOAT" || name == "REAL") return DataType::float64();
  if (name == "DECIMAL" || name == "NUMERIC") return DataType::decimal(18, 0);
  if (name == "STRING" || name == "VARCHAR" || name == "TEXT" || name == "CHAR")
    return DataType::string();
  if (name == "TIMESTAMP") return DataType::timestamp();
  if (name == "INTERVAL") return DataType::interval();
  if (name == "DATE") return DataType::date();
  if (name == "TIME") return DataType::time();
  if (name == "BYTES" || name == "BINARY" || name == "VARBINARY" || name == "BLOB")
    return DataType::bytes();
  return std::nullopt;
}

// Reads "(p[,s])" after a type name; `args` gets the count read (0 when there is no '(').
bool type_args(TypeLexer& lex, int* args, int* a, int* b, std::string* error,
               const std::string& name) {
  *args = 0;
  if (!lex.accept('(')) return true;
  if (!lex.number(a)) {
    if (error) *error = "expected a number after '" + name + "('";
    return false;
  }
  *args = 1;
  if (lex.accept(',')) {
    if (!lex.number(b)) {
      if (error) *error = "expected a number after ',' in " + name + " arguments";
      return false;
    }
    *args = 2;
  }
  if (!lex.accept(')')) {
    if (error) *error = "expected ')' after " + name + " arguments";
    return false;
  }
  return true;
}

std::optional<DataType> decimal_type(int args, int p, int s, std::string* error) {
  if (args == 0) return DataType::decimal(18, 0);
  if (p < 1 || p > kMaxDecimalPrecision)
    return fail(error, "DECIMAL precision must be between 1 and 38, got " + std::to_string(p));
  if (args == 1) s = 0;
  if (s > p) {
    return fail(error,
                "DECIMAL scale " + std::to_string(s) + " exceeds precision " + std::to_string(p));
  }
  return DataType::decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
}

}  // namespace

namespace {

constexpr int kMaxTypeDepth = 32;

// A STRUCT field name: letters, digits and '_', or quoted with "" or `` (doubled to escape).
bool field_name(TypeLexer& lex, std::string* out) {
  lex.skip_spaces();
  std::string_view t = lex.text;
  if (lex.pos < t.size() && (t[lex.pos] == '"' || t[lex.pos] == '`')) {
    char quote = t[lex.pos++];
    for (;;) {
      if (lex.pos >= t.size()) return false;
      char c = t[lex.pos++];
      if (c == quote) {
        if (lex.pos < t.size() && t[lex.pos] == quote) {
          ++lex.pos;
        } else {
          return !out->empty();
        }
      }
      out->push_back(c);
    }
  }
  while (lex.pos < t.size() &&
         (std::isalnum(static_cast<unsigned char>(t[lex.pos])) || t[lex.pos] == '_'))
    out->push_back(t[lex.pos++]);
  return !out->empty();
}

std::optional<DataType> parse_type(TypeLexer& lex, std::string* error, int depth);

std::optional<DataType> nested_type(TypeLexer& lex, const std::string& name, std::string* error,
                                    int depth) {
  if (depth > kMaxTypeDepth) {
    return fail(error, "types nest more than " + std::to_string(kMaxTypeDepth) + " levels deep");
  }
  if (!lex.accept('<')) return fail(error, "expected '<' after " + name);
  std::optional<DataType> out;
  if (name == "ARRAY") {
    std::optional<DataType> element = parse_type(lex, error, depth + 1);
    if (!element) return std::nullopt;
    out = DataType::array(*element);
  } else if (name == "MAP") {
    std::optional<DataType> key = parse_type(lex, error, depth + 1);
    if (!key) return std::nullopt;
    if (key->id != TypeId::kString)
      return fail(error, "MAP keys must be STRING, got " + key->to_string());
    if (!lex.accept(',')) return fail(error, "expected ',' after the key type of MAP");
    std::optional<DataType> value = parse_type(lex, error, depth + 1);
    if (!value) return std::nullopt;
    out = DataType::map(*value);
  } else {
    std::vector<DataType::Field> fields;
    do {
      DataType::Field f;
      if (!field_name(lex, &f.name)) return fail(error, "expected a field name in STRUCT<...>");
      for (const DataType::Field& other : fields) {
        if (other.name == f.name) return fail(error, "STRUCT field '" + f.name + "' appears twice");
      }
      lex.accept(':');  // STRUCT<a: BIGINT> as some systems write it
      std::optional<DataType> type = parse_type(lex, error, depth + 1);
      if (!type) return std::nullopt;
      f.type = *type;
      fields.push_back(std::move(f));
    } while (lex.accept(','));
    out = DataType::structure(std::move(fields));
  }
  if (!lex.accept('>')) return fail(error, "expected '>' to close " + name + "<...>");
  return out;
}

std::optional<DataType> parse_type(TypeLexer& lex, std::string* error, int depth) {
  size_t start = lex.pos;
  std::string name = lex.word();
  if (name == "ARRAY" || name == "MAP" || name == "STRUCT")
    return nested_type(lex, name, error, depth);
  if (name == "DOUBLE") {
    size_t save = lex.pos;
    if (lex.word() != "PRECISION") lex.pos = save;
  }
  std::optional<DataType> type = base_type(name);
  if (!type) {
    // At the top the whole text is quoted, as a job file wrote it.
    std::string text(depth == 0 ? lex.text : lex.text.substr(start));
    if (name.empty()) return fail(error, "expected a type name, got '" + text + "'");
    return fail(error, "unknown type '" + (depth == 0 ? text : name) + "'");
  }
  int args = 0, a = 0, b = 0;
  if (!type_args(lex, &args, &a, &b, error, name)) return std::nullopt;
  if (type->id == TypeId::kDecimal) return decimal_type(args, a, b, error);
  bool sized = name == "VARCHAR" || name == "CHAR" || name == "TIMESTAMP" || name == "TIME" ||
               name == "BINARY" || name == "VARBINARY";
  if (args > (sized ? 1 : 0)) {
    return fail(error,
                "type " + name + " does not take " + (args == 1 ? "an argument" : "arguments"));
  }
  if ((name == "TIMESTAMP" || name == "TIME") && args == 1 && a > 9)
    return fail(error, name + " precision must be between 0 and 9, got " + std::to_string(a));
  if ((name == "VARCHAR" || name == "CHAR" || name == "BINARY" || name == "VARBINARY") &&
      args == 1 && a < 1)
    return fail(error, name + " length must be at least 1");
  return type;
}

}  // namespace

std::optional<DataType> parse_type_name(std::string_view text, std::string* error) {
  TypeLexer lex{text};
  std::optional<DataType> type = parse_type(lex, error, 0);
  if (!type) return std::nullopt;
  if (!lex.at_end()) return fail(error, "unexpected text in type '" + std::string(text) + "'");
  return type;
}

namespace {

// BIGINT widened to the DECIMAL that holds every int64.
DataType as_decimal(DataType t) {
  return t.id == TypeId::kBigInt ? DataType::decimal(19, 0) : t;
}

DataType combine_decimals(DataType a, DataType b) {
  int integer_digits = std::max(a.precision - a.scale, b.precision - b.scale);
  int scale = std::max(a.scale, b.scale);
  int precision = std::min<int>(integer_digits + scale, kMaxDecimalPrecision);
  return DataType::decimal(static_cast<uint8_t>(precision), static_cast<uint8_t>(scale));
}

}  // namespace

std::optional<DataType> common_super_type(DataType a, DataType b) {
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  if (a.is_nested() || b.is_nested()) return a == b ? std::optional<DataType>(a) : std::nullopt;
  if (a.id == b.id) return a.id == TypeId::kDecimal ? combine_decimals(a, b) : a;
  // A DATE meets a TIMESTAMP as its midnight.
  if ((a.id == TypeId::kDate && b.id == TypeId::kTimestamp) ||
      (a.id == TypeId::kTimestamp && b.id == TypeId::kDate))
    return DataType::timestamp();
  if (!a.is_numeric() || !b.is_numeric()) return std::nullopt;
  if (a.id == TypeId::kDouble || b.id == TypeId::kDouble) return DataType::float64();
  return combine_decimals(as_decimal(a), as_decimal(b));
}

}  // namespace sluice::types
