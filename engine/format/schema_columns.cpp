#include "format/schema_columns.hpp"

#include "common/ascii.hpp"
#include "common/error.hpp"
#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"
#include "format/protobuf_wire.hpp"

#include <simdjson.h>

#include <algorithm>
#include <string>

namespace sluice::format {

namespace {

using types::DataType;

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(ErrorCode::kConfig, (path.empty() ? "" : "field '" + path + "': ") + why);
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// Bounds a conversion: its depth, and the types it makes in all (a named type used twice in each
// of many nested records would otherwise expand exponentially).
struct Budget {
  size_t types_left = kMaxInferredTypes;

  void step(int depth, const std::string& path) {
    if (depth > kMaxInferredDepth)
      refuse(path, "nested deeper than " + std::to_string(kMaxInferredDepth) + " levels");
    if (types_left-- == 0)
      refuse(path, "the schema's columns would hold more than " +
                       std::to_string(kMaxInferredTypes) + " types in all");
  }
};

// Columns and STRUCT fields are matched ignoring case: two names that differ only in case could
// not both be read.
DataType::Field& add_field(std::vector<DataType::Field>& fields, const std::string& path,
                           std::string_view name, DataType type) {
  for (const auto& f : fields) {
    if (iequals(f.name, name))
      refuse(join(path, name), "its name differs from field '" + f.name + "' only in case");
  }
  return fields.emplace_back(DataType::Field{std::string(name), type});
}

DataType structure(std::vector<DataType::Field> fields, const std::string& path) {
  if (fields.empty()) refuse(path, "a record without fields cannot be a column type");
  return DataType::structure(std::move(fields));
}

std::vector<Column> to_columns(const std::vector<DataType::Field>& fields) {
  if (fields.empty()) refuse("", "the schema has no field a column can hold");
  std::vector<Column> out;
  for (const auto& f : fields)
    out.push_back({f.name, f.type});
  return out;
}

// ---- Avro

struct AvroTypes : Budget {
  std::vector<const avro::Node*> open;  // records being converted: one met again recurses

  DataType type(const avro::Node& n, const std::string& path, int depth) {
    step(depth, path);
    switch (n.logical) {
      case avro::Logical::kDecimal:  // precision 1 to 38: the parser leaves others bytes
        return DataType::decimal(n.precision, n.scale);
      case avro::Logical::kDate:
        return DataType::date();
      case avro::Logical::kTimeMillis:
      case avro::Logical::kTimeMicros:
        return DataType::time();
      case avro::Logical::kTimestampMillis:
      case avro::Logical::kTimestampMicros:
        return DataType::timestamp();
      case avro::Logical::kNone:
        break;
    }
    switch (n.kind) {
      case avro::Kind::kBoolean:
        return DataType::boolean();
      case avro::Kind::kInt:
      case avro::Kind::kLong:
        return DataType::bigint();
      case avro::Kind::kFloat:
      case avro::Kind::kDouble:
        return DataType::float64();
      case avro::Kind::kString:
      case avro::Kind::kEnum:
        return DataType::string();
      case avro::Kind::kBytes:
      case avro::Kind::kFixed:
        return DataType::bytes();
      case avro::Kind::kArray:
        return DataType::array(type(*n.items, path + "[]", depth + 1));
      case avro::Kind::kMap:
        return DataType::map(type(*n.items, path + "{}", depth + 1));
      case avro::Kind::kRecord:
        return structure(fields(n, path, depth + 1), path);
      case avro::Kind::kUnion: {
        const avro::Node* only = nullptr;
        for (const avro::Node* b : n.branches) {
          if (b->kind == avro::Kind::kNull) continue;
          if (only != nullptr) refuse(path, "a union of several types other than null");
          only = b;
        }
        if (only == nullptr) refuse(path, "a union of null alone holds no value");
        return type(*only, path, depth);
      }
      case avro::Kind::kNull:
        refuse(path, "type null holds no value");
    }
    refuse(path, "type " + n.describe() + " cannot be a column type");
  }

  std::vector<DataType::Field> fields(const avro::Node& record, const std::string& path,
                                      int depth) {
    if (std::find(open.begin(), open.end(), &record) != open.end())
      refuse(path, "record " + record.name + " contains itself");
    open.push_back(&record);
    std::vector<DataType::Field> out;
    for (const auto& f : record.fields) {
      std::string p = join(path, f.name);
      add_field(out, path, f.name, type(*f.type, p, depth));
    }
    open.pop_back();
    return out;
  }
};

// ---- Protobuf

struct ProtobufTypes : Budget {
  std::vector<const protobuf::Message*> open;

  DataType scalar(const protobuf::Field& f, const std::string& path, int depth) {
    using protobuf::Kind;
    switch (f.kind) {
      case Kind::kDouble:
      case Kind::kFloat:
        return DataType::float64();
      case Kind::kBool:
        return DataType::boolean();
      case Kind::kString:
      case Kind::kEnum:
        return DataType::string();
      case Kind::kBytes:
        return DataType::bytes();
      case Kind::kMessage:
        return message(*f.message, path, depth);
      case Kind::kGroup:
        refuse(path, "a group cannot be a column type");
      default:  // every integer type
        return DataType::bigint();
    }
  }

  DataType type(const protobuf::Field& f, const std::string& path, int depth) {
    step(depth, path);
    if (f.map) {
      const protobuf::Field& value = protobuf::entry_field(*f.message, 2);
      return DataType::map(scalar(value, path + "{}", depth + 1));
    }
    if (f.repeated) return DataType::array(scalar(f, path + "[]", depth + 1));
    return scalar(f, path, depth);
  }

