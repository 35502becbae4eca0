// Requests from JSON: names resolve against the graph, values convert by declared type, and every
// mistake is reported with a JSON pointer.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/report.hpp"
#include "engine/request_json.hpp"
#include "engine_fixture.hpp"

namespace {

using namespace agentos::engine;
using namespace agentos::engine::testing;
using nlohmann::json;

const std::string k_policy = R"(
policy p version "1"
org {
  role lead
  role dev reports_to lead
  agent claude role dev capabilities { "submit-plan" }
  agent ops role lead kind operator
}
task {
  title: string required
  risk: enum { low, medium, high } = low
  budget: decimal optional
  count: int optional
  urgent: bool optional
  wait: duration optional
  due: timestamp optional
  tags: set<string> optional
}
lifecycle { states open, review, done  initial open  terminal done  open -> review on submit  review -> done on accept }
permit all on submit, accept
)";

std::string errors_of(const request_result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.pointer + ": " + e.message + "\n";
  return out;
}

TEST(request_json, full_request) {
  AGENTOS_COMPILE(g, k_policy);
  const json j = json::parse(R"({
    "event": "accept",
    "now": "2025-01-31T10:00:00Z",
    "task": {
      "id": "T-1", "project": "web", "state": "review", "mode": "plan_first",
      "labels": ["b", "a", "b"], "assignee": "claude", "attempts": 2,
      "entered_at": "2025-01-31T09:00:00Z", "created_at": 0, "escalation_requested": true,
      "title": "ship it", "risk": "high", "budget": "12.50", "count": 3, "urgent": true,
      "wait": "1h30m", "due": 1000, "tags": ["x"]
    },
    "actor": { "id": "ops" }
  })");
  const request_result rr = request_from_json(j, g);
  ASSERT_TRUE(rr.ok()) << errors_of(rr);
  const request& r = *rr.value;
  EXPECT_EQ(r.event(), g.find_event("accept"));
  EXPECT_EQ(r.state(), g.find_state("review"));
  EXPECT_EQ(r.mode(), mode_plan_first);
  EXPECT_EQ(r.assignee_role(), g.find_role("dev"));  // from the declared agent
  EXPECT_EQ(r.actor_role(), g.find_role("lead"));
  EXPECT_EQ(r.get(slot::actor_kind).i, kind_operator);
  EXPECT_EQ(r.get(slot::task_labels).size, 2u);
  EXPECT_EQ(r.get(slot::task_time_in_state).i, 3'600'000);
  EXPECT_EQ(r.attribute(g.find_attribute("risk")).i, 2);
  EXPECT_EQ(r.attribute(g.find_attribute("budget")).i, 12'500'000);
  EXPECT_EQ(r.attribute(g.find_attribute("wait")).i, 5'400'000);
  EXPECT_EQ(r.attribute(g.find_attribute("due")).i, 1000);
  EXPECT_EQ(r.attribute(g.find_attribute("urgent")).i, 1);
  EXPECT_EQ(r.attribute(g.find_attribute("title")).as_text().view, "ship it");
  decision_buffer buf;
  EXPECT_TRUE(decide(g, r, buf).allowed);
}

TEST(request_json, numbers_for_decimals_and_nested_attributes) {
  AGENTOS_COMPILE(g, k_policy);
  const request_result rr = request_from_json(
      json::parse(R"({"task": {"attributes": {"title": "t", "budget": 0.1}}, "actor": {"id": "x", "role": "dev"}})"), g);
  ASSERT_TRUE(rr.ok()) << errors_of(rr);
  EXPECT_EQ(rr.value->attribute(g.find_attribute("budget")).i, 100'000);
  EXPECT_EQ(rr.value->actor_role(), g.find_role("dev"));
  EXPECT_EQ(rr.value->get(slot::actor_kind).i, kind_agent);
  EXPECT_EQ(rr.value->event(), -1);
}

TEST(request_json, every_mistake_is_reported_with_where) {
  AGENTOS_COMPILE(g, k_policy);
  const request_result rr = request_from_json(json::parse(R"({
    "event": "approve",
    "now": "yesterday",
    "task": { "state": "limbo", "risk": "extreme", "count": "3", "color": "red", "assignee_role": "ceo",
              "mode": "later", "labels": "a", "age": 5, "wait": "5x" },
    "actor": { "id": "zed", "kind": "robot", "boss": true },
    "extra": 1
  })"),
                                              g);
  EXPECT_FALSE(rr.ok());
  const std::string all = errors_of(rr);
  for (const char* expected : {"/event: unknown event `approve`", "/now: expected an RFC 3339", "/task/state: unknown state `limbo`",
                               "/task/risk: `extreme` is not a member of risk (expected low, medium, high)",
                               "/task/count: expected an integer", "/task/color: unknown task attribute `color`",
                               "/task/assignee_role: unknown role `ceo`", "/task/mode: unknown mode `later`",
                               "/task/labels: expected an array of strings", "/task/age: `age` is derived",
                               "/task/wait: expected a duration", "/actor/kind: unknown actor kind `robot`",
                               "/actor/boss: unknown actor field", "/extra: unknown request field",
                               "/task/title: required attribute `title` is missing"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << all;
  }
}

TEST(request_json, required_attributes_are_checked_even_without_a_task) {
  AGENTOS_COMPILE(g, k_policy);
  const request_result rr = request_from_json(json::parse(R"({"event": "submit"})"), g);
  ASSERT_EQ(rr.errors.size(), 1u);
  EXPECT_EQ(rr.errors[0].pointer, "/task/title");
  EXPECT_FALSE(request_from_json(json::array(), g).ok());
}

}  // namespace

