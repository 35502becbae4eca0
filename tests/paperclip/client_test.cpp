// The Paperclip client against the real server: every typed call the projector and reconciler
// use, the error mapping (HTTP errors, a refused connection, a server that never answers, an
// answer that is not JSON), the keep-alive reconnect, interrupt(), and the live-events socket.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "paperclip_env.hpp"
#include "runtime/projection/paperclip_client.hpp"

namespace agentos::runtime::projection {
namespace {

using namespace std::chrono_literals;
using testing::paperclip_server;

base_url url_of(const std::string& text) {
  std::string error;
  auto u = parse_base_url(text, error);
  EXPECT_TRUE(u) << error;
  return u.value_or(base_url{});
}

// A loopback TCP listener that accepts (through the kernel's backlog) but never reads or answers,
// or, with `reply`, answers every connection with those bytes and closes.
class raw_listener {
 public:
  explicit raw_listener(std::string reply = {}) : m_reply(std::move(reply)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(m_fd, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    if (!m_reply.empty())
      m_thread = std::thread([this] {
        for (;;) {
          const int c = ::accept(m_fd, nullptr, nullptr);
          if (c < 0) return;
          char buf[4096];
          (void)::recv(c, buf, sizeof buf, 0);  // the request (small enough for one read here)
          (void)::send(c, m_reply.data(), m_reply.size(), MSG_NOSIGNAL);
          ::close(c);
        }
      });
  }
  ~raw_listener() {
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    if (m_thread.joinable()) m_thread.join();
  }
  [[nodiscard]] int port() const { return m_port; }

 private:
  std::string m_reply;
  int m_fd = -1;
  int m_port = 0;
  std::thread m_thread;
};

// A port nothing listens on: bound once, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(paperclip_server::get().up());
    client = std::make_unique<paperclip_client>(url_of(paperclip_server::get().url()));
  }
  std::string new_company(const std::string& name) {
    auto c = client->create_company(name);
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? c->at("id").get<std::string>() : std::string();
  }
  std::unique_ptr<paperclip_client> client;
};

TEST(BaseUrl, ParsesAndRefuses) {
  std::string error;
  auto u = parse_base_url("http://127.0.0.1:3100/", error);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "3100");
  EXPECT_EQ(u->text, "http://127.0.0.1:3100");
  auto v6 = parse_base_url("HTTP://[::1]:8080", error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_header, "[::1]:8080");
  auto dflt = parse_base_url("http://paperclip.local", error);
  ASSERT_TRUE(dflt);
  EXPECT_EQ(dflt->port, "80");
  for (const char* bad : {"https://127.0.0.1:3100", "127.0.0.1:3100", "http://", "http://h:0", "http://h:70000",
                          "http://h:x", "http://h:3100/api", "http://u@h:1", "http://h :1", "http://[::1:2"}) {
    error.clear();
    EXPECT_FALSE(parse_base_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST_F(ClientTest, HealthAnswersAsTheBoard) {
  auto a = client->call("GET", "/health");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->status, 200u);
  EXPECT_EQ(a->body.value("deploymentMode", ""), "local_trusted");
}

TEST_F(ClientTest, CompanyAgentsIssueCommentsDocumentsApprovalsWorkProductsActivity) {
  const std::string cid = new_company("client test");
  ASSERT_FALSE(cid.empty());
  auto companies = client->list_companies();
  ASSERT_TRUE(companies);
  bool listed = false;
  for (const auto& c : *companies) listed = listed || c.value("id", "") == cid;
  EXPECT_TRUE(listed);

  auto boss = client->create_agent(cid, {{"name", "boss"}, {"role", "ceo"}, {"adapterType", "http"},
                                         {"adapterConfig", {{"url", "http://127.0.0.1:9/wake"}}}});
  ASSERT_TRUE(boss) << boss.error().message;
  const std::string boss_id = boss->at("id");
  auto worker = client->create_agent(cid, {{"name", "worker"}, {"role", "engineer"}, {"reportsTo", boss_id},
                                           {"adapterType", "http"},
                                           {"adapterConfig", {{"url", "http://127.0.0.1:9/wake"},
                                                              {"payloadTemplate", {{"agentos_agent", "worker"}}}}}});
  ASSERT_TRUE(worker) << worker.error().message;
  const std::string worker_id = worker->at("id");
  EXPECT_EQ(worker->value("reportsTo", ""), boss_id);
  EXPECT_EQ((*worker)["adapterConfig"]["payloadTemplate"]["agentos_agent"], "worker");
  // Paused, so that no run is started while the test changes the issue.
  ASSERT_TRUE(client->call("POST", "/agents/" + worker_id + "/pause"));
  auto agents = client->list_agents(cid);
  ASSERT_TRUE(agents);
  EXPECT_EQ(agents->size(), 2u);
  auto patched = client->patch_agent(worker_id, {{"adapterConfig", {{"url", "http://127.0.0.1:10/wake"},
                                                                    {"payloadTemplate", {{"agentos_agent", "worker"}}}}}});
  ASSERT_TRUE(patched) << patched.error().message;
  auto got_agent = client->get_agent(worker_id);
  ASSERT_TRUE(got_agent);
  EXPECT_EQ((*got_agent)["adapterConfig"]["url"], "http://127.0.0.1:10/wake");

  const json issue_body = {{"title", "client issue"},   {"description", "agentos-task: T-1"}, {"status", "backlog"},
                           {"idempotencyKey", "k:T-1"}, {"allowDuplicate", true}};
  auto issue = client->create_issue(cid, issue_body);
  ASSERT_TRUE(issue) << issue.error().message;
  const std::string iid = issue->at("id");
  EXPECT_EQ(issue->value("status", ""), "backlog");
  auto again = client->create_issue(cid, issue_body);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value("id", ""), iid);
  EXPECT_EQ(again->value("deduplicated", false), true);
  auto issues = client->list_issues(cid);
  ASSERT_TRUE(issues);
  EXPECT_EQ(issues->size(), 1u);

  auto got = client->get_issue(iid);
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ((**got).value("title", ""), "client issue");
  auto missing = client->get_issue("00000000-0000-4000-8000-000000000000");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);

