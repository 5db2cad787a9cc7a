#include "common/ascii.hpp"
#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"
#include "format/protobuf_wire.hpp"
#include "types/decimal.hpp"
#include "types/nested.hpp"

#include <fmt/format.h>

#include <cstring>
#include <set>

namespace sluice::format {

namespace {

using types::DataType;
using types::TypeId;
using types::Value;

using protobuf::kI64;
using protobuf::kLen;
using protobuf::kVarint;

using Fields = std::vector<std::pair<std::string, DataType>>;

std::string pad(int indent) {
  return std::string(static_cast<size_t>(indent) * 2, ' ');
}

bool is_list(DataType t) {
  return t.id == TypeId::kArray || t.id == TypeId::kMap;
}

// proto3's test for field names that clash: their JSON names, compared without case.
std::string json_key(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != '_') out.push_back(ascii_lower(c));
  }
  return out;
}

// protoc's name of a map field's entry type, less "Entry": `my_map` -> `MyMap`.
std::string camel_case(std::string_view field) {
  std::string out;
  bool upper = true;
  for (char c : field) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    upper = false;
  }
  return out;
}

class SchemaText {
 public:
  bool timestamp = false;  // google.protobuf.Timestamp is used

  // `message NAME { ... }` holding `fields`, the messages they need nested in it.
  std::string message(const std::string& name, const Fields& fields, int indent) {
    std::string body, nested;
    // Names of this scope: the message's, its fields', the entry types its map fields declare,
    // and the nested messages named so far.
    std::set<std::string> taken{name};
    for (const auto& [column, t] : fields) {
      std::string field = avro::field_name(column);
      taken.insert(field);
      if (t.id == TypeId::kMap) taken.insert(camel_case(field) + "Entry");
    }
    std::vector<std::pair<std::string, std::string>> names;  // field name, its JSON key
    for (size_t i = 0; i < fields.size(); ++i) {
      const auto& [column, t] = fields[i];
      std::string field = avro::field_name(column);
      for (size_t j = 0; j < names.size(); ++j) {
        if (names[j].second != json_key(field)) continue;
        throw Error(ErrorCode::kConfig,
                    fmt::format("output columns '{}' and '{}' are both written as the Protobuf "
                                "field '{}' (proto3 compares names without '_' and case): give one "
                                "an alias",
                                fields[j].first, column, field));
      }
      names.emplace_back(field, json_key(field));
      std::string hint = field;
      hint[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(hint[0])));
      std::string decl;
      if (t.id == TypeId::kArray) {
        decl = "repeated " + element(t.element(), unique(hint + "Item", taken), nested, indent);
      } else if (t.id == TypeId::kMap) {
        decl = "map<string, " +
               element(t.element(), unique(hint + "Value", taken), nested, indent) + ">";
      } else if (t.id == TypeId::kStruct || t.id == TypeId::kTimestamp) {
        decl = type_of(t, unique(hint, taken), nested, indent);
      } else {
        decl = "optional " + type_of(t, hint, nested, indent);
      }
      body += fmt::format("{}{} {} = {};\n", pad(indent + 1), decl, field, i + 1);
    }
    return fmt::format("{}message {} {{\n{}{}{}}}\n", pad(indent), name, body, nested, pad(indent));
  }

 private:
  static std::string unique(std::string name, std::set<std::string>& taken) {
    std::string out = name;
    for (int n = 2; taken.count(out); ++n)
      out = fmt::format("{}_{}", name, n);
    taken.insert(out);
    return out;
  }

  // The type of a repeated element or map value: ARRAYs and MAPs wrapped in a message.
  std::string element(DataType t, const std::string& name, std::string& nested, int indent) {
    if (!is_list(t)) return type_of(t, name, nested, indent);
    nested += message(name, {{"value", t}}, indent + 1);
    return name;
  }

  // The type of a value of `t`; a STRUCT declares message `name` into `nested`.
  std::string type_of(DataType t, const std::string& name, std::string& nested, int indent) {
    switch (t.id) {
      case TypeId::kBoolean:
        return "bool";
      case TypeId::kBigInt:
      case TypeId::kInterval:
        return "int64";
      case TypeId::kDate:
      case TypeId::kTime:
        return "int32";
      case TypeId::kDouble:
        return "double";
      case TypeId::kBytes:
        return "bytes";
      case TypeId::kTimestamp:
        timestamp = true;
        return "google.protobuf.Timestamp";
      case TypeId::kStruct: {
        Fields fields;
        for (const auto& f : t.fields())
          fields.emplace_back(f.name, f.type);
        nested += message(name, fields, indent + 1);
        return name;
      }
      default:  // STRING, DECIMAL (its text), the NULL type
        return "string";
    }
  }
};

