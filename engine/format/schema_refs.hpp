#pragma once
// Schema references (Confluent's Schema Registry, and those compatible with it): a schema may use
// types another subject's schema defines. The registry names each reference (an Avro type's full
// name, the file name a .proto `import` gives) and its subject and version; the client fetches
// them and hands the texts to the parser with the schema.

#include <string>
#include <vector>

namespace sluice::format {

struct SchemaReference {
  std::string name;  // as the referring schema uses it: "shop.Customer", "shop/common.proto"
  std::string text;  // the referenced schema, as the registry serves it
};
// Each reference after those it refers to itself.
using SchemaReferences = std::vector<SchemaReference>;

}  // namespace sluice::format