  auto moved = client->patch_issue(iid, {{"status", "todo"}, {"assigneeAgentId", worker_id}}, "moved by the test");
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->value("status", ""), "todo");
  EXPECT_EQ(moved->value("assigneeAgentId", ""), worker_id);
  auto comment = client->add_comment(iid, "second comment");
  ASSERT_TRUE(comment);
  EXPECT_EQ(comment->value("body", ""), "second comment");
  auto comments = client->list_comments(iid);
  ASSERT_TRUE(comments);
  ASSERT_GE(comments->size(), 2u);
  EXPECT_EQ((*comments)[0].value("body", ""), "second comment");
  EXPECT_EQ((*comments)[1].value("body", ""), "moved by the test");

  auto none = client->get_document(iid, "plan");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto doc = client->put_document(iid, "plan", "Plan v1", "1. build\n2. test");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->value("latestRevisionNumber", 0), 1);
  EXPECT_EQ(doc->value("body", ""), "1. build\n2. test");
  auto same = client->put_document(iid, "plan", "Plan v1", "1. build\n2. test");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->value("latestRevisionNumber", 0), 1) << "the same body again adds no revision";
  auto changed = client->put_document(iid, "plan", "Plan v2", "1. build\n2. test\n3. ship");
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->value("latestRevisionNumber", 0), 2);
  EXPECT_EQ(changed->value("body", ""), "1. build\n2. test\n3. ship");
  EXPECT_EQ(changed->value("title", ""), "Plan v2");

  auto approval = client->create_approval(cid, "request_board_approval",
                                          {{"title", "Plan for T-1"}, {"task", "T-1"}, {"version", 1}, {"plan", "text"}}, {iid});
  ASSERT_TRUE(approval) << approval.error().message;
  const std::string aid = approval->at("id");
  EXPECT_EQ(approval->value("status", ""), "pending");
  auto got_approval = client->get_approval(aid);
  ASSERT_TRUE(got_approval);
  EXPECT_EQ((*got_approval)["payload"]["task"], "T-1");
  auto linked = client->list_issue_approvals(iid);
  ASSERT_TRUE(linked);
  ASSERT_EQ(linked->size(), 1u);
  EXPECT_EQ((*linked)[0].value("id", ""), aid);

  auto product = client->create_work_product(iid, {{"type", "artifact"}, {"provider", "agentos"}, {"title", "result v1"},
                                                   {"externalId", "T-1:result:1"}, {"status", "ready_for_review"}});
  ASSERT_TRUE(product) << product.error().message;
  auto products = client->list_work_products(iid);
  ASSERT_TRUE(products);
  ASSERT_EQ(products->size(), 1u);
  EXPECT_EQ((*products)[0].value("externalId", ""), "T-1:result:1");

  auto activity = client->list_activity(cid, 500);
  ASSERT_TRUE(activity);
  ASSERT_FALSE(activity->empty());
  EXPECT_EQ(activity->back().value("action", ""), "company.created") << "newest first: the company came first";
  auto two = client->list_activity(cid, 2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].value("id", ""), (*activity)[0].value("id", ""));
}

