// Decisions on hand-written policies: each semantic rule of docs/language.md section 18 has a test
// that shows it holding, through the real parser and checker.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "engine/catalogue.hpp"
#include "engine_fixture.hpp"

namespace {

using namespace agentos;
using namespace agentos::engine;
using namespace agentos::engine::testing;
using dsl::ast::target_kind;

const std::string k_policy = R"(
policy team version "1.0"
org {
  role chief
  role pm reports_to chief
  role engineer reports_to pm
  agent claude role engineer capabilities { "submit-plan", "submit-result" }
  agent pam role pm
  agent alex role chief kind operator
}
task {
  title: string required
  kind: enum { general, engineering, finance } = general
  risk: enum { low, medium, high } = low
  budget: decimal = 0.00
  tags: set<string> optional
  urgent: bool optional
  count: int optional
}
lifecycle {
  states intake, planning, plan_review, executing, result_review, done, cancelled
  initial intake
  terminal done, cancelled
  intake -> planning on start when task.mode == plan_first
  intake -> executing on start when task.mode == direct
  planning -> plan_review on submit_plan
  plan_review -> executing on approve_plan
  plan_review -> planning on request_plan_revision
  executing -> result_review on submit_result
  result_review -> done on accept_result when task.budget < 5000
  result_review -> executing on request_revision
  * -> cancelled on cancel
}
routing {
  route big_money when task.kind == finance and task.budget >= 1000 -> agent alex
  route finance when task.kind == finance -> role pm
  route engineering when task.kind == engineering -> agent claude
  otherwise -> role chief
}
gate risky when task.risk >= medium because "risky work is planned first"
gate production when "production" in task.labels because "production changes are approved"
permit assignee_works on start, submit_plan, submit_result when actor.id == task.assignee
permit parent_reviews on approve_plan, request_plan_revision, accept_result, request_revision
  when actor.role parent_of task.assignee_role
permit operator_acts on cancel, approve_plan, accept_result when actor.kind == operator
forbid no_self_review on approve_plan, accept_result when actor.id == task.assignee
  because "executors never review their own work"
forbid frozen on submit_result when "frozen" in task.labels because "the project is frozen"
escalate stuck when task.attempts >= 3 -> parent
escalate stale when task.state == executing and task.time_in_state > 24h -> operator
escalate asked when task.escalation_requested -> role chief
obligation review_plans on submit_plan then require review by parent, notify role chief
obligation big_results on submit_result when task.budget > 500 then notify operator
)";

// A task assigned to claude (engineer) in `state`, acted on by `actor` (a declared agent).
request task_for(const rule_graph& g, std::string_view st, std::string_view ev, std::string_view actor) {
  request r(g);
  r.set_attribute(attribute(g, "title"), std::string_view("fix the build"));
  r.set_state(state(g, st));
  r.set_event(event(g, ev));
  r.set_assignee("claude");
  r.set_assignee_role(role(g, "engineer"));
  const auto agent = g.find_agent(actor);
  if (agent >= 0) {
    const auto& a = g.policy().agents[static_cast<std::size_t>(agent)];
    r.set_actor(actor, a.role, static_cast<std::int32_t>(a.kind));
  } else {
    r.set_actor(actor, -1, kind_human);
  }
  return r;
}

TEST(decide, allow_with_edge_permit_and_obligations) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  const request r = task_for(g, "planning", "submit_plan", "claude");
  const decision d = decide(g, r, buf);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.target, state(g, "plan_review"));
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"planning -> plan_review on submit_plan", "assignee_works"}));
  EXPECT_TRUE(d.reasons.empty());
  ASSERT_EQ(d.obligations.size(), 2u);
  EXPECT_EQ(d.obligations[0].action, dsl::ast::obligation_action_kind::require_review);
  EXPECT_EQ(d.obligations[0].who, (target_ref{target_kind::parent, role(g, "pm")}));
  EXPECT_EQ(d.obligations[1].action, dsl::ast::obligation_action_kind::notify);
  EXPECT_EQ(d.obligations[1].who, (target_ref{target_kind::role, role(g, "chief")}));
  EXPECT_EQ(d.version, g.version());
  EXPECT_EQ(g.rule(d.matched[1]).kind, rule_kind::permit);
  EXPECT_TRUE(g.rule(d.matched[1]).where.valid());
}

