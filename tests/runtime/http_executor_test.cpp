// The executor protocol end to end over real HTTP: the brief, write-backs through the callback
// (results, plans, denials by the policy, refusals for bad markers — each audited, none storing
// anything) and signed callbacks (valid, tampered, wrong secret, expired, replayed, required).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http_fixture.hpp"

namespace {

using namespace agentos::testing::http_fixture;

constexpr const char* claude_secret = "claude-secret-0123456789";
constexpr const char* callback_path = "/api/executions/callback";

// A block as the protocol documents it, written out here rather than with the runtime's helper.
std::string block(const std::string& kind, const std::string& task, std::uint64_t version, const std::string& content) {
  return "<<<AGENTOS:" + kind + " task=" + task + " version=" + std::to_string(version) + ">>>\n" + content +
         "\n<<<AGENTOS:END>>>\n";
}

// HMAC-SHA256 in hex, straight from libcrypto's one-shot HMAC(), independent of the server's code.
std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &n);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex.push_back(digits[out[i] >> 4]);
    hex.push_back(digits[out[i] & 0xf]);
  }
  return hex;
}

class HttpExecutor : public Http {
 protected:
  static constexpr std::int64_t now_seconds = 1'767'225'600;  // the fixture's clock

  void SetUp() override {
    Http::SetUp();
    if (HasFatalFailure()) return;
    serve({});
  }

  // Replaces the fixture's server by one whose API has these executor settings (same store).
  void serve(executor_settings settings) {
    api_options options;
    options.executor = std::move(settings);
    serve_with(std::move(options));
    base = "http://127.0.0.1:" + std::to_string(port);
    m_api->default_public_base_url(base);
  }


  static executor_settings with_secrets(bool required) {
    executor_settings s;
    s.signatures.secrets = {{"claude", claude_secret}};
    s.signatures.required = required;
    return s;
  }

  reply callback(const std::string& task, const std::string& text, const std::string& token = claude) {
    return post(port, callback_path, {{"task_id", task}, {"body", text}}, token);
  }

  // A callback with the signature headers, sent byte for byte.
  reply signed_callback(const std::string& body, const std::string& timestamp, const std::string& signature,
                        const std::string& token = claude) {
    const std::string request = std::string("POST ") + callback_path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                                "\r\nContent-Type: application/json\r\nX-Agentos-Timestamp: " + timestamp +
                                "\r\nX-Agentos-Signature: " + signature + "\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return raw(port, request);
  }
  static std::string signature_of(const std::string& body, std::int64_t seconds, const std::string& key = claude_secret) {
    return "sha256=" + hmac_hex(key, std::to_string(seconds) + ".POST." + callback_path + "." + body);
  }

  // An engineering task routed to claude and started: executing (direct) or planning (plan_first,
  // by the production gate). Returns its id.
  std::string started(bool plan_first) {
    json t = {{"title", "fix the flaky test"}, {"brief", "tests/foo flakes on CI"}, {"kind", "engineering"}};
    if (plan_first) t["labels"] = {"production"};
    const reply created = post(port, "/api/tasks", {{"task", t}}, openclaw);
    EXPECT_EQ(created.status, 201u) << created.body.dump();
    const std::string id = created.body["task"]["id"].get<std::string>();
    EXPECT_EQ(created.body["task"]["task"]["mode"], plan_first ? "plan_first" : "direct");
    EXPECT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
    EXPECT_EQ(post(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude).status, 200u);
    EXPECT_EQ(task(id)["task"]["state"], plan_first ? "planning" : "executing");
    return id;
  }

  std::uint64_t version_of(const std::string& id) { return task(id)["version"].get<std::uint64_t>(); }
  std::size_t artifact_count(const std::string& id) {
    auto a = m_store->artifacts(id);
    EXPECT_TRUE(a) << a.error().message;
    return a ? a->size() : 0;
  }
  json audit_of(const std::string& id) { return get(port, "/api/audit?task=" + id).body["records"]; }

  // Checks that a refused write-back changed nothing but the audit log, which gained one record
  // (returned) of the given kind and effect "deny".
  json expect_refused_and_audited(const std::string& id, const json& task_before, std::size_t audit_before,
                                  const std::string& kind) {
    EXPECT_EQ(task(id), task_before) << "a refused write-back changed the task";
    EXPECT_EQ(artifact_count(id), task_before["artifacts"].size()) << "a refused write-back stored an artifact";
    const json records = audit_of(id);
    EXPECT_EQ(records.size(), audit_before + 1) << records.dump();
    if (records.empty()) return json();
    json last = records.back();
    EXPECT_EQ(last["kind"], kind) << last.dump();
    EXPECT_EQ(last["effect"], "deny") << last.dump();
    return last;
  }

