// Notifications end to end over real HTTP: the server-sent event stream of the outbox (order,
// resuming with Last-Event-ID, heartbeats, a slow client dropped while others keep up, the
// graceful stop) and webhooks delivered to a receiver the test runs on loopback (signatures
// verified here with OpenSSL, a retry after a 500 in the delivery log, a restart that resumes
// without sending an acknowledged event again).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>

#include "http_fixture.hpp"
#include "runtime/service/webhooks.hpp"

using namespace agentos::testing::http_fixture;

namespace {

using namespace std::chrono_literals;

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &size);
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(two, sizeof two, "%02x", out[i]);
    hex += two;
  }
  return hex;
}

constexpr const char* secret = "a-secret-of-thirty-two-bytes-ok!";

class HttpEvents : public Http {
 protected:
  // Replaces the fixture's api and server with ones using these settings, over the same store.
  void restart_service(webhook_options hooks, http_options options = {}) {
    stop_service();
    api_options o;
    o.webhooks = hooks;
    serve_with(std::move(o), options);
  }
  void stop_service() {
    if (m_server) m_server->stop();
    m_server.reset();
    m_api.reset();  // stops the webhook workers
  }

  static webhook_options quick() {
    webhook_options o;
    o.first_retry = 50ms;
    o.max_retry = 200ms;
    o.timeout = 5s;
    return o;
  }

  // The whole outbox, as the store has it.
  std::vector<json> outbox() {
    auto rows = m_store->outbox(0, 0);
    EXPECT_TRUE(rows);
    return rows ? *rows : std::vector<json>{};
  }

  json create_webhook(const receiver& r, json extra = json::object()) {
    json body = {{"url", "http://127.0.0.1:" + std::to_string(r.port) + "/hook"}, {"secret", secret}};
    body.update(extra);
    const reply created = post(port, "/api/webhooks", body, alex);
    EXPECT_EQ(created.status, 201u) << created.body.dump();
    return created.body["webhook"];
  }

  // Waits until the webhook's cursor reaches `seq` (the acknowledgement is committed).
  bool acknowledged(const std::string& id, std::uint64_t seq) {
    for (int i = 0; i < 500; ++i) {
      const reply r = get(port, "/api/webhooks/" + id, alex);
      if (r.status == 200 && r.body["webhook"]["cursor"].get<std::uint64_t>() >= seq) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  void expect_signed(const received& r) {
    const std::string ts = r.headers.count("x-agentos-timestamp") ? r.headers.at("x-agentos-timestamp") : "";
    ASSERT_FALSE(ts.empty());
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_LE(std::llabs(std::stoll(ts) - now_s), 300) << "the timestamp is not the time of sending";
    EXPECT_EQ(r.headers.at("x-agentos-signature"), "sha256=" + hmac_hex(secret, ts + "." + r.body));
    EXPECT_NE(r.headers.at("x-agentos-signature"), "sha256=" + hmac_hex("another secret entirely", ts + "." + r.body));
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
  }
};

// ---- the event stream

TEST_F(HttpEvents, StreamsEveryEventInOrderThenLiveOnes) {
  const std::string id = create_engineering();
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
  create_engineering();
  const std::vector<json> before = outbox();
  ASSERT_EQ(before.size(), 3u);

  sse_client c(port, "/api/events?after=0", claude);
  ASSERT_TRUE(c.read_header());
  EXPECT_EQ(c.status, 200u);
  EXPECT_EQ(c.headers["content-type"], "text/event-stream; charset=utf-8");
  EXPECT_EQ(c.headers["cache-control"], "no-store");
  c.read_events(3);
  ASSERT_EQ(c.events.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c.events[i].id, i + 1);
    EXPECT_EQ(c.events[i].event, before[i]["type"]);
    EXPECT_EQ(c.events[i].data, before[i]);
  }
  EXPECT_EQ(c.events[1].event, "task.transitioned");

  // Live: events committed while connected arrive in order, each once.
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude).status, 200u);
  for (int i = 0; i < 5; ++i) create_engineering();
  c.read_events(9);
  const std::vector<json> after = outbox();
  ASSERT_EQ(after.size(), 9u);
  ASSERT_EQ(c.events.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(c.events[i].id, i + 1);
    EXPECT_EQ(c.events[i].data, after[i]);
  }
  EXPECT_FALSE(c.closed);
}

