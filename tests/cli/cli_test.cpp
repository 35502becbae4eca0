// End-to-end tests of `agentos eval`, `agentos test` and `agentos graph`: each test writes a small
// policy (and requests or test files) to a fresh temporary directory, runs the real binary and
// checks its exit code, stdout and stderr.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using agentos::testing::run_result;
using agentos::testing::quote;
using agentos::testing::slurp;

// A small policy with every kind of rule the commands report: routes, a gate, permits, a forbid,
// an escalation and an obligation, and a plan-review state.
constexpr const char* mini_policy = R"(policy mini version "1.0"

org {
  role lead
  role dev reports_to lead
  agent ana role lead kind human
  agent bob role dev
}

task {
  risk: enum { low, high } = low
}

lifecycle {
  states todo, plan_review, doing, review, done
  initial todo
  terminal done
  todo -> plan_review on start when task.mode == plan_first
  todo -> doing on start when task.mode == direct
  plan_review -> doing on approve_plan
  doing -> review on submit
  review -> done on accept
}

routing {
  route risky_work when task.risk == high -> role lead
  otherwise -> role dev
}

gate risky when task.risk == high because "risky work is planned first"

permit dev_works on start, submit when actor.id == task.assignee
permit lead_reviews on approve_plan, accept when actor.role parent_of task.assignee_role
forbid no_self_review on approve_plan, accept when actor.id == task.assignee
  because "nobody reviews their own work"

escalate slow when task.state == doing and task.time_in_state > 1d -> parent

obligation review_by_lead on submit then require review by parent
)";

constexpr const char* submit_request = R"({
  "event": "submit",
  "now": "2026-03-02T09:00:00Z",
  "task": { "state": "doing", "assignee": "bob" },
  "actor": { "id": "bob" }
})";

constexpr const char* self_accept_request = R"({
  "event": "accept",
  "task": { "state": "review", "assignee": "bob" },
  "actor": { "id": "bob" }
})";

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

class cli : public agentos::testing::agentos_cli_test {
 protected:
  void SetUp() override {
    agentos_cli_test::SetUp();
    write("mini.policy", mini_policy);
  }
  run_result run(const std::vector<std::string>& args, const std::string& input = "", const std::string& env = "") {
    return run_agentos(args, input, env);
  }
};

// ---------------------------------------------------------------------------------------------
// eval

