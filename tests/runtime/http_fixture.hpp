// The HTTP tests' shared parts: a small synchronous Beast client (call, raw, get, post), an
// event-stream client (sse_client), a webhook receiver, and the Http fixture, which starts the
// real server on an ephemeral loopback port over a fresh store with the shipped policy and five
// tokens (agents openclaw, claude, claude_pm, claude_qa; operator alex).
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/service/http_server.hpp"
#include "temp_dir.hpp"

namespace agentos::testing::http_fixture {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace agentos::runtime;
using agentos::testing::temp_dir;
using nlohmann::json;


inline constexpr const char* openclaw = "tok-openclaw";
inline constexpr const char* claude = "tok-claude";
inline constexpr const char* claude_pm = "tok-claude-pm";
inline constexpr const char* claude_qa = "tok-claude-qa";
inline constexpr const char* alex = "tok-alex";  // the operator (kind operator, policies/global)

using header_list = std::vector<std::pair<std::string, std::string>>;

struct reply {
  unsigned status = 0;  // 0: no answer (the connection failed)
  json body;
  std::string error;  // the client's error when status is 0
  std::map<std::string, std::string> headers = {};  // the response's, by name as sent
  std::string text = {};  // the body as received (`body` is it parsed, when it is JSON)
};

inline reply call(std::uint16_t port, http::verb method, const std::string& target, const std::string& body = {},
           const std::string& token = {}, const header_list& headers = {}) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {0, {}, "connect: " + ec.message()};
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.insert(name, value);  // a header may be sent twice
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);  // the server may refuse a body part way (413): read its answer anyway
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{64} << 20);
  http::read_header(stream, buffer, parser, ec);
  if (ec) return {0, {}, "read: " + ec.message()};
  // An event stream (GET /api/events) never ends: answer with its status and headers only.
  const bool stream_body = parser.get()[http::field::content_type].starts_with("text/event-stream");
  if (!stream_body) http::read(stream, buffer, parser, ec);
  if (ec) return {0, {}, "read: " + ec.message()};
  const auto& res = parser.get();
  reply out{res.result_int(), stream_body ? json() : json::parse(res.body(), nullptr, false), {}};
  for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
  out.text = res.body();
  return out;
}

// Sends `bytes` as they are (to test what a well-behaved client would never send) and reads one answer.
inline reply raw(std::uint16_t port, const std::string& bytes) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return {0, {}, "connect: " + ec.message()};
  asio::write(stream.socket(), asio::buffer(bytes), ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return {0, {}, "read: " + ec.message()};
  return {res.result_int(), json::parse(res.body(), nullptr, false), {}};
}

inline reply get(std::uint16_t port, const std::string& target, const std::string& token = openclaw) {
  return call(port, http::verb::get, target, {}, token);
}
inline reply post(std::uint16_t port, const std::string& target, const json& body, const std::string& token) {
  return call(port, http::verb::post, target, body.dump(), token);
}

inline std::string error_code_of(const reply& r) {
  if (!r.body.is_object() || !r.body.contains("error")) return "<no error>";
  return r.body["error"].value("code", "<no code>");
}

inline std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// ---- an event-stream client that reads the wire itself (status line, headers, chunked body,
// frames), so the test checks the format rather than trusting a library to agree with the server.

struct sse_event {
  std::uint64_t id = 0;
  std::string event;
  json data;
};

class sse_client {
 public:
  // Connects and sends the request; `receive_buffer` > 0 makes the client's socket buffer that
  // small (a slow reader that the server cannot run ahead of for long).
  sse_client(std::uint16_t port, const std::string& target, const std::string& token,
             const std::string& last_event_id = {}, int receive_buffer = 0)
      : m_socket(m_ioc) {
    m_socket.open(tcp::v4());
    if (receive_buffer > 0) m_socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    m_socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    asio::write(m_socket, asio::buffer(req));
  }

  // Reads the status line and headers; false when they did not come within `timeout`.
  bool read_header(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t end;
    while ((end = m_raw.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return false;
    const std::string head = m_raw.substr(0, end);
    m_raw.erase(0, end + 4);
    status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos) {
      const std::size_t next = head.find("\r\n", at + 2);
      const std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      const auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      at = next;
    }
    m_chunked = headers["transfer-encoding"] == "chunked";
    return true;
  }

  // Reads until `n` events have arrived in all (or `timeout` passes, or the stream ends) and
  // returns every event so far.
  const std::vector<sse_event>& read_events(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      decode();
      parse_frames();
      if (events.size() >= n || finished || closed) return events;
      if (!fill(deadline)) return events;
    }
  }