TEST(decide, parent_approves) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  const decision d = decide(g, task_for(g, "plan_review", "approve_plan", "pam"), buf);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.target, state(g, "executing"));
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"plan_review -> executing on approve_plan", "parent_reviews"}));
}

TEST(decide, every_applicable_permit_is_reported) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "result_review", "accept_result", "alex");
  r.set_assignee_role(role(g, "pm"));  // alex (chief) is pm's parent and an operator
  r.set_assignee("pam");
  const decision d = decide(g, r, buf);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(names(g, d.matched),
            (std::vector<std::string>{"result_review -> done on accept_result", "parent_reviews", "operator_acts"}));
}

TEST(decide, forbid_overrides_permit_and_gives_its_reason) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  // alex is an operator (operator_acts permits) but also the assignee.
  request r = task_for(g, "plan_review", "approve_plan", "alex");
  r.set_assignee("alex");
  const decision d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.target, state(g, "executing"));  // the edge exists; the forbid denies
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"plan_review -> executing on approve_plan", "no_self_review"}));
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].kind, deny_kind::forbidden);
  EXPECT_EQ(d.reasons[0].message, "executors never review their own work");
  EXPECT_EQ(g.rule(d.reasons[0].rule).name, "no_self_review");
  EXPECT_TRUE(d.obligations.empty());
}

TEST(decide, default_deny_when_no_permit_applies) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "plan_review", "approve_plan", "claude");
  r.set_assignee("someone_else");  // claude is not the parent of an engineer and not an operator
  const decision d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::no_permit}));
  EXPECT_EQ(d.reasons[0].message, "no permit matched");
}

TEST(decide, guard_false_lists_each_edge) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "result_review", "accept_result", "pam");
  r.set_attribute(attribute(g, "budget"), std::int64_t{6000'000'000});  // 6000.00 >= 5000
  const decision d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.target, -1);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::guard_false}));
  EXPECT_EQ(g.rule(d.reasons[0].rule).name, "result_review -> done on accept_result");
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"parent_reviews"}));  // permits still reported
}

TEST(decide, no_transition_and_forbid_reasons_accumulate) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "intake", "submit_result", "claude");
  const std::string_view labels[] = {"frozen"};
  r.set_labels(labels);
  const decision d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::no_transition, deny_kind::forbidden}));
  EXPECT_EQ(d.reasons[1].message, "the project is frozen");
}

TEST(decide, wildcard_edges_leave_every_non_terminal_state) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  for (const char* st : {"intake", "planning", "plan_review", "executing", "result_review"}) {
    const decision d = decide(g, task_for(g, st, "cancel", "alex"), buf);
    EXPECT_TRUE(d.allowed) << st;
    EXPECT_EQ(d.target, state(g, "cancelled")) << st;
  }
  const decision d = decide(g, task_for(g, "done", "cancel", "alex"), buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reasons[0].kind, deny_kind::no_transition);
}

TEST(decide, mode_guards_pick_the_edge) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "intake", "start", "claude");
  r.set_mode(mode_plan_first);
  EXPECT_EQ(decide(g, r, buf).target, state(g, "planning"));
  r.set_mode(mode_direct);
  EXPECT_EQ(decide(g, r, buf).target, state(g, "executing"));
}

TEST(decide, unknown_state_or_event_is_no_transition) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "planning", "submit_plan", "claude");
  r.set_event(-1);
  decision d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::no_transition}));
  r.set_event(event(g, "submit_plan"));
  r.set_state(99);
  d = decide(g, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::no_transition}));
}

TEST(decide, request_for_another_policy_is_refused) {
  AGENTOS_COMPILE(g, k_policy);
  std::string other_text = k_policy;
  other_text.replace(other_text.find("the project is frozen"), 6, "THE PROJECT");
  AGENTOS_COMPILE(other, other_text);
  ASSERT_NE(g.version(), other.version());
  const request r = task_for(g, "planning", "submit_plan", "claude");
  decision_buffer buf;
  const decision d = decide(other, r, buf);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(kinds(d.reasons), (std::vector<deny_kind>{deny_kind::wrong_policy}));
  EXPECT_EQ(gate(other, r, buf).mode, mode_plan_first);  // fails closed
  EXPECT_FALSE(route(other, r, buf).routed());
}

