// Operator changes in Paperclip read as lifecycle events, over the shipped policy: each status
// the design maps, the ambiguous ones, the ones no edge from the task's state reaches (submitted
// so that the policy denies them with its own reasons), reassignment, plan approvals, comments.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/decide.hpp"
#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "runtime/projection/operator_actions.hpp"
#include "runtime/service/policy_bundle.hpp"

namespace {

using namespace agentos::runtime;
using namespace agentos::runtime::projection;
using nlohmann::json;

class OperatorActions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    policy = new compiled_policy(load_policy(std::filesystem::path(AGENTOS_SOURCE_DIR) / "policies" / "agent-os.policy"));
  }
  static void TearDownTestSuite() {
    delete policy;
    policy = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(policy->graph) << policy->problems; }

  static task_record task(const std::string& state, const std::string& mode = "direct",
                          const std::string& assignee = "claude") {
    task_record t;
    t.id = "T-7";
    t.version = 5;
    t.state = state;
    t.mode = mode;
    t.assignee = assignee;
    t.assignee_role = assignee.empty() ? "" : "engineer";
    t.attributes = R"({"title":"fix the flaky test","kind":"engineering"})";
    return t;
  }

  static operator_action translate(const task_record& t, operator_change c) {
    return operator_actions().translate(*policy->graph, t, c, 1'000);
  }

  // The event a status change submits (fails the test when it submits nothing).
  static std::string event_for(const std::string& state, const std::string& status, const std::string& mode = "direct") {
    const operator_action a = translate(task(state, mode), status_change{status});
    EXPECT_EQ(a.kind, action_kind::submit) << state << " -> " << status << ": "
                                           << (a.reasons.empty() ? std::string() : a.reasons.front());
    return a.op.event;
  }

  // The policy's decision on a submitted operation, as the pipeline would ask for it.
  static std::vector<std::string> deny_reasons(const task_record& t, const transition_op& op, bool& allowed) {
    std::string text;
    append_request_task_json(text, t);
    auto req = agentos::engine::request_from_json(
        {{"now", op.now}, {"task", json::parse(text)}, {"actor", op.actor}, {"event", op.event}}, *policy->graph);
    EXPECT_TRUE(req.ok());
    agentos::engine::decision_buffer buffer(*policy->graph);
    const agentos::engine::decision d = agentos::engine::decide(*policy->graph, *req.value, buffer);
    allowed = d.allowed;
    std::vector<std::string> out;
    for (const auto& r : d.reasons) out.push_back(agentos::engine::reason_text(*policy->graph, r));
    return out;
  }

  static compiled_policy* policy;
};
compiled_policy* OperatorActions::policy = nullptr;

TEST_F(OperatorActions, TheShippedOperatorIsAlex) {
  EXPECT_EQ(policy_operator(*policy->graph), "alex");
  EXPECT_EQ(operator_actions().operator_agent(), "alex");
}

TEST_F(OperatorActions, AStatusWithOneEdgeFromTheStateSubmitsItsEvent) {
  EXPECT_EQ(event_for("routed", "in_progress"), "start");
  EXPECT_EQ(event_for("routed", "in_progress", "plan_first"), "start");
  EXPECT_EQ(event_for("planning", "in_review", "plan_first"), "submit_plan");
  EXPECT_EQ(event_for("executing", "in_review"), "submit_result");
  EXPECT_EQ(event_for("result_review", "done"), "accept_result");
  EXPECT_EQ(event_for("result_review", "in_progress"), "request_revision");
  EXPECT_EQ(event_for("blocked", "in_progress"), "unblock");
  EXPECT_EQ(event_for("blocked", "in_progress", "plan_first"), "unblock");
  EXPECT_EQ(event_for("escalated", "todo"), "reassign");
  EXPECT_EQ(event_for("intake", "todo"), "assign");
  for (const char* state : {"intake", "routed", "planning", "executing", "result_review", "blocked", "escalated"})
    EXPECT_EQ(event_for(state, "cancelled"), "cancel") << state;
}

