#pragma once
// The seam between Boost.Beast and the routes: `serve` takes a request Beast has parsed and
// returns the response a connection writes, doing exactly what a connection does in between
// (`to_request`, `HttpServer::dispatch` with its checks and routing, `to_beast_response`). A
// request fuzzer can drive it without a socket: parse bytes with a
// `request_parser<string_body>`, then `serve(server, parser.release())`.
//
// Pure functions over their arguments; `serve` is as thread-safe as the server's handlers.

#include "server/http/http_server.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace sluice::server::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Method, target, headers and body (moved out of `message`); `path`, `query` and `params` are
// filled by dispatch.
Request to_request(BeastRequest&& message);
// HTTP/1.1 with `Server: sluice`, `X-Content-Type-Options: nosniff`, the content type, the extra
// headers and Content-Length.
BeastResponse to_beast_response(Response response, bool keep_alive);
// One parsed request, answered: keep-alive as the request asks.
BeastResponse serve(const HttpServer& server, BeastRequest&& message);

}  // namespace sluice::server::http
