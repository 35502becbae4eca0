#include "runtime/service/http_server.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/service/listener.hpp"

namespace agentos::runtime {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = beast::error_code;

bool is_http_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// An event stream writes at most about this much per chunk, and reads the outbox this many
// events at a time while it catches up.
constexpr std::size_t stream_chunk_bytes = 64 * 1024;
constexpr std::size_t stream_read_events = 256;

// One server-sent event: id, event (the kind) and data (the event's JSON, which has no newline).
void append_frame(std::string& out, const outbox_event& e) {
  out += "id: ";
  out += std::to_string(e.seq);
  out += "\nevent: ";
  out += e.type;
  out += "\ndata: ";
  out += e.data;
  out += "\n\n";
}

}  // namespace

namespace detail {
class http_session;
}
using detail::http_session;

struct http_server::impl {
  impl(const api& h, http_options o)
      : handler(h),
        options(std::move(o)),
        ioc(static_cast<int>(options.threads)),
        acceptor(asio::make_strand(ioc)),
        blocking(std::max<std::size_t>(1, options.blocking_threads)) {}

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void forget(const http_session* s) {
    std::lock_guard lock(mutex);
    sessions.erase(s);
  }

  const api& handler;
  http_options options;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause{acceptor.get_executor()};  // after EMFILE (on_accept)
  std::vector<std::thread> threads;
  asio::thread_pool blocking;  // runs the requests that wait for the store's writer
  std::uint16_t bound_port = 0;
  bool running = false;

  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards sessions (and orders registration against stop())
  std::unordered_map<const http_session*, std::weak_ptr<http_session>> sessions;
};

namespace detail {

// One connection. Every handler runs on the connection's strand, so its members need no lock.
class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(http_server::impl& server, tcp::socket socket) : m_server(server), m_stream(std::move(socket)) {}
  ~http_session() { m_server.forget(this); }