TEST_F(HttpEvents, WithoutAResumePointOnlyNewEvents) {
  create_engineering();
  create_engineering();
  sse_client c(port, "/api/events", openclaw);
  ASSERT_TRUE(c.read_header());
  ASSERT_EQ(c.status, 200u);
  create_engineering();
  c.read_events(1);
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].id, 3u);
  EXPECT_EQ(c.events[0].event, "task.created");
}

TEST_F(HttpEvents, ReconnectWithLastEventIdGetsExactlyTheMissingOnes) {
  for (int i = 0; i < 3; ++i) create_engineering();
  {
    sse_client first(port, "/api/events?after=0", claude);
    ASSERT_TRUE(first.read_header());
    first.read_events(3);
    ASSERT_EQ(first.events.size(), 3u);
    EXPECT_EQ(first.events.back().id, 3u);
    first.disconnect();
  }
  // Missed while away: a create, two transitions, more creates.
  const std::string id = create_engineering();
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude).status, 200u);
  create_engineering();
  const std::vector<json> all = outbox();
  ASSERT_EQ(all.size(), 7u);

  // The header wins over ?after= (an EventSource keeps its original URL when it reconnects).
  sse_client again(port, "/api/events?after=1", claude, "3");
  ASSERT_TRUE(again.read_header());
  ASSERT_EQ(again.status, 200u);
  again.read_events(4);
  ASSERT_EQ(again.events.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(again.events[i].id, 4 + i);
    EXPECT_EQ(again.events[i].data, all[3 + i]);
  }
  // Nothing else was pending: the next event to arrive is a new one.
  create_engineering();
  again.read_events(5);
  ASSERT_EQ(again.events.size(), 5u);
  EXPECT_EQ(again.events[4].id, 8u);
}

TEST_F(HttpEvents, BadResumePointsAndNoTokenAreRefused) {
  create_engineering();
  EXPECT_EQ(get(port, "/api/events", "").status, 401u);
  const reply words = get(port, "/api/events?after=ten", claude);
  EXPECT_EQ(words.status, 400u);
  EXPECT_EQ(error_code_of(words), "request.invalid");
  const reply beyond = get(port, "/api/events?after=99", claude);
  EXPECT_EQ(beyond.status, 400u);
  EXPECT_EQ(error_code_of(beyond), "events.beyond_head");
  EXPECT_EQ(beyond.body["error"]["details"]["head"], 1);
  sse_client header(port, "/api/events", claude, "-4");
  ASSERT_TRUE(header.read_header());
  EXPECT_EQ(header.status, 400u);
  EXPECT_EQ(call(port, http::verb::post, "/api/events", "{}", claude).status, 405u);
}

TEST_F(HttpEvents, IdleStreamGetsHeartbeats) {
  http_options options;
  options.sse_heartbeat = 100ms;
  restart_service({}, options);
  sse_client c(port, "/api/events", claude);
  ASSERT_TRUE(c.read_header());
  EXPECT_TRUE(c.read_comment(5s)) << "no heartbeat on an idle stream";
  EXPECT_TRUE(c.events.empty());
}

TEST_F(HttpEvents, GracefulStopEndsTheStream) {
  create_engineering();
  sse_client c(port, "/api/events?after=0", claude);
  ASSERT_TRUE(c.read_header());
  c.read_events(1);
  ASSERT_EQ(c.events.size(), 1u);
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    m_server->stop();
    stopped = true;
  });
  c.read_to_end();
  stopper.join();
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(c.finished) << "the stream was cut instead of ended";
  EXPECT_TRUE(c.closed);
}

