// The HTTP tests' shared parts: a small synchronous Beast client (call, raw, get, post) and the
// Http fixture, which starts the real server on an ephemeral loopback port over a fresh store
// with the shipped policy and four tokens (agents openclaw, claude, claude_pm, claude_qa; operator alex).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <condition_variable>
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
  http::read(stream, buffer, parser, ec);
  if (ec) return {0, {}, "read: " + ec.message()};
  const auto& res = parser.get();
  reply out{res.result_int(), json::parse(res.body(), nullptr, false), {}};
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
