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

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace sluice::format::protobuf {

namespace pb = google::protobuf;
using types::DataType;
using types::TypeId;

const std::string* Enum::name_of(int32_t number) const {
  auto it = std::lower_bound(by_number.begin(), by_number.end(), number,
                             [](const auto& e, int32_t n) { return e.first < n; });
  if (it == by_number.end() || it->first != number) return nullptr;
  return &values[static_cast<size_t>(it->second)].second;
}

namespace {

const char* kind_name(Kind k) {
  static constexpr const char* kNames[] = {"double",   "float",    "int64",  "uint64",  "int32",
                                           "uint32",   "sint32",   "sint64", "fixed32", "fixed64",
                                           "sfixed32", "sfixed64", "bool",   "string",  "bytes",
                                           "enum",     "message",  "group"};
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
  auto it = std::lower_bound(by_number.begin(), by_number.end(), number,
                             [](const auto& e, uint32_t n) { return e.first < n; });
  return it != by_number.end() && it->first == number ? it->second : -1;
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
        fmt::format("it imports \"{}\", which is neither among its schema references nor one of "
                    "Protobuf's well-known types (google/protobuf/*.proto)",
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
    case pb::FieldDescriptor::TYPE_GROUP:
      return Kind::kGroup;
    default:
      return Kind::kMessage;
  }
}

}  // namespace

// Whether `m` has the shape of a well-known type, so that a schema's own message of that name
// (package google.protobuf, nothing imported) is read as an ordinary one.
bool timestamp_shaped(const Message& m) {
  return m.fields.size() == 2 && m.find(1) >= 0 && m.find(2) >= 0 &&
         m.fields[static_cast<size_t>(m.find(1))].kind == Kind::kInt64 &&
         m.fields[static_cast<size_t>(m.find(2))].kind == Kind::kInt32 && !m.fields[0].repeated &&
         !m.fields[1].repeated;
}

// The kind of `value` a wrapper type holds, or no wrapper.
std::optional<Kind> wrapper_kind(const std::string& name) {
  static constexpr std::pair<const char*, Kind> kWrappers[] = {
      {"google.protobuf.DoubleValue", Kind::kDouble},
      {"google.protobuf.FloatValue", Kind::kFloat},
      {"google.protobuf.Int64Value", Kind::kInt64},
      {"google.protobuf.UInt64Value", Kind::kUInt64},
      {"google.protobuf.Int32Value", Kind::kInt32},
      {"google.protobuf.UInt32Value", Kind::kUInt32},
      {"google.protobuf.BoolValue", Kind::kBool},
      {"google.protobuf.StringValue", Kind::kString},
      {"google.protobuf.BytesValue", Kind::kBytes}};
  for (const auto& [n, k] : kWrappers) {
    if (name == n) return k;
  }
  return std::nullopt;
}

// Copies descriptors into the Schema's tree, each message and enum once. Messages are made first
// and filled from a worklist (not by recursion: a chain of message types may be long, and
// messages may be recursive).
struct SchemaBuilder {
  Schema& schema;
  std::unordered_map<const pb::Descriptor*, Message*> messages;
  std::unordered_map<const pb::EnumDescriptor*, const Enum*> enums;
  std::vector<std::pair<const pb::Descriptor*, Message*>> to_fill;

  const Enum* enumeration(const pb::EnumDescriptor* d) {
    auto it = enums.find(d);
    if (it != enums.end()) return it->second;
    auto e = std::make_unique<Enum>();
    e->name = d->full_name();
    for (int i = 0; i < d->value_count(); ++i) {
      e->values.emplace_back(d->value(i)->number(), d->value(i)->name());
      e->by_number.emplace_back(d->value(i)->number(), i);
    }
    // Sorted by number, the first declared first (aliases share a number).
    std::stable_sort(e->by_number.begin(), e->by_number.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const Enum* out = e.get();
    schema.enums.push_back(std::move(e));
    enums.emplace(d, out);
    return out;
  }

  // The node of `d`, made (empty, to be filled) when new.
  Message* node(const pb::Descriptor* d) {
    auto it = messages.find(d);
    if (it != messages.end()) return it->second;
    auto owned = std::make_unique<Message>();
    Message* m = owned.get();
    schema.all.push_back(std::move(owned));
    messages.emplace(d, m);
    m->name = d->full_name();
    to_fill.emplace_back(d, m);
    return m;
  }

  void fill(const pb::Descriptor* d, Message& m) {
    uint32_t max_number = 0;
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* fd = d->field(i);
      Field f;
      f.name = fd->name();
      f.number = static_cast<uint32_t>(fd->number());
      f.kind = kind_of(fd->type());
      f.repeated = fd->is_repeated();
      f.presence = !f.repeated && fd->has_presence();
      f.map = fd->is_map();
      if (const pb::OneofDescriptor* o = fd->real_containing_oneof()) f.oneof = o->index();
      if (f.kind == Kind::kMessage) f.message = node(fd->message_type());
      if (f.kind == Kind::kEnum) f.enumeration = enumeration(fd->enum_type());
      max_number = std::max(max_number, f.number);
      m.fields.push_back(std::move(f));
    }
    m.oneofs = static_cast<uint32_t>(d->real_oneof_decl_count());
    for (size_t i = 0; i < m.fields.size(); ++i)
      m.by_number.emplace_back(m.fields[i].number, static_cast<int32_t>(i));
    std::sort(m.by_number.begin(), m.by_number.end());
    if (max_number < 1024 && m.fields.size() < 32768) {
      m.index_of_number.assign(max_number + 1, -1);
      for (size_t i = 0; i < m.fields.size(); ++i)
        m.index_of_number[m.fields[i].number] = static_cast<int16_t>(i);
    }
    for (int i = 0; i < d->nested_type_count(); ++i)
      m.nested.push_back(node(d->nested_type(i)));
    if (m.name == "google.protobuf.Timestamp" && timestamp_shaped(m)) {
      m.special = Message::Special::kTimestamp;
    } else if (std::optional<Kind> k = wrapper_kind(m.name);
               k && m.fields.size() == 1 && m.fields[0].number == 1 && m.fields[0].kind == *k &&
               !m.fields[0].repeated) {
      m.special = Message::Special::kWrapper;
    }
  }

  void fill_all() {
    for (size_t i = 0; i < to_fill.size(); ++i)  // fill() may add more
      fill(to_fill[i].first, *to_fill[i].second);
  }
};

// Custom options (an extension of descriptor.proto's options) are of no use to sluice, and
// libprotobuf parses their aggregate values by unbounded recursion: they are dropped before the
// file is built. Standard options (packed, deprecated, ...) stay.
void drop_custom_options(pb::Message& m, int depth = 0) {
  if (depth > 200) return;  // a FileDescriptorProto from ParseFromString nests at most 100 deep
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  if (const pb::FieldDescriptor* u = d->FindFieldByName("uninterpreted_option");
      u != nullptr && u->is_repeated() && u->message_type() != nullptr &&
      u->message_type()->full_name() == "google.protobuf.UninterpretedOption") {
    int kept = 0;
    for (int i = 0; i < r->FieldSize(m, u); ++i) {
      const auto& option =
          static_cast<const pb::UninterpretedOption&>(r->GetRepeatedMessage(m, u, i));
      bool custom = false;
      for (const auto& part : option.name())
        custom |= part.is_extension();
      if (!custom) r->SwapElements(&m, u, kept++, i);
    }
    while (r->FieldSize(m, u) > kept)
      r->RemoveLast(&m, u);
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(m, f); ++j)
        drop_custom_options(*r->MutableRepeatedMessage(&m, f, j), depth + 1);
    } else if (r->HasField(m, f)) {
      drop_custom_options(*r->MutableMessage(&m, f), depth + 1);
    }
  }
}