TEST_F(HttpEvents, SlowClientIsDroppedWhileOthersKeepUp) {
  http_options options;
  options.sse_queue_bytes = 256 * 1024;
  options.sse_send_buffer = 32 * 1024;  // the kernel would otherwise buffer up to MiBs before the queue grows
  restart_service({}, options);
  sse_client slow(port, "/api/events", claude, {}, 4096);  // reads nothing until the end
  ASSERT_TRUE(slow.read_header());
  sse_client fast(port, "/api/events", claude);
  ASSERT_TRUE(fast.read_header());

  // Enough events, committed in large batches, to fill the slow client's socket buffers and
  // then its queue, while the fast client reads as they come.
  constexpr std::size_t n = 4'000;
  std::thread reader([&] { fast.read_events(n, 120s); });
  std::vector<std::future<outcome>> pending;
  for (std::size_t i = 0; i < n; ++i) {
    create_op op;
    op.task = {{"title", "bulk " + std::to_string(i)}, {"kind", "engineering"}};
    op.actor = {{"id", "openclaw"}};
    op.now = 1'767'225'600'000;
    pending.push_back(m_store->submit(std::move(op)));
  }
  for (auto& f : pending) ASSERT_EQ(f.get().status, outcome_status::applied);
  reader.join();
  ASSERT_EQ(fast.events.size(), n);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(fast.events[i].id, i + 1);
  EXPECT_FALSE(fast.closed);

  slow.read_to_end(30s);
  EXPECT_TRUE(slow.closed) << "the slow client was not dropped";
  EXPECT_FALSE(slow.finished);
  ASSERT_LT(slow.events.size(), n);
  for (std::size_t i = 0; i < slow.events.size(); ++i) ASSERT_EQ(slow.events[i].id, i + 1);

  // It resumes where it was cut off and gets the rest.
  const std::uint64_t last = slow.events.empty() ? 0 : slow.events.back().id;
  sse_client resumed(port, "/api/events", claude, std::to_string(last));
  ASSERT_TRUE(resumed.read_header());
  resumed.read_events(n - last, 60s);
  ASSERT_EQ(resumed.events.size(), n - last);
  EXPECT_EQ(resumed.events.front().id, last + 1);
  EXPECT_EQ(resumed.events.back().id, n);
}

// ---- webhooks

TEST(Webhooks, HmacMatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_F(HttpEvents, WebhookDeliveriesAreSignedAndInOrder) {
  receiver hook;
  const json created = create_webhook(hook, {{"events", {"task.created", "task.transitioned"}}});
  const std::string wh = created["id"];
  EXPECT_EQ(wh, "wh-1");
  EXPECT_FALSE(created.contains("secret"));
  EXPECT_EQ(created["cursor"], 0);

  const std::string id = create_engineering();
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
  const auto got = hook.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  const std::vector<json> events = outbox();
  for (std::size_t i = 0; i < 2; ++i) {
    expect_signed(got[i]);
    EXPECT_EQ(json::parse(got[i].body), events[i]);
    EXPECT_EQ(got[i].headers.at("x-agentos-event"), events[i]["type"]);
    EXPECT_EQ(got[i].headers.at("x-agentos-delivery"), wh + ":" + std::to_string(i + 1));
  }
  ASSERT_TRUE(acknowledged(wh, 2));

  const reply log = get(port, "/api/webhooks/" + wh + "/deliveries", alex);
  ASSERT_EQ(log.status, 200u) << log.body.dump();
  ASSERT_EQ(log.body["deliveries"].size(), 2u);
  EXPECT_EQ(log.body["deliveries"][0]["result"], "delivered");
  EXPECT_EQ(log.body["deliveries"][0]["status"], 200);
  EXPECT_EQ(log.body["deliveries"][0]["attempt"], 1);
  EXPECT_EQ(log.body["deliveries"][1]["event_seq"], 2);

  const reply listed = get(port, "/api/webhooks", alex);
  ASSERT_EQ(listed.status, 200u);
  ASSERT_EQ(listed.body["webhooks"].size(), 1u);
  EXPECT_FALSE(listed.body["webhooks"][0].contains("secret"));
  EXPECT_EQ(listed.body["webhooks"][0]["delivered"], 2);
}

TEST_F(HttpEvents, WebhookFilterSkipsUnwantedKinds) {
  receiver hook;
  const std::string wh = create_webhook(hook, {{"events", {"task.transitioned"}}})["id"];
  const std::string id = create_engineering();  // task.created: not wanted
  ASSERT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
  const auto got = hook.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.at("x-agentos-event"), "task.transitioned");
  EXPECT_EQ(got[0].headers.at("x-agentos-delivery"), wh + ":2");
  ASSERT_TRUE(acknowledged(wh, 2));
  EXPECT_EQ(hook.all().size(), 1u);
}