// Appends one field of `t` at a time; a length-delimited value's length is put in front of it
// once it is written.
struct Writer {
  RecordError* err;
  std::string_view column;

  static void tag(uint32_t number, uint32_t wire, std::string& out) {
    append_varint((static_cast<uint64_t>(number) << 3) | wire, out);
  }
  static void length_from(size_t start, std::string& out) {
    std::string prefix;  // at most 10 bytes: no allocation
    append_varint(out.size() - start, prefix);
    out.insert(start, prefix);
  }
  bool refuse(ErrorCode code, const std::string& why) {
    if (err) *err = {code, fmt::format("column '{}': {}", column, why)};
    return false;
  }

  // The bits of a number written as a varint or fixed field; false for a DATE or TIME that
  // int32 cannot hold.
  bool number(const Value& v, DataType t, uint64_t* out) {
    switch (t.id) {
      case TypeId::kBoolean:
        *out = v.b ? 1 : 0;
        return true;
      case TypeId::kDouble: {
        double d = v.d;
        std::memcpy(out, &d, 8);
        return true;
      }
      case TypeId::kDate:
      case TypeId::kTime:
        if (v.i < INT32_MIN || v.i > INT32_MAX)
          return refuse(ErrorCode::kOverflow,
                        fmt::format("{} {} is beyond Protobuf's int32", t.to_string(), v.i));
        [[fallthrough]];
      default:
        *out = static_cast<uint64_t>(v.i);
        return true;
    }
  }
  static bool packable(DataType t) {
    switch (t.id) {
      case TypeId::kBoolean:
      case TypeId::kBigInt:
      case TypeId::kInterval:
      case TypeId::kDate:
      case TypeId::kTime:
      case TypeId::kDouble:
        return true;
      default:
        return false;
    }
  }
  static void put_number(uint64_t bits, DataType t, std::string& out) {
    if (t.id != TypeId::kDouble) return append_varint(bits, out);
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<char>(bits >> (8 * i)));
  }

  // Field `n` holding `v` (nothing for NULL).
  bool field(uint32_t n, const Value& v, DataType t, std::string& out) {
    if (v.null) return true;
    uint64_t bits = 0;
    switch (t.id) {
      case TypeId::kString:
      case TypeId::kBytes:
        tag(n, kLen, out);
        append_varint(v.s.size, out);
        out.append(v.s.data, v.s.size);
        return true;
      case TypeId::kDecimal: {
        std::string text = types::decimal::to_string(v.dec, v.scale);
        tag(n, kLen, out);
        append_varint(text.size(), out);
        out += text;
        return true;
      }
      case TypeId::kTimestamp: {
        int64_t seconds = v.i / 1000 - (v.i % 1000 < 0 ? 1 : 0);
        int64_t nanos = (v.i % 1000 + 1000) % 1000 * 1000000;
        tag(n, kLen, out);
        size_t start = out.size();
        if (seconds != 0) {
          tag(1, kVarint, out);
          append_varint(static_cast<uint64_t>(seconds), out);
        }
        if (nanos != 0) {
          tag(2, kVarint, out);
          append_varint(static_cast<uint64_t>(nanos), out);
        }
        length_from(start, out);
        return true;
      }
      case TypeId::kStruct:
        return nested(n, v, t, out);
      case TypeId::kArray:
        return list(n, v, t, out);
      case TypeId::kMap:
        return map(n, v, t, out);
      default:
        if (!number(v, t, &bits)) return false;
        tag(n, t.id == TypeId::kDouble ? kI64 : kVarint, out);
        put_number(bits, t, out);
        return true;
    }
  }

  bool nested(uint32_t n, const Value& v, DataType t, std::string& out) {
    types::nested::View view;
    if (!types::nested::View::open(v.str(), &view)) return true;  // damaged: written as NULL
    tag(n, kLen, out);
    size_t start = out.size();
    const auto& fields = t.fields();
    for (uint32_t i = 0; i < view.size() && i < fields.size(); ++i) {
      if (!field(i + 1, view.get(i, fields[i].type), fields[i].type, out)) return false;
    }
    length_from(start, out);
    return true;
  }

  // An element or map value: ARRAYs and MAPs as field 1 of a wrapper message.
  bool element(uint32_t n, const Value& v, DataType t, std::string& out) {
    if (v.null) {
      return refuse(ErrorCode::kInvalidArgument,
                    "a NULL element or map value, which Protobuf's repeated fields and maps "
                    "cannot hold");
    }
    if (!is_list(t)) return field(n, v, t, out);
    tag(n, kLen, out);
    size_t start = out.size();
    if (!field(1, v, t, out)) return false;
    length_from(start, out);
    return true;
  }

  bool list(uint32_t n, const Value& v, DataType t, std::string& out) {
    types::nested::View view;
    if (!types::nested::View::open(v.str(), &view) || view.size() == 0) return true;
    DataType e = t.element();
    if (!packable(e)) {
      for (uint32_t i = 0; i < view.size(); ++i) {
        if (!element(n, view.get(i, e), e, out)) return false;
      }
      return true;
    }
    tag(n, kLen, out);
    size_t start = out.size();
    for (uint32_t i = 0; i < view.size(); ++i) {
      Value x = view.get(i, e);
      uint64_t bits = 0;
      if (x.null) return element(n, x, e, out);
      if (!number(x, e, &bits)) return false;
      put_number(bits, e, out);
    }
    length_from(start, out);
    return true;
  }

  bool map(uint32_t n, const Value& v, DataType t, std::string& out) {
    types::nested::View view;
    if (!types::nested::View::open(v.str(), &view)) return true;
    DataType e = t.element();
    for (uint32_t i = 0; i + 1 < view.size(); i += 2) {
      tag(n, kLen, out);
      size_t start = out.size();
      if (!field(1, view.get(i, DataType::string()), DataType::string(), out) ||
          !element(2, view.get(i + 1, e), e, out))
        return false;
      length_from(start, out);
    }
    return true;
  }
};

}  // namespace

std::string protobuf_schema_for(const std::vector<Column>& columns, std::string_view name) {
  SchemaText text;
  Fields fields;
  for (const Column& c : columns)
    fields.emplace_back(c.name, c.type);
  std::string message = text.message(avro::field_name(name), fields, 0);
  return fmt::format("syntax = \"proto3\";\n\n{}{}",
                     text.timestamp ? "import \"google/protobuf/timestamp.proto\";\n\n" : "",
                     message);
}

ProtobufEncoder::ProtobufEncoder(std::vector<Column> columns, std::string_view message_name)
    : columns_(std::move(columns)), schema_(protobuf_schema_for(columns_, message_name)) {}

bool ProtobufEncoder::encode(const types::Value* row, std::string& out, RecordError* err) const {
  size_t start = out.size();
  out.push_back('\0');  // message indexes [0]
  for (size_t c = 0; c < columns_.size(); ++c) {
    Writer w{err, columns_[c].name};
    if (!w.field(static_cast<uint32_t>(c + 1), row[c], columns_[c].type, out)) {
      out.resize(start);
      return false;
    }
  }
  return true;
}

}  // namespace sluice::format