TEST(decide, same_meaning_same_version) {
  AGENTOS_COMPILE(g, k_policy);
  std::string reformatted = "// a comment\n" + k_policy;
  reformatted.replace(reformatted.find("task {"), 6, "/* block */ task {\n // line\n");
  for (std::size_t at = 0; (at = reformatted.find("\n  ", at)) != std::string::npos;) reformatted.replace(at, 3, "\n\t  ");
  AGENTOS_COMPILE(same, reformatted);
  EXPECT_EQ(g.version(), same.version());
  EXPECT_EQ(g.version().substr(0, 7), "sha256:");
  EXPECT_EQ(g.version().size(), 7u + 64u);
  // A request built for one graph works with the other: same layout, same string ids.
  decision_buffer buf;
  EXPECT_TRUE(decide(same, task_for(g, "planning", "submit_plan", "claude"), buf).allowed);

  std::string changed = k_policy;
  changed.replace(changed.find(">= 1000"), 7, ">= 1001");
  AGENTOS_COMPILE(other, changed);
  EXPECT_NE(g.version(), other.version());
}

TEST(decide, decimals_compare_with_ints_by_value) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r(g);
  r.set_attribute(attribute(g, "kind"), std::int64_t{2});  // finance
  r.set_attribute(attribute(g, "budget"), std::int64_t{1000'000'000});  // 1000.00
  EXPECT_EQ(g.rule(route(g, r, buf).rule).name, "big_money");
  r.set_attribute(attribute(g, "budget"), std::int64_t{999'999'999});  // 999.999999
  EXPECT_EQ(g.rule(route(g, r, buf).rule).name, "finance");
}

TEST(decide, concurrent_readers_share_one_graph) {
  AGENTOS_COMPILE(g, k_policy);
  std::vector<request> requests;
  for (const char* ev : {"submit_plan", "approve_plan", "cancel", "accept_result"}) {
    for (const char* actor : {"claude", "pam", "alex", "nobody"}) requests.push_back(task_for(g, "planning", ev, actor));
  }
  std::vector<char> expected;
  decision_buffer buf(g);
  for (const request& r : requests) expected.push_back(decide(g, r, buf).allowed ? 1 : 0);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      decision_buffer mine(g);  // one buffer per thread; the graph and requests are shared
      for (int round = 0; round < 2000; ++round) {
        for (std::size_t i = 0; i < requests.size(); ++i) {
          if ((decide(g, requests[i], mine).allowed ? 1 : 0) != expected[i]) ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(route, first_match_then_fallback) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r(g);
  route_result rr = route(g, r, buf);
  EXPECT_TRUE(rr.routed());
  EXPECT_TRUE(rr.fallback);
  EXPECT_EQ(g.rule(rr.rule).name, "otherwise");
  EXPECT_EQ(rr.to, (target_ref{target_kind::role, role(g, "chief")}));

  r.set_attribute(attribute(g, "kind"), std::int64_t{1});  // engineering
  rr = route(g, r, buf);
  EXPECT_FALSE(rr.fallback);
  EXPECT_EQ(g.rule(rr.rule).name, "engineering");
  EXPECT_EQ(rr.to, (target_ref{target_kind::agent, g.find_agent("claude")}));

  r.set_attribute(attribute(g, "kind"), std::int64_t{2});  // finance, budget 0
  EXPECT_EQ(g.rule(route(g, r, buf).rule).name, "finance");
}

TEST(route, no_fallback_means_unrouted) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a }
task { n: int optional }
lifecycle { states s, t  initial s  terminal t  s -> t on go }
routing { route big when task.n > 10 -> role a }
permit anyone on go
)");
  decision_buffer buf(g);
  request r(g);
  EXPECT_FALSE(route(g, r, buf).routed());
  r.set_attribute(0, std::int64_t{11});
  EXPECT_TRUE(route(g, r, buf).routed());
}

TEST(gate, any_gate_makes_plan_first) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r(g);
  gate_result gr = gate(g, r, buf);
  EXPECT_EQ(gr.mode, mode_direct);
  EXPECT_TRUE(gr.held.empty());
  r.set_attribute(attribute(g, "risk"), std::int64_t{1});  // medium
  gr = gate(g, r, buf);
  EXPECT_EQ(gr.mode, mode_plan_first);
  EXPECT_EQ(names(g, gr.held), (std::vector<std::string>{"risky"}));
  r.set_labels({"production", "web"});
  gr = gate(g, r, buf);
  EXPECT_EQ(names(g, gr.held), (std::vector<std::string>{"risky", "production"}));
  EXPECT_EQ(g.rule(gr.held[1]).reason, "production changes are approved");
  r.set_attribute(attribute(g, "risk"), std::int64_t{0});
  EXPECT_EQ(names(g, gate(g, r, buf).held), (std::vector<std::string>{"production"}));
}