  // Reads until the server ends the stream (or `timeout` passes).
  void read_to_end(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed && fill(deadline)) {
    }
    decode();
    parse_frames();
  }

  // Waits for a comment line (a heartbeat).
  bool read_comment(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      decode();
      parse_frames();
      if (comments > 0) return true;
      if (closed || !fill(deadline)) return false;
    }
  }

  void disconnect() {
    beast::error_code ignored;
    m_socket.shutdown(tcp::socket::shutdown_both, ignored);
    m_socket.close(ignored);
  }

  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::vector<sse_event> events;
  std::size_t comments = 0;
  bool finished = false;  // the terminating chunk arrived: the server ended the stream cleanly
  bool closed = false;    // the server closed the connection
  std::string body;       // the error answer's body, when not a stream

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{m_socket.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16 * 1024];
    const ssize_t n = ::recv(m_socket.native_handle(), buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      return false;
    }
    m_raw.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  void decode() {
    if (!m_chunked) {
      body += m_raw;
      m_raw.clear();
      return;
    }
    // A chunk's data is taken as it arrives, as a real client would (chunks can be large).
    while (!finished && !m_raw.empty()) {
      if (m_chunk_left > 0) {
        const std::size_t take = std::min(m_chunk_left, m_raw.size());
        body += m_raw.substr(0, take);
        m_raw.erase(0, take);
        m_chunk_left -= take;
        continue;
      }
      if (m_chunk_crlf) {  // the CRLF that ends a chunk's data
        if (m_raw.size() < 2) return;
        m_raw.erase(0, 2);
        m_chunk_crlf = false;
      }
      const auto eol = m_raw.find("\r\n");
      if (eol == std::string::npos) return;
      m_chunk_left = std::stoul(m_raw.substr(0, eol), nullptr, 16);
      m_raw.erase(0, eol + 2);
      if (m_chunk_left == 0) finished = true;
      m_chunk_crlf = true;
    }
  }

  void parse_frames() {
    std::size_t end;
    while ((end = body.find("\n\n")) != std::string::npos) {
      const std::string frame = body.substr(0, end);
      body.erase(0, end + 2);
      sse_event e;
      bool any = false;
      std::size_t at = 0;
      while (at <= frame.size()) {
        std::size_t nl = frame.find('\n', at);
        if (nl == std::string::npos) nl = frame.size();
        const std::string line = frame.substr(at, nl - at);
        at = nl + 1;
        if (line.empty()) continue;
        if (line.front() == ':') {
          ++comments;
          continue;
        }
        any = true;
        if (line.rfind("id: ", 0) == 0) e.id = std::stoull(line.substr(4));
        else if (line.rfind("event: ", 0) == 0) e.event = line.substr(7);
        else if (line.rfind("data: ", 0) == 0) e.data = json::parse(line.substr(6), nullptr, false);
      }
      if (any) events.push_back(std::move(e));
    }
  }

  asio::io_context m_ioc;
  tcp::socket m_socket;
  std::string m_raw;
  bool m_chunked = false;
  std::size_t m_chunk_left = 0;  // bytes of the current chunk still to come
  bool m_chunk_crlf = false;
};

// ---- a webhook receiver: a small Beast server on loopback that records each request and
// answers with the next status of a script (then 200).

struct received {
  std::map<std::string, std::string> headers;  // X-Agentos-* (names lowercase)
  std::string body;
  unsigned answered = 0;
};