TEST_F(HttpEvents, WebhookRetriesAfterAFailureAndLogsBothAttempts) {
  restart_service(quick());
  receiver hook({500});
  const std::string wh = create_webhook(hook)["id"];
  create_engineering();
  const auto got = hook.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].answered, 500u);
  EXPECT_EQ(got[1].answered, 200u);
  EXPECT_EQ(got[0].body, got[1].body);
  EXPECT_EQ(got[0].headers.at("x-agentos-delivery"), got[1].headers.at("x-agentos-delivery"));
  expect_signed(got[0]);
  expect_signed(got[1]);
  ASSERT_TRUE(acknowledged(wh, 1));

  const reply log = get(port, "/api/webhooks/" + wh + "/deliveries", alex);
  ASSERT_EQ(log.status, 200u);
  const json& d = log.body["deliveries"];
  ASSERT_EQ(d.size(), 2u) << d.dump();
  EXPECT_EQ(d[0]["attempt"], 1);
  EXPECT_EQ(d[0]["status"], 500);
  EXPECT_EQ(d[0]["result"], "failed");
  EXPECT_EQ(d[0]["error"], "HTTP 500");
  EXPECT_EQ(d[0]["retry_in_ms"], 50);
  EXPECT_EQ(d[1]["attempt"], 2);
  EXPECT_EQ(d[1]["status"], 200);
  EXPECT_EQ(d[1]["result"], "delivered");
  EXPECT_EQ(d[0]["event_seq"], d[1]["event_seq"]);
  EXPECT_GE(d[1]["at"].get<std::int64_t>(), d[0]["at"].get<std::int64_t>());
  EXPECT_EQ(get(port, "/api/webhooks/" + wh + "/deliveries?after=1", alex).body["deliveries"].size(), 1u);

  const reply sub = get(port, "/api/webhooks/" + wh, alex);
  EXPECT_TRUE(sub.body["webhook"]["pending"].is_null()) << sub.body.dump();
  EXPECT_EQ(sub.body["webhook"]["failed_attempts"], 1);
}

TEST_F(HttpEvents, UnreachableReceiverIsRetriedAndLogged) {
  restart_service(quick());
  // A port with nobody listening: bind one, note it, close it.
  std::uint16_t dead = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead = a.local_endpoint().port();
  }
  const reply created = post(port, "/api/webhooks",
                             {{"url", "http://127.0.0.1:" + std::to_string(dead) + "/"}, {"secret", secret}}, alex);
  ASSERT_EQ(created.status, 201u) << created.body.dump();
  const std::string wh = created.body["webhook"]["id"];
  create_engineering();
  json d;
  for (int i = 0; i < 500 && d.size() < 3; ++i) {
    d = get(port, "/api/webhooks/" + wh + "/deliveries", alex).body["deliveries"];
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(d.size(), 3u) << d.dump();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d[i]["attempt"], i + 1);
    EXPECT_TRUE(d[i]["status"].is_null());
    EXPECT_EQ(d[i]["result"], "failed");
    EXPECT_NE(d[i]["error"].get<std::string>().find("connect"), std::string::npos) << d[i].dump();
  }
  EXPECT_EQ(d[1]["retry_in_ms"], 100);  // doubled
  EXPECT_EQ(d[2]["retry_in_ms"], 200);  // capped by max_retry

  // Deleting it stops the retries and removes the log.
  const reply gone = call(port, http::verb::delete_, "/api/webhooks/" + wh, {}, alex);
  EXPECT_EQ(gone.status, 200u) << gone.body.dump();
  EXPECT_EQ(get(port, "/api/webhooks/" + wh + "/deliveries", alex).status, 404u);
  EXPECT_EQ(call(port, http::verb::delete_, "/api/webhooks/" + wh, {}, alex).status, 404u);
}

