#include "runtime/projection/paperclip_client.hpp"

#include <algorithm>
#include <functional>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace agentos::runtime::projection {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t header_limit = 64 * 1024;  // Paperclip (Express) sends a dozen short headers
constexpr std::size_t frame_limit = 16 * 1024 * 1024;
// Beast pings after this much silence and drops the connection after twice as much; Paperclip
// itself pings every 30 s, so a live server is never idle that long.
constexpr std::chrono::seconds ws_idle{30};

client_error make_error(client_errc kind, std::string message, unsigned status = 0, json body = nullptr) {
  client_error e;
  e.kind = kind;
  e.status = status;
  e.message = std::move(message);
  e.body = std::move(body);
  return e;
}

// Maps an Asio/Beast failure of step `step` ("connect", "send", ...) to the client's kinds.
client_error from_asio(beast::error_code ec, std::string_view what, std::string_view step) {
  std::string message = std::string(what) + ": " + std::string(step) + ": " + ec.message();
  if (ec == beast::error::timeout) return make_error(client_errc::timeout, std::move(message));
  if (ec == http::error::body_limit || ec == http::error::header_limit || ec == websocket::error::message_too_big ||
      (ec.category() == http::make_error_code(http::error::bad_version).category() &&
       ec != http::error::end_of_stream && ec != http::error::partial_message))
    return make_error(client_errc::bad_response, std::move(message));
  return make_error(client_errc::unreachable, std::move(message));
}

http::verb to_verb(std::string_view method) {
  if (method == "GET") return http::verb::get;
  if (method == "POST") return http::verb::post;
  if (method == "PUT") return http::verb::put;
  if (method == "PATCH") return http::verb::patch;
  if (method == "DELETE") return http::verb::delete_;
  return http::verb::unknown;
}

