// The operator routes end to end over real HTTP (issue 5): reviews, assignment, cancellation,
// escalation and the sweep, artifacts and reviews, the task list's label filter and pages, the
// 403 scope rule and Idempotency-Key. The real server on loopback over a fresh LMDB store with
// the shipped policy (http_fixture.hpp).
#include "engine/sha256.hpp"
#include "http_fixture.hpp"

using namespace agentos::testing::http_fixture;

namespace {

constexpr std::int64_t t0 = 1'767'225'600'000;  // the fixture's clock
constexpr std::int64_t day = 24 * 3'600'000;

reply post_keyed(std::uint16_t port, const std::string& target, const json& body, const std::string& token,
                 const std::string& key) {
  return call(port, http::verb::post, target, body.dump(), token, {{"Idempotency-Key", key}});
}

bool replayed(const reply& r) {
  const auto it = r.headers.find("Idempotent-Replayed");
  return it != r.headers.end() && it->second == "true";
}

class HttpOps : public Http {
 protected:
  // Another api and server over the same store, with their own clock and token file (the
  // fixture's four tokens plus `extra`). The api outlives the server (member order).
  struct other_server {
    std::unique_ptr<api> handler;
    std::unique_ptr<http_server> server;
    std::uint16_t port = 0;
  };
  other_server serve(std::function<std::int64_t()> clock, const json& extra = json::object()) {
    json tokens = {{openclaw, "openclaw"}, {claude, "claude"}, {claude_pm, "claude_pm"}, {alex, "alex"}};
    tokens.update(extra);
    const fs::path file = m_dir.path() / ("tokens-" + std::to_string(++m_servers) + ".json");
    std::ofstream(file) << tokens.dump();
    std::string error;
    auto loaded = bearer_tokens::load(file, error);
    other_server out;
    if (!loaded) {
      ADD_FAILURE() << error;
      return out;
    }
    api_options api_opts;
    api_opts.clock = std::move(clock);
    out.handler = std::make_unique<api>(*m_store, std::move(*loaded), std::move(api_opts));
    http_options options;
    options.port = 0;
    out.server = std::make_unique<http_server>(*out.handler, options);
    const std::string failed = out.server->start();
    EXPECT_TRUE(failed.empty()) << failed;
    out.port = out.server->port();
    return out;
  }

  std::string create(const json& task, const std::string& token = openclaw) {
    const reply r = post(port, "/api/tasks", {{"task", task}}, token);
    EXPECT_EQ(r.status, 201u) << r.body.dump();
    return r.body["task"]["id"].get<std::string>();
  }

  // POST /api/tasks/{id}/{action}.
  reply act(const std::string& id, const std::string& action, const json& body, const std::string& token) {
    return post(port, "/api/tasks/" + id + "/" + action, body, token);
  }
  reply move(const std::string& id, const std::string& event, const std::string& token,
             const json& more = json::object()) {
    json body = more;
    body["event"] = event;
    return act(id, "transitions", body, token);
  }

  json audit_of(const std::string& id) { return get(port, "/api/audit?task=" + id + "&limit=10000").body["records"]; }
  std::size_t audit_size() { return m_store->audit({})->size(); }

  static std::size_t count_event(const json& records, const std::string& event) {
    std::size_t n = 0;
    for (const auto& r : records) n += r.value("event", json()) == event;
    return n;
  }

  // An engineering task for claude, taken to `executing`.
  std::string executing_for_claude() {
    const std::string id = create_engineering();
    EXPECT_EQ(act(id, "assign", {{"assignee", "claude"}}, openclaw).status, 200u);
    EXPECT_EQ(move(id, "start", claude).status, 200u);
    return id;
  }