TEST_F(cli, eval_allows_and_prints_the_decision_json) {
  const auto r = run({"eval", "--policy", "mini.policy"}, submit_request);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  EXPECT_EQ(d["allowed"], true);
  EXPECT_EQ(d["effect"], "allow");
  EXPECT_EQ(d["from"], "doing");
  EXPECT_EQ(d["event"], "submit");
  EXPECT_EQ(d["target"], "review");
  EXPECT_EQ(d["edge"], "doing -> review on submit");
  ASSERT_EQ(d["matched"].size(), 2u);
  EXPECT_EQ(d["matched"][1]["name"], "dev_works");
  EXPECT_EQ(d["matched"][1]["kind"], "permit");
  EXPECT_EQ(d["matched"][1]["file"], "mini.policy");
  EXPECT_EQ(d["matched"][1]["line"], 32);
  EXPECT_EQ(d["matched"][1]["column"], 1);
  EXPECT_TRUE(d["reasons"].empty());
  ASSERT_EQ(d["obligations"].size(), 1u);
  EXPECT_EQ(d["obligations"][0]["action"], "require_review");
  EXPECT_EQ(d["obligations"][0]["target"], "parent (role lead)");
  EXPECT_EQ(d["version"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_FALSE(d.contains("route"));
  EXPECT_FALSE(d.contains("escalations"));
}

TEST_F(cli, eval_reads_the_request_from_a_file) {
  write("req.json", submit_request);
  const auto r = run({"eval", "-p", "mini.policy", "--request", "req.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["effect"], "allow");
}

TEST_F(cli, eval_deny_exits_zero_and_lists_the_reasons) {
  const auto r = run({"eval", "--policy", "mini.policy"}, self_accept_request);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  EXPECT_EQ(d["allowed"], false);
  EXPECT_EQ(d["effect"], "deny");
  EXPECT_EQ(d["target"], "done");  // the edge was found; the forbid denies it
  ASSERT_EQ(d["reasons"].size(), 1u);
  EXPECT_EQ(d["reasons"][0]["kind"], "forbidden");
  EXPECT_EQ(d["reasons"][0]["rule"], "no_self_review");
  EXPECT_EQ(d["reasons"][0]["message"], "nobody reviews their own work");
  EXPECT_TRUE(d["obligations"].empty());
}

TEST_F(cli, eval_fail_on_deny_exits_3_only_on_deny) {
  EXPECT_EQ(run({"eval", "-p", "mini.policy", "--fail-on-deny"}, self_accept_request).code, 3);
  EXPECT_EQ(run({"eval", "-p", "mini.policy", "--fail-on-deny"}, submit_request).code, 0);
}

TEST_F(cli, eval_explain_prints_the_trace) {
  const auto r = run({"eval", "-p", "mini.policy", "--explain"}, self_accept_request);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("DENY  review --accept--> done", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("forbidden by no_self_review"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(mini.policy:34:1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not consulted: a forbid applies"), std::string::npos) << r.out;
}

TEST_F(cli, eval_explain_with_json_adds_the_explanation) {
  const auto r = run({"eval", "-p", "mini.policy", "--explain", "--format", "json"}, self_accept_request);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  EXPECT_EQ(d["effect"], "deny");
  ASSERT_TRUE(d.contains("explanation"));
  EXPECT_NE(d["explanation"].get<std::string>().find("forbidden by no_self_review"), std::string::npos);
}

TEST_F(cli, eval_intake_and_escalations) {
  const auto r = run({"eval", "-p", "mini.policy", "--intake", "--escalations"}, R"({
    "now": "2026-03-02T09:00:00Z",
    "task": { "state": "doing", "risk": "high", "assignee": "bob", "entered_at": "2026-02-27T09:00:00Z" }
  })");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  EXPECT_EQ(d["route"]["rule"], "risky_work");
  EXPECT_EQ(d["route"]["target"], "role lead");
  EXPECT_EQ(d["route"]["fallback"], false);
  EXPECT_EQ(d["mode"], "plan_first");
  EXPECT_EQ(d["gates"], json::array({"risky"}));
  ASSERT_EQ(d["escalations"].size(), 1u);
  EXPECT_EQ(d["escalations"][0]["rule"], "slow");
  EXPECT_EQ(d["escalations"][0]["target"], "parent (role lead)");
  EXPECT_EQ(d["event"], nullptr);
}

TEST_F(cli, eval_intake_falls_back) {
  const auto r = run({"eval", "-p", "mini.policy", "--intake"}, R"({"task": {"state": "todo"}})");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto d = json::parse(r.out);
  EXPECT_EQ(d["route"]["rule"], "otherwise");
  EXPECT_EQ(d["route"]["fallback"], true);
  EXPECT_EQ(d["mode"], "direct");
  EXPECT_TRUE(d["gates"].empty());
}

TEST_F(cli, eval_bad_json_is_a_usage_error) {
  const auto r = run({"eval", "-p", "mini.policy"}, R"({"event": )");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("is not valid JSON"), std::string::npos) << r.err;
}

TEST_F(cli, eval_request_errors_name_their_json_pointers) {
  const auto r = run({"eval", "-p", "mini.policy"},
                     R"({"event": "submit", "task": {"state": "nowhere", "risk": "extreme"}, "actor": {"id": "bob", "mood": 1}})");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("/task/state: unknown state `nowhere`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/task/risk:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/actor/mood:"), std::string::npos) << r.err;
}

TEST_F(cli, eval_missing_policy_or_request_is_a_usage_error) {
  auto r = run({"eval", "-p", "nope.policy"}, submit_request);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no such file: nope.policy"), std::string::npos) << r.err;
  r = run({"eval", "-p", "mini.policy", "--request", "nope.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot read request nope.json"), std::string::npos) << r.err;
}

TEST_F(cli, eval_policy_with_errors_exits_1_with_diagnostics) {
  write("broken.policy", "policy broken version \"1\"\nlifecycle {\n  states a, b\n  initial a\n  terminal b\n"
                         "  a -> b on go when task.nope == 1\n}\npermit p on go\n");
  const auto r = run({"eval", "-p", "broken.policy"}, R"({"event": "go"})");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("broken.policy:6:26: error[E3004]"), std::string::npos) << r.err;
}

TEST_F(cli, eval_rejects_unknown_options_and_formats) {
  EXPECT_EQ(run({"eval", "-p", "mini.policy", "--bogus"}, submit_request).code, 2);
  EXPECT_EQ(run({"eval", "-p", "mini.policy", "--format", "yaml"}, submit_request).code, 2);
}

// ---------------------------------------------------------------------------------------------
// test

constexpr const char* passing_tests = R"J({
  "policy": "../mini.policy",
  "defaults": { "now": "2026-03-02T09:00:00Z", "task": { "assignee": "bob" } },
  "cases": [
    { "name": "the assignee submits",
      "request": { "event": "submit", "task": { "state": "doing" }, "actor": { "id": "bob" } },
      "expect": { "effect": "allow", "state": "review", "matched": ["dev_works"],
                  "obligations": ["require review by parent (role lead)"] } },
    { "name": "nobody accepts their own work",
      "request": { "event": "accept", "task": { "state": "review" }, "actor": { "id": "bob" } },
      "expect": { "effect": "deny", "reasons": ["own work"], "matched": ["no_self_review"] } },
    { "name": "the lead accepts",
      "request": { "event": "accept", "task": { "state": "review" }, "actor": { "id": "ana" } },
      "expect": { "effect": "allow", "state": "done" } },
    { "name": "risky work goes to the lead and is planned first",
      "request": { "task": { "state": "todo", "risk": "high" } },
      "expect": { "route": "role lead", "mode": "plan_first", "gates": ["risky"] } },
    { "name": "a stale task escalates to the parent",
      "request": { "task": { "state": "doing", "entered_at": "2026-02-27T09:00:00Z" } },
      "expect": { "escalations": ["slow"] } },
    { "name": "a fresh task does not escalate",
      "request": { "task": { "state": "doing", "entered_at": "2026-03-02T08:00:00Z" } },
      "expect": { "escalations": [] } }
  ]
})J";

TEST_F(cli, test_passing_file) {
  write("t/mini.tests.json", passing_tests);
  const auto r = run({"test", "t/mini.tests.json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok   the assignee submits\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok   a fresh task does not escalate\n"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "6 passed, 0 failed");
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(cli, test_failing_case_shows_expected_and_actual) {
  write("t/fail.tests.json", R"J({
    "policy": "../mini.policy",
    "cases": [
      { "name": "self review is allowed (wrong)",
        "request": { "event": "accept", "task": { "state": "review", "assignee": "bob" }, "actor": { "id": "bob" } },
        "expect": { "effect": "allow", "state": "done" } },
      { "name": "routing (wrong)",
        "request": { "task": { "state": "todo" } },
        "expect": { "route": "role lead", "gates": ["risky"] } },
      { "name": "right",
        "request": { "task": { "state": "todo" } },
        "expect": { "route": "role dev", "mode": "direct" } }
    ]
  })J");
  const auto r = run({"test", "t/fail.tests.json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL self review is allowed (wrong)\n"
                       "    effect\n"
                       "    - expected: allow\n"
                       "    + actual:   deny\n"
                       "    deny reasons:\n"
                       "      forbidden by no_self_review: nobody reviews their own work\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("    state\n"), std::string::npos) << "the edge's target matched: " << r.out;
  EXPECT_NE(r.out.find("    route\n    - expected: role lead\n    + actual:   role dev\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    - expected: [\"risky\"]\n    + actual:   []\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok   right\n"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "1 passed, 2 failed");
}

TEST_F(cli, test_explain_prints_the_trace_of_failing_cases) {
  write("t/fail.tests.json", R"({
    "policy": "../mini.policy",
    "cases": [
      { "name": "wrong",
        "request": { "event": "accept", "task": { "state": "review", "assignee": "bob" }, "actor": { "id": "bob" } },
        "expect": { "effect": "allow" } },
      { "name": "right",
        "request": { "event": "accept", "task": { "state": "review", "assignee": "bob" }, "actor": { "id": "ana" } },
        "expect": { "effect": "allow" } }
    ]
  })");
  const auto r = run({"test", "--explain", "t"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("    explanation:\n      DENY  review --accept--> done\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ALLOW"), std::string::npos) << "only failing cases are explained: " << r.out;
}

TEST_F(cli, test_malformed_file_reports_json_pointers_and_exits_2) {
  write("t/bad.tests.json", R"({
    "policy": "../mini.policy",
    "cases": [
      { "name": "typo", "request": { "event": "accept" }, "expect": { "efect": "allow" } },
      { "name": "bad value", "request": { "event": "accept" }, "expect": { "effect": "yes" } },
      { "name": "typo", "request": { "event": "accept" }, "expect": { "effect": "deny" } },
      { "name": "unknown gate", "request": { "task": { "state": "todo" } }, "expect": { "gates": ["nope"] } }
    ]
  })");
  const auto r = run({"test", "t/bad.tests.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("t/bad.tests.json: /cases/0/expect/efect: unknown expectation `efect`"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("/cases/1/expect/effect: expected \"allow\" or \"deny\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/cases/2/name: duplicate case name"), std::string::npos) << r.err;
  // The cases that did read are still checked against the policy, so one run reports everything.
  EXPECT_NE(r.err.find("/cases/3/expect/gates/0: no gate rule is called `nope`"), std::string::npos) << r.err;
  EXPECT_EQ(last_line(r.out), "0 passed, 0 failed");
}

TEST_F(cli, test_names_the_policy_does_not_know_are_malformed) {
  write("t/bad.tests.json", R"({
    "policy": "../mini.policy",
    "defaults": { "task": { "risk": "extreme" } },
    "cases": [
      { "name": "a", "request": { "event": "accept", "task": { "state": "reviewing" } },
        "expect": { "state": "finished", "matched": ["no_such_rule"] } },
      { "name": "b", "request": { "task": { "state": "todo" } }, "expect": { "gates": ["riskyy"] } },
      { "name": "c", "request": { "task": { "state": "todo" } }, "expect": { "effect": "allow" } }
    ]
  })");
  const auto r = run({"test", "t/bad.tests.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/cases/0/request/task/state: unknown state `reviewing`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/cases/0/expect/state: unknown state `finished`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/cases/0/expect/matched/0: no rule is called `no_such_rule`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/cases/1/expect/gates/0: no gate rule is called `riskyy`"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/cases/2/request: the request has no \"event\""), std::string::npos) << r.err;
  // A mistake in the defaults is reported once, where it is.
  const auto at = r.err.find("/defaults/task/risk:");
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/defaults/task/risk:", at + 1), std::string::npos) << r.err;
}

TEST_F(cli, test_invalid_json_and_missing_policy_exit_2) {
  write("t/broken.tests.json", R"({"policy": "../mini.policy", "cases": [)");
  auto r = run({"test", "t/broken.tests.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("t/broken.tests.json: not valid JSON"), std::string::npos) << r.err;

  write("t2/nopolicy.tests.json",
        R"({"policy": "gone.policy", "cases": [{"name": "x", "request": {"event": "go"}, "expect": {"effect": "allow"}}]})");
  r = run({"test", "t2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/policy: no such file"), std::string::npos) << r.err;
}

TEST_F(cli, test_policy_with_errors_fails_its_cases) {
  write("broken.policy", "policy broken version \"1\"\nlifecycle {\n  states a, b\n  initial a\n  terminal b\n"
                         "  a -> b on go when task.nope == 1\n}\npermit p on go\n");
  write("broken.tests.json",
        R"({"policy": "broken.policy", "cases": [{"name": "x", "request": {"event": "go"}, "expect": {"effect": "allow"}}]})");
  const auto r = run({"test", "broken.tests.json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error[E3004]"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("FAIL x\n    not run: policy"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "0 passed, 1 failed");
}

TEST_F(cli, test_filter_runs_only_matching_cases) {
  write("t/mini.tests.json", passing_tests);
  auto r = run({"test", "--filter", "stale", "t"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok   a stale task escalates to the parent"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("submits"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), "1 passed, 0 failed");

  r = run({"test", "--filter", "no case has this name", "t"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no test case matches --filter"), std::string::npos) << r.err;
}

TEST_F(cli, test_searches_directories_for_tests_json_files) {
  write("suite/mini.policy", mini_policy);
  write("suite/a/one.tests.json", passing_tests);
  write("suite/b/two.tests.json", passing_tests);
  write("suite/b/not-a-test.json", "this is not read");
  const auto r = run({"test", "suite"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const auto one = r.out.find("suite/a/one.tests.json");
  const auto two = r.out.find("suite/b/two.tests.json");
  ASSERT_NE(one, std::string::npos) << r.out;
  ASSERT_NE(two, std::string::npos) << r.out;
  EXPECT_LT(one, two);
  EXPECT_EQ(last_line(r.out), "12 passed, 0 failed");
}

TEST_F(cli, test_json_report) {
  write("t/mini.tests.json", passing_tests);
  write("t/fail.tests.json", R"({
    "policy": "../mini.policy",
    "cases": [{ "name": "wrong", "request": { "task": { "state": "todo" } }, "expect": { "mode": "plan_first" } }]
  })");
  const auto r = run({"test", "--format", "json", "t"});
  EXPECT_EQ(r.code, 1);
  const auto report = json::parse(r.out);
  EXPECT_EQ(report["passed"], 6);
  EXPECT_EQ(report["failed"], 1);
  EXPECT_EQ(report["problems"], 0);
  ASSERT_EQ(report["files"].size(), 2u);
  const auto& fail = report["files"][0];
  EXPECT_EQ(fail["policy"], "mini");
  ASSERT_EQ(fail["cases"].size(), 1u);
  EXPECT_EQ(fail["cases"][0]["status"], "fail");
  EXPECT_EQ(fail["cases"][0]["failures"][0]["key"], "mode");
  EXPECT_EQ(fail["cases"][0]["failures"][0]["expected"], "plan_first");
  EXPECT_EQ(fail["cases"][0]["failures"][0]["actual"], "direct");
  EXPECT_EQ(report["files"][1]["cases"][0]["status"], "pass");
}

TEST_F(cli, test_usage_errors) {
  EXPECT_EQ(run({"test", "missing-dir"}).code, 2);
  fs::create_directories(m_dir / "empty");
  EXPECT_EQ(run({"test", "empty"}).code, 2);
  write("t/mini.tests.json", passing_tests);
  EXPECT_EQ(run({"test", "--format", "xml", "t"}).code, 2);
}

// ---------------------------------------------------------------------------------------------
// graph

TEST_F(cli, graph_dot_has_states_edges_gates_and_escalations) {
  const auto r = run({"graph", "--policy", "mini.policy"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string& dot = r.out;
  EXPECT_NE(dot.find("digraph \"mini\" {"), std::string::npos) << dot;
  EXPECT_NE(dot.find("__start -> \"todo\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"done\" [peripheries=2];"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"todo\" -> \"plan_review\" [label=<<b>start</b><br/><i>when task.mode == plan_first</i>"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"review\" -> \"done\" [label=<<b>accept</b><br/>by lead_reviews<br/>"
                     "<font color=\"#b00020\">¬no_self_review</font>>"),
            std::string::npos)
      << dot;
  // The plan gate: approve_plan bold blue, the plan-review state filled.
  const auto approve = dot.find("\"plan_review\" -> \"doing\" [label=<<b>approve_plan</b>");
  ASSERT_NE(approve, std::string::npos) << dot;
  EXPECT_NE(dot.substr(approve, dot.find('\n', approve) - approve).find("penwidth=2.5"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"plan_review\" [color="), std::string::npos) << dot;
  // Gates and escalations are listed in the graph's label.
  EXPECT_NE(dot.find("risky: when task.risk == high"), std::string::npos) << dot;
  EXPECT_NE(dot.find("slow: when task.state == doing and task.time_in_state &gt; 1d → parent"), std::string::npos)
      << dot;
}

TEST_F(cli, graph_expands_wildcards_and_flags_events_nobody_may_perform) {
  write("wild.policy", R"(policy wild version "1"
lifecycle {
  states a, b, c, gone
  initial a
  terminal gone
  a -> b on next when (task.attempts > 1 or task.attempts == 0) // a comment
    and task.attempts != 5
  b -> c on next
  c -> a on reopen
  * -> gone on drop
}
permit anyone_moves on next
permit anyone_drops on drop
)");
  const auto r = run({"graph", "-p", "wild.policy"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* from : {"\"a\"", "\"b\"", "\"c\""}) {
    EXPECT_NE(r.out.find(std::string(from) + " -> \"gone\" [label=<<b>drop</b> [1]>"), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("[1] * -&gt; gone on drop (3 edges)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"c\" -> \"a\" [label=<<b>reopen</b><br/><font color=\"#b00020\">no permit: nobody may act"),
            std::string::npos)
      << r.out;
  // The guard as written: comments dropped, parentheses kept, wrapped onto lines.
  const auto edge = r.out.find("\"a\" -> \"b\"");
  ASSERT_NE(edge, std::string::npos) << r.out;
  std::string label = r.out.substr(edge, r.out.find('\n', edge) - edge);
  for (std::size_t at; (at = label.find("</i><br/><i>")) != std::string::npos;) label.replace(at, 12, " ");
  EXPECT_NE(label.find("<i>when (task.attempts &gt; 1 or task.attempts == 0) and task.attempts != 5</i>"),
            std::string::npos)
      << label;
}

TEST_F(cli, graph_writes_a_file) {
  const auto r = run({"graph", "-p", "mini.policy", "-o", "out.dot"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(slurp(m_dir / "out.dot").find("digraph"), std::string::npos);
}

TEST_F(cli, graph_svg_through_dot) {
  if (std::system("command -v dot > /dev/null 2>&1") != 0) GTEST_SKIP() << "Graphviz `dot` is not installed";
  auto r = run({"graph", "-p", "mini.policy", "--format", "svg", "-o", "g.svg"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string svg = slurp(m_dir / "g.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("plan_review"), std::string::npos);
  r = run({"graph", "-p", "mini.policy", "--format", "svg"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("<svg"), std::string::npos);
}

TEST_F(cli, graph_svg_without_dot_is_a_clear_usage_error) {
  const auto r = run({"graph", "-p", "mini.policy", "--format", "svg"}, "", "PATH=/nonexistent");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("needs Graphviz's `dot` on PATH"), std::string::npos) << r.err;
}

TEST_F(cli, graph_errors) {
  EXPECT_EQ(run({"graph", "-p", "nope.policy"}).code, 2);
  EXPECT_EQ(run({"graph", "-p", "mini.policy", "--format", "png"}).code, 2);
  write("broken.policy", "policy broken version \"1\"\nlifecycle { states a\n initial zz }\n");
  EXPECT_EQ(run({"graph", "-p", "broken.policy"}).code, 1);
}

// ---------------------------------------------------------------------------------------------

TEST_F(cli, every_command_documents_its_exit_status) {
  for (const char* command : {"check", "fmt", "eval", "test", "graph"}) {
    const auto r = run({command, "--help"});
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_NE(r.out.find("Exit status:"), std::string::npos) << command << ":\n" << r.out;
  }
}

}  // namespace
