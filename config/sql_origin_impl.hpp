#pragma once
// Builds the map from positions in a job's SQL text to positions in its YAML file.

#include "config/job_config.hpp"

#include <string_view>

namespace sluice::config {

// `value_mark` is yaml-cpp's position of the `sql:` value: the indicator of a block scalar, the
// opening quote of a quoted one, the first character of a plain one. `file_text` is the whole file.
SqlOrigin make_sql_origin(std::string_view file_text, Mark value_mark, std::string_view sql);

}  // namespace sluice::config