TEST_F(ClientTest, HttpErrorsCarryStatusAndPaperclipsMessage) {
  const std::string cid = new_company("client errors");
  auto bad = client->create_issue(cid, {{"title", "x"}, {"status", "finished"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), "paperclip.http");
  EXPECT_EQ(bad.error().status, 400u);
  EXPECT_FALSE(bad.error().transient());
  EXPECT_TRUE(bad.error().body.contains("details"));
  EXPECT_NE(bad.error().message.find("HTTP 400"), std::string::npos) << bad.error().message;

  auto missing = client->patch_issue("00000000-0000-4000-8000-000000000000", {{"status", "todo"}});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().is_http(404));
  EXPECT_NE(missing.error().message.find("Issue not found"), std::string::npos) << missing.error().message;
}

TEST(ClientErrors, RefusedConnectionIsUnreachable) {
  paperclip_client c(url_of("http://127.0.0.1:" + std::to_string(closed_port())));
  auto a = c.call("GET", "/health");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), "paperclip.unreachable");
  EXPECT_TRUE(a.error().transient());
}

TEST(ClientErrors, SilentServerIsTimeout) {
  raw_listener silent;
  client_options o;
  o.timeout = 300ms;
  paperclip_client c(url_of("http://127.0.0.1:" + std::to_string(silent.port())), o);
  const auto t0 = std::chrono::steady_clock::now();
  auto a = c.call("GET", "/health");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), "paperclip.timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // The client is usable again afterwards (a new connection per failure).
  auto b = c.call("GET", "/health");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), "paperclip.timeout");
}

TEST(ClientErrors, AnswerThatIsNotJsonIsBadResponse) {
  raw_listener html("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>");
  paperclip_client c(url_of("http://127.0.0.1:" + std::to_string(html.port())));
  auto a = c.call("GET", "/health");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), "paperclip.bad_response");
  raw_listener garbage("SMTP ready\r\n\r\n");
  paperclip_client g(url_of("http://127.0.0.1:" + std::to_string(garbage.port())));
  auto b = g.call("GET", "/health");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), "paperclip.bad_response") << b.error().message;
}

TEST(ClientErrors, AnswerOverTheBodyLimitIsBadResponse) {
  const std::string body = "[" + std::string(40, ' ') + "]";
  raw_listener sized("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body);
  raw_listener chunked("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       std::string("2a\r\n") + body + "\r\n0\r\n\r\n");
  client_options o;
  o.body_limit = 16;
  for (const int port : {sized.port(), chunked.port()}) {
    paperclip_client small(url_of("http://127.0.0.1:" + std::to_string(port)), o);
    auto a = small.call("GET", "/companies");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code(), "paperclip.bad_response") << a.error().message;
    paperclip_client roomy(url_of("http://127.0.0.1:" + std::to_string(port)));
    auto b = roomy.call("GET", "/companies");
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_TRUE(b->body.is_array());
  }
}

TEST_F(ClientTest, ReconnectsWhenTheServerClosedTheIdleConnection) {
  ASSERT_TRUE(client->call("GET", "/health"));
  // Node closes an idle keep-alive connection after 5 s; the next call finds it closed.
  std::this_thread::sleep_for(6s);
  auto again = client->call("GET", "/health");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 200u);
}