// The deepest nesting of `{` in .proto source (outside strings and comments): libprotobuf's
// parser recurses once per level, and its memory grows with the square of the depth.
size_t brace_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else if (c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace {

// The file of a schema's text: .proto source, or a base64 FileDescriptorProto (what a registry
// may serve for a client that registered one; .proto source, with its spaces and semicolons, never
// is base64), without its custom options.
pb::FileDescriptorProto file_of(std::string_view text, Errors& errors) {
  pb::FileDescriptorProto file;
  std::string bytes;
  if (!types::decode_base64(text, bytes) || !file.ParseFromString(bytes) ||
      (file.message_type_size() == 0 && file.enum_type_size() == 0)) {
    file.Clear();
    if (brace_depth(text) > static_cast<size_t>(kMaxDepth))
      refuse(fmt::format("blocks nested over {} deep", kMaxDepth));
    pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
    pb::io::Tokenizer tokens(&in, &errors);
    pb::compiler::Parser parser;
    parser.RecordErrorsTo(&errors);
    if (text.size() > INT32_MAX || !parser.Parse(&tokens, &file))
      refuse(errors.first.empty() ? "not .proto source" : errors.first);
  }
  drop_custom_options(file);
  return file;
}

// Builds import `name` into `pool` (after its own imports): a well-known type, or a reference.
// `depth` bounds import chains (a cycle among references too).
void add_import(const std::string& name, const SchemaReferences& references,
                pb::DescriptorPool& pool, int depth) {
  if (pool.FindFileByName(name) != nullptr) return;
  auto ref = std::find_if(references.begin(), references.end(),
                          [&](const SchemaReference& r) { return r.name == name; });
  if (ref == references.end()) return add_well_known(name, pool);
  if (depth > kMaxDepth) refuse(fmt::format("imports nested over {} deep", kMaxDepth));
  Errors errors;
  pb::FileDescriptorProto file = file_of(ref->text, errors);
  file.set_name(name);
  for (const std::string& dep : file.dependency())
    add_import(dep, references, pool, depth + 1);
  if (pool.BuildFileCollectingErrors(file, &errors) == nullptr) {
    refuse(fmt::format("the imported \"{}\": {}", name,
                       errors.first.empty() ? "it does not build" : errors.first));
  }
}

}  // namespace

std::shared_ptr<const Schema> Schema::parse(std::string_view text,
                                            const SchemaReferences& references) {
  Errors errors;
  pb::FileDescriptorProto file = file_of(text, errors);
  if (file.name().empty()) file.set_name("sluice_schema.proto");
  pb::DescriptorPool pool;
  for (const std::string& dep : file.dependency())
    add_import(dep, references, pool, 1);
  errors.first.clear();
  const pb::FileDescriptor* fd = pool.BuildFileCollectingErrors(file, &errors);
  if (fd == nullptr) refuse(errors.first.empty() ? "it does not build" : errors.first);
  if (fd->message_type_count() == 0) refuse("it declares no message");
  auto schema = std::make_shared<Schema>();
  SchemaBuilder b{*schema, {}, {}, {}};
  for (int i = 0; i < fd->message_type_count(); ++i)
    schema->top_.push_back(b.node(fd->message_type(i)));
  b.fill_all();
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
    case Kind::kGroup:
      return false;
    case Kind::kMessage:
      return readable_message(*f.message, t);
    default:
      return id == TypeId::kBigInt || id == TypeId::kInterval || id == TypeId::kTimestamp ||
             id == TypeId::kDouble || id == TypeId::kDecimal || id == TypeId::kDate ||
             id == TypeId::kTime;
  }
}

}  // namespace sluice::format::protobuf