// A connection that may have been closed by the server while it sat idle (Node closes idle
// keep-alive connections after 5 s): failing this way on a reused connection is retried once.
bool stale_connection(const client_error& e) { return e.kind == client_errc::unreachable; }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Paperclip reads "\n" written as two characters as a line break in multi-line text fields
// (normalizeEscapedLineBreaks); comparing what we would write with what it stored must do the same.
std::string normalise_breaks(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 'r')) {
      if (s[i + 1] == 'r' && i + 3 < s.size() && s[i + 2] == '\\' && s[i + 3] == 'n') i += 2;
      out.push_back('\n');
      ++i;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::string_view to_code(client_errc e) {
  switch (e) {
    case client_errc::unreachable: return "paperclip.unreachable";
    case client_errc::timeout: return "paperclip.timeout";
    case client_errc::bad_response: return "paperclip.bad_response";
    case client_errc::http: return "paperclip.http";
    case client_errc::cancelled: return "paperclip.cancelled";
  }
  return "paperclip.unreachable";
}

bool client_error::transient() const {
  switch (kind) {
    case client_errc::unreachable:
    case client_errc::timeout:
    case client_errc::cancelled: return true;
    case client_errc::bad_response: return false;
    case client_errc::http: return status >= 500 || status == 429 || status == 408;
  }
  return false;
}

std::optional<base_url> parse_base_url(std::string_view text, std::string& error) {
  auto bad = [&](std::string message) -> std::optional<base_url> {
    error = "`" + std::string(text) + "`: " + std::move(message);
    return std::nullopt;
  };
  if (text.size() > 2048) return bad("longer than 2048 bytes");
  for (const char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("contains a space or a control character");
  const auto colon = text.find("://");
  if (colon == std::string_view::npos) return bad("expected http://HOST:PORT");
  std::string scheme(text.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (scheme != "http") return bad("only http:// is supported (Paperclip serves plain HTTP on loopback)");
  std::string_view rest = text.substr(colon + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) return bad("expected no path, query or fragment");
  if (rest.find('@') != std::string_view::npos) return bad("must not carry credentials (user@host)");
  base_url out;
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address lacks its `]`");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (const auto c = rest.rfind(':'); c != std::string_view::npos) {
    host = rest.substr(0, c);
    port = rest.substr(c + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty()) return bad("no host");
  if (!port.empty()) {
    const bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
      return bad("the port must be a number from 1 to 65535");
    out.port = std::string(port);
  }
  out.host = std::string(host);
  out.host_header = std::string(rest);
  out.text = "http://" + std::string(rest);
  return out;
}

std::string path_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// ---- paperclip_client

// One io_context per connection: when a request is abandoned (timeout, interrupt) with its
// operations still pending, the whole connection is dropped, and destroying the io_context
// destroys those handlers without running them, so none outlives the call's stack frame.
struct paperclip_client::connection {
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;
};

namespace {
std::mutex& connection_mutex() {
  // Guards the swap of a client's connection against interrupt() on another thread; one mutex
  // for all clients is enough (both sides hold it only for a pointer swap or a stop()).
  static std::mutex m;
  return m;
}
}  // namespace

paperclip_client::paperclip_client(base_url url, client_options options)
    : m_url(std::move(url)), m_options(options), m_conn(std::make_unique<connection>()) {}

paperclip_client::~paperclip_client() = default;

void paperclip_client::interrupt() {
  m_interrupted = true;
  std::lock_guard lock(connection_mutex());
  if (m_conn) m_conn->ioc.stop();
}

void paperclip_client::resume() { m_interrupted = false; }

pc_result<answer> paperclip_client::attempt(std::string_view method, const std::string& target, const std::string* body,
                                            bool& reused) {
  const std::string what = std::string(method) + " " + target;
  connection* c = nullptr;
  {
    std::lock_guard lock(connection_mutex());
    c = m_conn.get();
    c->ioc.restart();
  }
  if (m_interrupted) return make_error(client_errc::cancelled, what + ": interrupted (the server is stopping)");
  reused = c->open;

  http::request<http::string_body> req{to_verb(method), "/api" + target, 11};
  req.set(http::field::host, m_url.host_header);
  req.set(http::field::user_agent, "agentos-projection");
  req.set(http::field::accept, "application/json");
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = *body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(m_options.body_limit);
  parser.header_limit(header_limit);

  bool done = false;
  std::optional<client_error> failed;
  auto finish = [&](beast::error_code ec, const char* step) {
    done = true;
    if (ec) failed = from_asio(ec, what, step);
  };
  // The answer is read in pieces, and the body's size checked after each, because Beast 1.74's
  // parser let a body over its body_limit through when reading from a stream (a test checks it).
  std::function<void(beast::error_code, std::size_t)> on_body = [&](beast::error_code ec, std::size_t) {
    if (ec) return finish(ec, "answer");
    if (parser.get().body().size() > m_options.body_limit) return finish(http::error::body_limit, "answer");
    if (parser.is_done()) return finish({}, "answer");
    http::async_read_some(c->stream, c->buffer, parser, on_body);
  };
  auto exchange = [&] {
    http::async_write(c->stream, req, [&](beast::error_code ec, std::size_t) {
      if (ec) return finish(ec, "send");
      http::async_read_header(c->stream, c->buffer, parser, [&](beast::error_code ec, std::size_t n) {
        if (ec) return finish(ec, "answer");
        if (const auto length = parser.content_length(); length && *length > m_options.body_limit)
          return finish(http::error::body_limit, "answer");
        on_body(ec, n);
      });
    });
  };
  c->stream.expires_after(m_options.timeout);
  if (c->open) {
    exchange();
  } else {
    c->buffer.clear();
    c->resolver.async_resolve(m_url.host, m_url.port, [&](beast::error_code ec, const tcp::resolver::results_type& found) {
      if (ec) return finish(ec, "resolve");
      c->stream.async_connect(found, [&](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return finish(ec, "connect");
        c->open = true;
        exchange();
      });
    });
  }
  // The stream's timer does not cover name resolution; the io_context's own bound does.
  c->ioc.run_for(m_options.timeout + std::chrono::milliseconds(500));

  auto drop = [&] {
    std::lock_guard lock(connection_mutex());
    m_conn = std::make_unique<connection>();
    if (m_interrupted) m_conn->ioc.stop();
  };
  if (!done) {
    const bool cancelled = m_interrupted.load();
    drop();
    if (cancelled) return make_error(client_errc::cancelled, what + ": interrupted (the server is stopping)");
    return make_error(client_errc::timeout,
                      what + ": no answer within " + std::to_string(m_options.timeout.count()) + " ms");
  }
  if (failed) {
    drop();
    return std::move(*failed);
  }
  auto& res = parser.get();
  if (!res.keep_alive()) {
    beast::error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->stream.close();
    c->open = false;
  }
  answer out;
  out.status = res.result_int();
  const std::string& text = res.body();
  if (!text.empty()) {
    out.body = json::parse(text, nullptr, false);
    if (out.body.is_discarded()) {
      if (out.status < 200 || out.status >= 300)  // a proxy's or a crashed server's HTML page
        return make_error(client_errc::http, what + ": HTTP " + std::to_string(out.status), out.status);
      return make_error(client_errc::bad_response, what + ": HTTP " + std::to_string(out.status) + " with a body that is not JSON");
    }
  }
  if (out.status < 200 || out.status >= 300) {
    std::string reason;
    if (out.body.is_object())
      if (const auto e = out.body.find("error"); e != out.body.end() && e->is_string()) reason = e->get<std::string>();
    return make_error(client_errc::http, what + ": HTTP " + std::to_string(out.status) + (reason.empty() ? "" : ": " + reason),
                      out.status, std::move(out.body));
  }
  return out;
}

pc_result<answer> paperclip_client::call(std::string_view method, std::string_view target, const std::optional<json>& body) {
  if (to_verb(method) == http::verb::unknown)
    return make_error(client_errc::bad_response, "unsupported method " + std::string(method));
  const std::string t(target);
  const std::string text = body ? dump(*body) : std::string();
  bool reused = false;
  auto first = attempt(method, t, body ? &text : nullptr, reused);
  if (first || !reused || !stale_connection(first.error())) return first;
  // The kept-alive connection was closed under us: one new connection, one more try.
  return attempt(method, t, body ? &text : nullptr, reused);
}

namespace {
pc_result<json> body_of(pc_result<answer> a) {
  if (!a) return std::move(a).error();
  return std::move(a->body);
}
pc_result<std::optional<json>> optional_body(pc_result<answer> a) {
  if (!a) {
    if (a.error().is_http(404)) return std::optional<json>{};
    return std::move(a).error();
  }
  return std::optional<json>{std::move(a->body)};
}
}  // namespace

pc_result<json> paperclip_client::list_companies() { return body_of(call("GET", "/companies")); }

pc_result<json> paperclip_client::create_company(std::string_view name) {
  return body_of(call("POST", "/companies", json{{"name", name}}));
}

pc_result<std::optional<json>> paperclip_client::get_company(std::string_view company) {
  return optional_body(call("GET", "/companies/" + path_segment(company)));
}

pc_result<json> paperclip_client::list_agents(std::string_view company) {
  return body_of(call("GET", "/companies/" + path_segment(company) + "/agents"));
}

pc_result<json> paperclip_client::create_agent(std::string_view company, const json& agent) {
  return body_of(call("POST", "/companies/" + path_segment(company) + "/agents", agent));
}

pc_result<json> paperclip_client::get_agent(std::string_view agent) {
  return body_of(call("GET", "/agents/" + path_segment(agent)));
}

pc_result<json> paperclip_client::patch_agent(std::string_view agent, const json& fields) {
  return body_of(call("PATCH", "/agents/" + path_segment(agent), fields));
}

pc_result<json> paperclip_client::create_issue(std::string_view company, const json& issue) {
  return body_of(call("POST", "/companies/" + path_segment(company) + "/issues", issue));
}

pc_result<json> paperclip_client::list_issues(std::string_view company) {
  return body_of(call("GET", "/companies/" + path_segment(company) + "/issues"));
}

pc_result<std::optional<json>> paperclip_client::get_issue(std::string_view issue) {
  return optional_body(call("GET", "/issues/" + path_segment(issue)));
}

pc_result<json> paperclip_client::patch_issue(std::string_view issue, const json& fields,
                                              const std::optional<std::string>& comment) {
  json body = fields.is_object() ? fields : json::object();
  if (comment) body["comment"] = *comment;
  return body_of(call("PATCH", "/issues/" + path_segment(issue), body));
}

pc_result<json> paperclip_client::add_comment(std::string_view issue, std::string_view body) {
  return body_of(call("POST", "/issues/" + path_segment(issue) + "/comments", json{{"body", body}}));
}

pc_result<json> paperclip_client::list_comments(std::string_view issue) {
  return body_of(call("GET", "/issues/" + path_segment(issue) + "/comments"));
}

pc_result<std::optional<json>> paperclip_client::get_document(std::string_view issue, std::string_view key) {
  return optional_body(call("GET", "/issues/" + path_segment(issue) + "/documents/" + path_segment(key)));
}

pc_result<json> paperclip_client::put_document(std::string_view issue, std::string_view key, std::string_view title,
                                               std::string_view body) {
  const std::string target = "/issues/" + path_segment(issue) + "/documents/" + path_segment(key);
  const std::string wanted = normalise_breaks(body);
  for (int round = 0; round < 2; ++round) {
    auto current = get_document(issue, key);
    if (!current) return std::move(current).error();
    json doc = {{"format", "markdown"}, {"title", title}, {"body", body}};
    if (*current) {
      const json& d = **current;
      if (d.value("body", std::string()) == wanted && d.value("title", std::string()) == title) return std::move(d);
      doc["baseRevisionId"] = d.value("latestRevisionId", std::string());
    }
    auto put = call("PUT", target, doc);
    if (put) {
      // The PUT's echo of an update carries the previous body (docs/paperclip.md): read it back.
      auto after = get_document(issue, key);
      if (!after) return std::move(after).error();
      if (!*after) return make_error(client_errc::bad_response, "GET " + target + ": the document vanished after the write");
      return std::move(**after);
    }
    if (!put.error().is_http(409)) return std::move(put).error();
    // Someone wrote a revision between our read and our write: read again, once.
  }
  return make_error(client_errc::http, "PUT " + target + ": the document keeps changing under us (409 twice)", 409);
}

pc_result<json> paperclip_client::create_approval(std::string_view company, std::string_view type, const json& payload,
                                                  const std::vector<std::string>& issues) {
  json body = {{"type", type}, {"payload", payload}};
  if (!issues.empty()) body["issueIds"] = issues;
  return body_of(call("POST", "/companies/" + path_segment(company) + "/approvals", body));
}

pc_result<json> paperclip_client::get_approval(std::string_view approval) {
  return body_of(call("GET", "/approvals/" + path_segment(approval)));
}

pc_result<json> paperclip_client::list_issue_approvals(std::string_view issue) {
  return body_of(call("GET", "/issues/" + path_segment(issue) + "/approvals"));
}

pc_result<json> paperclip_client::resolve_approval(std::string_view approval, std::string_view action,
                                                   std::string_view note) {
  json body = json::object();
  if (!note.empty()) body["decisionNote"] = note;
  return body_of(call("POST", "/approvals/" + path_segment(approval) + "/" + path_segment(action), body));
}

pc_result<json> paperclip_client::list_work_products(std::string_view issue) {
  return body_of(call("GET", "/issues/" + path_segment(issue) + "/work-products"));
}

pc_result<json> paperclip_client::create_work_product(std::string_view issue, const json& product) {
  return body_of(call("POST", "/issues/" + path_segment(issue) + "/work-products", product));
}

pc_result<json> paperclip_client::patch_work_product(std::string_view product, const json& fields) {
  return body_of(call("PATCH", "/work-products/" + path_segment(product), fields));
}

pc_result<json> paperclip_client::list_activity(std::string_view company, unsigned limit) {
  limit = std::clamp(limit, 1u, 500u);
  auto a = body_of(call("GET", "/companies/" + path_segment(company) + "/activity?limit=" + std::to_string(limit)));
  if (a && !a->is_array())
    return make_error(client_errc::bad_response, "GET /companies/" + std::string(company) + "/activity: not an array");
  return a;
}

// ---- event_socket

struct event_socket::impl {
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::atomic<bool> interrupted{false};
  bool reading = false;    // a read is pending (it survives a read() that timed out)
  bool read_done = false;  // ... and has completed with read_ec
  beast::error_code read_ec;
  bool failed = false;
};

event_socket::event_socket(std::unique_ptr<impl> p) : m(std::move(p)) {}
event_socket::~event_socket() = default;

pc_result<std::unique_ptr<event_socket>> event_socket::connect(const base_url& url, std::string_view company,
                                                               std::chrono::milliseconds timeout) {
  auto p = std::make_unique<impl>();
  const std::string target = "/api/companies/" + path_segment(company) + "/events/ws";
  const std::string what = "WebSocket " + target;
  bool done = false;
  std::optional<client_error> failed;
  auto finish = [&](beast::error_code ec, const char* step) {
    done = true;
    if (ec) failed = from_asio(ec, what, step);
  };
  websocket::stream_base::timeout t{};
  t.handshake_timeout = timeout;
  t.idle_timeout = ws_idle;
  t.keep_alive_pings = true;
  p->ws.set_option(t);
  p->ws.read_message_max(frame_limit);
  p->ws.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(http::field::user_agent, "agentos-projection"); }));
  auto& lowest = beast::get_lowest_layer(p->ws);
  lowest.expires_after(timeout);
  p->resolver.async_resolve(url.host, url.port, [&](beast::error_code ec, const tcp::resolver::results_type& found) {
    if (ec) return finish(ec, "resolve");
    lowest.async_connect(found, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return finish(ec, "connect");
      // From here the WebSocket's own timeouts apply (handshake, then idle pings).
      lowest.expires_never();
      p->ws.async_handshake(url.host_header, target, [&](beast::error_code ec) { finish(ec, "handshake"); });
    });
  });
  p->ioc.run_for(timeout + std::chrono::milliseconds(500));
  if (!done) return make_error(client_errc::timeout, what + ": no handshake within " + std::to_string(timeout.count()) + " ms");
  if (failed) return std::move(*failed);
  return std::unique_ptr<event_socket>(new event_socket(std::move(p)));
}

