// Each graph lint has a policy that triggers it and a corrected policy that does not.
#include <gtest/gtest.h>

#include <algorithm>

#include "dsl/checker.hpp"
#include "engine/lint/lint.hpp"

namespace {

using namespace agentos;

// A small, clean base policy; each test swaps in the part it is about.
struct parts {
  std::string org = "org { role boss  role worker reports_to boss  role senior reports_to boss }";
  std::string task = "task { risk: enum { low, high } = low  requester: string optional }";
  std::string states = "states intake, planning, executing, done, cancelled\n initial intake\n terminal done, cancelled";
  std::string transitions =
      "intake -> planning on start when task.mode == plan_first\n"
      "intake -> executing on start when task.mode == direct\n"
      "planning -> executing on approve_plan\n"
      "executing -> done on finish\n"
      "* -> cancelled on cancel";
  std::string routing = "routing { route risky when task.risk == high -> role senior  otherwise -> role worker }";
  std::string rules =
      "gate g when task.risk == high\n"
      "permit work on start, finish, cancel when actor.id == task.assignee\n"
      "permit approve on approve_plan when actor.role parent_of task.assignee_role\n"
      "forbid no_self on approve_plan when actor.id == task.assignee because \"separation of duties\"\n"
      "escalate up when task.attempts > 3 -> parent";
  std::string extra;

