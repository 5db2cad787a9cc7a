#include "format/schema_compare.hpp"

#include "common/error.hpp"
#include "format/avro_schema.hpp"
#include "format/protobuf.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <set>
#include <utility>

namespace sluice::format {

namespace {

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string at(const std::string& path, const std::string& why) {
  return path.empty() ? why : "'" + path + "': " + why;
}

// describe(), with a decimal's precision and scale.
std::string described(const avro::Node& n) {
  if (n.logical != avro::Logical::kDecimal) return n.describe();
  return fmt::format("{} ({},{})", n.describe(), n.precision, n.scale);
}

struct AvroCompare {
  std::set<std::pair<const avro::Node*, const avro::Node*>> seen;  // named types: recursion ends

  std::string diff(const avro::Node& a, const avro::Node& b, const std::string& path) {
    if (a.kind != b.kind || a.logical != b.logical || a.precision != b.precision ||
        a.scale != b.scale || a.size != b.size)
      return at(path, described(a) + " where the job writes " + described(b));
    if (a.name != b.name) return at(path, "named " + a.name + ", not " + b.name);
    if (!seen.emplace(&a, &b).second) return "";
    if (a.symbols != b.symbols) return at(path, "other enum symbols");
    if (a.branches.size() != b.branches.size()) return at(path, "a union of other branches");
    for (size_t i = 0; i < a.branches.size(); ++i) {
      if (auto d = diff(*a.branches[i], *b.branches[i], path); !d.empty()) return d;
    }
    if (a.items != nullptr && b.items != nullptr)
      if (auto d = diff(*a.items, *b.items, path + "[]"); !d.empty()) return d;
    if (a.fields.size() != b.fields.size())
      return at(path,
                fmt::format("{} fields where the job writes {}", a.fields.size(), b.fields.size()));
    for (size_t i = 0; i < a.fields.size(); ++i) {
      if (a.fields[i].name != b.fields[i].name)
        return at(path, fmt::format("field {} is '{}', not '{}'", i + 1, a.fields[i].name,
                                    b.fields[i].name));
      std::string p = join(path, a.fields[i].name);
      if (auto d = diff(*a.fields[i].type, *b.fields[i].type, p); !d.empty()) return d;
    }
    return "";
  }
};

struct ProtobufCompare {
  std::set<std::pair<const protobuf::Message*, const protobuf::Message*>> seen;

  std::string diff(const protobuf::Message& a, const protobuf::Message& b,
                   const std::string& path) {
    if (!seen.emplace(&a, &b).second) return "";
    if (a.fields.size() != b.fields.size())
      return at(path, fmt::format("message {} has {} fields where the job writes {}", a.name,
                                  a.fields.size(), b.fields.size()));
    for (size_t i = 0; i < a.fields.size(); ++i) {
      const protobuf::Field& x = a.fields[i];
      const protobuf::Field& y = b.fields[i];
      std::string p = join(path, y.name);
      if (x.name != y.name || x.number != y.number)
        return at(path, fmt::format("field {} = {} where the job writes {} = {}", x.name, x.number,
                                    y.name, y.number));
      if (x.describe() != y.describe() || x.presence != y.presence)
        return at(p, fmt::format("{}{} where the job writes {}{}", x.presence ? "optional " : "",
                                 x.describe(), y.presence ? "optional " : "", y.describe()));
      if (x.enumeration != nullptr && y.enumeration != nullptr &&
          x.enumeration->values != y.enumeration->values)
        return at(p, "other enum values");
      if (x.message != nullptr && y.message != nullptr)
        if (auto d = diff(*x.message, *y.message, p); !d.empty()) return d;
    }
    return "";
  }
};

std::string minified(std::string_view json, const char* whose) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (auto error = parser.parse(json.data(), json.size()).get(e))
    throw Error(ErrorCode::kDecode, fmt::format("{} JSON schema does not parse: {}", whose,
                                                simdjson::error_message(error)));
  return simdjson::minify(e);
}

}  // namespace

std::string schema_difference(std::string_view type, std::string_view text,
                              const SchemaReferences& references, std::string_view ours) {
  try {
    if (type == "AVRO") {
      auto theirs = avro::Schema::parse(text, references);
      auto mine = avro::Schema::parse(ours);
      return AvroCompare{}.diff(theirs->root(), mine->root(), "");
    }
    if (type == "PROTOBUF") {
      auto theirs = protobuf::Schema::parse(text, references);
      auto mine = protobuf::Schema::parse(ours);
      const protobuf::Message& a = *theirs->messages().front();
      const protobuf::Message& b = *mine->messages().front();
      if (a.name != b.name) return "its first message is " + a.name + ", not " + b.name;
      return ProtobufCompare{}.diff(a, b, "");
    }
    if (type == "JSON")
      return minified(text, "its") == minified(ours, "the job's") ? "" : "other JSON";
  } catch (const Error& e) {
    return e.what();
  }
  return "it is of type " + std::string(type);
}

}  // namespace sluice::format