  int m_servers = 0;
};

// Evaluates `r` once (it is often a request).
#define EXPECT_STATUS(r, s)                                                           \
  do {                                                                                \
    const reply& status_of_ = (r);                                                    \
    EXPECT_EQ(status_of_.status, s##u) << status_of_.error << status_of_.body.dump(); \
  } while (0)

}  // namespace

TEST_F(HttpOps, DirectTaskToDoneThroughTheOperatorRoutes) {
  const std::string id = create_engineering();
  EXPECT_EQ(task(id)["task"]["mode"], "direct");

  // Intake -> routed: the lifecycle has `assign` from intake (not `reassign`).
  const reply assigned = act(id, "assign", {{"assignee", "claude"}}, openclaw);
  EXPECT_STATUS(assigned, 200);
  EXPECT_EQ(assigned.body["decision"]["allowed"], true);
  EXPECT_EQ(assigned.body["task"]["state"], "routed");
  EXPECT_EQ(assigned.body["task"]["assignee"], "claude");
  EXPECT_EQ(audit_of(id).back()["event"], "assign");

  EXPECT_STATUS(move(id, "start", claude), 200);
  EXPECT_STATUS(move(id, "submit_result", claude, {{"artifact", {{"kind", "result"}, {"content", "fixed"}}}}), 200);
  EXPECT_EQ(task(id)["task"]["state"], "result_review");

  const reply accepted = act(id, "reviews", {{"decision", "accept_result"}, {"comment", "looks right"}}, claude_pm);
  EXPECT_STATUS(accepted, 200);
  EXPECT_EQ(accepted.body["task"]["state"], "done");
  EXPECT_EQ(task(id)["task"]["state"], "done");

  const reply reviews = get(port, "/api/tasks/" + id + "/reviews");
  EXPECT_STATUS(reviews, 200);
  ASSERT_EQ(reviews.body["reviews"].size(), 1u) << reviews.body.dump();
  const json& r = reviews.body["reviews"][0];
  EXPECT_EQ(r["by"], "claude_pm");
  EXPECT_EQ(r["event"], "accept_result");
  EXPECT_EQ(r["verdict"], "done");
  EXPECT_EQ(r["comment"], "looks right");
  EXPECT_EQ(r["artifact"], json({{"kind", "result"}, {"version", 1}}));

  const reply artifacts = get(port, "/api/tasks/" + id + "/artifacts");
  EXPECT_STATUS(artifacts, 200);
  ASSERT_EQ(artifacts.body["artifacts"].size(), 1u) << artifacts.body.dump();
  const json& a = artifacts.body["artifacts"][0];
  EXPECT_EQ(a["kind"], "result");
  EXPECT_EQ(a["version"], 1);
  EXPECT_EQ(a["sha256"], agentos::engine::sha256_hex("fixed"));
  EXPECT_EQ(a["size"], 5);
  EXPECT_EQ(a["created_at"], t0);
  EXPECT_EQ(a["created_by"], "claude");
}

TEST_F(HttpOps, PlanFirstWithARevisionLoopReviewedByTheParentRole) {
  // Production work is planned first; routing still sends engineering to claude (role engineer,
  // whose parent role is pm: claude_pm reviews).
  const std::string id =
      create({{"title", "migrate the orders table"}, {"kind", "engineering"}, {"labels", {"production"}}});
  EXPECT_EQ(task(id)["task"]["mode"], "plan_first");
  EXPECT_EQ(task(id)["task"]["assignee"], "claude");
  EXPECT_STATUS(act(id, "assign", {{"assignee", "agent:claude"}}, openclaw), 200);
  EXPECT_STATUS(move(id, "start", claude), 200);
  EXPECT_EQ(task(id)["task"]["state"], "planning");

  auto plan = [&](const std::string& text) {
    return move(id, "submit_plan", claude, {{"artifact", {{"kind", "plan"}, {"content", text}}}});
  };
  EXPECT_STATUS(plan("1. copy 2. switch"), 200);
  EXPECT_EQ(task(id)["task"]["state"], "plan_review");
  const reply revise =
      act(id, "reviews", {{"decision", "request_plan_revision"}, {"comment", "add a rollback step"}}, claude_pm);
  EXPECT_STATUS(revise, 200);
  EXPECT_EQ(task(id)["task"]["state"], "planning");
  EXPECT_EQ(task(id)["task"]["attempts"], 1);

  EXPECT_STATUS(plan("1. copy 2. switch 3. roll back on error"), 200);
  const std::uint64_t version = task(id)["version"];
  const reply approve = act(id, "reviews", {{"decision", "approve_plan"}, {"expected_version", version}}, claude_pm);
  EXPECT_STATUS(approve, 200);
  EXPECT_EQ(task(id)["task"]["state"], "executing");

  EXPECT_STATUS(move(id, "submit_result", claude, {{"artifact", {{"kind", "result"}, {"content", "migrated"}}}}), 200);
  EXPECT_STATUS(act(id, "reviews", {{"decision", "accept_result"}}, claude_pm), 200);
  EXPECT_EQ(task(id)["task"]["state"], "done");

  const json reviews = get(port, "/api/tasks/" + id + "/reviews").body["reviews"];
  ASSERT_EQ(reviews.size(), 3u) << reviews.dump();
  EXPECT_EQ(reviews[0]["event"], "request_plan_revision");
  EXPECT_EQ(reviews[0]["comment"], "add a rollback step");
  EXPECT_EQ(reviews[0]["artifact"], json({{"kind", "plan"}, {"version", 1}}));
  EXPECT_EQ(reviews[1]["event"], "approve_plan");
  EXPECT_EQ(reviews[1]["comment"], "");  // a review without a comment is still recorded
  EXPECT_EQ(reviews[2]["event"], "accept_result");

  // Artifacts: every version kept, in kind and version order, each fetchable.
  const json list = get(port, "/api/tasks/" + id + "/artifacts").body["artifacts"];
  ASSERT_EQ(list.size(), 3u) << list.dump();
  EXPECT_EQ(list[0]["kind"], "plan");
  EXPECT_EQ(list[0]["version"], 1);
  EXPECT_EQ(list[1]["kind"], "plan");
  EXPECT_EQ(list[1]["version"], 2);
  EXPECT_EQ(list[2]["kind"], "result");
  const reply v1 = get(port, "/api/tasks/" + id + "/artifacts/plan/1");
  EXPECT_STATUS(v1, 200);
  EXPECT_EQ(v1.body["content"], "1. copy 2. switch");
  EXPECT_EQ(v1.body["sha256"], list[0]["sha256"]);
  const reply v2 = get(port, "/api/tasks/" + id + "/artifacts/plan/2");
  EXPECT_EQ(v2.body["content"], "1. copy 2. switch 3. roll back on error");
  EXPECT_EQ(v2.body["size"], list[1]["size"]);
}

TEST_F(HttpOps, ArtifactAndReviewReadsRefuseWhatIsNotThere) {
  const std::string id = executing_for_claude();
  EXPECT_TRUE(get(port, "/api/tasks/" + id + "/artifacts").body["artifacts"].empty());
  EXPECT_TRUE(get(port, "/api/tasks/" + id + "/reviews").body["reviews"].empty());
  const reply none = get(port, "/api/tasks/" + id + "/artifacts/result/1");
  EXPECT_STATUS(none, 404);
  EXPECT_EQ(error_code_of(none), "artifact.not_found");
  EXPECT_EQ(error_code_of(get(port, "/api/tasks/" + id + "/artifacts/result/x")), "request.invalid");
  EXPECT_EQ(get(port, "/api/tasks/" + id + "/artifacts/result/0").status, 400u);
  EXPECT_EQ(get(port, "/api/tasks/" + id + "/artifacts/result/4294967296").status, 400u);
  for (const std::string route : {"/artifacts", "/reviews", "/artifacts/result/1"}) {
    const reply missing = get(port, "/api/tasks/T-404" + route);
    EXPECT_STATUS(missing, 404);
    EXPECT_EQ(error_code_of(missing), "task.not_found") << route;
  }
  EXPECT_EQ(call(port, http::verb::delete_, "/api/tasks/" + id + "/reviews", {}, openclaw).status, 405u);
}

TEST_F(HttpOps, BadActionBodiesAre400AndChangeNothing) {
  const std::string id = executing_for_claude();
  const json before = task(id);
  const std::size_t records = audit_size();
  EXPECT_EQ(act(id, "reviews", {{"decision", "approve"}}, claude_pm).status, 400u);
  EXPECT_EQ(act(id, "reviews", json::object(), claude_pm).status, 400u);
  EXPECT_EQ(act(id, "reviews", {{"decision", "accept_result"}, {"comment", 3}}, claude_pm).status, 400u);
  EXPECT_EQ(error_code_of(act(id, "reviews", {{"decision", "accept_result"}, {"by", "x"}}, claude_pm)),
            "request.unknown_field");
  EXPECT_EQ(act(id, "assign", json::object(), openclaw).status, 400u);
  EXPECT_EQ(act(id, "assign", {{"assignee", ""}}, openclaw).status, 400u);
  EXPECT_EQ(act(id, "cancel", {{"reason", false}}, claude_pm).status, 400u);
  EXPECT_EQ(act(id, "cancel", {{"expected_version", "2"}}, claude_pm).status, 400u);
  EXPECT_EQ(act(id, "escalate", {{"why", "stuck"}}, claude).status, 400u);
  EXPECT_EQ(call(port, http::verb::post, "/api/tasks/" + id + "/cancel", "{", claude_pm).status, 400u);
  EXPECT_EQ(post(port, "/api/escalations/sweep", {{"limit", 0}}, alex).status, 400u);
  // An assignee the org does not know: the store refuses it before deciding.
  const reply nobody = act(id, "assign", {{"assignee", "agent:nobody"}}, claude_pm);
  EXPECT_STATUS(nobody, 400);
  EXPECT_EQ(error_code_of(nobody), "request.bad_assignee");
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(audit_size(), records);
}

TEST_F(HttpOps, CancelAndReassignAreDecidedByThePolicy) {
  const std::string id = executing_for_claude();
  // The executor may not cancel its own task (a policy denial, audited), its manager may.
  const reply own = act(id, "cancel", {{"reason", "bored"}}, claude);
  EXPECT_STATUS(own, 422);
  EXPECT_NE(own.body.dump().find("executors_do_not_cancel"), std::string::npos) << own.body.dump();
  const reply cancelled = act(id, "cancel", {{"reason", "superseded by T-9"}}, claude_pm);
  EXPECT_STATUS(cancelled, 200);
  EXPECT_EQ(task(id)["task"]["state"], "cancelled");
  const json reviews = get(port, "/api/tasks/" + id + "/reviews").body["reviews"];
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(reviews[0]["comment"], "superseded by T-9");
  EXPECT_EQ(reviews[0]["verdict"], "cancelled");

  // Escalated work is handed on with `reassign` (the lifecycle's event from escalated).
  const std::string other = executing_for_claude();
  EXPECT_STATUS(move(other, "escalate_task", claude), 200);
  EXPECT_EQ(task(other)["task"]["state"], "escalated");
  const reply handed = act(other, "assign", {{"assignee", "agent:codex"}}, claude_pm);
  EXPECT_STATUS(handed, 200);
  EXPECT_EQ(audit_of(other).back()["event"], "reassign");
  EXPECT_EQ(task(other)["task"]["state"], "routed");
  EXPECT_EQ(task(other)["task"]["assignee"], "codex");
  EXPECT_EQ(task(other)["task"]["assignee_role"], "senior_engineer");
}

TEST_F(HttpOps, SelfApprovalIsDeniedWith422AndTheTaskUnchanged) {
  const std::string id = executing_for_claude();
  EXPECT_STATUS(move(id, "submit_result", claude, {{"artifact", {{"kind", "result"}, {"content", "done"}}}}), 200);
  const json before = task(id);
  const std::size_t records = audit_of(id).size();

  const reply self = act(id, "reviews", {{"decision", "accept_result"}, {"comment", "lgtm"}}, claude);
  EXPECT_STATUS(self, 422);
  EXPECT_EQ(error_code_of(self), "transition.denied");
  bool self_approval = false;
  for (const auto& reason : self.body["error"]["details"]["reasons"])
    self_approval |= reason["rule"] == "no_self_approval";
  EXPECT_TRUE(self_approval) << self.body.dump();
  EXPECT_EQ(task(id), before);
  EXPECT_TRUE(get(port, "/api/tasks/" + id + "/reviews").body["reviews"].empty()) << "a denied review was recorded";
  // The denial itself is audited.
  const json audit = audit_of(id);
  ASSERT_EQ(audit.size(), records + 1);
  EXPECT_EQ(audit.back()["effect"], "deny");
  EXPECT_EQ(audit.back()["actor"], "claude");
}

TEST_F(HttpOps, ExplicitEscalationRequestAndTheSweep) {
  const std::string id = executing_for_claude();
  const std::uint64_t version = task(id)["version"];
  const reply asked = act(id, "escalate", json::object(), claude);
  EXPECT_STATUS(asked, 200);
  ASSERT_EQ(asked.body["fired"].size(), 1u) << asked.body.dump();
  EXPECT_EQ(asked.body["fired"][0]["rule"], "on_request");
  EXPECT_EQ(asked.body["fired"][0]["target"], "operator");
  EXPECT_EQ(asked.body["task"]["version"], version + 1);
  EXPECT_EQ(task(id)["task"]["escalation_requested"], true);
  EXPECT_EQ(audit_of(id).back()["effect"], "escalate");
  bool request_audited = false;
  for (const auto& r : audit_of(id)) request_audited |= r["effect"] == "request_escalation" && r["actor"] == "claude";
  EXPECT_TRUE(request_audited);
  // An empty body is as good as {} for an action with nothing to say.
  EXPECT_STATUS(call(port, http::verb::post, "/api/tasks/" + id + "/escalate", "", claude), 200);

  // The sweep is the operator's.
  const reply agent_sweep = post(port, "/api/escalations/sweep", json::object(), claude_pm);
  EXPECT_STATUS(agent_sweep, 403);
  EXPECT_EQ(error_code_of(agent_sweep), "auth.forbidden");
  const reply quiet = post(port, "/api/escalations/sweep", json::object(), alex);
  EXPECT_STATUS(quiet, 200);
  EXPECT_TRUE(quiet.body["fired"].empty()) << quiet.body.dump();

  // A day later the executing task is stale: its assignee's parent role hears of it.
  const std::string stale = executing_for_claude();
  other_server later = serve([] { return t0 + day + 60'000; });
  const reply swept = call(later.port, http::verb::post, "/api/escalations/sweep", "", alex);
  EXPECT_STATUS(swept, 200);
  bool fired = false;
  for (const auto& f : swept.body["fired"])
    fired |= f["task"] == stale && f["rule"] == "stale" && f["target"] == "parent (role pm)";
  EXPECT_TRUE(fired) << swept.body.dump();
  EXPECT_EQ(task(stale)["escalations"], json({"stale"}));
}

TEST_F(HttpOps, AnAgentActingOnAnotherAgentsTaskIs403AndNothingIsWritten) {
  // Routed to the Chief of Staff's assistant (openclaw): claude (engineer) and claude_pm (pm)
  // are neither its assignee nor above its role.
  const std::string id = create({{"title", "sort the inbox"}});
  EXPECT_EQ(task(id)["task"]["assignee"], "openclaw");
  const json before = task(id);
  const std::size_t records = audit_size();
  const std::vector<std::pair<std::string, json>> actions = {{"transitions", {{"event", "assign"}}},
                                                             {"assign", {{"assignee", "claude"}}},
                                                             {"cancel", json::object()},
                                                             {"reviews", {{"decision", "request_revision"}}},
                                                             {"escalate", json::object()}};
  for (const auto& [action, body] : actions) {
    for (const std::string token : {claude, claude_pm}) {
      const reply r = act(id, action, body, token);
      EXPECT_STATUS(r, 403);
      EXPECT_EQ(error_code_of(r), "auth.forbidden") << action;
      EXPECT_EQ(r.body.value("/error/details/assignee"_json_pointer, json()), "openclaw") << r.body.dump();
    }
  }
  EXPECT_EQ(task(id), before);
  EXPECT_EQ(audit_size(), records) << "a refusal wrote an audit record";
  // Reading stays open to every token.
  EXPECT_STATUS(get(port, "/api/tasks/" + id, claude), 200);

  // A manager above the assignee's role may act (the policy then decides): openclaw on claude's
  // task, claude_pm on claude's; the operator on anything.
  const std::string engineering = executing_for_claude();  // openclaw assigned it
  EXPECT_STATUS(move(engineering, "block", claude), 200);
  EXPECT_STATUS(move(engineering, "unblock", claude_pm), 200);
  EXPECT_STATUS(act(id, "cancel", json::object(), alex), 200);
  EXPECT_EQ(task(id)["task"]["state"], "cancelled");

  // A finance task (the accountant's, below the Chief of Staff): pm is the accountant's peer
  // (both report to chief_of_staff), so claude_pm is in scope and the policy says no (422);
  // claude (engineer, below pm) is neither above nor a peer: 403.
  const std::string money = create({{"title", "pay the invoice"}, {"kind", "finance"}});
  EXPECT_EQ(task(money)["task"]["assignee"], "ledger");
  EXPECT_STATUS(act(money, "cancel", json::object(), claude), 403);
  EXPECT_STATUS(act(money, "cancel", json::object(), claude_pm), 422);
  EXPECT_STATUS(act(money, "cancel", json::object(), openclaw), 200);

  // A peer of the assignee's role is in scope, so QA can send an engineer's result back (the
  // shipped policy's qa_sends_back) while the engineer's peers are still decided by the policy.
  const std::string tested = executing_for_claude();
  EXPECT_STATUS(act(tested, "transitions", {{"event", "block"}}, claude_qa), 422);
}

TEST_F(HttpOps, UnknownOwnersReadButDoNotActAndRegisteredAgentsAreScoped) {
  const std::string id = executing_for_claude();
  // `stranger` holds a token but is in no org; `intern` is a registered engineer.
  register_agent_op reg;
  reg.id = "intern";
  reg.role = "engineer";
  reg.capabilities = {"submit-plan", "submit-result"};
  reg.now = t0;
  ASSERT_EQ(m_store->apply(reg).status, outcome_status::applied);
  other_server other = serve([] { return t0; }, {{"tok-stranger", "stranger"}, {"tok-intern", "intern"}});

  const std::size_t records = audit_size();
  EXPECT_STATUS(get(other.port, "/api/tasks/" + id, "tok-stranger"), 200);
  EXPECT_STATUS(get(other.port, "/api/tasks", "tok-stranger"), 200);
  const reply create_refused = post(other.port, "/api/tasks", {{"task", {{"title", "x"}}}}, "tok-stranger");
  EXPECT_STATUS(create_refused, 403);
  EXPECT_EQ(error_code_of(create_refused), "auth.forbidden");
  EXPECT_STATUS(post(other.port, "/api/tasks/" + id + "/cancel", json::object(), "tok-stranger"), 403);
  EXPECT_STATUS(post(other.port, "/api/tasks/" + id + "/transitions", {{"event", "block"}}, "tok-stranger"), 403);
  // Another agent of the assignee's own role (engineer and engineer) is neither above nor a peer role.
  EXPECT_STATUS(post(other.port, "/api/tasks/" + id + "/transitions", {{"event", "block"}}, "tok-intern"), 403);
  EXPECT_EQ(audit_size(), records);

  // Given a task of its own, the registered agent acts on it; claude no longer may.
  const std::string mine = create_engineering();
  EXPECT_STATUS(act(mine, "assign", {{"assignee", "intern"}}, alex), 200);
  EXPECT_EQ(task(mine)["task"]["assignee"], "intern");
  EXPECT_STATUS(post(other.port, "/api/tasks/" + mine + "/transitions", {{"event", "start"}}, "tok-intern"), 200);
  EXPECT_STATUS(move(mine, "block", claude), 403);
}

TEST_F(HttpOps, IdempotencyKeyReplaysTheFirstAnswer) {
  const json body = {{"task", {{"title", "once only"}, {"kind", "engineering"}}}};
  const reply first = post_keyed(port, "/api/tasks", body, openclaw, "create-1");
  EXPECT_STATUS(first, 201);
  EXPECT_FALSE(replayed(first));
  const reply again = post_keyed(port, "/api/tasks", body, openclaw, "create-1");
  EXPECT_STATUS(again, 201);
  EXPECT_TRUE(replayed(again));
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(get(port, "/api/tasks").body["tasks"].size(), 1u);

  // The same key for a different request: refused, and it says what the key was first used for.
  const json other = {{"task", {{"title", "something else"}, {"kind", "engineering"}}}};
  const reply reused = post_keyed(port, "/api/tasks", other, openclaw, "create-1");
  EXPECT_STATUS(reused, 422);
  EXPECT_EQ(error_code_of(reused), "idempotency.key_reused");
  EXPECT_EQ(
      reused.body.value("/error/details/first_request"_json_pointer, std::string()).rfind("POST /api/tasks sha256:", 0),
      0u)
      << reused.body.dump();
  const reply other_path = post_keyed(port, "/api/tasks/" + first.body["task"]["id"].get<std::string>() + "/cancel",
                                      json::object(), openclaw, "create-1");
  EXPECT_EQ(error_code_of(other_path), "idempotency.key_reused");
  EXPECT_EQ(get(port, "/api/tasks").body["tasks"].size(), 1u);

  // Keys are scoped per actor: claude's "create-1" is its own.
  const reply theirs = post_keyed(port, "/api/tasks", other, claude, "create-1");
  EXPECT_STATUS(theirs, 201);
  EXPECT_FALSE(replayed(theirs));
  EXPECT_EQ(get(port, "/api/tasks").body["tasks"].size(), 2u);

  // A transition: the retry does not move the task twice.
  const std::string id = first.body["task"]["id"];
  EXPECT_STATUS(act(id, "assign", {{"assignee", "claude"}}, openclaw), 200);
  const reply start = post_keyed(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude, "start-1");
  EXPECT_STATUS(start, 200);
  const reply start_again =
      post_keyed(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude, "start-1");
  EXPECT_EQ(start_again.status, start.status);
  EXPECT_EQ(start_again.body, start.body);
  EXPECT_TRUE(replayed(start_again));
  EXPECT_EQ(count_event(audit_of(id), "start"), 1u);

  // A denial was committed (its audit record), so it is replayed too.
  EXPECT_STATUS(move(id, "submit_result", claude, {{"artifact", {{"kind", "result"}, {"content", "x"}}}}), 200);
  const std::size_t records = audit_of(id).size();
  const json self = {{"decision", "accept_result"}};
  const reply denied = post_keyed(port, "/api/tasks/" + id + "/reviews", self, claude, "accept-1");
  EXPECT_STATUS(denied, 422);
  const reply denied_again = post_keyed(port, "/api/tasks/" + id + "/reviews", self, claude, "accept-1");
  EXPECT_STATUS(denied_again, 422);
  EXPECT_EQ(denied_again.body, denied.body);
  EXPECT_TRUE(replayed(denied_again));
  EXPECT_EQ(audit_of(id).size(), records + 1);

  // The sweep and an escalation request take keys as well.
  const reply sweep = post_keyed(port, "/api/escalations/sweep", json::object(), alex, "sweep-1");
  EXPECT_STATUS(sweep, 200);
  EXPECT_TRUE(replayed(post_keyed(port, "/api/escalations/sweep", json::object(), alex, "sweep-1")));
}

TEST_F(HttpOps, IdempotencyKeyMustBeShortPrintableAscii) {
  const json body = {{"task", {{"title", "x"}, {"kind", "engineering"}}}};
  for (const std::string& key : {std::string(256, 'k'), std::string()}) {
    const reply r = post_keyed(port, "/api/tasks", body, openclaw, key);
    EXPECT_STATUS(r, 400);
    EXPECT_EQ(error_code_of(r), "request.bad_idempotency_key") << key.size();
  }
  EXPECT_STATUS(post_keyed(port, "/api/tasks", body, openclaw, std::string(255, 'k')), 201);
  // A control character (a client could not even send most of them in a header).
  const std::string text = body.dump();
  api_request request{"POST", "/api/tasks", "Bearer tok-openclaw", text};
  request.idempotency_key = std::string_view("key\x01");
  const api_response r = m_api->handle(request);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body["error"]["code"], "request.bad_idempotency_key");
  // Reads ignore the header.
  EXPECT_STATUS(call(port, http::verb::get, "/api/tasks", {}, openclaw, {{"Idempotency-Key", std::string(300, 'k')}}),
                200);
  EXPECT_EQ(get(port, "/api/tasks").body["tasks"].size(), 1u);
}

TEST_F(HttpOps, HundredConcurrentRetriesPerformOneTransition) {
  const std::string id = create_engineering();
  EXPECT_STATUS(act(id, "assign", {{"assignee", "claude"}}, openclaw), 200);
  const std::uint64_t version = task(id)["version"];
  const std::size_t records = audit_of(id).size();

  constexpr std::size_t clients = 100;
  std::vector<reply> replies(clients);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (std::size_t i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      replies[i] = post_keyed(port, "/api/tasks/" + id + "/transitions", {{"event", "start"}}, claude, "start-once");
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  std::size_t replays = 0;
  for (const auto& r : replies) {
    EXPECT_STATUS(r, 200);
    EXPECT_EQ(r.body, replies[0].body);
    replays += replayed(r);
  }
  EXPECT_EQ(replays, clients - 1);
  const json now = task(id);
  EXPECT_EQ(now["version"], version + 1);
  EXPECT_EQ(now["task"]["state"], "executing");
  const json audit = audit_of(id);
  EXPECT_EQ(audit.size(), records + 1);
  EXPECT_EQ(count_event(audit, "start"), 1u);
}

TEST_F(HttpOps, TaskListFiltersByLabelAndPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    json t = {{"title", "task " + std::to_string(i)}, {"kind", "engineering"}};
    if (i % 2 == 1) t["labels"] = {"ops"};
    ids.push_back(create(t));
  }
  // Every task exactly once, two at a time, following `next`.
  std::vector<std::string> seen;
  std::string target = "/api/tasks?limit=2";
  for (int page = 0; page < 10; ++page) {
    const reply r = get(port, target);
    EXPECT_STATUS(r, 200);
    EXPECT_LE(r.body["tasks"].size(), 2u);
    for (const auto& t : r.body["tasks"]) seen.push_back(t["id"]);
    if (r.body["next"].is_null()) break;
    EXPECT_EQ(r.body["next"], r.body["tasks"].back()["id"]);
    target = "/api/tasks?limit=2&after=" + r.body["next"].get<std::string>();
  }
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(seen, sorted);
  // A page that ends exactly at the last task says so.
  EXPECT_TRUE(get(port, "/api/tasks?limit=5").body["next"].is_null());
  EXPECT_EQ(get(port, "/api/tasks?limit=4").body["next"], sorted[3]);

  const reply ops = get(port, "/api/tasks?label=ops");
  ASSERT_EQ(ops.body["tasks"].size(), 2u) << ops.body.dump();
  EXPECT_EQ(ops.body["tasks"][0]["id"], ids[1]);
  EXPECT_EQ(ops.body["tasks"][1]["id"], ids[3]);
  // Through an index (assignee), with a label and a cursor.
  const reply one = get(port, "/api/tasks?assignee=claude&label=ops&limit=1");
  ASSERT_EQ(one.body["tasks"].size(), 1u);
  EXPECT_EQ(one.body["next"], ids[1]);
  const reply two = get(port, "/api/tasks?assignee=claude&label=ops&limit=1&after=" + ids[1]);
  ASSERT_EQ(two.body["tasks"].size(), 1u);
  EXPECT_EQ(two.body["tasks"][0]["id"], ids[3]);
  EXPECT_TRUE(two.body["next"].is_null());
  EXPECT_TRUE(get(port, "/api/tasks?label=nothing").body["tasks"].empty());
  EXPECT_TRUE(get(port, "/api/tasks?after=" + sorted.back()).body["tasks"].empty());
}
