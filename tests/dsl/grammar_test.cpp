// The grammar has no rule that can loop without consuming input (PEGTL's analysis), and the
// parser's limits hold.
#include <gtest/gtest.h>

#include <tao/pegtl/contrib/analyze.hpp>

#include "dsl/detail/grammar.hpp"
#include "dsl/parser.hpp"

namespace {

using namespace agentos::dsl;

TEST(Grammar, AnalyzeFindsNoProblems) {
  EXPECT_EQ(tao::pegtl::analyze<grammar::file>(1), 0u);
}

ast::module parse_text(const std::string& text, diagnostics& d, source_manager& sm) {
  const auto id = sm.add("test.policy", text);
  return parse(sm.get(id), id, d);
}

TEST(Grammar, ParsesEveryConstruct) {
  const std::string text = R"(/// doc
policy p version "1.0" layer shared
import "other.policy"
org { role a  role b reports_to a  agent x role b kind human capabilities { "submit-plan" } }
task { risk: enum { low, high } = low  cost: decimal optional  due: timestamp required  tags: set<string> = {} }
lifecycle {
  states s1, s2, s3
  initial s1
  terminal s3
  group open = { s1, s2 }
  s1 -> s2 on go when task.risk >= high and not (actor.kind == agent or task.cost > 10.50)
  open -> s3 on stop
  * -> s3 on cancel
}
routing { route r1 when "x" in task.labels -> role a  override otherwise -> agent x }
gate g when task.attempts >= 3 because "many tries"
permit p1 on go, stop when actor.role parent_of task.assignee_role
forbid f1 on go when actor.id == task.assignee because "no self review"
override escalate e1 when task.time_in_state > 1h30m -> parent
obligation o1 on go then notify role a, require review by operator
invariant i1 { when task.mode == plan_first every path to s2 passes go }
invariant i2 { reachable open }
invariant i3 { terminates from * }
invariant i4 { never s3 -> s1 }
)";
  diagnostics d;
  source_manager sm;
  const auto m = parse_text(text, d, sm);
  EXPECT_TRUE(d.empty()) << d.items().front().message;
  ASSERT_TRUE(m.head.has_value());
  EXPECT_EQ(m.head->level, ast::layer::shared);
  EXPECT_EQ(m.imports.size(), 1u);
  EXPECT_EQ(m.declarations.size(), 13u);
  const auto& gate = std::get<ast::gate_rule>(m.declarations[4]);
  EXPECT_EQ(gate.name.text, "g");
  ASSERT_TRUE(gate.reason.has_value());
  EXPECT_EQ(gate.reason->value, "many tries");
  const auto& esc = std::get<ast::escalation_rule>(m.declarations[7]);
  EXPECT_TRUE(esc.is_override);
  EXPECT_EQ(esc.when->children[1]->number, 90 * 60 * 1000);
  const auto& lc = std::get<ast::lifecycle_block>(m.declarations[2]);
  const auto& t = std::get<ast::transition_decl>(lc.items[4]);
  ASSERT_TRUE(t.guard);
  EXPECT_EQ(t.guard->op, ast::binary_op::and_);
  EXPECT_EQ(t.guard->children[1]->kind, ast::expr_kind::not_);
  EXPECT_EQ(t.guard->children[1]->children[0]->op, ast::binary_op::or_);
  const auto& cost = t.guard->children[1]->children[0]->children[1]->children[1];
  EXPECT_EQ(cost->kind, ast::expr_kind::decimal_lit);
  EXPECT_EQ(cost->number, 10'500'000);
}

TEST(Grammar, PrecedenceIsOrThenAndThenNot) {
  diagnostics d;
  source_manager sm;
  const auto m = parse_text("policy p version \"1\"\ngate g when not a == b or c == d and e == f\n", d, sm);
  ASSERT_TRUE(d.empty());
  const auto& e = *std::get<ast::gate_rule>(m.declarations[0]).when;
  ASSERT_EQ(e.op, ast::binary_op::or_);
  EXPECT_EQ(e.children[0]->kind, ast::expr_kind::not_);
  EXPECT_EQ(e.children[1]->op, ast::binary_op::and_);
}

TEST(Grammar, ComparisonsDoNotChain) {
  diagnostics d;
  source_manager sm;
  parse_text("policy p version \"1\"\ngate g when task.a < task.b < task.c\n", d, sm);
  EXPECT_FALSE(d.empty());
}

TEST(Grammar, RecoveryReportsEveryIndependentError) {
  diagnostics d;
  source_manager sm;
  const auto m = parse_text(
      "policy p version \"1\"\n"
      "org { role a reports_to }\n"
      "permit p1 on when true\n"
      "forbid f on e\n"
      "gate ok when true\n",
      d, sm);
  EXPECT_EQ(d.count(severity::error), 3u);
  // The valid gate after the broken rules is still parsed.
  ASSERT_FALSE(m.declarations.empty());
  EXPECT_TRUE(std::holds_alternative<ast::gate_rule>(m.declarations.back()));
}

TEST(Grammar, DocCommentsAttachToTheNextRule) {
  diagnostics d;
  source_manager sm;
  const auto m = parse_text("policy p version \"1\"\n// plain\n/// first line\n/// second line\npermit a on e\n", d, sm);
  ASSERT_TRUE(d.empty());
  EXPECT_EQ(std::get<ast::permission_rule>(m.declarations[0]).doc, "first line\nsecond line");
  EXPECT_EQ(m.comments.size(), 3u);
}

}  // namespace