TEST(ClientErrors, InterruptAbandonsTheCallInFlight) {
  raw_listener silent;
  paperclip_client c(url_of("http://127.0.0.1:" + std::to_string(silent.port())));  // 10 s timeout
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    c.interrupt();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto a = c.call("GET", "/health");
  stopper.join();
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), "paperclip.cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  auto b = c.call("GET", "/health");  // still interrupted
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), "paperclip.cancelled");
}

TEST_F(ClientTest, EventSocketReceivesActivityAfterAChange) {
  const std::string cid = new_company("client events");
  auto issue = client->create_issue(cid, {{"title", "watched"}, {"status", "backlog"}});
  ASSERT_TRUE(issue);
  const std::string iid = issue->at("id");
  auto ws = event_socket::connect(url_of(paperclip_server::get().url()), cid, 5s);
  ASSERT_TRUE(ws) << ws.error().message;
  auto quiet = (*ws)->read(200ms);
  ASSERT_TRUE(quiet) << quiet.error().message;
  EXPECT_FALSE(*quiet) << "nothing happened yet";
  ASSERT_TRUE(client->patch_issue(iid, {{"status", "todo"}}));
  bool seen = false;
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!seen && std::chrono::steady_clock::now() < until) {
    auto f = (*ws)->read(1s);
    ASSERT_TRUE(f) << f.error().message;
    if (!*f) continue;
    const json& e = **f;
    seen = e.value("type", "") == "activity.logged" && e["payload"].value("entityId", "") == iid &&
           e["payload"].value("action", "") == "issue.updated";
  }
  EXPECT_TRUE(seen);
  (*ws)->close();
}

TEST(EventSocket, UnreachableAndInterrupt) {
  auto none = event_socket::connect(url_of("http://127.0.0.1:" + std::to_string(closed_port())), "x", 2s);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), "paperclip.unreachable");
  raw_listener silent;
  auto hung = event_socket::connect(url_of("http://127.0.0.1:" + std::to_string(silent.port())), "x", 300ms);
  ASSERT_FALSE(hung);
  EXPECT_EQ(hung.error().code(), "paperclip.timeout");
}

TEST_F(ClientTest, EventSocketInterruptEndsAWaitingRead) {
  const std::string cid = new_company("client interrupt");
  auto ws = event_socket::connect(url_of(paperclip_server::get().url()), cid, 5s);
  ASSERT_TRUE(ws) << ws.error().message;
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    (*ws)->interrupt();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto f = (*ws)->read(20s);
  stopper.join();
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// Paperclip pings every 30 s and drops a client that has not answered the previous ping, so a
// client that did not answer would be gone after at most 60 s. Beast answers while a read waits.
TEST_F(ClientTest, EventSocketSurvivesTheServersPings) {
  const std::string cid = new_company("client pings");
  auto issue = client->create_issue(cid, {{"title", "pinged"}, {"status", "backlog"}});
  ASSERT_TRUE(issue);
  auto ws = event_socket::connect(url_of(paperclip_server::get().url()), cid, 5s);
  ASSERT_TRUE(ws) << ws.error().message;
  const auto idle_until = std::chrono::steady_clock::now() + 65s;
  while (std::chrono::steady_clock::now() < idle_until) {
    auto f = (*ws)->read(5s);
    ASSERT_TRUE(f) << "dropped while idle: " << f.error().message;
  }
  ASSERT_TRUE(client->patch_issue(issue->at("id").get<std::string>(), {{"status", "todo"}}));
  bool seen = false;
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (!seen && std::chrono::steady_clock::now() < until) {
    auto f = (*ws)->read(1s);
    ASSERT_TRUE(f) << f.error().message;
    seen = *f && (**f).value("type", "") == "activity.logged";
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace agentos::runtime::projection
