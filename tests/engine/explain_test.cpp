// Explanations trace every rule considered and say which sub-condition decided it.
#include <gtest/gtest.h>

#include "engine/explain.hpp"
#include "engine_fixture.hpp"

namespace {

using namespace agentos::engine;
using namespace agentos::engine::testing;

const std::string k_policy = R"(
policy p version "2.1"
org { role lead  role dev reports_to lead  agent ann role dev  agent bob role lead }
task { risk: enum { low, medium, high } = low  budget: decimal = 0.00 }
lifecycle {
  states open, review, done
  initial open
  terminal done
  open -> review on submit when task.budget < 100 and task.risk != high
  open -> review on submit when task.risk == high and task.mode == plan_first
  review -> done on accept
}
routing { route big when task.budget >= 100 -> role lead  otherwise -> role dev }
gate risky when task.risk >= medium because "plan risky work"
permit assignee on submit when actor.id == task.assignee
permit lead_accepts on accept when actor.role parent_of task.assignee_role
forbid self on accept when actor.id == task.assignee because "no self review"
escalate slow when task.time_in_state > 2h -> parent
obligation tell on accept then notify role lead
)";

TEST(explain, guard_false_names_the_failing_sub_condition) {
  AGENTOS_COMPILE(g, k_policy);
  request r(g);
  r.set_event(g.find_event("submit"));
  r.set_assignee("ann");
  r.set_actor("ann", g.find_role("dev"), kind_agent);
  r.set_attribute(g.find_attribute("budget"), std::int64_t{250'000'000});  // 250.00
  const explanation x = explain(g, r);
  EXPECT_FALSE(x.allowed);
  ASSERT_EQ(x.edges.size(), 2u);
  EXPECT_EQ(x.edges[0].result, verdict::fails);
  EXPECT_EQ(x.edges[0].condition, "task.budget < 100 and task.risk != high");
  EXPECT_EQ(x.edges[0].why, "`task.budget < 100` is false (task.budget = 250.00)");
  EXPECT_EQ(x.edges[1].why, "`task.risk == high` is false (task.risk = low)");
  ASSERT_EQ(x.permits.size(), 1u);
  EXPECT_EQ(x.permits[0].result, verdict::holds);
  EXPECT_EQ(x.permits[0].why, "`actor.id == task.assignee` is true (actor.id = \"ann\", task.assignee = \"ann\")");
  const std::string text = render_text(g, x, g_compiled.sources.get());
  EXPECT_NE(text.find("DENY  open --submit--> ?"), std::string::npos) << text;
  EXPECT_NE(text.find("guard false on open -> review on submit"), std::string::npos) << text;
  EXPECT_NE(text.find("test.policy:9:3"), std::string::npos) << text;
}

TEST(explain, forbid_skips_permits_and_gives_reason) {
  AGENTOS_COMPILE(g, k_policy);
  request r(g);
  r.set_state(g.find_state("review"));
  r.set_event(g.find_event("accept"));
  r.set_assignee("bob");
  r.set_assignee_role(g.find_role("dev"));
  r.set_actor("bob", g.find_role("lead"), kind_agent);
  const explanation x = explain(g, r);
  EXPECT_FALSE(x.allowed);
  ASSERT_EQ(x.forbids.size(), 1u);
  EXPECT_EQ(x.forbids[0].result, verdict::holds);
  ASSERT_EQ(x.permits.size(), 1u);
  EXPECT_EQ(x.permits[0].result, verdict::skipped);
  EXPECT_TRUE(x.permits[0].would_hold);
  EXPECT_EQ(x.obligation_rules.size(), 1u);
  EXPECT_EQ(x.obligation_rules[0].result, verdict::skipped);
  const std::string text = render_text(g, x);
  EXPECT_NE(text.find("forbidden by self: \"no self review\""), std::string::npos) << text;
  EXPECT_NE(text.find("not consulted: a forbid applies; the condition holds"), std::string::npos) << text;
}

TEST(explain, intake_and_escalations) {
  AGENTOS_COMPILE(g, k_policy);
  request r(g);
  r.set_attribute(g.find_attribute("risk"), std::int64_t{2});
  r.set_assignee_role(g.find_role("dev"));
  r.set_now(3 * 3'600'000);
  const explanation x = explain(g, r, explain_options{false, true, true});
  ASSERT_TRUE(x.route);
  EXPECT_EQ(g.rule(x.route->rule).name, "otherwise");
  ASSERT_EQ(x.routes.size(), 2u);
  EXPECT_EQ(x.routes[0].result, verdict::fails);
  EXPECT_EQ(x.routes[1].result, verdict::holds);
  ASSERT_TRUE(x.mode);
  EXPECT_EQ(*x.mode, mode_plan_first);
  ASSERT_EQ(x.fired.size(), 1u);
  EXPECT_EQ(target_text(g, x.fired[0].to), "parent (role lead)");
  const std::string text = render_text(g, x);
  EXPECT_NE(text.find("route: role dev by otherwise"), std::string::npos) << text;
  EXPECT_NE(text.find("mode: plan_first"), std::string::npos) << text;
  EXPECT_NE(text.find("slow -> parent (role lead)"), std::string::npos) << text;
  EXPECT_NE(text.find("`task.time_in_state > 2h` is true (task.time_in_state = 3h)"), std::string::npos) << text;
}

}  // namespace
