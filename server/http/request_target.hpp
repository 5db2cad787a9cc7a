#pragma once
// Pieces of an HTTP request target and header names: case-insensitive comparison and the
// percent-decoded segments of an absolute path. Stateless; any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::http {

// ASCII case-insensitive equality (header names).
bool iequals(std::string_view a, std::string_view b);

// "/jobs/a%20b" -> {"jobs", "a b"}; "/" -> {""}. `path` starts with '/'. nullopt on a malformed
// percent escape.
std::optional<std::vector<std::string>> decode_path(std::string_view path);

}  // namespace sluice::server::http
