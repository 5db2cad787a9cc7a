#include "format/name_match.hpp"
#include "format/protobuf.hpp"
#include "format/protobuf_wire.hpp"
#include "types/bytes_text.hpp"

#include <fmt/format.h>
#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <unordered_map>

namespace sluice::format::protobuf {

namespace pb = google::protobuf;
using types::DataType;
using types::TypeId;

const std::string* Enum::name_of(int32_t number) const {
  for (const auto& [n, name] : values) {
    if (n == number) return &name;
  }
  return nullptr;
}

namespace {

const char* kind_name(Kind k) {
  static constexpr const char* kNames[] = {"double",   "float",    "int64",  "uint64",  "int32",
                                           "uint32",   "sint32",   "sint64", "fixed32", "fixed64",
                                           "sfixed32", "sfixed64", "bool",   "string",  "bytes",
                                           "enum",     "message"};
  return kNames[static_cast<size_t>(k)];
}

std::string type_name(const Field& f) {
  if (f.kind == Kind::kMessage) return "message " + f.message->name;
  if (f.kind == Kind::kEnum) return "enum " + f.enumeration->name;
  return kind_name(f.kind);
}

}  // namespace

std::string Field::describe() const {
  if (map) {
    return fmt::format("map<{}, {}>", type_name(message->fields[0]), type_name(message->fields[1]));
  }
  return repeated ? "repeated " + type_name(*this) : type_name(*this);
}

int32_t Message::find(uint32_t number) const {
  if (number < index_of_number.size()) return index_of_number[number];
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].number == number) return static_cast<int32_t>(i);
  }
  return -1;
}

const Message* Schema::at(std::span<const int32_t> path) const {
  const std::vector<const Message*>* level = &top_;
  const Message* m = nullptr;
  for (int32_t i : path) {
    if (i < 0 || static_cast<size_t>(i) >= level->size()) return nullptr;
    m = (*level)[static_cast<size_t>(i)];
    level = &m->nested;
  }
  return m;
}

namespace {

// The first error of a parse or build, where it is.
class Errors final : public pb::io::ErrorCollector, public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) first = fmt::format("line {}, column {}: {}", line + 1, column + 1, message);
  }
  void AddError(const std::string&, const std::string& element, const pb::Message*, ErrorLocation,
                const std::string& message) override {
    if (first.empty()) first = element.empty() ? message : element + ": " + message;
  }
  std::string first;
};

[[noreturn]] void refuse(const std::string& why) {
  throw Error(ErrorCode::kDecode, "Protobuf schema: " + why);
}

// Adds `name` (a well-known type's file, and what it imports) from the library's own descriptors.
void add_well_known(const std::string& name, pb::DescriptorPool& pool) {
  if (pool.FindFileByName(name) != nullptr) return;
  const pb::FileDescriptor* own = pb::DescriptorPool::generated_pool()->FindFileByName(name);
  if (own == nullptr || name.rfind("google/protobuf/", 0) != 0) {
    refuse(
        fmt::format("it imports \"{}\": schema references are not read yet (only Protobuf's "
                    "well-known types, google/protobuf/*.proto)",
                    name));
  }
  for (int i = 0; i < own->dependency_count(); ++i)
    add_well_known(own->dependency(i)->name(), pool);
  pb::FileDescriptorProto proto;
  own->CopyTo(&proto);
  if (pool.BuildFile(proto) == nullptr) refuse("cannot load \"" + name + "\"");
}