  std::string base;
};

TEST_F(HttpExecutor, BriefSaysWhatToSubmitAndWhere) {
  const std::string id = started(false);
  const reply r = get(port, "/api/tasks/" + id + "/brief", claude);
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  const json& b = r.body;
  const std::uint64_t v = version_of(id);
  EXPECT_EQ(b["task"]["id"], id);
  EXPECT_EQ(b["task"]["title"], "fix the flaky test");
  EXPECT_EQ(b["task"]["brief"], "tests/foo flakes on CI");
  EXPECT_EQ(b["task"]["mode"], "direct");
  EXPECT_EQ(b["task"]["state"], "executing");
  EXPECT_EQ(b["task"]["assignee"], "claude");
  EXPECT_EQ(b["task"]["version"], v);
  EXPECT_EQ(b["expected_version"], v);
  EXPECT_EQ(b["submit"]["kind"], "result");
  EXPECT_EQ(b["submit"]["now"], true);
  EXPECT_EQ(b["submit"]["allowed"], true);
  EXPECT_EQ(b["markers"]["begin"], "<<<AGENTOS:RESULT task=" + id + " version=" + std::to_string(v) + ">>>");
  EXPECT_EQ(b["markers"]["end"], "<<<AGENTOS:END>>>");
  EXPECT_EQ(b["callback"]["url"], base + callback_path);
  EXPECT_EQ(b["callback"]["signature"]["required"], false);

  // A plan-first task before its start: a plan is due, after `start`.
  const reply created = post(port, "/api/tasks",
                             {{"task", {{"title", "deploy"}, {"kind", "engineering"}, {"labels", {"production"}}}}},
                             openclaw);
  const std::string pf = created.body["task"]["id"].get<std::string>();
  ASSERT_EQ(post(port, "/api/tasks/" + pf + "/transitions", {{"event", "assign"}}, openclaw).status, 200u);
  const json early = get(port, "/api/tasks/" + pf + "/brief", claude).body;
  EXPECT_EQ(early["submit"]["kind"], "plan") << early.dump(2);
  EXPECT_EQ(early["submit"]["now"], false);
  EXPECT_EQ(early["submit"]["first"], "start");

  EXPECT_EQ(get(port, "/api/tasks/T-999/brief", claude).status, 404u);
  EXPECT_EQ(get(port, "/api/tasks/" + id + "/brief", "").status, 401u);
}

TEST_F(HttpExecutor, DirectTaskResultThenAcceptedToDone) {
  const std::string id = started(false);
  const std::uint64_t v = version_of(id);
  // Written on a platform that ends lines with CRLF: the content is stored with LF.
  std::string text = "Done. Summary below.\n" + block("RESULT", id, v, "Fixed the race in foo.\nAdded a test.");
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 2)) text.insert(at, "\r");
  const reply r = callback(id, text);
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_EQ(r.body["task"]["state"], "result_review");
  EXPECT_EQ(r.body["artifact"]["kind"], "result");
  EXPECT_EQ(r.body["artifact"]["version"], 1);
  EXPECT_EQ(r.body["decision"]["event"], "submit_result");
  auto content = m_store->artifact_content(id, "result", 1);
  ASSERT_TRUE(content && *content);
  EXPECT_EQ(**content, "Fixed the race in foo.\nAdded a test.");

  // Review stays with the policy: the PM accepts.
  const reply accept = post(port, "/api/tasks/" + id + "/transitions", {{"event", "accept_result"}}, claude_pm);
  EXPECT_EQ(accept.status, 200u) << accept.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "done");
  EXPECT_EQ(get(port, "/api/tasks/" + id + "/brief", claude).body["submit"]["kind"], nullptr);
}

TEST_F(HttpExecutor, PlanFirstPlanIsStoredAsVersionOne) {
  const std::string id = started(true);
  const json brief = get(port, "/api/tasks/" + id + "/brief", claude).body;
  EXPECT_EQ(brief["submit"]["kind"], "plan");
  EXPECT_EQ(brief["submit"]["now"], true);
  const std::string begin = brief["markers"]["begin"].get<std::string>();
  const reply r = callback(id, begin + "\n1. drain\n2. deploy\n3. verify\n<<<AGENTOS:END>>>");
  ASSERT_EQ(r.status, 200u) << r.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "plan_review");
  EXPECT_EQ(task(id)["artifacts"], json({{"plan", 1}}));
  auto content = m_store->artifact_content(id, "plan", 1);
  ASSERT_TRUE(content && *content);
  EXPECT_EQ(**content, "1. drain\n2. deploy\n3. verify");
}

