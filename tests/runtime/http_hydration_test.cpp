// Capability hydration end to end: a server started with a hydration configuration reads each
// agent's hydrated skills at every transition. An agent whose workspace lacks `submit-plan` is
// refused a plan_first assignment (the shipped policy's `plan_first_needs_planner`), and the same
// assignment succeeds once `hydrate` has linked the project's own protocol skills into the
// workspace; the write-back that follows is taken, the audit replays, and removing the link
// takes the capability away again.
#include <fstream>

#include "http_fixture.hpp"
#include "runtime/hydration/hydration.hpp"

namespace {

using namespace agentos::testing::http_fixture;
namespace hy = agentos::runtime::hydration;

class HttpHydration : public Http {
 protected:
  void SetUp() override {
    Http::SetUp();
    if (HasFatalFailure()) return;
    // The QA agent's workspace (a path with a space), not hydrated yet. The shipped policy
    // declares no submit-plan capability for claude_qa.
    workspace = m_dir.path() / "qa workspace";
    fs::create_directories(workspace);
    config_file = m_dir.path() / "hydration.json";
    std::ofstream(config_file) << json{
        {"roots", {(fs::path(AGENTOS_SOURCE_DIR) / "skills").string()}},
        {"global_defaults", {"submit-plan", "submit-result"}},
        {"shared_integrations", json::array()},
        {"project_defaults", {{"agent_os", json::array()}}},
        {"workspaces", {{{"path", workspace.string()}, {"project", "agent_os"}, {"agents", {"claude_qa"}}}}}}
                                      .dump(2);
    auto loaded = hy::load_config(config_file);
    ASSERT_TRUE(loaded.cfg) << (loaded.errors.empty() ? "" : loaded.errors[0].message);
    cfg = std::move(*loaded.cfg);

    // The same store, reopened with the workspaces' skills.
    m_server->stop();
    m_server.reset();
    m_api.reset();
    m_store.reset();
    auto policy = load_policy(fs::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy");
    ASSERT_TRUE(policy.graph) << policy.problems;
    store_options options;
    options.skills = workspace_skills(cfg);
    auto s = task_store::open(m_dir.path() / "data", std::move(policy), options);
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(*s);
    serve_with({});
  }

  // A verification task with the production label: routed to QA, planned first.
  std::string create_verification() {
    const reply r = post(port, "/api/tasks",
                         {{"task", {{"title", "verify the release"}, {"kind", "engineering"},
                                    {"labels", {"verification", "production"}}}}},
                         openclaw);
    EXPECT_EQ(r.status, 201u) << r.body.dump();
    EXPECT_EQ(r.body["task"]["task"]["assignee"], "claude_qa") << r.body.dump();
    EXPECT_EQ(r.body["task"]["task"]["mode"], "plan_first") << r.body.dump();
    return r.body["task"]["id"].get<std::string>();
  }

  reply transition(const std::string& id, const std::string& event, const std::string& token) {
    return post(port, "/api/tasks/" + id + "/transitions", {{"event", event}}, token);
  }

  fs::path workspace, config_file;
  hy::config cfg;
};

TEST_F(HttpHydration, APlanFirstAssignmentWaitsForTheSubmitPlanSkill) {
  const std::string id = create_verification();
  const json before = task(id);

  // Not hydrated: the assignment is refused with the policy's reason, and nothing changes.
  const reply refused = transition(id, "assign", openclaw);
  ASSERT_EQ(refused.status, 422u) << refused.body.dump();
  EXPECT_EQ(refused.body["error"]["code"], "transition.denied");
  const std::string why = refused.body.dump();
  EXPECT_NE(why.find("plan_first_needs_planner"), std::string::npos) << why;
  EXPECT_NE(why.find("hydrate that workspace first"), std::string::npos) << why;
  EXPECT_EQ(task(id)["task"]["state"], "intake");
  EXPECT_EQ(task(id)["version"], before["version"]);

  // The dry run says the same, with the hydrated skills the server sees (none yet).
  const reply dry = post(port, "/api/policy/evaluate", {{"event", "assign"}, {"task_id", id}, {"actor", "openclaw"}}, alex);
  ASSERT_EQ(dry.status, 200u) << dry.body.dump();
  EXPECT_EQ(dry.body["decision"]["effect"], "deny") << dry.body.dump();

  // The operator sees QA's empty workspace, and no workspace for the others.
  auto skills_of = [&](const std::string& agent) {
    const reply listed = get(port, "/api/agents", alex);
    for (const auto& a : listed.body["agents"])
      if (a["id"] == agent) return a["skills"];
    return json("no such agent");
  };
  EXPECT_EQ(skills_of("claude_qa"), json::array());
  EXPECT_EQ(skills_of("claude"), json(nullptr));

  // Hydrate the workspace: the project's own submit-plan and submit-result skills are linked.
  const hy::plan done = hy::hydrate(cfg, cfg.workspaces.at(0));
  ASSERT_TRUE(done.errors.empty()) << done.errors[0].message;
  EXPECT_EQ(done.actions.size(), 2u);
  EXPECT_EQ(hy::hydrated_skills(workspace), (std::vector<std::string>{"submit-plan", "submit-result"}));
  EXPECT_EQ(skills_of("claude_qa"), json({"submit-plan", "submit-result"}));

  // The dry run sees the hydrated workspace at once.
  const reply dry_after =
      post(port, "/api/policy/evaluate", {{"event", "assign"}, {"task_id", id}, {"actor", "openclaw"}}, alex);
  ASSERT_EQ(dry_after.status, 200u) << dry_after.body.dump();
  EXPECT_EQ(dry_after.body["decision"]["effect"], "allow") << dry_after.body.dump();

  // The same assignment now goes through, and QA can plan: its actor capabilities include the
  // hydrated submit-plan skill, which the shipped policy requires of a plan write-back.
  const reply assigned = transition(id, "assign", openclaw);
  ASSERT_EQ(assigned.status, 200u) << assigned.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "routed");
  ASSERT_EQ(transition(id, "start", claude_qa).status, 200u);
  // The brief's dry run for the assignee counts the hydrated skill: the plan is due and allowed.
  const reply plan_brief = get(port, "/api/tasks/" + id + "/brief", claude_qa);
  ASSERT_EQ(plan_brief.status, 200u) << plan_brief.body.dump();
  EXPECT_EQ(plan_brief.body["submit"]["kind"], "plan") << plan_brief.body.dump();
  EXPECT_EQ(plan_brief.body["submit"]["allowed"], true) << plan_brief.body.dump();
  const std::uint64_t version = task(id)["version"].get<std::uint64_t>();
  const reply plan = post(port, "/api/executions/callback",
                          {{"task_id", id},
                           {"body", "<<<AGENTOS:PLAN task=" + id + " version=" + std::to_string(version) +
                                        ">>>\n1. run the suite\n2. sign off\n<<<AGENTOS:END>>>\n"}},
                          claude_qa);
  ASSERT_EQ(plan.status, 200u) << plan.body.dump();
  EXPECT_EQ(task(id)["task"]["state"], "plan_review");


