#pragma once
// Whether a schema a registry holds is the one sluice writes values for: a sink configured with a
// schema id frames its values with that id only when the schema behind it is its own output
// schema, so that readers decode exactly what was written. Stateless; any thread.

#include "format/schema_refs.hpp"

#include <string>
#include <string_view>

namespace sluice::format {

// Why `text` (of registry type `type`: "AVRO", "PROTOBUF", "JSON", with its references) is not the
// schema `ours` of that type; empty when it is. Avro: the same types, full names, fields (by name,
// in order), symbols and logical types (documentation, defaults and aliases aside, as Avro's
// Parsing Canonical Form has it). Protobuf: the first message the same, field by field (names,
// numbers, types, repeated, map and presence), its nested messages and enums too. JSON Schema: the
// same JSON once minified. Names the first difference met, with its path.
std::string schema_difference(std::string_view type, std::string_view text,
                              const SchemaReferences& references, std::string_view ours);

}  // namespace sluice::format
