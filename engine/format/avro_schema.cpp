#include "format/avro_schema.hpp"

#include "common/error.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <map>
#include <set>

namespace sluice::format::avro {

namespace {

namespace dom = simdjson::dom;

constexpr int kMaxDepth = 128;

struct Primitive {
  std::string_view name;
  Kind kind;
};
constexpr Primitive kPrimitives[] = {
    {"null", Kind::kNull},   {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
    {"long", Kind::kLong},   {"float", Kind::kFloat},     {"double", Kind::kDouble},
    {"bytes", Kind::kBytes}, {"string", Kind::kString},
};

[[noreturn]] void bad(const std::string& why) {
  throw Error(ErrorCode::kDecode, "invalid Avro schema: " + why);
}

std::string_view kind_name(Kind k) {
  for (const Primitive& p : kPrimitives) {
    if (p.kind == k) return p.name;
  }
  switch (k) {
    case Kind::kRecord:
      return "record";
    case Kind::kEnum:
      return "enum";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
    case Kind::kUnion:
      return "union";
    case Kind::kFixed:
      return "fixed";
    default:
      return "?";
  }
}

std::string_view logical_name(Logical l) {
  switch (l) {
    case Logical::kDecimal:
      return "decimal";
    case Logical::kDate:
      return "date";
    case Logical::kTimeMillis:
      return "time-millis";
    case Logical::kTimeMicros:
      return "time-micros";
    case Logical::kTimestampMillis:
      return "timestamp-millis";
    case Logical::kTimestampMicros:
      return "timestamp-micros";
    case Logical::kNone:
      break;
  }
  return "";
}

}  // namespace

std::string Node::describe() const {
  std::string out(kind_name(kind));
  if (!name.empty()) out += " " + name;
  if (logical != Logical::kNone) out += fmt::format(" ({})", logical_name(logical));
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

class SchemaParser {
 public:
  explicit SchemaParser(Schema& s) : s_(s) {}

  const Node* parse(dom::element e, const std::string& ns, int depth) {
    if (depth > kMaxDepth) bad(fmt::format("nested deeper than {} levels", kMaxDepth));
    switch (e.type()) {
      case dom::element_type::STRING:
        return reference(std::string(e.get_string().value_unsafe()), ns);
      case dom::element_type::ARRAY:
        return parse_union(e.get_array().value_unsafe(), ns, depth);
      case dom::element_type::OBJECT:
        return parse_object(e.get_object().value_unsafe(), ns, depth);
      default:
        bad("a type must be a name, an object or an array (a union)");
    }
  }

 private:
  Node& add(Kind k) {
    Node& n = s_.nodes_.emplace_back();
    n.kind = k;
    return n;
  }

  const Node* reference(const std::string& name, const std::string& ns) {
    for (const Primitive& p : kPrimitives) {
      if (p.name == name) return &add(p.kind);
    }
    if (name.find('.') == std::string::npos && !ns.empty()) {
      if (auto it = named_.find(ns + "." + name); it != named_.end()) return it->second;
    }
    if (auto it = named_.find(name); it != named_.end()) return it->second;
    bad(fmt::format("unknown type '{}'", name));
  }

  const Node* parse_union(dom::array a, const std::string& ns, int depth) {
    Node& n = add(Kind::kUnion);
    for (dom::element b : a) {
      const Node* branch = parse(b, ns, depth + 1);
      if (branch->kind == Kind::kUnion) bad("a union may not hold a union");
      n.branches.push_back(branch);
    }
    if (n.branches.empty()) bad("a union needs at least one type");
    return &n;
  }

  static std::string str(dom::object o, const char* key, bool required) {
    dom::element e;
    if (o[key].get(e)) {
      if (required) bad(fmt::format("missing \"{}\"", key));
      return {};
    }
    std::string_view v;
    if (e.get_string().get(v)) bad(fmt::format("\"{}\" must be a string", key));
    return std::string(v);
  }

  // Registers a named type under its full name before its body is parsed (so it can refer to
  // itself); returns the namespace its body uses.
  std::string name_node(Node& n, dom::object o, const std::string& ns) {
    std::string name = str(o, "name", true);
    // An explicit "namespace": "" is the null namespace; an absent one is the enclosing one.
    bool has_space = o["namespace"].error() == simdjson::SUCCESS;
    std::string space = has_space ? str(o, "namespace", false) : ns;
    std::string full =
        name.find('.') != std::string::npos || space.empty() ? name : space + "." + name;
    if (!named_.emplace(full, &n).second) bad(fmt::format("type '{}' is defined twice", full));
    n.name = full;
    size_t dot = full.rfind('.');
    return dot == std::string::npos ? std::string() : full.substr(0, dot);
  }

  const Node* parse_object(dom::object o, const std::string& ns, int depth) {
    dom::element type;
    if (o["type"].get(type)) bad("an object type needs \"type\"");
    if (!type.is_string()) return parse(type, ns, depth + 1);  // {"type": {...}} or {"type": [...]}
    std::string_view t = type.get_string().value_unsafe();
    if (t == "record" || t == "error") return parse_record(o, ns, depth);
    if (t == "enum") {
      Node& n = add(Kind::kEnum);
      name_node(n, o, ns);
      dom::array symbols;
      if (o["symbols"].get_array().get(symbols)) bad("an enum needs \"symbols\"");
      for (dom::element s : symbols) {
        std::string_view v;
        if (s.get_string().get(v)) bad("enum symbols must be strings");
        n.symbols.emplace_back(v);
      }
      return &n;
    }
    if (t == "array" || t == "map") {
      Node& n = add(t == "array" ? Kind::kArray : Kind::kMap);
      dom::element items;
      if (o[t == "array" ? "items" : "values"].get(items))
        bad(fmt::format("{} needs \"{}\"", t, t == "array" ? "items" : "values"));
      n.items = parse(items, ns, depth + 1);
      return &n;
    }
    if (t == "fixed") {
      Node& n = add(Kind::kFixed);
      name_node(n, o, ns);
      int64_t size = 0;
      if (o["size"].get_int64().get(size) || size < 0) bad("fixed needs a \"size\" of 0 or more");
      n.size = size;
      add_logical(n, o);
      return &n;
    }
    for (const Primitive& p : kPrimitives) {
      if (p.name != t) continue;
      Node& n = add(p.kind);
      add_logical(n, o);
      return &n;
    }
    return reference(std::string(t), ns);  // {"type": "a.Named"}
  }

  const Node* parse_record(dom::object o, const std::string& ns, int depth) {
    Node& n = add(Kind::kRecord);
    std::string inner = name_node(n, o, ns);
    dom::array fields;
    if (o["fields"].get_array().get(fields))
      bad(fmt::format("record '{}' needs \"fields\"", n.name));
    for (dom::element f : fields) {
      dom::object fo;
      if (f.get_object().get(fo)) bad(fmt::format("the fields of '{}' must be objects", n.name));
      Field field;
      field.name = str(fo, "name", true);
      dom::element ft;
      if (fo["type"].get(ft))
        bad(fmt::format("field '{}' of '{}' needs \"type\"", field.name, n.name));
      field.type = parse(ft, inner, depth + 1);
      n.fields.push_back(std::move(field));
    }
    return &n;
  }

  // Logical types this reader maps; an unknown or invalid one leaves the underlying type, as the
  // specification asks.
  static void add_logical(Node& n, dom::object o) {
    std::string_view l;
    if (o["logicalType"].get_string().get(l)) return;
    if (l == "decimal" && (n.kind == Kind::kBytes || n.kind == Kind::kFixed)) {
      int64_t p = 0, s = 0;
      if (o["precision"].get_int64().get(p)) return;
      if (o["scale"].get_int64().get(s)) s = 0;
      if (p < 1 || p > 38 || s < 0 || s > p) return;
      n.logical = Logical::kDecimal;
      n.precision = static_cast<uint8_t>(p);
      n.scale = static_cast<uint8_t>(s);
    } else if (l == "date" && n.kind == Kind::kInt) {
      n.logical = Logical::kDate;
    } else if (l == "time-millis" && n.kind == Kind::kInt) {
      n.logical = Logical::kTimeMillis;
    } else if (l == "time-micros" && n.kind == Kind::kLong) {
      n.logical = Logical::kTimeMicros;
    } else if ((l == "timestamp-millis" || l == "local-timestamp-millis") &&
               n.kind == Kind::kLong) {
      n.logical = Logical::kTimestampMillis;
    } else if ((l == "timestamp-micros" || l == "local-timestamp-micros") &&
               n.kind == Kind::kLong) {
      n.logical = Logical::kTimestampMicros;
    }
  }

  Schema& s_;
  std::map<std::string, Node*> named_;
};

std::shared_ptr<const Schema> Schema::parse(std::string_view json,
                                            const SchemaReferences& references) {
  auto s = std::make_shared<Schema>();
  s->text_ = std::string(json);
  dom::parser parser;
  dom::element root;
  SchemaParser p(*s);
  // A referenced schema's named types are known to those after it (nodes copy what they keep).
  for (const SchemaReference& r : references) {
    if (auto e = parser.parse(r.text).get(root))
      bad(fmt::format("the referenced schema '{}': {}", r.name, simdjson::error_message(e)));
    p.parse(root, "", 0);
  }
  if (auto e = parser.parse(s->text_).get(root)) bad(simdjson::error_message(e));
  s->root_ = p.parse(root, "", 0);
  // Types encoded in zero bytes, to a fixed point (a record is empty when all its fields are).
  for (bool changed = true; changed;) {
    changed = false;
    for (Node& n : s->nodes_) {
      bool empty = n.kind == Kind::kNull || (n.kind == Kind::kFixed && n.size == 0);
      if (n.kind == Kind::kRecord) {
        empty = true;
        for (const Field& f : n.fields)
          empty = empty && f.type->empty;
      }
      if (empty && !n.empty) n.empty = changed = true;
    }
  }
  for (Node& n : s->nodes_) {
    for (const Field& f : n.fields) {
      if (!f.type->empty) n.data_fields.push_back(f.type);
    }
  }
  return s;
}

namespace {

// Record names already given in the schema being written: a name is defined once.
using Names = std::set<std::string>;

std::string fields_for(const std::vector<Column>& columns, std::string_view record, Names& used);

// The Avro type of `t`; `name` names a record written for a STRUCT (unique in the schema: the
// output record's name and the path to the STRUCT, joined by '_').
std::string field_type(types::DataType t, const std::string& name, Names& used) {
  switch (t.id) {
    case types::TypeId::kBoolean:
      return "\"boolean\"";
    case types::TypeId::kBigInt:
    case types::TypeId::kInterval:
      return "\"long\"";
    case types::TypeId::kDouble:
      return "\"double\"";
    case types::TypeId::kDecimal:
      return fmt::format(R"({{"type":"bytes","logicalType":"decimal","precision":{},"scale":{}}})",
                         t.precision, t.scale);
    case types::TypeId::kTimestamp:
      return R"({"type":"long","logicalType":"timestamp-millis"})";
    case types::TypeId::kDate:
      return R"({"type":"int","logicalType":"date"})";
    case types::TypeId::kTime:
      return R"({"type":"int","logicalType":"time-millis"})";
    case types::TypeId::kBytes:
      return "\"bytes\"";
    case types::TypeId::kStruct: {
      std::vector<Column> fields;
      for (const auto& f : t.fields())
        fields.push_back({f.name, f.type});
      // Paths may meet in one name (`a` with field `b`, and a column `a_b`): then _2, _3, ...
      std::string unique = name;
      for (int k = 2; !used.insert(unique).second; ++k)
        unique = name + "_" + std::to_string(k);
      std::string inner = fields_for(fields, unique, used);
      return fmt::format(R"({{"type":"record","name":"{}","fields":[{}]}})", unique, inner);
    }
    case types::TypeId::kArray:
      return fmt::format(R"({{"type":"array","items":["null",{}]}})",
                         field_type(t.element(), name + "_item", used));
    case types::TypeId::kMap:
      return fmt::format(R"({{"type":"map","values":["null",{}]}})",
                         field_type(t.element(), name + "_value", used));
    case types::TypeId::kString:
    case types::TypeId::kNull:
      break;
  }
  return "\"string\"";
}

}  // namespace

std::string field_name(std::string_view column) {
  if (valid_name(column)) return std::string(column);
  std::string out = column.empty() || (column[0] >= '0' && column[0] <= '9') ? "_" : "";
  for (char c : column) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    out.push_back(ok ? c : '_');
  }
  return out;
}

namespace {

// The fields of a record `record` holding `columns`, each `["null", T]` with default null.
std::string fields_for(const std::vector<Column>& columns, std::string_view record, Names& used) {
  std::string out;
  std::vector<std::string> names;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string field = field_name(columns[i].name);
    for (size_t j = 0; j < names.size(); ++j) {
      if (names[j] != field) continue;
      throw Error(ErrorCode::kConfig,
                  fmt::format("output columns '{}' and '{}' are both written as the Avro field "
                              "'{}': give one an alias",
                              columns[j].name, columns[i].name, field));
    }
    out += fmt::format(R"({}{{"name":"{}","type":["null",{}],"default":null}})", i ? "," : "",
                       field, field_type(columns[i].type, std::string(record) + "_" + field, used));
    names.push_back(std::move(field));
  }
  return out;
}

}  // namespace

std::string schema_for(const std::vector<Column>& columns, std::string_view name) {
  Names used{std::string(name)};
  std::string fields = fields_for(columns, name, used);
  return fmt::format(R"({{"type":"record","name":"{}","fields":[{}]}})", name, fields);
}

std::string type_schema(types::DataType t, std::string_view name) {
  Names used;
  return field_type(t, std::string(name), used);
}

}  // namespace sluice::format::avro