Kind kind_of(pb::FieldDescriptor::Type t) {
  switch (t) {
    case pb::FieldDescriptor::TYPE_DOUBLE:
      return Kind::kDouble;
    case pb::FieldDescriptor::TYPE_FLOAT:
      return Kind::kFloat;
    case pb::FieldDescriptor::TYPE_INT64:
      return Kind::kInt64;
    case pb::FieldDescriptor::TYPE_UINT64:
      return Kind::kUInt64;
    case pb::FieldDescriptor::TYPE_INT32:
      return Kind::kInt32;
    case pb::FieldDescriptor::TYPE_UINT32:
      return Kind::kUInt32;
    case pb::FieldDescriptor::TYPE_SINT32:
      return Kind::kSInt32;
    case pb::FieldDescriptor::TYPE_SINT64:
      return Kind::kSInt64;
    case pb::FieldDescriptor::TYPE_FIXED32:
      return Kind::kFixed32;
    case pb::FieldDescriptor::TYPE_FIXED64:
      return Kind::kFixed64;
    case pb::FieldDescriptor::TYPE_SFIXED32:
      return Kind::kSFixed32;
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return Kind::kSFixed64;
    case pb::FieldDescriptor::TYPE_BOOL:
      return Kind::kBool;
    case pb::FieldDescriptor::TYPE_STRING:
      return Kind::kString;
    case pb::FieldDescriptor::TYPE_BYTES:
      return Kind::kBytes;
    case pb::FieldDescriptor::TYPE_ENUM:
      return Kind::kEnum;
    default:
      return Kind::kMessage;  // TYPE_MESSAGE and TYPE_GROUP
  }
}

}  // namespace

// Copies descriptors into the Schema's tree, each message and enum once (messages may be
// recursive: a message's node exists before its fields are filled).
struct SchemaBuilder {
  Schema& schema;
  std::unordered_map<const pb::Descriptor*, Message*> messages;
  std::unordered_map<const pb::EnumDescriptor*, const Enum*> enums;

  const Enum* enumeration(const pb::EnumDescriptor* d) {
    auto it = enums.find(d);
    if (it != enums.end()) return it->second;
    auto e = std::make_unique<Enum>();
    e->name = d->full_name();
    for (int i = 0; i < d->value_count(); ++i)
      e->values.emplace_back(d->value(i)->number(), d->value(i)->name());
    const Enum* out = e.get();
    schema.enums.push_back(std::move(e));
    enums.emplace(d, out);
    return out;
  }

  const Message* message(const pb::Descriptor* d) {
    auto it = messages.find(d);
    if (it != messages.end()) return it->second;
    auto owned = std::make_unique<Message>();
    Message* m = owned.get();
    schema.all.push_back(std::move(owned));
    messages.emplace(d, m);
    m->name = d->full_name();
    static constexpr const char* kWrappers[] = {
        "google.protobuf.DoubleValue", "google.protobuf.FloatValue",  "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value", "google.protobuf.Int32Value",  "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",   "google.protobuf.StringValue", "google.protobuf.BytesValue"};
    if (m->name == "google.protobuf.Timestamp") m->special = Message::Special::kTimestamp;
    for (const char* w : kWrappers) {
      if (m->name == w) m->special = Message::Special::kWrapper;
    }
    uint32_t max_number = 0;
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* fd = d->field(i);
      if (fd->type() == pb::FieldDescriptor::TYPE_GROUP)
        refuse(fmt::format("field '{}' of {} is a group, which is not read", fd->name(), m->name));
      Field f;
      f.name = fd->name();
      f.number = static_cast<uint32_t>(fd->number());
      f.kind = kind_of(fd->type());
      f.repeated = fd->is_repeated();
      f.presence = !f.repeated && fd->has_presence();
      f.map = fd->is_map();
      if (f.kind == Kind::kMessage) f.message = message(fd->message_type());
      if (f.kind == Kind::kEnum) f.enumeration = enumeration(fd->enum_type());
      max_number = std::max(max_number, f.number);
      m->fields.push_back(std::move(f));
    }
    if (max_number < 1024 && m->fields.size() < 32768) {
      m->index_of_number.assign(max_number + 1, -1);
      for (size_t i = 0; i < m->fields.size(); ++i)
        m->index_of_number[m->fields[i].number] = static_cast<int16_t>(i);
    }
    for (int i = 0; i < d->nested_type_count(); ++i)
      m->nested.push_back(message(d->nested_type(i)));
    return m;
  }
};