  void run() {
    asio::dispatch(m_stream.get_executor(), beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

  // From stop(): a connection waiting for its next request is closed now; one whose request is
  // being handled or answered closes after the answer.
  void stop() {
    asio::post(m_stream.get_executor(), [self = shared_from_this()] {
      if (self->m_events) return self->pump();  // sees `stopping`: ends the stream after the write in flight
      if (!self->m_busy) self->close();
    });
  }

 private:
  void do_read() {
    if (m_server.stopping) return close();
    m_parser.emplace();
    m_parser->body_limit(m_server.options.body_limit);
    m_parser->header_limit(m_server.options.header_limit);
    m_stream.expires_after(m_server.options.read_timeout);
    http::async_read(m_stream, m_buffer, *m_parser,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    if (ec == http::error::body_limit)
      return answer_error(413, "request.too_large",
                          "the body is larger than " + std::to_string(m_server.options.body_limit) + " bytes");
    if (ec == http::error::header_limit)
      return answer_error(431, "request.header_too_large",
                          "the header is larger than " + std::to_string(m_server.options.header_limit) + " bytes");
    if (ec && ec != http::error::end_of_stream && ec != http::error::partial_message && is_http_error(ec))
      return answer_error(400, "request.malformed", "malformed HTTP request: " + ec.message());
    if (ec) return close();  // end of stream, timeout, reset, aborted by stop(): nothing to answer

    m_busy = true;
    const auto& req = m_parser->get();
    auto header = [&req](auto name) {
      const auto it = req.find(name);
      return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
    };
    std::string_view authorization = header(http::field::authorization);
    if (req.count(http::field::authorization) > 1) {
      // Several fields are one value joined by commas (RFC 9110, 5.3), which is never one bearer
      // token: the API refuses it (401) rather than acting for whichever token came first.
      m_authorization.clear();
      for (auto [it, end] = req.equal_range(http::field::authorization); it != end; ++it)
        m_authorization.append(m_authorization.empty() ? "" : ", ").append(it->value().data(), it->value().size());
      authorization = m_authorization;
    }
    api_request request{std::string_view(req.method_string().data(), req.method_string().size()),
                              std::string_view(req.target().data(), req.target().size()),
                              authorization,
                              req.body(),
                              header("X-Agentos-Timestamp"),
                              header("X-Agentos-Signature")};
    if (const auto key = req.find("Idempotency-Key"); key != req.end())
      request.idempotency_key = std::string_view(key->value().data(), key->value().size());
    if (const auto id = req.find("Last-Event-ID"); id != req.end())
      request.last_event_id = std::string_view(id->value().data(), id->value().size());
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    if (req.method() == http::verb::get || req.method() == http::verb::head) {
      api_response response = m_server.handler.handle(request);
      if (const auto after = event_stream_after(response); after && req.method() == http::verb::get)
        return start_stream(*after, version);
      return send(response, version, keep_alive, false);
    }
    // A write waits for the group commit that covers it: let it wait on the blocking pool, not on
    // an io thread, so the io threads go on serving and any number of writes can join one commit.
    // The work guard keeps the io threads running until the answer is posted back.
    asio::post(m_server.blocking, [self = shared_from_this(), request, version, keep_alive,
                                   work = asio::make_work_guard(m_stream.get_executor())]() mutable {
      auto response = std::make_shared<api_response>(self->m_server.handler.handle(request));
      asio::post(self->m_stream.get_executor(), [self, response, version, keep_alive] {
        self->send(*response, version, keep_alive, false);
      });
      work.reset();
    });
  }

  void answer_error(unsigned status, std::string_view code, const std::string& message) {
    m_busy = true;
    send(api_error(status, code, message), 11, false, true);
  }

  void send(const api_response& r, unsigned version, bool keep_alive, bool linger) {
    m_response = {};
    m_response.version(version);
    m_response.result(static_cast<http::status>(r.status));
    m_response.set(http::field::server, "agentos");
    m_response.set(http::field::content_type, r.content_type.empty() ? "application/json" : r.content_type);
    if (!r.allow.empty()) m_response.set(http::field::allow, r.allow);
    for (const auto& [name, value] : r.headers) m_response.set(name, value);
    if (r.status == 401) m_response.set(http::field::www_authenticate, "Bearer");
    m_response.keep_alive(keep_alive && !m_server.stopping);
    if (r.content_type.empty()) {
      m_response.body() = r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      m_response.body() += '\n';
    } else {
      m_response.body() = r.text;
    }
    m_response.prepare_payload();
    m_stream.expires_after(m_server.options.read_timeout);
    http::async_write(m_stream, m_response,
                      [self = shared_from_this(), linger](error_code ec, std::size_t) { self->on_write(ec, linger); });
  }

  void on_write(error_code ec, bool linger) {
    m_busy = false;
    if (ec) return close();
    if (linger) return start_linger();
    if (!m_response.keep_alive() || m_server.stopping) return close();
    do_read();
  }

  // After an error answer to a request whose body was not read (413, 431, 400): closing a socket
  // with unread data sends a reset, which can destroy the answer before the client reads it, so
  // read and drop for a moment first (the "lingering close" of nginx and Apache).
  void start_linger() { linger_close(m_stream, shared_from_this()); }

  void close() { close_now(m_stream); }


  // ---- an event stream (GET /api/events). It writes what follows `sent`: live batches from the
  // notifier while it keeps up, the outbox read from the store while it catches up (on connect,
  // or after missing batches). Live batches wait in a queue bounded by sse_queue_bytes; a client
  // that lets it overflow is dropped and resumes with Last-Event-ID.

  struct event_stream {
    explicit event_stream(const asio::any_io_executor& ex) : heartbeat(ex) {}
    std::uint64_t sent = 0;   // the last seq handed to a write
    std::uint64_t known = 0;  // the last seq known to be committed
    std::deque<std::shared_ptr<const event_batch>> queue;
    std::size_t queued = 0;  // bytes in the queue
    std::uint64_t listener = 0;
    bool chunked = true, writing = false, ended = false;
    std::string out;  // being written
    asio::steady_timer heartbeat;
    http::response<http::empty_body> header;
    std::optional<http::response_serializer<http::empty_body>> serializer;
    std::array<char, 512> sink{};  // what the client sends meanwhile is read and dropped
  };

  void start_stream(std::uint64_t after, unsigned version) {
    m_events = std::make_unique<event_stream>(m_stream.get_executor());
    event_stream& es = *m_events;
    std::weak_ptr<http_session> weak = shared_from_this();
    const auto sub = m_server.handler.events().subscribe([weak](const std::shared_ptr<const event_batch>& b) {
      if (auto self = weak.lock()) asio::post(self->m_stream.get_executor(), [self, b] { self->on_batch(b); });
    });
    es.listener = sub.id;
    es.sent = after;
    es.known = std::max(after, sub.head);
    if (m_server.options.sse_send_buffer > 0) {
      error_code ignored;  // a size the system refuses leaves its default
      m_stream.socket().set_option(
          asio::socket_base::send_buffer_size(static_cast<int>(std::min<std::size_t>(m_server.options.sse_send_buffer, 1 << 30))),
          ignored);
    }
    es.chunked = version >= 11;
    es.header.version(version);
    es.header.result(http::status::ok);
    es.header.set(http::field::server, "agentos");
    es.header.set(http::field::content_type, "text/event-stream; charset=utf-8");
    es.header.set(http::field::cache_control, "no-store");
    es.header.set("X-Accel-Buffering", "no");  // tells a proxy in front not to buffer the stream
    es.header.keep_alive(false);
    if (es.chunked) es.header.chunked(true);
    es.serializer.emplace(es.header);
    es.writing = true;
    m_stream.expires_after(m_server.options.read_timeout);
    http::async_write_header(m_stream, *es.serializer,
                             [self = shared_from_this()](error_code ec, std::size_t) { self->on_stream_write(ec); });
    watch_client();
    arm_heartbeat();
  }

  void on_batch(const std::shared_ptr<const event_batch>& b) {
    if (!m_events || m_events->ended) return;
    event_stream& es = *m_events;
    es.known = std::max(es.known, b->last());
    const std::uint64_t tail = es.queue.empty() ? es.sent : es.queue.back()->last();
    if (b->after <= tail && b->last() > tail) {  // it continues what is sent or queued
      // Too far behind: it is dropped. (A batch alone is always taken: it is shared by every
      // stream, and the bound is on what piles up behind it.)
      if (!es.queue.empty() && es.queued + b->bytes > m_server.options.sse_queue_bytes) return end_stream(false);
      es.queue.push_back(b);
      es.queued += b->bytes;
    }
    // Otherwise the stream is catching up from the store, which has these events too.
    pump();
  }

  void pump() {
    event_stream& es = *m_events;
    if (es.writing || es.ended) return;
    if (m_server.stopping) return end_stream(true);
    std::string frames;
    while (!es.queue.empty() && frames.size() < stream_chunk_bytes) {
      const event_batch& b = *es.queue.front();
      if (b.after > es.sent) break;
      for (const auto& e : b.events)
        if (e.seq > es.sent) {
          append_frame(frames, e);
          es.sent = e.seq;
        }
      es.queued -= b.bytes;
      es.queue.pop_front();
    }
    if (frames.empty() && es.sent < es.known) {
      auto b = m_server.handler.events().read(es.sent, stream_read_events);
      if (!b) return end_stream(false);  // the store cannot be read: the client resumes later
      if (b->events.empty()) es.sent = es.known;  // unreadable records: skip them rather than spin
      for (const auto& e : b->events) {
        append_frame(frames, e);
        es.sent = e.seq;
      }
      es.known = std::max(es.known, es.sent);
    }
    if (!frames.empty()) write_stream(std::move(frames));
  }

  void write_stream(std::string text) {
    event_stream& es = *m_events;
    es.out = std::move(text);
    es.writing = true;
    m_stream.expires_after(m_server.options.read_timeout);  // a client that stops reading is dropped
    auto done = [self = shared_from_this()](error_code ec, std::size_t) { self->on_stream_write(ec); };
    if (es.chunked) {
      asio::async_write(m_stream, http::make_chunk(asio::buffer(es.out)), std::move(done));
    } else {
      asio::async_write(m_stream, asio::buffer(es.out), std::move(done));
    }
  }

  void on_stream_write(error_code ec) {
    m_events->writing = false;
    if (ec) return end_stream(false);
    pump();
  }

  // Ends the stream: gracefully (the last chunk, then close) or at once.
  void end_stream(bool graceful) {
    event_stream& es = *m_events;
    if (es.ended) return;
    es.ended = true;
    m_server.handler.events().unsubscribe(es.listener);
    es.heartbeat.cancel();
    es.queue.clear();
    if (!graceful || !es.chunked || es.writing) return close();
    es.writing = true;
    m_stream.expires_after(m_server.options.read_timeout);
    asio::async_write(m_stream, http::make_chunk_last(),
                      [self = shared_from_this()](error_code, std::size_t) { self->close(); });
  }

  // Reads (and drops) what the client sends, to notice at once when it goes away.
  void watch_client() {
    m_stream.socket().async_read_some(asio::buffer(m_events->sink), [self = shared_from_this()](error_code ec, std::size_t) {
      if (self->m_events->ended) return;
      if (ec) return self->end_stream(false);
      self->watch_client();
    });
  }

  void arm_heartbeat() {
    m_events->heartbeat.expires_after(m_server.options.sse_heartbeat);
    m_events->heartbeat.async_wait([self = shared_from_this()](error_code ec) {
      event_stream& es = *self->m_events;
      if (ec || es.ended) return;
      if (!es.writing) self->write_stream(": keep-alive\n\n");
      self->arm_heartbeat();
    });
  }

  http_server::impl& m_server;
  beast::tcp_stream m_stream;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  http::response<http::string_body> m_response;
  std::string m_authorization;  // several Authorization fields joined, for the request being handled
  bool m_busy = false;
  std::unique_ptr<event_stream> m_events;  // set while the connection is an event stream
};

}  // namespace detail

void http_server::impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), beast::bind_front_handler(&impl::on_accept, this));
}

