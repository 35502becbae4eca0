// The service end to end over real HTTP (the foundation of issue 5): the server started on
// loopback over a fresh store with the shipped policy, driven by a small synchronous Beast
// client. Covers authentication, the status mapping of outcomes (201/200/422/409/404/400), the
// request limits (413, JSON depth) and a graceful stop with a request in flight.
#include "http_fixture.hpp"

using namespace agentos::testing::http_fixture;

TEST(HttpJsonDepth, CountsNestingOutsideStrings) {
  EXPECT_TRUE(json_depth_within(nested(64), 64));
  EXPECT_FALSE(json_depth_within(nested(65), 64));
  EXPECT_TRUE(json_depth_within(R"({"a": ")" + std::string(100, '[') + R"("})", 2));
  EXPECT_TRUE(json_depth_within(R"({"a": "\"[[[["})", 1));
  EXPECT_FALSE(json_depth_within(R"({"a": "\\", "b": [[]]})", 2));  // an escaped backslash ends no string
  EXPECT_TRUE(json_depth_within("]]]]}}}", 0));                      // malformed, but not deep: the parser says so
}

TEST_F(Http, HealthNeedsNoToken) {
  const reply r = get(port, "/health", "");
  EXPECT_EQ(r.status, 200u) << r.error;
  EXPECT_EQ(r.body, json({{"status", "ok"}}));
}

TEST_F(Http, MissingOrUnknownTokenIs401) {
  const reply none = get(port, "/api/tasks", "");
  EXPECT_EQ(none.status, 401u) << none.error;
  EXPECT_EQ(error_code_of(none), "auth.unauthenticated");
  EXPECT_TRUE(none.body["error"].contains("details"));
  const reply unknown = get(port, "/api/tasks", "not-a-token");
  EXPECT_EQ(unknown.status, 401u);
  const reply create = post(port, "/api/tasks", {{"task", {{"title", "x"}, {"kind", "engineering"}}}}, "");
  EXPECT_EQ(create.status, 401u);
  EXPECT_TRUE(get(port, "/api/tasks").body["tasks"].empty()) << "an unauthenticated create wrote a task";
}

TEST_F(Http, LifecycleDenialConflictAndReads) {
  const std::string id = create_engineering();
  const std::string moves = "/api/tasks/" + id + "/transitions";

  const reply assign = post(port, moves, {{"event", "assign"}}, openclaw);
  EXPECT_EQ(assign.status, 200u) << assign.body.dump();
  EXPECT_EQ(assign.body["decision"]["allowed"], true);
  const reply start = post(port, moves, {{"event", "start"}}, claude);
  EXPECT_EQ(start.status, 200u) << start.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "executing");
  const reply submit = post(
      port, moves, {{"event", "submit_result"}, {"artifact", {{"kind", "result"}, {"content", "fixed"}}}}, claude);
  EXPECT_EQ(submit.status, 200u) << submit.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "result_review");

  // The actor is the token's owner: claude accepting its own result is a self-approval.
  const json before = task(id);
  const reply self = post(port, moves, {{"event", "accept_result"}}, claude);
  EXPECT_EQ(self.status, 422u) << self.body.dump();
  ASSERT_TRUE(self.body["error"]["details"]["reasons"].is_array()) << self.body.dump();
  EXPECT_FALSE(self.body["error"]["details"]["reasons"].empty());
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(task(id)["version"], before["version"]);

  // A stale expected_version: 409, nothing changes.
  const reply stale = post(port, moves, {{"event", "accept_result"}, {"expected_version", 1}}, openclaw);
  EXPECT_EQ(stale.status, 409u) << stale.body.dump();
  EXPECT_EQ(error_code_of(stale), "task.version_conflict");
  EXPECT_EQ(task(id), before);

  // The assignee's parent role accepts (claude reports to claude_pm).
  const reply accept =
      post(port, moves, {{"event", "accept_result"}, {"expected_version", before["version"]}}, claude_pm);
  EXPECT_EQ(accept.status, 200u) << accept.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "done");

  const reply list = get(port, "/api/tasks?state=done&limit=10");
  EXPECT_EQ(list.status, 200u);
  ASSERT_EQ(list.body["tasks"].size(), 1u) << list.body.dump();
  EXPECT_TRUE(get(port, "/api/tasks?state=executing").body["tasks"].empty());
  EXPECT_EQ(get(port, "/api/tasks?limit=ten").status, 400u);

  const reply audit = get(port, "/api/audit?task=" + id);
  EXPECT_EQ(audit.status, 200u);
  ASSERT_TRUE(audit.body["records"].is_array());
  EXPECT_EQ(audit.body["records"].size(), 6u) << audit.body.dump();  // intake, 4 moves, 1 denial
  EXPECT_EQ(get(port, "/api/audit?task=" + id + "&limit=2").body["records"].size(), 2u);
}

TEST_F(Http, UnknownTaskIs404) {
  const reply r = get(port, "/api/tasks/T-999");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(error_code_of(r), "task.not_found");
  const reply t = post(port, "/api/tasks/T-999/transitions", {{"event", "assign"}}, openclaw);
  EXPECT_EQ(t.status, 404u) << t.body.dump();
  EXPECT_EQ(get(port, "/api/nothing").status, 404u);
  EXPECT_EQ(call(port, http::verb::delete_, "/api/tasks/T-1", {}, openclaw).status, 405u);
}