class receiver {
 public:
  explicit receiver(std::deque<unsigned> script = {}) : m_script(std::move(script)), m_acceptor(m_ioc) {
    m_acceptor.open(tcp::v4());
    m_acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    m_acceptor.listen();
    port = m_acceptor.local_endpoint().port();
    m_thread = std::thread([this] { serve(); });
  }
  ~receiver() {
    m_stopping = true;
    beast::error_code ignored;
    tcp::socket wake(m_ioc);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ignored);
    m_thread.join();
  }

  // Waits until `n` requests have been answered; returns them all.
  std::vector<received> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_got.size() >= n; });
    return m_got;
  }
  std::vector<received> all() {
    std::lock_guard lock(m_mutex);
    return m_got;
  }

  std::uint16_t port = 0;

 private:
  void serve() {
    while (!m_stopping) {
      tcp::socket s(m_ioc);
      beast::error_code ec;
      m_acceptor.accept(s, ec);
      if (ec || m_stopping) continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(s, buffer, req, ec);
      if (ec) continue;
      received r;
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name.rfind("x-agentos-", 0) == 0 || name == "content-type") r.headers[name] = std::string(f.value());
      }
      r.body = req.body();
      {
        std::lock_guard lock(m_mutex);
        r.answered = m_script.empty() ? 200 : m_script.front();
        if (!m_script.empty()) m_script.pop_front();
      }
      http::response<http::string_body> res{static_cast<http::status>(r.answered), 11};
      res.body() = r.answered == 200 ? "ok" : "try again";
      res.keep_alive(false);
      res.prepare_payload();
      http::write(s, res, ec);
      {
        std::lock_guard lock(m_mutex);
        m_got.push_back(std::move(r));
      }
      m_cv.notify_all();
    }
  }

  std::deque<unsigned> m_script;
  asio::io_context m_ioc;
  tcp::acceptor m_acceptor;
  std::thread m_thread;
  std::atomic<bool> m_stopping{false};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<received> m_got;
};

// A store, a token file and a running server on an ephemeral port. `hold` makes the next
// operation's clock wait until release(), so a test can keep a request in flight.
class Http : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
    ASSERT_TRUE(policy.graph) << policy.problems;
    auto s = task_store::open(m_dir.path() / "data", std::move(policy));
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(*s);

    const fs::path token_file = m_dir.path() / "tokens.json";
    std::ofstream(token_file) << json{{openclaw, "openclaw"}, {claude, "claude"}, {claude_pm, "claude_pm"}, {claude_qa, "claude_qa"}, {alex, "alex"}}.dump();
    serve_with({});
  }

  // (Re)starts the server (on an ephemeral port, with `http`'s other settings) over the same
  // store with an API built from the token file and `options` (the fixture's clock unless
  // options.clock is set).
  void serve_with(api_options options, http_options http = {}) {
    if (m_server) m_server->stop();
    m_server.reset();
    std::string error;
    auto tokens = bearer_tokens::load(m_dir.path() / "tokens.json", error);
    ASSERT_TRUE(tokens) << error;
    EXPECT_EQ(tokens->size(), 5u);
    if (!options.clock) options.clock = [this] { return clock(); };
    m_api = std::make_unique<api>(*m_store, std::move(*tokens), std::move(options));
    http.port = 0;
    m_server = std::make_unique<http_server>(*m_api, http);
    const std::string failed = m_server->start();
    ASSERT_TRUE(failed.empty()) << failed;
    port = m_server->port();
    ASSERT_NE(port, 0);
  }
  void TearDown() override {
    release();
    if (m_server) m_server->stop();
  }

  std::int64_t clock() {
    std::unique_lock lock(m_mutex);
    if (m_hold) {
      m_entered = true;
      m_cv.notify_all();
      m_cv.wait(lock, [this] { return !m_hold; });
    }
    return 1'767'225'600'000;
  }
  void hold() {
    std::lock_guard lock(m_mutex);
    m_hold = true;
  }
  void wait_entered() {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_entered; });
  }
  void release() {
    std::lock_guard lock(m_mutex);
    m_hold = false;
    m_cv.notify_all();
  }

  // Creates an engineering task (routed to claude) and returns its id.
  std::string create_engineering() {
    const reply r = post(port, "/api/tasks", {{"task", {{"title", "fix the flaky test"}, {"kind", "engineering"}}}},
                         openclaw);
    EXPECT_EQ(r.status, 201u) << r.error << r.body.dump();
    EXPECT_EQ(r.body["task"]["task"]["assignee"], "claude") << r.body.dump();
    return r.body["task"]["id"].get<std::string>();
  }

  json task(const std::string& id) { return get(port, "/api/tasks/" + id).body; }

  temp_dir m_dir{"agentos-http"};
  std::unique_ptr<task_store> m_store;
  std::unique_ptr<api> m_api;
  std::unique_ptr<http_server> m_server;
  std::uint16_t port = 0;

  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_hold = false, m_entered = false;
};

}  // namespace agentos::testing::http_fixture
