// `agentos projection check`: the drift between a store and its Paperclip projection
// (runtime/projection/drift.hpp). Two ways to reach the store, because a store is opened by one
// process at a time (agentos.lock):
//   --data DIR --paperclip URL   a stopped server's data directory, read here;
//   --url URL --token TOKEN      a running server, which checks with its own projection settings
//                                (POST /api/projection/check, operators only) and sends the report.
#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "commands.hpp"
#include "runtime/projection/drift.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

using nlohmann::json;
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

struct projection_options {
  std::string data;
  std::string paperclip;
  std::string url;
  std::string token;
  std::string format = "text";
};

int print_report(const runtime::projection::drift_report& r, const std::string& format) {
  if (format == "json")
    std::cout << r.to_json().dump(2) << "\n";
  else
    std::cout << r.to_text();
  return r.clean() ? exit_ok : exit_findings;
}

int check_data(const projection_options& o) {
  std::string error;
  const auto url = runtime::projection::parse_base_url(o.paperclip, error);
  if (!url) {
    print_error("request.invalid", "--paperclip: " + error);
    return exit_usage;
  }
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  runtime::projection::paperclip_client client(*url);
  const auto result = runtime::projection::check_drift(*store, client);
  if (result.error) {
    print_error(result.error->code, result.error->message);
    return exit_usage;
  }
  return print_report(*result.report, o.format);
}

// The running server's report: one POST with the bearer token, over plain HTTP (serve listens on
// loopback or behind a proxy that terminates TLS).
int check_url(const projection_options& o) {
  std::string error;
  const auto url = runtime::projection::parse_base_url(o.url, error);
  if (!url) {
    print_error("request.invalid", "--url: " + error);
    return exit_usage;
  }
  http::response<http::string_body> res;
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    // The server checks Paperclip while the client waits; each Paperclip call is bounded.
    stream.expires_after(std::chrono::seconds(120));
    stream.connect(resolver.resolve(url->host, url->port));
    http::request<http::string_body> req{http::verb::post, "/api/projection/check", 11};
    req.set(http::field::host, url->host_header);
    req.set(http::field::authorization, "Bearer " + o.token);
    req.set(http::field::content_type, "application/json");
    req.body() = "{}";
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::size_t{64} << 20);
    http::read(stream, buffer, parser);
    res = parser.release();
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const beast::system_error& e) {
    print_error("request.unreachable", url->text + ": " + e.code().message());
    return exit_usage;
  }
  const json body = json::parse(res.body(), nullptr, false);
  if (res.result_int() != 200 || !body.is_object()) {
    const json& err = body.is_object() && body.contains("error") ? body["error"] : json();
    print_error(err.is_object() ? text_field(err, "code") : "request.failed",
                err.is_object() ? text_field(err, "message") : "HTTP " + std::to_string(res.result_int()));
    return exit_usage;
  }
  if (o.format == "json") {
    std::cout << body.dump(2) << "\n";
  } else {
    for (const auto& f : field(body, "findings"))
      std::cout << "drift[" << text_field(f, "kind") << "]: " << text_field(f, "message") << "\n";
    std::cout << "projection: " << field(body, "tasks").get<std::uint64_t>() << " tasks, "
              << field(body, "issues").get<std::uint64_t>() << " issues, " << field(body, "agents").get<std::uint64_t>()
              << " agents, " << field(body, "findings").size()
              << (field(body, "findings").size() == 1 ? " difference" : " differences") << "\n";
  }
  return field(body, "clean") == true ? exit_ok : exit_findings;
}

int run_check(const projection_options& o) {
  if (o.format != "text" && o.format != "json") {
    print_error("request.invalid", "--format must be text or json");
    return exit_usage;
  }
  const bool local = !o.data.empty() || !o.paperclip.empty();
  const bool remote = !o.url.empty() || !o.token.empty();
  if (local == remote || (local && (o.data.empty() || o.paperclip.empty())) ||
      (remote && (o.url.empty() || o.token.empty()))) {
    print_error("request.invalid",
                "give either --data DIR --paperclip URL (a stopped server's data) or --url URL --token TOKEN "
                "(a running server)");
    return exit_usage;
  }
  return local ? check_data(o) : check_url(o);
}

}  // namespace

void register_projection(CLI::App& app, command_result& result) {
  auto* projection = app.add_subcommand("projection", "The Paperclip projection of a store");
  projection->require_subcommand(1);
  projection->footer("See `agentos projection COMMAND --help`, docs/cli.md and docs/paperclip.md.");
  auto o = std::make_shared<projection_options>();
  auto* cmd = projection->add_subcommand(
      "check", "Report drift between the store and Paperclip: issues, statuses, assignees, agents");
  cmd->add_option("--data", o->data, "A data directory no server has open (with --paperclip)");
  cmd->add_option("--paperclip", o->paperclip, "Paperclip's base URL, e.g. http://127.0.0.1:3100 (with --data)");
  cmd->add_option("--url", o->url, "A running `agentos serve --paperclip ...`, e.g. http://127.0.0.1:8080 (with --token)");
  cmd->add_option("--token", o->token, "An operator's bearer token for --url");
  cmd->add_option("--format", o->format, "Output: text or json")->capture_default_str();
  cmd->footer(
      "A store is open in one process at a time: while `agentos serve` runs, ask it (--url, --token);\n"
      "otherwise read the data directory (--data, --paperclip).\n"
      "Exit status: 0 when both sides agree; 1 when there is drift (each difference is printed); 2 on\n"
      "usage errors, no store, a store error, or Paperclip (or the server) unreachable.");
  cmd->callback([o, &result] { result.exit_code = run_check(*o); });
}

}  // namespace agentos::cli