  // The audit recorded the capabilities it decided on, so replay needs no file system.
  auto verified = m_store->verify();
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->ok()) << (verified->problems.empty() ? "" : verified->problems[0]);
  EXPECT_EQ(verified->mismatches, 0u);

  // Take the link away: the next plan_first assignment to QA is refused again, without a restart.
  fs::remove(workspace / ".agents" / "skills" / "submit-plan");
  EXPECT_EQ(hy::hydrated_skills(workspace), (std::vector<std::string>{"submit-result"}));
  const std::string second = create_verification();
  const reply again = transition(second, "assign", openclaw);
  EXPECT_EQ(again.status, 422u) << again.body.dump();
  EXPECT_EQ(task(second)["task"]["state"], "intake");
}

TEST_F(HttpHydration, AReassignmentIsCheckedAgainstTheNewHolder) {
  // An engineering task assigned to claude (who declares submit-plan), made plan_first by the
  // production label, blocked, then reassigned by the operator to the QA role: refused while QA's
  // workspace lacks the skill, taken once it is hydrated.
  const reply created = post(port, "/api/tasks",
                             {{"task", {{"title", "patch prod"}, {"kind", "engineering"}, {"labels", {"production"}}}}},
                             openclaw);
  ASSERT_EQ(created.status, 201u) << created.body.dump();
  const std::string id = created.body["task"]["id"].get<std::string>();
  ASSERT_EQ(created.body["task"]["task"]["assignee"], "claude");
  ASSERT_EQ(transition(id, "assign", openclaw).status, 200u);
  ASSERT_EQ(transition(id, "start", claude).status, 200u);
  ASSERT_EQ(transition(id, "block", claude).status, 200u);

  const reply to_qa = post(port, "/api/tasks/" + id + "/transitions", {{"event", "reassign"}, {"assign_to", "claude_qa"}}, alex);
  ASSERT_EQ(to_qa.status, 422u) << to_qa.body.dump();
  EXPECT_NE(to_qa.body.dump().find("plan_first_needs_planner"), std::string::npos) << to_qa.body.dump();
  EXPECT_EQ(task(id)["task"]["assignee"], "claude");

  ASSERT_TRUE(hy::hydrate(cfg, cfg.workspaces.at(0)).errors.empty());
  const reply taken = post(port, "/api/tasks/" + id + "/transitions", {{"event", "reassign"}, {"assign_to", "claude_qa"}}, alex);
  ASSERT_EQ(taken.status, 200u) << taken.body.dump();
  EXPECT_EQ(task(id)["task"]["assignee"], "claude_qa");
  EXPECT_EQ(task(id)["task"]["state"], "routed");

  auto verified = m_store->verify();
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_TRUE(verified->ok()) << (verified->problems.empty() ? "" : verified->problems[0]);
}

}  // namespace