TEST(escalations, targets_resolve_against_the_org) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "executing", "cancel", "alex");
  r.set_entered_at(0);
  r.set_now(24 * 3'600'000);  // exactly 24h: not stale yet
  EXPECT_TRUE(escalations(g, r, buf).empty());
  r.set_now(24 * 3'600'000 + 1);
  r.set_attempts(3);
  r.set_escalation_requested(true);
  const auto hits = escalations(g, r, buf);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(g.rule(hits[0].rule).name, "stuck");
  EXPECT_EQ(hits[0].to, (target_ref{target_kind::parent, role(g, "pm")}));
  EXPECT_EQ(g.rule(hits[1].rule).name, "stale");
  EXPECT_EQ(hits[1].to, (target_ref{target_kind::operator_, -1}));
  EXPECT_EQ(hits[2].to, (target_ref{target_kind::role, role(g, "chief")}));

  r.set_assignee_role(role(g, "chief"));  // a root role has no parent
  EXPECT_EQ(escalations(g, r, buf)[0].to, (target_ref{target_kind::parent, -1}));
  r.set_assignee_role(-1);  // unassigned
  EXPECT_EQ(escalations(g, r, buf)[0].to, (target_ref{target_kind::parent, -1}));
}

TEST(decide, options_add_intake_and_escalations) {
  AGENTOS_COMPILE(g, k_policy);
  decision_buffer buf(g);
  request r = task_for(g, "planning", "submit_plan", "claude");
  r.set_attempts(5);
  const decision d = decide(g, r, buf, decide_options{true, true, true});
  EXPECT_TRUE(d.allowed);
  ASSERT_TRUE(d.route);
  EXPECT_EQ(g.rule(d.route->rule).name, "otherwise");
  ASSERT_TRUE(d.gate);
  EXPECT_EQ(d.gate->mode, mode_direct);
  ASSERT_EQ(d.escalations.size(), 1u);
  EXPECT_EQ(g.rule(d.escalations[0].rule).name, "stuck");
  EXPECT_EQ(d.obligations.size(), 2u);  // still intact after the extra evaluations
}

TEST(request, missing_attributes_read_as_defaults_or_zero_values) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a }
task {
  s: string optional
  n: int optional
  d: decimal = 2.5
  b: bool optional
  e: enum { first, second } optional
  tags: set<string> optional
  due: timestamp optional
  wait: duration = 1h
}
lifecycle { states x, y  initial x  terminal y  x -> y on go }
permit empty_string on go when task.s == "" and task.n == 0 and task.d == 2.5 and not task.b
  and task.e == first and task.tags == {} and now > task.due and task.wait == 60m
  and task.assignee == "" and task.project == ""
)");
  decision_buffer buf(g);
  request r(g);
  r.set_event(event(g, "go"));
  r.set_now(1);
  EXPECT_TRUE(decide(g, r, buf).allowed);
  r.set_attribute(attribute(g, "n"), std::int64_t{1});
  EXPECT_FALSE(decide(g, r, buf).allowed);
  r.clear_attribute(attribute(g, "n"));
  EXPECT_TRUE(decide(g, r, buf).allowed);
}

TEST(request, absent_roles_compare_false_both_ways) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a  role b reports_to a }
lifecycle { states x, y  initial x  terminal y  x -> y on go  x -> y on stop }
permit eq on go when actor.role == a
permit ne on stop when actor.role != a
)");
  decision_buffer buf(g);
  request r(g);  // no actor
  r.set_event(event(g, "go"));
  EXPECT_FALSE(decide(g, r, buf).allowed);
  r.set_event(event(g, "stop"));
  EXPECT_TRUE(decide(g, r, buf).allowed);  // `!=` is `not ==`
}

TEST(decide, strings_unknown_to_the_policy_compare_by_content) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a }
task { owner: string required  watchers: set<string> optional }
lifecycle { states x, y  initial x  terminal y  x -> y on go }
permit owner_acts on go when actor.id == task.owner or actor.id in task.watchers
)");
  decision_buffer buf(g);
  request r(g);
  r.set_event(event(g, "go"));
  r.set_attribute(attribute(g, "owner"), std::string_view("zoe"));
  r.set_actor("zoe", -1, kind_human);
  EXPECT_TRUE(decide(g, r, buf).allowed);
  r.set_actor("zo", -1, kind_human);
  EXPECT_FALSE(decide(g, r, buf).allowed);
  const std::string_view watchers[] = {"ann", "zo"};
  r.set_attribute(attribute(g, "watchers"), std::span<const std::string_view>(watchers));
  EXPECT_TRUE(decide(g, r, buf).allowed);
}

