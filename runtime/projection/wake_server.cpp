#include "runtime/projection/wake_server.hpp"

#include <array>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "runtime/service/listener.hpp"

namespace agentos::runtime::projection {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;
using nlohmann::json;

struct wake_answer {
  unsigned status = 200;
  json body;
};

wake_answer error_answer(unsigned status, std::string_view code, std::string_view message, std::string_view field = {}) {
  json details = json::object();
  if (!field.empty()) details["field"] = field;
  return {status, {{"error", {{"code", code}, {"message", message}, {"details", details}}}}};
}

const char* admission_name(admission a) {
  switch (a) {
    case admission::queued: return "queued";
    case admission::merged: return "merged";
    case admission::ignored: return "ignored";
    case admission::full: return "full";
  }
  return "ignored";
}

wake_answer handle_wake(executor& target, std::string_view body) {
  auto parsed = parse_wake(body);
  if (const auto* bad = std::get_if<wake_error>(&parsed)) return error_answer(400, bad->code, bad->message, bad->field);
  const wake& w = std::get<wake>(parsed);
  const admit_result a = target.enqueue(w);
  if (a.what == admission::full) return error_answer(503, "executor.busy", "the executor's queue is full: " + a.message);
  json out = {{"status", admission_name(a.what)}, {"run", w.run_id}};
  out["task"] = w.task.empty() ? json(nullptr) : json(w.task);
  out["agent"] = w.agent.empty() ? json(nullptr) : json(w.agent);
  if (a.what == admission::ignored) out["reason"] = a.message;
  return {202, std::move(out)};
}

}  // namespace

namespace detail {
class wake_session;
}

struct wake_server::impl {
  impl(executor& t, wake_server_options o) : target(t), options(std::move(o)), acceptor(asio::make_strand(ioc)) {}

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void forget(const detail::wake_session* s) {
    std::lock_guard lock(mutex);
    sessions.erase(s);
  }

  executor& target;
  wake_server_options options;
  asio::io_context ioc{1};
  tcp::acceptor acceptor;
  std::thread thread;
  std::uint16_t bound_port = 0;
  bool running = false;
  bool stopping = false;  // guarded by mutex
  std::mutex mutex;
  std::unordered_map<const detail::wake_session*, std::weak_ptr<detail::wake_session>> sessions;
};

namespace detail {

// One connection; every handler runs on its strand.
class wake_session : public std::enable_shared_from_this<wake_session> {
 public:
  wake_session(wake_server::impl& server, tcp::socket socket) : m_server(server), m_stream(std::move(socket)) {}
  ~wake_session() { m_server.forget(this); }

  void run() { asio::dispatch(m_stream.get_executor(), beast::bind_front_handler(&wake_session::do_read, shared_from_this())); }
  void close_soon() {
    asio::post(m_stream.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  void do_read() {
    m_parser.emplace();
    m_parser->body_limit(m_server.options.body_limit);
    m_parser->header_limit(m_server.options.header_limit);
    m_stream.expires_after(m_server.options.read_timeout);
    http::async_read(m_stream, m_buffer, *m_parser, beast::bind_front_handler(&wake_session::on_read, shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    if (ec == http::error::body_limit)
      return send(error_answer(413, "request.too_large",
                               "the body is larger than " + std::to_string(m_server.options.body_limit) + " bytes"),
                  11, false, true);
    if (ec == http::error::header_limit)
      return send(error_answer(431, "request.header_too_large", "the header is too large"), 11, false, true);
    if (ec && ec != http::error::end_of_stream &&
        ec.category() == http::make_error_code(http::error::bad_target).category())
      return send(error_answer(400, "request.malformed", "malformed HTTP request: " + ec.message()), 11, false, true);
    if (ec) return close();  // end of stream, timeout, reset: nothing to answer

    const auto& req = m_parser->get();
    wake_answer a;
    const std::string_view target(req.target().data(), req.target().size());
    if (req.method() == http::verb::get && (target == "/health" || target.starts_with("/health?"))) {
      a = {200, {{"status", "ok"}}};
    } else if (req.method() == http::verb::post) {
      a = handle_wake(m_server.target, req.body());
    } else {
      a = error_answer(405, "request.method_not_allowed", "POST a wake, or GET /health");
      m_allow = true;
    }
    send(a, req.version(), req.keep_alive(), false);
  }

  void send(const wake_answer& a, unsigned version, bool keep_alive, bool linger) {
    m_response = {};
    m_response.version(version);
    m_response.result(static_cast<http::status>(a.status));
    m_response.set(http::field::server, "agentos-executor");
    m_response.set(http::field::content_type, "application/json");
    if (m_allow) m_response.set(http::field::allow, "GET, POST");
    m_allow = false;
    m_response.keep_alive(keep_alive);
    m_response.body() = a.body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    m_response.prepare_payload();
    m_stream.expires_after(m_server.options.read_timeout);
    http::async_write(m_stream, m_response, [self = shared_from_this(), linger](error_code ec, std::size_t) {
      if (ec) return self->close();
      if (linger) return self->start_linger();
      if (!self->m_response.keep_alive()) return self->close();
      self->do_read();
    });
  }

  // After an error answer sent before the body was read (413, 431, 400); see linger_close.
  void start_linger() { linger_close(m_stream, shared_from_this()); }

  void close() { close_now(m_stream); }


  wake_server::impl& m_server;
  beast::tcp_stream m_stream;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  http::response<http::string_body> m_response;
  bool m_allow = false;
};

}  // namespace detail

void wake_server::impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), beast::bind_front_handler(&impl::on_accept, this));
}

void wake_server::impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (!ec) {
    std::shared_ptr<detail::wake_session> s;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (sessions.size() >= options.max_connections) {
        error_code ignored;
        socket.close(ignored);
        return do_accept();
      }
      s = std::make_shared<detail::wake_session>(*this, std::move(socket));
      sessions.emplace(s.get(), s);
    }
    s->run();
  }
  do_accept();
}

wake_server::wake_server(executor& target, wake_server_options options)
    : m(std::make_unique<impl>(target, std::move(options))) {}

wake_server::~wake_server() { stop(); }

std::string wake_server::start() {
  if (m->running) return "already started";
  if (auto failed = listen_on(m->acceptor, m->options.address, m->options.port); !failed.empty()) return failed;
  error_code ec;
  m->bound_port = m->acceptor.local_endpoint(ec).port();
  m->do_accept();
  m->running = true;
  m->thread = std::thread([this] { run_io(m->ioc); });
  return {};
}

std::uint16_t wake_server::port() const { return m->bound_port; }

void wake_server::stop() {
  if (!m->running) return;
  std::vector<std::weak_ptr<detail::wake_session>> open;
  {
    std::lock_guard lock(m->mutex);
    m->stopping = true;
    for (const auto& [key, s] : m->sessions) open.push_back(s);
  }
  asio::post(m->acceptor.get_executor(), [this] {
    error_code ignored;
    m->acceptor.close(ignored);
  });
  // Answers are written at once (nothing here waits), so closing every connection loses at most
  // a wake whose request was still arriving; Paperclip records that run as failed.
  for (const auto& w : open)
    if (const auto s = w.lock()) s->close_soon();
  m->thread.join();
  m->running = false;
}

}  // namespace agentos::runtime::projection
