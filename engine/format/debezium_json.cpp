#include "format/debezium.hpp"

namespace sluice::format {
namespace {

namespace ondemand = simdjson::ondemand;

bool fail(RecordError* err, std::string message) {
  err->code = ErrorCode::kDecode;
  err->message = "not a Debezium change event: " + std::move(message);
  return false;
}

void pad(std::string_view text, std::string& out) {
  out.assign(text);
  out.append(simdjson::SIMDJSON_PADDING, '\0');
  out.resize(text.size());
}

}  // namespace

bool DebeziumReader::read(std::string_view record, ChangeEvent* out, RecordError* err) {
  pad(record, outer_);
  return envelope(outer_, 0, out, err);
}

bool DebeziumReader::envelope(std::string& text, int depth, ChangeEvent* out, RecordError* err) {
  ondemand::document doc;
  if (parser_.iterate(text.data(), text.size(), text.capacity()).get(doc)) {
    return fail(err, "the record is not JSON");
  }
  ondemand::object obj;
  if (doc.get_object().get(obj)) return fail(err, "the record is not a JSON object");
  std::string_view op, after, payload;
  bool has_op = false, after_null = true;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return fail(err, "a field name is not valid JSON");
    ondemand::value v;
    if (field.value().get(v)) return fail(err, "a field is not valid JSON");
    if (key == "op") {
      if (v.get_string().get(op)) return fail(err, "\"op\" is not a string");
      has_op = true;
    } else if (key == "after") {
      ondemand::json_type type;
      if (v.type().get(type)) return fail(err, "\"after\" is not valid JSON");
      after_null = type == ondemand::json_type::null;
      ondemand::object row;
      if (!after_null && (type != ondemand::json_type::object || v.get_object().get(row) ||
                          row.raw_json().get(after))) {
        return fail(err, "\"after\" is not an object or null");
      }
    } else if (key == "payload" && depth == 0) {
      ondemand::object inner;
      if (v.get_object().get(inner) || inner.raw_json().get(payload)) {
        return fail(err, "\"payload\" is not a JSON object");
      }
    }
  }
  if (!has_op) {
    if (payload.empty()) return fail(err, "it has no \"op\"");
    pad(payload, inner_);
    return envelope(inner_, depth + 1, out, err);
  }
  if (op == "d") {
    out->deleted = true;
    return true;
  }
  if (op != "c" && op != "r" && op != "u") {
    return fail(err, "op \"" + std::string(op) + "\" (sluice reads c, r, u and d)");
  }
  if (after_null) return fail(err, "op \"" + std::string(op) + "\" without an \"after\" row");
  out->deleted = false;
  out->after = after;
  return true;
}

}  // namespace sluice::format