std::shared_ptr<const Schema> Schema::parse(std::string_view text) {
  pb::FileDescriptorProto file;
  Errors errors;
  // A registry may serve the FileDescriptorProto a client registered, in base64 (which .proto
  // source, with its spaces and semicolons, never is).
  std::string bytes;
  if (!types::decode_base64(text, bytes) || !file.ParseFromString(bytes) ||
      file.message_type_size() == 0) {
    file.Clear();
    pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
    pb::io::Tokenizer tokens(&in, &errors);
    pb::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (text.size() > INT32_MAX || !parser.Parse(&tokens, &file))
      refuse(errors.first.empty() ? "not .proto source" : errors.first);
  }
  if (file.name().empty()) file.set_name("sluice_schema.proto");
  pb::DescriptorPool pool;
  for (const std::string& dep : file.dependency())
    add_well_known(dep, pool);
  errors.first.clear();
  const pb::FileDescriptor* fd = pool.BuildFileCollectingErrors(file, &errors);
  if (fd == nullptr) refuse(errors.first.empty() ? "it does not build" : errors.first);
  if (fd->message_type_count() == 0) refuse("it declares no message");
  auto schema = std::make_shared<Schema>();
  SchemaBuilder b{*schema, {}, {}};
  for (int i = 0; i < fd->message_type_count(); ++i)
    schema->top_.push_back(b.message(fd->message_type(i)));
  return schema;
}

bool list_wrapper(const Message& m) {
  return m.special == Message::Special::kNone && m.fields.size() == 1 && m.fields[0].number == 1 &&
         m.fields[0].repeated;
}

namespace {

bool readable_message(const Message& m, DataType t) {
  if (m.special == Message::Special::kTimestamp) return t.id == TypeId::kTimestamp;
  if (m.special == Message::Special::kWrapper) return readable(entry_field(m, 1), t);
  if (t.id == TypeId::kArray || t.id == TypeId::kMap)
    return list_wrapper(m) && readable(m.fields[0], t);
  if (t.id != TypeId::kStruct) return false;
  // (t's depth is finite, so recursive messages end here.)
  const auto& fields = t.fields();
  std::vector<int32_t> to = match_names(
      m.fields.size(), [&](size_t w) -> const std::string& { return m.fields[w].name; },
      fields.size(), [&](size_t i) -> const std::string& { return fields[i].name; });
  for (size_t w = 0; w < m.fields.size(); ++w) {
    if (to[w] >= 0 && !readable(m.fields[w], fields[static_cast<size_t>(to[w])].type)) return false;
  }
  return true;
}

}  // namespace

bool readable(const Field& f, DataType t, bool element) {
  TypeId id = t.id;
  if (f.map && !element) {
    Kind key = entry_field(*f.message, 1).kind;
    return id == TypeId::kMap && (key == Kind::kString || key == Kind::kBool || is_integer(key)) &&
           readable(entry_field(*f.message, 2), t.element());
  }
  if (f.repeated && !element) return id == TypeId::kArray && readable(f, t.element(), true);
  switch (f.kind) {
    case Kind::kDouble:
    case Kind::kFloat:
      return id == TypeId::kDouble;
    case Kind::kBool:
      return id == TypeId::kBoolean;
    case Kind::kString:
      return id == TypeId::kString || id == TypeId::kDecimal;
    case Kind::kBytes:
      return id == TypeId::kBytes;
    case Kind::kEnum:
      return id == TypeId::kString || id == TypeId::kBigInt;
    case Kind::kMessage:
      return readable_message(*f.message, t);
    default:
      return id == TypeId::kBigInt || id == TypeId::kInterval || id == TypeId::kTimestamp ||
             id == TypeId::kDouble || id == TypeId::kDecimal || id == TypeId::kDate ||
             id == TypeId::kTime;
  }
}

}  // namespace sluice::format::protobuf