  DataType message(const protobuf::Message& m, const std::string& path, int depth) {
    using Special = protobuf::Message::Special;
    if (m.special == Special::kTimestamp) return DataType::timestamp();
    if (m.special == Special::kWrapper) return scalar(protobuf::entry_field(m, 1), path, depth);
    if (protobuf::list_wrapper(m) && m.fields[0].name == "value")
      return type(m.fields[0], path, depth + 1);
    return structure(fields(m, path, depth + 1), path);
  }

  std::vector<DataType::Field> fields(const protobuf::Message& m, const std::string& path,
                                      int depth) {
    if (std::find(open.begin(), open.end(), &m) != open.end())
      refuse(path, "message " + m.name + " contains itself");
    open.push_back(&m);
    std::vector<DataType::Field> out;
    for (const auto& f : m.fields) {
      if (f.kind == protobuf::Kind::kGroup) continue;  // never read
      add_field(out, path, f.name, type(f, join(path, f.name), depth));
    }
    open.pop_back();
    return out;
  }
};

// ---- JSON Schema

struct JsonSchemaTypes : Budget {
  using Element = simdjson::dom::element;

  static std::string_view string_of(Element e, const char* key) {
    std::string_view s;
    if (e[key].get_string().get(s)) return {};
    return s;
  }

  // The one type of `e` other than "null" (from "type", or oneOf/anyOf).
  static std::string_view type_name(Element e, const std::string& path, Element* inner) {
    *inner = e;
    if (!e["$ref"].error()) refuse(path, "a $ref (references in a JSON Schema are not read)");
    simdjson::dom::array list;
    for (const char* key : {"oneOf", "anyOf"}) {
      if (e[key].get_array().get(list)) continue;
      bool found = false;
      for (Element b : list) {
        if (string_of(b, "type") == "null") continue;
        if (found) refuse(path, std::string(key) + " of several types other than null");
        found = true;
        *inner = b;
      }
      if (!found) refuse(path, std::string(key) + " of null alone holds no value");
      if (!(*inner)["$ref"].error())
        refuse(path, "a $ref (references in a JSON Schema are not read)");
      return type_name(*inner, path, inner);
    }
    Element t;
    if (e["type"].get(t)) refuse(path, "it has no \"type\"");
    std::string_view name;
    if (!t.get_string().get(name)) return name;
    if (t.get_array().get(list)) refuse(path, "its \"type\" is neither a name nor a list");
    std::string_view only;
    for (Element b : list) {
      std::string_view n;
      if (b.get_string().get(n)) refuse(path, "its \"type\" list holds a non-string");
      if (n == "null") continue;
      if (!only.empty()) refuse(path, "a \"type\" list of several types other than null");
      only = n;
    }
    if (only.empty()) refuse(path, "type null holds no value");
    return only;
  }

  DataType type(Element e, const std::string& path, int depth) {
    step(depth, path);
    Element s;
    std::string_view name = type_name(e, path, &s);
    if (name == "boolean") return DataType::boolean();
    if (name == "integer") return DataType::bigint();
    if (name == "number") return DataType::float64();
    if (name == "string") {
      std::string_view format = string_of(s, "format");
      if (format == "date-time") return DataType::timestamp();
      if (format == "date") return DataType::date();
      if (format == "time") return DataType::time();
      if (string_of(s, "contentEncoding") == "base64") return DataType::bytes();
      return DataType::string();
    }
    if (name == "array") {
      Element items;
      if (s["items"].get(items) || !items.is_object())
        refuse(path, "an array without one \"items\" schema");
      return DataType::array(type(items, path + "[]", depth + 1));
    }
    if (name == "object") {
      Element extra;
      if (s["properties"].error() && !s["additionalProperties"].get(extra) && extra.is_object())
        return DataType::map(type(extra, path + "{}", depth + 1));
      return structure(properties(s, path, depth + 1), path);
    }
    refuse(path, "type \"" + std::string(name) + "\" cannot be a column type");
  }

  std::vector<DataType::Field> properties(Element object, const std::string& path, int depth) {
    simdjson::dom::object props;
    if (object["properties"].get_object().get(props))
      refuse(path, "an object without \"properties\" (nor additionalProperties for a MAP)");
    std::vector<DataType::Field> out;
    for (auto [key, value] : props)
      add_field(out, path, key, type(value, join(path, key), depth));
    return out;
  }
};

std::vector<Column> json_schema_columns(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(text.data(), text.size()).get(root))
    refuse("", std::string("the JSON schema does not parse: ") + simdjson::error_message(error));
  JsonSchemaTypes t;
  simdjson::dom::element object;
  std::string_view name = JsonSchemaTypes::type_name(root, "", &object);
  if (name != "object") refuse("", "the JSON schema is not of an object (records are objects)");
  return to_columns(t.properties(object, "", 1));
}

}  // namespace

std::vector<Column> registry_schema_columns(std::string_view schema_type, std::string_view text,
                                            const SchemaReferences& references) {
  if (schema_type == "JSON") return json_schema_columns(text);
  try {
    if (schema_type == "AVRO") {
      auto schema = avro::Schema::parse(text, references);
      if (schema->root().kind != avro::Kind::kRecord)
        refuse("", "the Avro schema is a " + schema->root().describe() + ", not a record");
      return to_columns(AvroTypes{}.fields(schema->root(), "", 1));
    }
    if (schema_type == "PROTOBUF") {
      auto schema = protobuf::Schema::parse(text, references);
      return to_columns(ProtobufTypes{}.fields(*schema->messages().front(), "", 1));
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kConfig) throw;
    throw Error(ErrorCode::kConfig, e.what());
  }
  throw Error(ErrorCode::kConfig, "schema type '" + std::string(schema_type) + "' is not read");
}

}  // namespace sluice::format