// `assignment.*`: who holds the task once the event is applied. Named explicitly, or else the
// task's assignee with what the org declares for it.
const std::string k_assignment_policy = R"(
policy p version "1"
org {
  role lead
  role dev reports_to lead
  agent claude role dev capabilities { "submit-plan" }
  agent codex role dev
}
lifecycle { states routed, planning, done  initial routed  terminal done
  routed -> planning on start  planning -> done on finish  routed -> routed on reassign }
permit leads on reassign, start when actor.role == lead
forbid planners_only on reassign, start
  when assignment.id != "" and not (assignment.capabilities contains "submit-plan")
  because "the holder's workspace lacks the submit-plan skill"
)";

TEST(request_json, the_assignment_defaults_to_the_assignee_as_the_org_declares_it) {
  AGENTOS_COMPILE(g, k_assignment_policy);
  decision_buffer buf;
  const auto run = [&](const char* text) {
    request_result rr = request_from_json(json::parse(text), g);
    EXPECT_TRUE(rr.ok()) << errors_of(rr);
    return rr;
  };
  auto with_claude = run(R"({"event": "start", "task": {"assignee": "claude"}, "actor": {"id": "x", "role": "lead"}})");
  EXPECT_EQ(with_claude.value->get(slot::assignment_id).as_text().view, "claude");
  EXPECT_EQ(with_claude.value->get(slot::assignment_role).i, g.find_role("dev"));
  EXPECT_EQ(with_claude.value->get(slot::assignment_kind).i, kind_agent);
  EXPECT_EQ(with_claude.value->get(slot::assignment_capabilities).size, 1u);
  EXPECT_TRUE(decide(g, *with_claude.value, buf).allowed);

  auto with_codex = run(R"({"event": "start", "task": {"assignee": "codex"}, "actor": {"id": "x", "role": "lead"}})");
  EXPECT_EQ(with_codex.value->get(slot::assignment_capabilities).size, 0u);
  const decision denied = decide(g, *with_codex.value, buf);
  EXPECT_FALSE(denied.allowed);
  ASSERT_EQ(denied.reasons.size(), 1u);
  EXPECT_EQ(reason_text(g, denied.reasons[0]), "forbidden by planners_only: the holder's workspace lacks the submit-plan skill");

  // Nobody assigned: no assignment, so the forbid's first conjunct is false.
  auto nobody = run(R"({"event": "start", "actor": {"id": "x", "role": "lead"}})");
  EXPECT_EQ(nobody.value->get(slot::assignment_id).as_text().view, "");
  EXPECT_TRUE(nobody.value->get(slot::assignment_role).is_absent());
  EXPECT_TRUE(decide(g, *nobody.value, buf).allowed);
}

TEST(request_json, an_explicit_assignment_overrides_the_assignee) {
  AGENTOS_COMPILE(g, k_assignment_policy);
  decision_buffer buf;
  // Handing claude's task to codex: codex lacks the skill until its workspace is hydrated.
  auto to_codex = request_from_json(json::parse(R"({"event": "reassign", "task": {"assignee": "claude"},
      "actor": {"id": "x", "role": "lead"}, "assignment": {"id": "codex"}})"), g);
  ASSERT_TRUE(to_codex.ok()) << errors_of(to_codex);
  EXPECT_EQ(to_codex.value->get(slot::assignment_id).as_text().view, "codex");
  EXPECT_FALSE(decide(g, *to_codex.value, buf).allowed);
  auto hydrated = request_from_json(json::parse(R"({"event": "reassign", "task": {"assignee": "claude"},
      "actor": {"id": "x", "role": "lead"}, "assignment": {"id": "codex", "capabilities": ["submit-plan", "repo-map"]}})"), g);
  ASSERT_TRUE(hydrated.ok()) << errors_of(hydrated);
  EXPECT_EQ(hydrated.value->get(slot::assignment_role).i, g.find_role("dev"));
  EXPECT_TRUE(decide(g, *hydrated.value, buf).allowed);

  const auto bad = request_from_json(json::parse(R"({"assignment": {"role": "boss", "skills": []}})"), g);
  const std::string all = errors_of(bad);
  EXPECT_NE(all.find("/assignment: an assignment needs an `id`"), std::string::npos) << all;
  const auto bad2 = request_from_json(json::parse(R"({"assignment": {"id": "a", "role": "boss", "skills": []}})"), g);
  const std::string all2 = errors_of(bad2);
  EXPECT_NE(all2.find("/assignment/role: unknown role `boss`"), std::string::npos) << all2;
  EXPECT_NE(all2.find("/assignment/skills: unknown assignment field"), std::string::npos) << all2;
}
