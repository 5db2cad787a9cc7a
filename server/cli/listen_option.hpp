#pragma once
// `--http-listen HOST:PORT` of `sluice serve` and `sluice demo`: as the server config's
// `http.listen` (host name, IPv4, or [IPv6]), except that port 0 is allowed and means any free
// port. A pure function; any thread.

#include "config/server_config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace sluice::server {

// The address, or nullopt with `error` saying what is wrong.
std::optional<config::HttpListen> parse_listen_option(std::string_view text, std::string* error);

}  // namespace sluice::server
