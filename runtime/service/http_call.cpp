#include "runtime/service/http_call.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace agentos::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

http_reply call_once(const http_call& call, const std::stop_token& stop) {
  http_reply out;
  const http::verb method = http::string_to_verb(call.method);
  if (method == http::verb::unknown) {
    out.error = "send: unknown method " + call.method;
    return out;
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{method, call.target, 11};
  req.set(http::field::host, call.host_header);
  for (const auto& [name, value] : call.headers) req.set(name, value);
  req.keep_alive(false);
  req.body() = call.body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(call.answer_limit);

  bool done = false;
  auto finish = [&](beast::error_code ec, const char* step) {
    done = true;
    if (ec) {
      out.error = std::string(step) + ": " + ec.message();
      return;
    }
    out.status = parser.get().result_int();
    out.body = std::move(parser.get().body());
  };
  stream.expires_after(call.timeout);
  resolver.async_resolve(call.host, call.port, [&](beast::error_code ec, const tcp::resolver::results_type& found) {
    if (ec) return finish(ec, "resolve");
    stream.async_connect(found, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return finish(ec, "connect");
      http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
        if (ec) return finish(ec, "send");
        http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { finish(ec, "answer"); });
      });
    });
  });
  const std::stop_callback abandon(stop, [&] { ioc.stop(); });
  ioc.run_for(call.timeout + std::chrono::seconds(1));  // the stream's timer does not cover name resolution
  if (!done) {
    out.abandoned = stop.stop_requested();
    if (!out.abandoned) out.error = "no answer within " + std::to_string(call.timeout.count()) + " ms";
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace agentos::runtime