TEST_F(HttpExecutor, ResultBeforeThePlanIsApprovedIsDeniedAndOnlyAudited) {
  const std::string id = started(true);
  // In planning, and again once the plan waits for review: a result is not what the lifecycle takes.
  for (int round = 0; round < 2; ++round) {
    const json before = task(id);
    const std::size_t audited = audit_of(id).size();
    const reply r = callback(id, block("RESULT", id, before["version"], "I just did it."));
    EXPECT_EQ(r.status, 422u) << r.body.dump();
    EXPECT_EQ(error_code_of(r), "transition.denied");
    const json& reasons = r.body["error"]["details"]["reasons"];
    ASSERT_FALSE(reasons.empty()) << r.body.dump();
    EXPECT_EQ(reasons[0]["kind"], "no_transition") << reasons.dump();
    json record = expect_refused_and_audited(id, before, audited, "transition");
    EXPECT_EQ(record["event"], "submit_result");
    EXPECT_EQ(record["seq"], r.body["error"]["details"]["audit_seq"]);
    if (round == 0) {
      const reply plan = callback(id, block("PLAN", id, version_of(id), "the plan"));
      ASSERT_EQ(plan.status, 200u) << plan.body.dump();
    }
  }
  EXPECT_EQ(task(id)["artifacts"], json({{"plan", 1}}));
}

TEST_F(HttpExecutor, BadMarkersAreRefusedAndAudited) {
  const std::string id = started(false);
  const std::uint64_t v = version_of(id);
  struct bad {
    std::string text, code;
  };
  const bad cases[] = {
      {"All done, see the PR.", "markers.missing"},
      {"<<<AGENTOS:RESULT task=" + id + " version=" + std::to_string(v) + ">>>\nfixed\n", "markers.missing_end"},
      {block("RESULT", "T-999", v, "fixed"), "markers.wrong_task"},
      {block("RESULT", id, v, "a") + block("RESULT", id, v, "b"), "markers.multiple"},
      {block("RESULT", id, v, "  "), "markers.empty"},
      {block("DRAFT", id, v, "fixed"), "markers.bad_kind"},
  };
  for (const bad& c : cases) {
    const json before = task(id);
    const std::size_t audited = audit_of(id).size();
    const reply r = callback(id, c.text);
    EXPECT_EQ(r.status, 422u) << c.code << ": " << r.body.dump();
    EXPECT_EQ(error_code_of(r), c.code);
    const json& details = r.body["error"]["details"];
    ASSERT_EQ(details["reasons"].size(), 1u) << r.body.dump();
    EXPECT_EQ(details["reasons"][0]["kind"], "protocol");
    EXPECT_EQ(details["reasons"][0]["code"], c.code);
    json record = expect_refused_and_audited(id, before, audited, "protocol");
    EXPECT_EQ(record["seq"], details["audit_seq"]) << c.code;
    EXPECT_EQ(record["actor"], "claude");
    EXPECT_EQ(record["reason"]["code"], c.code);
    EXPECT_EQ(record["input"]["size"], c.text.size());
  }
  EXPECT_EQ(task(id)["task"]["state"], "executing");

  // The audit chain still verifies with the protocol records in it.
  auto verified = m_store->verify();
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->ok()) << (verified->problems.empty() ? "" : verified->problems.front());
}

TEST_F(HttpExecutor, AnotherAgentsWriteBackIsDenied) {
  const std::string id = started(false);
  const json before = task(id);
  const std::size_t audited = audit_of(id).size();
  // openclaw has the submit-result skill, but the task is claude's.
  const reply r = callback(id, block("RESULT", id, before["version"], "I did it instead"), openclaw);
  EXPECT_EQ(r.status, 422u) << r.body.dump();
  bool named = false;
  for (const auto& reason : r.body["error"]["details"]["reasons"])
    named |= reason["rule"] == "writeback_by_assignee_only";
  EXPECT_TRUE(named) << r.body.dump();
  json record = expect_refused_and_audited(id, before, audited, "transition");
  EXPECT_EQ(record["actor"], "openclaw");
}