void http_server::impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;  // stop()
  if (ec == asio::error::no_descriptors) {
    // Out of file descriptors: accepting again at once would spin on the same error. Pause, so
    // the connections that time out or finish give their descriptors back.
    accept_pause.expires_after(std::chrono::milliseconds(100));
    accept_pause.async_wait([this](error_code e) {
      if (!e) do_accept();
    });
    return;
  }
  if (!ec) {
    std::shared_ptr<http_session> s;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;  // the socket closes as it goes out of scope
      // Over the connection cap the newcomer is closed at once: the connections already open
      // (slow ones are dropped by the read timeout) keep their descriptors and their service.
      if (sessions.size() >= options.max_connections) {
        error_code ignored;
        socket.close(ignored);
        do_accept();
        return;
      }
      s = std::make_shared<http_session>(*this, std::move(socket));
      sessions.emplace(s.get(), s);
    }
    s->run();
  }
  // Another accept error (a connection reset before accept) ends only that connection.
  do_accept();
}

http_server::http_server(const api& handler, http_options options)
    : m(std::make_unique<impl>(handler, std::move(options))) {}

http_server::~http_server() { stop(); }

std::string http_server::start() {
  if (m->running) return "already started";
  if (auto failed = listen_on(m->acceptor, m->options.address, m->options.port); !failed.empty()) return failed;
  error_code ec;
  m->bound_port = m->acceptor.local_endpoint(ec).port();
  m->do_accept();
  m->running = true;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, m->options.threads); ++i) {
    m->threads.emplace_back([this] { run_io(m->ioc); });
  }
  return {};
}

std::uint16_t http_server::port() const { return m->bound_port; }

void http_server::stop() {
  if (!m->running) return;
  std::vector<std::weak_ptr<http_session>> open;
  {
    std::lock_guard lock(m->mutex);
    m->stopping = true;
    for (const auto& [key, s] : m->sessions) open.push_back(s);
  }
  asio::post(m->acceptor.get_executor(), [this] {
    error_code ignored;
    m->acceptor.close(ignored);
    m->accept_pause.cancel();
  });
  for (const auto& w : open)
    if (const auto s = w.lock()) s->stop();
  // The threads return when nothing is left to do: no acceptor, and every connection closed after
  // its last answer.
  for (auto& t : m->threads) t.join();
  m->threads.clear();
  m->blocking.join();
  m->running = false;
}

}  // namespace agentos::runtime
