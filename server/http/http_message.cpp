#include "server/http/http_message.hpp"

namespace sluice::server::http {

namespace bhttp = boost::beast::http;

Request to_request(BeastRequest&& message) {
  Request req;
  req.method = std::string(message.method_string());
  req.target = std::string(message.target());
  for (const auto& f : message)
    req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  req.body = std::move(message.body());
  return req;
}

BeastResponse to_beast_response(Response r, bool keep_alive) {
  BeastResponse res;
  res.version(11);
  res.result(static_cast<unsigned>(r.status));
  res.set(bhttp::field::server, "sluice");
  res.set(bhttp::field::content_type, r.content_type);
  // A browser must not read a JSON error (which may echo request text) as HTML.
  res.set("X-Content-Type-Options", "nosniff");
  for (auto& [k, v] : r.headers)
    res.set(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

BeastResponse serve(const HttpServer& server, BeastRequest&& message) {
  bool keep_alive = message.keep_alive();
  Request req = to_request(std::move(message));
  return to_beast_response(server.dispatch(req), keep_alive);
}

}  // namespace sluice::server::http