TEST_F(HttpEvents, RestartResumesDeliveryWithoutRepeatingAcknowledgedEvents) {
  restart_service(quick());
  receiver hook;
  const std::string wh = create_webhook(hook)["id"];
  create_engineering();
  create_engineering();
  ASSERT_EQ(hook.wait_for(2).size(), 2u);
  ASSERT_TRUE(acknowledged(wh, 2));

  // The server goes away; events happen meanwhile; the store is closed and opened again.
  stop_service();
  for (int i = 0; i < 2; ++i) {
    create_op op;
    op.task = {{"title", "while down"}, {"kind", "engineering"}};
    op.actor = {{"id", "openclaw"}};
    op.now = 1'767'225'600'000;
    ASSERT_EQ(m_store->apply(std::move(op)).status, outcome_status::applied);
  }
  EXPECT_EQ(hook.all().size(), 2u);
  m_store.reset();
  auto reopened = task_store::open(m_dir.path() / "data", std::nullopt);
  ASSERT_TRUE(reopened) << reopened.error().message;
  m_store = std::move(*reopened);
  restart_service(quick());

  const auto got = hook.wait_for(4);
  ASSERT_EQ(got.size(), 4u);
  create_engineering();  // a delivery in order after the resumed ones: nothing else was sent before it
  const auto all = hook.wait_for(5);
  ASSERT_EQ(all.size(), 5u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].headers.at("x-agentos-delivery"), wh + ":" + std::to_string(i + 1));
    ids.insert(all[i].headers.at("x-agentos-delivery"));
    expect_signed(all[i]);
  }
  EXPECT_EQ(ids.size(), 5u) << "an acknowledged event was delivered again";
}

TEST_F(HttpEvents, WebhooksAreTheOperatorsAndInputIsChecked) {
  receiver hook;
  const json ok = {{"url", "http://127.0.0.1:" + std::to_string(hook.port) + "/x"}, {"secret", secret}};
  const reply agent = post(port, "/api/webhooks", ok, claude);
  EXPECT_EQ(agent.status, 403u);
  EXPECT_EQ(error_code_of(agent), "auth.forbidden");
  EXPECT_EQ(get(port, "/api/webhooks", claude).status, 403u);
  EXPECT_EQ(post(port, "/api/webhooks", ok, "").status, 401u);

  auto with = [&](json patch) {
    json b = ok;
    b.update(patch);
    return post(port, "/api/webhooks", b, alex);
  };
  EXPECT_EQ(error_code_of(with({{"url", "https://example.com/hook"}})), "webhook.unsupported_scheme");
  EXPECT_EQ(error_code_of(with({{"url", "ftp://example.com/"}})), "webhook.bad_url");
  EXPECT_EQ(error_code_of(with({{"url", "http://:80/"}})), "webhook.bad_url");
  EXPECT_EQ(error_code_of(with({{"url", "http://host:99999/"}})), "webhook.bad_url");
  EXPECT_EQ(error_code_of(with({{"url", "http://user@host/"}})), "webhook.bad_url");
  EXPECT_EQ(error_code_of(with({{"url", 7}})), "request.invalid");
  EXPECT_EQ(error_code_of(with({{"secret", "short"}})), "request.invalid");
  EXPECT_EQ(error_code_of(with({{"events", {"Task Created"}}})), "request.invalid");
  EXPECT_EQ(error_code_of(with({{"events", "task.created"}})), "request.invalid");
  EXPECT_EQ(error_code_of(with({{"id", "no spaces"}})), "request.invalid");
  EXPECT_EQ(error_code_of(with({{"after", 5}})), "request.invalid");  // beyond the outbox
  const reply unknown = with({{"retries", 3}});
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(error_code_of(unknown), "request.unknown_field");
  EXPECT_EQ(call(port, http::verb::post, "/api/webhooks", "{\"url\":", alex).status, 400u);
  EXPECT_TRUE(get(port, "/api/webhooks", alex).body["webhooks"].empty()) << "a refused webhook was stored";

  EXPECT_EQ(with({{"id", "ops"}}).status, 201u);
  const reply twice = with({{"id", "ops"}});
  EXPECT_EQ(twice.status, 409u);
  EXPECT_EQ(error_code_of(twice), "webhook.exists");
  EXPECT_EQ(get(port, "/api/webhooks/nope", alex).status, 404u);
  EXPECT_EQ(get(port, "/api/webhooks/nope/deliveries", alex).status, 404u);
  EXPECT_EQ(get(port, "/api/webhooks/ops/deliveries?limit=0", alex).status, 400u);
}