TEST_F(OperatorActions, TheOperationIsTheOperatorsAtTheTasksVersion) {
  const operator_action a = translate(task("result_review"), status_change{"done"});
  ASSERT_EQ(a.kind, action_kind::submit);
  EXPECT_EQ(a.op.task_id, "T-7");
  EXPECT_EQ(a.op.actor, json({{"id", "alex"}}));
  EXPECT_EQ(a.op.expected_version, 5u);
  EXPECT_EQ(a.op.now, 1'000);
  EXPECT_TRUE(a.op.assign_to.empty());
  EXPECT_FALSE(a.op.review.has_value());

  const operator_action b = operator_actions("sam").translate(*policy->graph, task("result_review"),
                                                              status_change{"done"}, 2'000);
  EXPECT_EQ(b.op.actor, json({{"id", "sam"}}));
  EXPECT_EQ(b.op.now, 2'000);
}

TEST_F(OperatorActions, AStatusTheTaskAlreadyShowsIsAgreement) {
  for (const auto& [state, status] : std::vector<std::pair<std::string, std::string>>{
           {"intake", "backlog"}, {"routed", "todo"}, {"planning", "in_progress"}, {"plan_review", "in_review"},
           {"executing", "in_progress"}, {"result_review", "in_review"}, {"blocked", "blocked"},
           {"escalated", "blocked"}, {"done", "done"}, {"cancelled", "cancelled"}}) {
    const operator_action a = translate(task(state), status_change{status});
    EXPECT_EQ(a.kind, action_kind::agree) << state << " shown as " << status;
  }
}

TEST_F(OperatorActions, SeveralEventsToTheStatusAreAmbiguous) {
  // From plan_review both the approval and a revision request lead to an in_progress state.
  const operator_action a = translate(task("plan_review", "plan_first"), status_change{"in_progress"});
  ASSERT_EQ(a.kind, action_kind::refuse);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_EQ(a.reasons[0].rfind("ambiguous: ", 0), 0u) << a.reasons[0];
  EXPECT_NE(a.reasons[0].find("approve_plan (to executing)"), std::string::npos) << a.reasons[0];
  EXPECT_NE(a.reasons[0].find("request_plan_revision (to planning)"), std::string::npos) << a.reasons[0];

  // From executing, `blocked` is both a blocker and an escalation.
  const operator_action b = translate(task("executing"), status_change{"blocked"});
  ASSERT_EQ(b.kind, action_kind::refuse);
  EXPECT_NE(b.reasons[0].find("block (to blocked)"), std::string::npos) << b.reasons[0];
  EXPECT_NE(b.reasons[0].find("escalate_task (to escalated)"), std::string::npos) << b.reasons[0];
}

TEST_F(OperatorActions, AForbiddenJumpIsSubmittedSoThePolicyDeniesIt) {
  // in_progress -> done on an executing task: no edge from executing leads to done, so the event
  // that leads there elsewhere is submitted and the engine says why not.
  const task_record t = task("executing");
  const operator_action a = translate(t, status_change{"done"});
  ASSERT_EQ(a.kind, action_kind::submit);
  EXPECT_EQ(a.op.event, "accept_result");
  bool allowed = true;
  const std::vector<std::string> reasons = deny_reasons(t, a.op, allowed);
  EXPECT_FALSE(allowed);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons.front(), "no transition");

  // todo on an executing task: only `assign` (from intake) leads to routed.
  const operator_action b = translate(t, status_change{"todo"});
  ASSERT_EQ(b.kind, action_kind::submit);
  EXPECT_EQ(b.op.event, "assign");
  EXPECT_FALSE((deny_reasons(t, b.op, allowed), allowed));

  // A closed task does not reopen.
  const operator_action c = translate(task("done"), status_change{"in_progress"});
  ASSERT_EQ(c.kind, action_kind::submit);
  EXPECT_FALSE((deny_reasons(task("done"), c.op, allowed), allowed));
}

TEST_F(OperatorActions, AStatusNoEventLeadsToIsRefused) {
  // Nothing leads back into intake, the only state shown as backlog.
  const operator_action a = translate(task("executing"), status_change{"backlog"});
  ASSERT_EQ(a.kind, action_kind::refuse);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_EQ(a.reasons[0], "the lifecycle has no event that leads to backlog");
}

TEST_F(OperatorActions, UnknownStatusesAndStatesAreRefused) {
  EXPECT_EQ(translate(task("executing"), status_change{"shipped"}).kind, action_kind::refuse);
  const operator_action a = translate(task("archived"), status_change{"done"});
  ASSERT_EQ(a.kind, action_kind::refuse);
  EXPECT_NE(a.reasons[0].find("archived"), std::string::npos);
}

TEST_F(OperatorActions, ReassignmentTakesTheLifecyclesAssignmentEvent) {
  const operator_action a = translate(task("routed"), assignee_change{"codex"});
  ASSERT_EQ(a.kind, action_kind::submit);
  EXPECT_EQ(a.op.event, "reassign");
  EXPECT_EQ(a.op.assign_to, "agent:codex");

  const operator_action b = translate(task("intake", "direct", ""), assignee_change{"claude"});
  ASSERT_EQ(b.kind, action_kind::submit);
  EXPECT_EQ(b.op.event, "assign");
  EXPECT_EQ(b.op.assign_to, "agent:claude");

  // Executing is not reassignable: the policy denies it (no transition), audited.
  const operator_action c = translate(task("executing"), assignee_change{"codex"});
  ASSERT_EQ(c.kind, action_kind::submit);
  EXPECT_EQ(c.op.event, "reassign");
  bool allowed = true;
  const auto reasons = deny_reasons(task("executing"), c.op, allowed);
  EXPECT_FALSE(allowed);
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons.front(), "no transition");

  EXPECT_EQ(translate(task("routed"), assignee_change{"claude"}).kind, action_kind::agree);
  const operator_action d = translate(task("routed"), assignee_change{""});
  ASSERT_EQ(d.kind, action_kind::refuse);
  EXPECT_NE(d.reasons[0].find("never unassigned"), std::string::npos);
}

TEST_F(OperatorActions, PlanApprovalsAreReviews) {
  const task_record t = task("plan_review", "plan_first");
  const operator_action a = translate(t, approval_change{approval_decision::approved, "looks right"});
  ASSERT_EQ(a.kind, action_kind::submit);
  EXPECT_EQ(a.op.event, "approve_plan");
  EXPECT_EQ(a.op.review, std::optional<std::string>("looks right"));
  bool allowed = false;
  deny_reasons(t, a.op, allowed);
  EXPECT_TRUE(allowed);  // operator_may_act

  for (const approval_decision d : {approval_decision::revision_requested, approval_decision::rejected}) {
    const operator_action b = translate(t, approval_change{d, ""});
    ASSERT_EQ(b.kind, action_kind::submit);
    EXPECT_EQ(b.op.event, "request_plan_revision");
    EXPECT_EQ(b.op.review, std::optional<std::string>(""));  // a review is recorded without a note too
  }

  // An approval decided after the task left plan_review is the policy's to deny.
  const operator_action c = translate(task("executing", "plan_first"), approval_change{approval_decision::approved, ""});
  ASSERT_EQ(c.kind, action_kind::submit);
  deny_reasons(task("executing", "plan_first"), c.op, allowed);
  EXPECT_FALSE(allowed);
}

TEST_F(OperatorActions, CommentsAreBackendStateOnlyWhereThePolicyHasACommentEvent) {
  const operator_action a = translate(task("executing"), comment_change{"please hurry"});
  EXPECT_EQ(a.kind, action_kind::not_reconciled);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_NE(a.reasons[0].find("no `comment` event"), std::string::npos);

  policy_bundle b;
  b.entry = "p.policy";
  b.files["p.policy"] = R"(policy commented version "1" layer project
org {
  role boss
  agent ops role boss kind operator
  agent worker role boss
}
task { title: string required }
lifecycle {
  states open, closed
  initial open
  terminal closed
  open -> open on comment
  open -> closed on close
}
permit ops_act on comment, close when actor.kind == operator
)";
  const compiled_policy p = compile_bundle(b);
  ASSERT_TRUE(p.graph) << p.problems;
  EXPECT_EQ(policy_operator(*p.graph), "ops");
  task_record t;
  t.id = "T-1";
  t.version = 2;
  t.state = "open";
  t.attributes = R"({"title":"x"})";
  const operator_action c =
      operator_actions("ops").translate(*p.graph, t, comment_change{"please hurry"}, 5);
  ASSERT_EQ(c.kind, action_kind::submit);
  EXPECT_EQ(c.op.event, "comment");
  EXPECT_EQ(c.op.review, std::optional<std::string>("please hurry"));
  EXPECT_EQ(c.op.expected_version, 2u);

  // A policy state the design's table does not name is shown as in_progress (open) or done
  // (terminal): `done` on an open task is `close`.
  EXPECT_EQ(operator_actions("ops").translate(*p.graph, t, status_change{"done"}, 5).op.event, "close");
  EXPECT_EQ(operator_actions("ops").translate(*p.graph, t, status_change{"in_progress"}, 5).kind, action_kind::agree);
}

}  // namespace
