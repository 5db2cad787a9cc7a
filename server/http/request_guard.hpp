#pragma once
// Refusing what a web page can make a browser send to the admin port. Any page the operator
// visits can send requests to 127.0.0.1:9464: it cannot read the answers (no CORS headers are
// ever sent), but a "simple" cross-origin request (GET, or a POST with a text/plain, form or
// multipart body) goes out without a preflight and would still change state; and through DNS
// rebinding (a name of the attacker's that first resolves to its server, then to 127.0.0.1) the
// page can even read the answers. `HttpServer::dispatch` runs these checks before any route:
//
// - `check_loopback_host`, on a server listening on a loopback address: the Host header (when
//   present) must name loopback (`localhost`, 127.0.0.0/8, `[::1]`; any port, so tunnels and
//   `kubectl port-forward` to another local port work), else 421. A rebound name fails this on
//   every route, reads included. Not applied to a server listening beyond loopback: there the
//   names clients use (a Service, a pod IP, a load balancer) are unknown, and such a server has
//   a bearer token for every mutating call, which a page cannot add.
// - `check_cross_site`, for every method but GET, HEAD and OPTIONS: 403 when `Sec-Fetch-Site` is
//   `cross-site` or `same-site` (another port of localhost is the same site), or when `Origin` is
//   present and is not `http(s)://` + the Host header; 415 when the request has a CORS-simple
//   content type (text/plain, application/x-www-form-urlencoded, multipart/form-data) or a body
//   without a content type. curl, `sluice status`, Prometheus and probes send no Origin.
//
// Pure functions; any thread.

#include "server/http/http_server.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::server::http {

// The media type of a Content-Type value: lower case, without parameters or spaces.
std::string media_type(std::string_view content_type);

// Whether a Host header value names loopback: localhost, an IPv4 address in 127.0.0.0/8 or
// [::1], with an optional :PORT.
bool is_loopback_authority(std::string_view host);

// nullopt when the request may proceed; else the response to send.
std::optional<Response> check_loopback_host(const Request& request);
std::optional<Response> check_cross_site(const Request& request);

// 415 (with `Accept-Post`) unless the request's media type is one of `accepted`. `hint` ends the
// message (e.g. how to send the right header with curl).
std::optional<Response> require_media_type(const Request& request,
                                           std::initializer_list<std::string_view> accepted,
                                           std::string_view hint);

}  // namespace sluice::server::http
