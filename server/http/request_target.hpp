#pragma once
// The percent-decoded segments of a request target's absolute path. Stateless; any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::server::http {

// "/jobs/a%20b" -> {"jobs", "a b"}; "/" -> {""}. `path` starts with '/'. nullopt on a malformed
// percent escape.
std::optional<std::vector<std::string>> decode_path(std::string_view path);

}  // namespace sluice::server::http