TEST(WebhooksFile, LoadsAndRefusesWhatIsWrong) {
  temp_dir dir{"agentos-webhooks"};
  auto load = [&](const std::string& text, std::string& error) {
    std::ofstream(dir.path() / "hooks.json") << text;
    return load_webhooks_file(dir.path() / "hooks.json", error);
  };
  std::string error;
  const auto good = load(R"([{"id": "ops", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef",
                             "events": ["task.created"]}])",
                         error);
  ASSERT_TRUE(good) << error;
  ASSERT_EQ(good->size(), 1u);
  EXPECT_EQ((*good)[0].id, "ops");
  EXPECT_EQ((*good)[0].events, std::vector<std::string>{"task.created"});

  EXPECT_FALSE(load(R"({"id": "ops"})", error));
  EXPECT_NE(error.find("array"), std::string::npos) << error;
  EXPECT_FALSE(load(R"([{"url": "http://127.0.0.1:9/", "secret": "0123456789abcdef"}])", error));
  EXPECT_NE(error.find("`id`"), std::string::npos) << error;
  EXPECT_FALSE(load(R"([{"id": "a", "url": "https://x/", "secret": "0123456789abcdef"}])", error));
  EXPECT_NE(error.find("https"), std::string::npos) << error;
  EXPECT_FALSE(load(R"([{"id": "a", "url": "http://x/", "secret": "0123456789abcdef"},
                        {"id": "a", "url": "http://y/", "secret": "0123456789abcdef"}])",
                    error));
  EXPECT_NE(error.find("twice"), std::string::npos) << error;
  EXPECT_FALSE(load_webhooks_file(dir.path() / "missing.json", error));
}

TEST_F(HttpEvents, ConfiguredWebhookKeepsItsCursorAcrossRestarts) {
  restart_service(quick());
  receiver hook;
  const webhook_spec spec{"ops", "http://127.0.0.1:" + std::to_string(hook.port) + "/", secret, {}, 0};
  ASSERT_TRUE(m_api->webhooks().configure({spec}, 1));
  create_engineering();
  ASSERT_EQ(hook.wait_for(1).size(), 1u);
  ASSERT_TRUE(acknowledged("ops", 1));

  // The same file at the next start: the subscription is updated, not rewound to `after`.
  restart_service(quick());
  ASSERT_TRUE(m_api->webhooks().configure({spec}, 2));
  create_engineering();
  const auto got = hook.wait_for(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].headers.at("x-agentos-delivery"), "ops:2");
  const reply sub = get(port, "/api/webhooks/ops", alex);
  EXPECT_EQ(sub.body["webhook"]["source"], "file");
}

}  // namespace