pc_result<std::optional<json>> event_socket::read(std::chrono::milliseconds timeout) {
  if (m->failed) return make_error(client_errc::unreachable, "WebSocket: the connection is closed");
  if (!m->reading) {
    m->reading = true;
    m->read_done = false;
    m->ws.async_read(m->buffer, [this](beast::error_code ec, std::size_t) {
      m->read_done = true;
      m->read_ec = ec;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m->read_done) {
    if (m->interrupted.exchange(false)) return std::optional<json>{};
    if (m->ioc.stopped()) m->ioc.restart();
    if (std::chrono::steady_clock::now() >= deadline) return std::optional<json>{};
    m->ioc.run_one_until(deadline);
  }
  m->reading = false;
  if (m->read_ec) {
    m->failed = true;
    if (m->read_ec == websocket::error::closed)
      return make_error(client_errc::unreachable, "WebSocket: closed by the server (code " + std::to_string(static_cast<unsigned>(m->ws.reason().code)) + ")");
    return from_asio(m->read_ec, "WebSocket", "read");
  }
  const std::string text = beast::buffers_to_string(m->buffer.data());
  m->buffer.consume(m->buffer.size());
  json frame = json::parse(text, nullptr, false);
  if (!frame.is_object()) return make_error(client_errc::bad_response, "WebSocket: a frame that is not a JSON object");
  return std::optional<json>{std::move(frame)};
}

void event_socket::interrupt() {
  m->interrupted = true;
  m->ioc.stop();
}

void event_socket::close() {
  if (m->failed) return;
  m->failed = true;
  bool done = false;
  m->ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  if (m->ioc.stopped()) m->ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (m->ioc.run_one_until(deadline) == 0 && m->ioc.stopped()) m->ioc.restart();
  }
}

}  // namespace agentos::runtime::projection
