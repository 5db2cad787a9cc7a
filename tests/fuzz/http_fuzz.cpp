// Fuzz target `http`: the daemon's HTTP port. The input is the bytes a client sends on one
// connection. They are parsed by Boost.Beast's request parser with the server's limits, one
// request after another while the client keeps the connection alive, as a connection of
// server::http::HttpServer reads them; each request is served as a connection serves it
// (server::http::serve: the request guard, then routing) by the
// daemon's admin routes (add_admin_routes over a fixed status source, add_job_admin_routes over
// a JobManager that is never started) and its response is serialised as the connection writes it.
// The admin token is "fuzz-token" (the dictionary has it); posted jobs are checked for real, and
// writing one fails (the jobs directory is /dev/null), so nothing touches the disk.
//
// Checked for every request: every response has a known status; a JSON response body is valid
// JSON; the serialised response parses back with the same status and body.

#include "config/server_config.hpp"
#include "server/http/admin_api.hpp"
#include "server/http/http_message.hpp"
#include "server/http/http_server.hpp"
#include "server/http/job_admin.hpp"
#include "server/jobs/job_manager.hpp"
#include "server/status/job_status.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_json.hpp"

namespace {

using namespace sluice;
namespace bhttp = boost::beast::http;
using server::http::Response;

constexpr size_t kMaxRequests = 8;

std::vector<server::JobStatus> fake_status() {
  std::vector<server::JobStatus> jobs(3);
  jobs[0].name = "trades-agg";
  jobs[0].file = "/jobs/trades-agg.yaml";
  jobs[0].sql = "SELECT symbol, COUNT(*) FROM trades GROUP BY symbol";
  jobs[0].source_topic = "trades";
  jobs[0].sink_topic = "trades-agg";
  jobs[0].state = server::JobState::kRunning;
  jobs[0].counts.records_in = 1000;
  jobs[0].latency[40] = 7;
  for (int32_t p = 0; p < 2; ++p) {
    server::PartitionStatus ps;
    ps.topic = "trades";
    ps.partition = p;
    ps.position = 500;
    ps.high_watermark = 510;
    ps.lag = 10;
    ps.watermark = 1700000000000;
    jobs[0].partitions.push_back(ps);
  }
  jobs[1].name = "bad \"job\" \xc3\xa9\n";
  jobs[1].file = "/jobs/bad.yaml";
  jobs[1].state = server::JobState::kInvalid;
  jobs[1].error = "jobs/bad.yaml:1:1: name: \x01 control\tcharacters";
  jobs[2].name = "paused";
  jobs[2].state = server::JobState::kRunning;
  jobs[2].paused = true;
  jobs[2].kafka_reachable = false;
  return jobs;
}

// The daemon's routes, built once: the server is read-only after its routes are registered.
struct Daemon {
  Daemon() : manager(io, config, {}), http(io) {
    spdlog::set_level(spdlog::level::off);  // handlers log every refused call
    config.jobs_dir = "/dev/null";
    auto jobs = fake_status();
    server::http::add_admin_routes(
        http, [jobs] { return jobs; }, [] { return true; });
    server::http::add_job_admin_routes(http, manager, {"fuzz-token", false});
  }
  boost::asio::io_context io;
  config::ServerConfig config;
  server::JobManager manager;
  server::http::HttpServer http;
};

void check_response(server::http::BeastResponse r) {
  static const unsigned kStatuses[] = {200, 201, 202, 400, 401, 403, 404, 405,
                                       409, 413, 415, 421, 431, 500, 503};
  unsigned status = r.result_int();
  FUZZ_CHECK(std::find(std::begin(kStatuses), std::end(kStatuses), status) != std::end(kStatuses),
             std::to_string(status));
  // A handler that throws is a bug (dispatch answers it with a 500 "internal error: ...").
  FUZZ_CHECK(!(status == 500 && r.body().starts_with("{\"error\": \"internal error")), r.body());
  if (r[bhttp::field::content_type] == "application/json")
    FUZZ_CHECK(fuzz::valid_json(r.body()), r.body());
  std::ostringstream out;
  out << r;
  std::string wire = out.str();
  bhttp::response_parser<bhttp::string_body> back;
  back.eager(true);
  boost::system::error_code ec;
  size_t used = back.put(boost::asio::buffer(wire), ec);
  FUZZ_CHECK(!ec && back.is_done() && used == wire.size(), wire);
  FUZZ_CHECK(back.get().result_int() == status && back.get().body() == r.body(), wire);
}

void check_error(int status, std::string_view message) {
  check_response(server::http::to_beast_response(Response::error(status, message), false));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Daemon* daemon = new Daemon();  // never destroyed: outlives every input
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  server::http::HttpServerOptions limits;
  for (size_t n = 0; n < kMaxRequests && !rest.empty(); ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    parser.body_limit(static_cast<uint64_t>(limits.max_body_bytes));
    parser.eager(true);
    boost::system::error_code ec;
    // As a connection reads: everything the client sent is in the buffer, and when the parser
    // can make no more progress the client has closed the connection. Like Beast's read loop,
    // the parser never gets bytes it asked more for again without more after them (it asserts
    // so): everything is here already, so the client has closed the connection.
    while (!parser.is_done()) {
      size_t used =
          rest.empty() ? 0 : parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(used);
      if (ec == bhttp::error::need_more || (!ec && used == 0)) {
        ec = {};
        parser.put_eof(ec);
        break;
      }
      if (ec) break;
    }
    if (ec == bhttp::error::header_limit) {
      check_error(431, "request headers too large");
      return 0;
    }
    if (ec == bhttp::error::body_limit) {
      check_error(413, "request body too large");
      return 0;
    }
    // A client that closed the connection in the middle of a request just goes.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
    if (ec) {
      check_error(400, fmt::format("bad request: {}", ec.message()));
      return 0;
    }
    if (!parser.is_done()) return 0;
    server::http::BeastResponse r = server::http::serve(daemon->http, parser.release());
    bool keep_alive = r.keep_alive();
    check_response(std::move(r));
    if (!keep_alive) return 0;
  }
  return 0;
}