TEST(decide, set_operators) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a  role b reports_to a  role c reports_to b }
task { tags: set<string> optional  n: int optional  s: string optional }
lifecycle { states x, y  initial x  terminal y  x -> y on e1  x -> y on e2  x -> y on e3  x -> y on e4  x -> y on e5 }
permit p1 on e1 when { "deploy", "submit" } subset actor.capabilities
permit p2 on e2 when task.tags contains "urgent" and "urgent" in task.labels
permit p3 on e3 when task.n in { task.attempts, 7 } and task.s not in { task.project, "x" }
permit p4 on e4 when actor.role ancestor_of task.assignee_role and not (actor.role parent_of task.assignee_role)
permit p5 on e5 when task.labels subset task.tags and task.tags == { "a", "b" }
)");
  decision_buffer buf(g);
  request r(g);
  auto allowed = [&](std::string_view ev) {
    r.set_event(event(g, ev));
    return decide(g, r, buf).allowed;
  };
  r.set_actor("u", role(g, "a"), kind_agent);
  r.set_capabilities({"submit", "x", "deploy"});
  EXPECT_TRUE(allowed("e1"));
  r.set_capabilities({"submit"});
  EXPECT_FALSE(allowed("e1"));

  r.set_attribute(attribute(g, "tags"), std::span<const std::string_view>(std::vector<std::string_view>{"urgent"}));
  EXPECT_FALSE(allowed("e2"));
  r.set_labels({"urgent"});
  EXPECT_TRUE(allowed("e2"));

  r.set_attempts(4);
  r.set_attribute(attribute(g, "n"), std::int64_t{4});
  r.set_attribute(attribute(g, "s"), std::string_view("y"));
  r.set_project("z");
  EXPECT_TRUE(allowed("e3"));
  r.set_project("y");
  EXPECT_FALSE(allowed("e3"));
  r.set_project("z");
  r.set_attribute(attribute(g, "n"), std::int64_t{7});
  EXPECT_TRUE(allowed("e3"));
  r.set_attribute(attribute(g, "n"), std::int64_t{5});
  EXPECT_FALSE(allowed("e3"));

  r.set_assignee_role(role(g, "c"));
  EXPECT_TRUE(allowed("e4"));  // a is c's grandparent
  r.set_assignee_role(role(g, "b"));
  EXPECT_FALSE(allowed("e4"));  // a is b's parent

  r.set_labels({"a"});
  r.set_attribute(attribute(g, "tags"), std::span<const std::string_view>(std::vector<std::string_view>{"b", "a", "b"}));
  EXPECT_TRUE(allowed("e5"));
  r.set_labels({"a", "c"});
  EXPECT_FALSE(allowed("e5"));
}

TEST(graph, catalogue_lookups) {
  AGENTOS_COMPILE(g, k_policy);
  const rule_catalogue& c = g.catalogue();
  const rule_entry* f = c.find(rule_kind::forbid, "no_self_review");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->reason, "executors never review their own work");
  EXPECT_EQ(f->events.size(), 2u);
  EXPECT_EQ(c.find(rule_kind::permit, "no_self_review"), nullptr);
  std::vector<std::string> routes;
  for (const rule_entry* r : c.of_kind(rule_kind::route)) routes.push_back(r->name);
  EXPECT_EQ(routes, (std::vector<std::string>{"big_money", "finance", "engineering"}));
  std::vector<std::string> on_approve;
  for (const rule_entry* r : c.for_event(event(g, "approve_plan"), state(g, "plan_review"))) on_approve.push_back(r->name);
  EXPECT_EQ(on_approve, (std::vector<std::string>{"plan_review -> executing on approve_plan", "parent_reviews",
                                                  "operator_acts", "no_self_review"}));
  EXPECT_EQ(c.named("otherwise").size(), 1u);
}