  [[nodiscard]] std::string text() const {
    return "policy t version \"1\"\n" + org + "\n" + task + "\nlifecycle {\n" + states + "\n" + transitions + "\n}\n" + routing +
           "\n" + rules + "\n" + extra + "\n";
  }
};

std::vector<std::string> lint_codes(const parts& p) {
  dsl::source_manager sources;
  dsl::diagnostics diags;
  auto r = dsl::check_text("lint.policy", p.text(), sources, diags);
  EXPECT_TRUE(r.ok) << "the test policy must check clean: " << (diags.empty() ? "" : diags.items().front().message);
  std::vector<std::string> codes;
  if (!r.ok) return codes;
  for (const auto& d : engine::lint::run_all(*r.set)) codes.push_back(d.code);
  return codes;
}

bool has(const std::vector<std::string>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

TEST(Lint, BasePolicyIsClean) {
  const auto codes = lint_codes(parts{});
  EXPECT_TRUE(codes.empty()) << codes.front();
}

TEST(Lint, UnreachableState) {
  parts p;
  p.states = "states intake, planning, executing, done, cancelled, orphan\n initial intake\n terminal done, cancelled";
  EXPECT_TRUE(has(lint_codes(p), "L0001"));
  p.transitions += "\norphan -> done on finish\nexecuting -> orphan on finish";
  EXPECT_FALSE(has(lint_codes(p), "L0001"));
}

TEST(Lint, DeadEndState) {
  parts p;
  p.states = "states intake, planning, executing, done, cancelled, limbo\n initial intake\n terminal done, cancelled";
  p.transitions = "intake -> planning on start when task.mode == plan_first\nintake -> executing on start when task.mode == direct\n"
                  "planning -> executing on approve_plan\nexecuting -> done on finish\nexecuting -> limbo on cancel\n"
                  "intake -> cancelled on cancel";
  EXPECT_TRUE(has(lint_codes(p), "L0002"));
  p.transitions += "\nlimbo -> cancelled on cancel";
  EXPECT_FALSE(has(lint_codes(p), "L0002"));
}

TEST(Lint, GuardNeverHolds) {
  parts p;
  p.transitions += "\nexecuting -> done on finish when task.risk == low and task.risk == high";
  EXPECT_TRUE(has(lint_codes(p), "L0003"));
  p.transitions = parts{}.transitions + "\nexecuting -> done on finish when task.risk == low or task.risk == high";
  EXPECT_FALSE(has(lint_codes(p), "L0003"));
}

TEST(Lint, GuardContradictingTheSourceState) {
  parts p;
  p.transitions += "\nexecuting -> done on finish when task.state == planning";
  EXPECT_TRUE(has(lint_codes(p), "L0003"));
}

TEST(Lint, GuardIntervalsAreReasonedAbout) {
  parts p;
  p.transitions += "\nexecuting -> done on finish when task.attempts > 5 and task.attempts < 3";
  EXPECT_TRUE(has(lint_codes(p), "L0003"));
  p.transitions = parts{}.transitions + "\nexecuting -> done on finish when task.attempts > 2 and task.attempts < 5";
  EXPECT_FALSE(has(lint_codes(p), "L0003"));
}

TEST(Lint, ShadowedRoute) {
  parts p;
  p.routing = "routing { route all when task.risk >= low -> role worker  route risky when task.risk == high -> role senior  otherwise -> role worker }";
  EXPECT_TRUE(has(lint_codes(p), "L0004"));
  p.routing = "routing { route risky when task.risk == high -> role senior  route all when task.risk >= low -> role worker  otherwise -> role worker }";
  EXPECT_FALSE(has(lint_codes(p), "L0004"));
}

TEST(Lint, DeadPermit) {
  parts p;
  p.rules += "\nforbid frozen on finish because \"finishing is frozen\"";
  EXPECT_TRUE(has(lint_codes(p), "L0005"));
  p.rules = parts{}.rules + "\nforbid frozen on finish when task.risk == high because \"risky work is frozen\"";
  EXPECT_FALSE(has(lint_codes(p), "L0005"));
}

TEST(Lint, PlanGateBypass) {
  parts p;
  p.transitions = "intake -> planning on start when task.mode == plan_first\nintake -> executing on start\n"
                  "planning -> executing on approve_plan\nexecuting -> done on finish\n* -> cancelled on cancel";
  EXPECT_TRUE(has(lint_codes(p), "L0006"));
  EXPECT_FALSE(has(lint_codes(parts{}), "L0006"));
}

TEST(Lint, SelfApproval) {
  parts p;
  p.rules = "gate g when task.risk == high\npermit work on start, finish, cancel when actor.id == task.assignee\n"
            "permit approve on approve_plan when actor.kind == agent\nescalate up when task.attempts > 3 -> parent";
  EXPECT_TRUE(has(lint_codes(p), "L0007"));
  p.rules += "\nforbid sod on approve_plan when actor.id == task.requester or actor.id == task.assignee because \"sod\"";
  EXPECT_FALSE(has(lint_codes(p), "L0007"));
}

TEST(Lint, EscalationCycle) {
  parts p;
  p.rules += "\nescalate a when task.assignee_role == worker -> role senior\nescalate b when task.assignee_role == senior -> role worker";
  EXPECT_TRUE(has(lint_codes(p), "L0008"));
  p.rules = parts{}.rules + "\nescalate a when task.assignee_role == worker -> role senior\nescalate b when task.assignee_role == senior -> operator";
  EXPECT_FALSE(has(lint_codes(p), "L0008"));
}

TEST(Lint, MissingFallback) {
  parts p;
  p.routing = "routing { route risky when task.risk == high -> role senior }";
  EXPECT_TRUE(has(lint_codes(p), "L0009"));
  EXPECT_FALSE(has(lint_codes(parts{}), "L0009"));
}

TEST(Lint, UnperformableEvent) {
  parts p;
  p.transitions += "\nexecuting -> executing on poke";
  EXPECT_TRUE(has(lint_codes(p), "L0010"));
  p.rules += "\npermit pokes on poke when actor.kind == operator";
  EXPECT_FALSE(has(lint_codes(p), "L0010"));
}

TEST(Lint, InvariantPassesWithCounterexample) {
  parts p;
  p.extra = "invariant plan { when task.mode == plan_first every path to executing passes approve_plan }";
  EXPECT_FALSE(has(lint_codes(p), "L0011"));
  p.transitions += "\nplanning -> executing on start";
  dsl::source_manager sources;
  dsl::diagnostics diags;
  auto r = dsl::check_text("inv.policy", p.text(), sources, diags);
  ASSERT_TRUE(r.ok);
  const auto found = engine::lint::run_all(*r.set);
  const auto it = std::find_if(found.begin(), found.end(), [](const dsl::diagnostic& d) { return d.code == "L0011"; });
  ASSERT_NE(it, found.end());
  EXPECT_EQ(it->level, dsl::severity::error);
  ASSERT_FALSE(it->notes.empty());
  EXPECT_EQ(it->notes.front(), "counterexample: intake -[start]-> planning -[start]-> executing");
}

TEST(Lint, InvariantReachableTerminatesNever) {
  parts p;
  p.extra = "invariant r { reachable * }\ninvariant t { terminates from * }\ninvariant n { never done -> executing }";
  EXPECT_FALSE(has(lint_codes(p), "L0011"));
  p.transitions += "\nexecuting -> planning on finish";
  p.extra = "invariant n { never executing -> planning }";
  EXPECT_TRUE(has(lint_codes(p), "L0011"));
}

}  // namespace