TEST_F(HttpExecutor, StaleVersionRequestShapeAndUnknownTask) {
  const std::string id = started(false);
  const json before = task(id);
  const reply stale = callback(id, block("RESULT", id, before["version"].get<std::uint64_t>() - 1, "old"));
  EXPECT_EQ(stale.status, 409u) << stale.body.dump();
  EXPECT_EQ(error_code_of(stale), "task.version_conflict");
  EXPECT_EQ(task(id), before);

  EXPECT_EQ(error_code_of(post(port, callback_path, {{"body", "x"}}, claude)), "request.invalid");
  EXPECT_EQ(error_code_of(post(port, callback_path, {{"task_id", id}, {"body", 5}}, claude)), "request.invalid");
  EXPECT_EQ(error_code_of(post(port, callback_path, {{"task_id", id}, {"body", "x"}, {"actor", "alex"}}, claude)),
            "request.unknown_field");
  EXPECT_EQ(call(port, http::verb::post, callback_path, "{not json", claude).status, 400u);
  EXPECT_EQ(callback("T-999", block("RESULT", "T-999", 1, "x")).status, 404u);
  EXPECT_EQ(callback("T-999", "no markers").status, 404u);
  EXPECT_EQ(callback(id, "x", "").status, 401u);
  EXPECT_EQ(task(id), before);
}

TEST_F(HttpExecutor, SignedCallbacks) {
  serve(with_secrets(false));
  const std::string id = started(false);
  const json before = task(id);
  const std::string body = json{{"task_id", id}, {"body", block("RESULT", id, before["version"], "fixed")}}.dump();
  const std::size_t audited = audit_of(id).size();

  // Tampered body, wrong secret, expired either way: refused before anything is read or written.
  const std::string tampered = json{{"task_id", id}, {"body", block("RESULT", id, before["version"], "f1xed")}}.dump();
  const reply t = signed_callback(tampered, std::to_string(now_seconds), signature_of(body, now_seconds));
  EXPECT_EQ(t.status, 401u) << t.body.dump();
  EXPECT_EQ(error_code_of(t), "auth.bad_signature");
  const reply w =
      signed_callback(body, std::to_string(now_seconds), signature_of(body, now_seconds, "not-claudes-secret-0000"));
  EXPECT_EQ(w.status, 401u);
  EXPECT_EQ(error_code_of(w), "auth.bad_signature");
  for (const std::int64_t skew : {-301, 301}) {
    const reply e = signed_callback(body, std::to_string(now_seconds + skew), signature_of(body, now_seconds + skew));
    EXPECT_EQ(e.status, 401u) << skew;
    EXPECT_EQ(error_code_of(e), "auth.signature_expired") << skew;
  }
  // Signed by claude's secret but sent with claude_pm's token: the actor's secret is what counts.
  EXPECT_EQ(error_code_of(signed_callback(body, std::to_string(now_seconds), signature_of(body, now_seconds),
                                          claude_pm)),
            "auth.bad_signature");
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(audit_of(id).size(), audited) << "a request with a bad signature reached the store";

  // Valid (a little skewed, within the window): applied.
  const std::int64_t at = now_seconds - 120;
  const reply ok = signed_callback(body, std::to_string(at), signature_of(body, at));
  ASSERT_EQ(ok.status, 200u) << ok.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
  const json after = task(id);

  // The same signed request again: a replay, refused before the store sees it.
  const reply again = signed_callback(body, std::to_string(at), signature_of(body, at));
  EXPECT_EQ(again.status, 409u) << again.body.dump();
  EXPECT_EQ(error_code_of(again), "auth.replayed");
  EXPECT_EQ(task(id), after);
  EXPECT_EQ(audit_of(id).size(), audited + 1);

  // Not required: an unsigned callback is still taken.
  const std::string other = started(false);
  EXPECT_EQ(callback(other, block("RESULT", other, version_of(other), "fixed")).status, 200u);
}

TEST_F(HttpExecutor, RequiredSignatures) {
  serve(with_secrets(true));
  const std::string id = started(false);
  const json before = task(id);
  const reply unsigned_ = callback(id, block("RESULT", id, before["version"], "fixed"));
  EXPECT_EQ(unsigned_.status, 401u) << unsigned_.body.dump();
  EXPECT_EQ(error_code_of(unsigned_), "auth.signature_required");
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(get(port, "/api/tasks/" + id + "/brief", claude).body["callback"]["signature"]["required"], true);

  const std::string body = json{{"task_id", id}, {"body", block("RESULT", id, before["version"], "fixed")}}.dump();
  const reply ok = signed_callback(body, std::to_string(now_seconds), signature_of(body, now_seconds));
  EXPECT_EQ(ok.status, 200u) << ok.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "result_review");
  // Other routes are not callbacks: reads and operator transitions need no signature.
  EXPECT_EQ(get(port, "/api/tasks/" + id, claude).status, 200u);
}

}  // namespace