TEST_F(Http, BadInputIs400NeverA500) {
  const std::string id = create_engineering();
  const std::string moves = "/api/tasks/" + id + "/transitions";
  const reply malformed = call(port, http::verb::post, "/api/tasks", "{\"task\": {", openclaw);
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_EQ(error_code_of(malformed), "request.malformed");
  EXPECT_EQ(call(port, http::verb::post, moves, "[1, 2]", openclaw).status, 400u);
  EXPECT_EQ(post(port, moves, {{"event", 7}}, openclaw).status, 400u);
  EXPECT_EQ(post(port, moves, {{"event", "assign"}, {"expected_version", -1}}, openclaw).status, 400u);
  EXPECT_EQ(post(port, moves, {{"event", "assign"}, {"actor", "openclaw"}}, claude).status, 400u);  // no actor field
  EXPECT_EQ(post(port, "/api/tasks", {{"task", "no"}}, openclaw).status, 400u);
  EXPECT_EQ(call(port, http::verb::get, "/api/tasks/%zz", {}, openclaw).status, 400u);
  const reply unknown_attr = post(port, "/api/tasks", {{"task", {{"title", "x"}, {"nonsense", 1}}}}, openclaw);
  EXPECT_EQ(unknown_attr.status, 400u) << unknown_attr.body.dump();
  EXPECT_EQ(task(id)["version"], 1) << "a bad request changed the task";
}

TEST_F(Http, BodyAndDepthLimits) {
  const reply big = call(port, http::verb::post, "/api/tasks", std::string(2u << 20, ' '), openclaw);
  EXPECT_EQ(big.status, 413u) << big.error;
  EXPECT_EQ(error_code_of(big), "request.too_large");

  // Nesting within the limit reaches the API (which rejects the attribute for what it is, not
  // for its depth); deeper than 64 is refused before parsing, up to a body of a million brackets.
  const std::string shallow = R"({"task": {"title": "x", "kind": "engineering", "deep": )" + nested(60) + "}}";
  const reply ok = call(port, http::verb::post, "/api/tasks", shallow, openclaw);
  EXPECT_NE(error_code_of(ok), "request.too_deep");
  EXPECT_NE(ok.status, 500u);
  for (const std::size_t depth : {std::size_t{100}, std::size_t{1000}, std::size_t{500'000}}) {
    const std::string deep = R"({"task": )" + nested(depth) + "}";
    const reply r = call(port, http::verb::post, "/api/tasks", deep, openclaw);
    EXPECT_EQ(r.status, 400u) << depth << ": " << r.error;
    EXPECT_EQ(error_code_of(r), "request.too_deep") << depth;
  }
  EXPECT_EQ(get(port, "/health", "").status, 200u);
}

TEST_F(Http, MalformedHttpAndLargeHeaders) {
  const reply garbage = raw(port, "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.status, 400u) << garbage.error;
  EXPECT_EQ(error_code_of(garbage), "request.malformed");
  const reply header = raw(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(header.status, 431u) << header.error;
  const reply fine = raw(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Small: " + std::string(4 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(fine.status, 200u) << fine.error;
}

TEST_F(Http, GracefulStopFinishesTheRequestInFlight) {
  hold();
  reply in_flight;
  std::thread client([&] {
    in_flight =
        post(port, "/api/tasks", {{"task", {{"title", "last words"}, {"kind", "engineering"}}}}, openclaw);
  });
  wait_entered();  // the request is being handled: its operation waits for the clock
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    m_server->stop();
    stopped = true;
  });
  // Stop has begun once the acceptor is closed: a new connection is refused.
  for (int i = 0; i < 500 && get(port, "/health", "").status != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(stopped) << "stop() returned with a request in flight";
  release();
  stopper.join();
  client.join();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(in_flight.status, 201u) << in_flight.error << in_flight.body.dump();
  auto rows = m_store->tasks({});
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_EQ(get(port, "/health", "").status, 0u) << "the server still accepts after stop()";
}

TEST_F(Http, SlowClientIsDroppedWhileOthersAreServed) {
  http_options options;
  options.port = 0;
  options.read_timeout = std::chrono::milliseconds(300);
  http_server server(*m_api, options);
  ASSERT_TRUE(server.start().empty());

  asio::io_context ioc;
  beast::tcp_stream slow(ioc);
  slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  asio::write(slow.socket(), asio::buffer(std::string_view("GET /health HTTP/1.1\r\nHo")));
  EXPECT_EQ(get(server.port(), "/health", "").status, 200u);  // another client meanwhile

  // The server gives up on the unfinished request and closes: the read ends (the client's own
  // deadline is only a guard against a server that never does).
  slow.expires_after(std::chrono::seconds(30));
  std::array<char, 256> buffer{};
  beast::error_code ec;
  std::size_t total = 0;
  for (;;) {
    const std::size_t n = slow.socket().read_some(asio::buffer(buffer), ec);
    total += n;
    if (ec) break;
  }
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_EQ(total, 0u) << "the server answered an unfinished request";
  server.stop();
}

TEST_F(Http, ConnectionsOverTheCapAreClosedWhileTheOthersAreServed) {
  http_options capped;
  capped.max_connections = 2;
  serve_with({}, capped);
  const tcp::endpoint server(asio::ip::make_address("127.0.0.1"), port);
  // Two keep-alive connections, each proven accepted by an answer on it.
  asio::io_context ioc;
  std::vector<beast::tcp_stream> held;
  for (int i = 0; i < 2; ++i) {
    held.emplace_back(ioc);
    held.back().connect(server);
    http::request<http::empty_body> req{http::verb::get, "/health", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(held.back(), req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(held.back(), buffer, res);
    ASSERT_EQ(res.result_int(), 200u);
  }
  // A third is closed without an answer.
  const reply refused = get(port, "/health", "");
  EXPECT_EQ(refused.status, 0u) << refused.body.dump();
  // Once one of the two goes, a newcomer is served again.
  held.front().close();
  reply served;
  for (int attempt = 0; attempt < 100 && served.status == 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    served = get(port, "/health", "");
  }
  EXPECT_EQ(served.status, 200u) << served.error;
}
