#include "format/json_schema.hpp"

namespace sluice::format {
namespace {

using types::DataType;
using types::TypeId;

void append_type(DataType type, TimestampOutput ts, std::string& out);

void append_properties(const std::vector<DataType::Field>& fields, TimestampOutput ts,
                       std::string& out) {
  out += "\"properties\":{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(fields[i].name, out);
    out += ':';
    append_type(fields[i].type, ts, out);
  }
  out += '}';
}

void nullable(const char* json_type, std::string& out) {
  out += "\"type\":[\"";
  out += json_type;
  out += "\",\"null\"]";
}

void append_type(DataType type, TimestampOutput ts, std::string& out) {
  bool iso = ts == TimestampOutput::kIso8601;
  out += '{';
  switch (type.id) {
    case TypeId::kBoolean:
      nullable("boolean", out);
      break;
    case TypeId::kBigInt:
    case TypeId::kInterval:
      nullable("integer", out);
      break;
    case TypeId::kDouble:
    case TypeId::kDecimal:
      nullable("number", out);
      break;
    case TypeId::kBytes:
      nullable("string", out);
      out += ",\"contentEncoding\":\"base64\"";
      break;
    // No "format": a year outside 0000..9999 is written as ISO 8601 extends it, not as RFC 3339's
    // date-time (what "format" would check) has it.
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime:
      nullable(iso ? "string" : "integer", out);
      break;
    case TypeId::kArray:
      nullable("array", out);
      out += ",\"items\":";
      append_type(type.element(), ts, out);
      break;
    case TypeId::kMap:
      nullable("object", out);
      out += ",\"additionalProperties\":";
      append_type(type.element(), ts, out);
      break;
    case TypeId::kStruct:
      nullable("object", out);
      out += ',';
      append_properties(type.fields(), ts, out);
      out += ",\"additionalProperties\":false";
      break;
    default:  // STRING, and NULL-typed columns (always null): strings
      nullable("string", out);
      break;
  }
  out += '}';
}

}  // namespace

std::string json_schema_for(const std::vector<Column>& columns, TimestampOutput ts,
                            std::string_view title) {
  std::string out = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":";
  append_json_string(title, out);
  out += ",\"type\":\"object\",";
  std::vector<DataType::Field> fields;
  for (const Column& c : columns)
    fields.push_back({c.name, c.type});
  append_properties(fields, ts, out);
  // Closed: a later version of the job may add an output column (a registry checking BACKWARD
  // compatibility refuses a property added to an open object).
  out += ",\"additionalProperties\":false}";
  return out;
}

}  // namespace sluice::format