TEST(graph, rules_that_test_the_state_are_bucketed_only_there) {
  AGENTOS_COMPILE(g, R"(
policy p version "1"
org { role a }
lifecycle { states s1, s2, s3, done  initial s1  terminal done  * -> done on finish }
permit only_s2 on finish when task.state == s2 and actor.role == a
permit not_s1 on finish when task.state not in { s1 }
permit s1_or_s3 on finish when task.state == s1 or task.state in { s3 }
forbid never on finish when task.state == s1 and task.state == s2 because "unreachable"
permit everywhere on finish when not (task.state == s1)
)");
  const auto ev = event(g, "finish");
  auto bucket = [&](std::string_view st) {
    std::vector<std::string> out;
    for (const auto& p : g.permits(state(g, st), ev)) out.push_back(g.rule(p.rule).name);
    return out;
  };
  EXPECT_EQ(bucket("s1"), (std::vector<std::string>{"s1_or_s3", "everywhere"}));
  EXPECT_EQ(bucket("s2"), (std::vector<std::string>{"only_s2", "not_s1", "everywhere"}));
  EXPECT_EQ(bucket("s3"), (std::vector<std::string>{"not_s1", "s1_or_s3", "everywhere"}));
  EXPECT_TRUE(g.forbids(state(g, "s2"), ev).empty());
}

TEST(graph, large_buckets_are_indexed_by_the_most_tested_path) {
  std::string text = R"(
policy p version "1"
org { role a  role b  role c }
task { k: enum { k0, k1, k2, k3 } = k0  owner: string optional }
lifecycle { states x, y  initial x  terminal y  x -> y on go }
)";
  // 12 permits test actor.role and task.k, one more tests task.k, one neither: the index keys on
  // task.k, the most tested. Forbids are keyed on task.owner.
  for (int i = 0; i < 12; ++i) {
    text += "permit pr" + std::to_string(i) + " on go when actor.role == " + std::string(1, static_cast<char>('a' + i % 3)) +
            " and task.k == k" + std::to_string(i % 4) + "\n";
  }
  text += "permit pk on go when task.k in { k1, k2 }\npermit pany on go when task.attempts > 100\n";
  for (int i = 0; i < 9; ++i) {
    text += "forbid f" + std::to_string(i) + " on go when task.owner == \"o" + std::to_string(i) + "\" because \"r\"\n";
  }
  AGENTOS_COMPILE(g, text);
  const auto x = state(g, "x");
  const auto go = event(g, "go");
  ASSERT_NE(g.permit_index(x, go), nullptr);
  EXPECT_EQ(g.permit_index(x, go)->slot(), slot_of(dsl::ast::field::task_attribute, attribute(g, "k")));
  EXPECT_EQ(g.permit_index(x, go)->unkeyed().size(), 1u);
  ASSERT_NE(g.forbid_index(x, go), nullptr);
  EXPECT_EQ(g.forbid_index(x, go)->unkeyed().size(), 0u);
  decision_buffer buf(g);
  request r(g);
  r.set_event(go);
  r.set_actor("u", role(g, "b"), kind_agent);
  r.set_attribute(attribute(g, "k"), std::int64_t{1});
  decision d = decide(g, r, buf);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"x -> y on go", "pr1", "pk"}));  // role b and k1: i = 1
  r.set_attribute(attribute(g, "owner"), std::string_view("o4"));
  d = decide(g, r, buf);
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"x -> y on go", "f4"}));
  r.set_attribute(attribute(g, "owner"), std::string_view("o44"));  // unknown to the policy
  r.set_attempts(101);
  d = decide(g, r, buf);
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"x -> y on go", "pr1", "pk", "pany"}));
  r.set_attribute(attribute(g, "k"), std::int64_t{3});
  d = decide(g, r, buf);
  EXPECT_EQ(names(g, d.matched), (std::vector<std::string>{"x -> y on go", "pr7", "pany"}));
}

TEST(graph, path_against_literal_compiles_to_one_instruction) {
  AGENTOS_COMPILE(g, k_policy);
  const auto gates = g.gates();
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(gates[0].when.size, 1u);  // task.risk >= medium
  EXPECT_EQ(g.code(gates[0].when)[0].op, opcode::scalar_slot_const);
  EXPECT_NE(g.disassemble(gates[0].when).find("scalar_slot_const >="), std::string::npos);
  EXPECT_EQ(gates[1].when.size, 1u);  // "production" in task.labels
  EXPECT_EQ(g.code(gates[1].when)[0].op, opcode::compare_const_slot);
  // `a and b`: two fused compares and one jump.
  EXPECT_EQ(g.routes()[0].when.size, 3u);
}

}  // namespace
