// The compiled graph decides exactly as the naive reference interpreter, on thousands of random
// well-typed policies and random requests: same verdict, target, matched rules, deny reasons,
// obligations, route, gates and escalations. AGENTOS_DIFF_POLICIES scales the run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "engine/explain.hpp"
#include "engine/reference.hpp"
#include "engine_fixture.hpp"
#include "differential.hpp"
#include "random_policy.hpp"

namespace {

using namespace agentos::engine;
using namespace agentos::engine::testing;
namespace ref = agentos::engine::reference;

int policy_count() {
  if (const char* v = std::getenv("AGENTOS_DIFF_POLICIES")) return std::max(1, std::atoi(v));
  return 2000;
}

TEST(differential, compiled_graph_matches_reference_interpreter) {
  const int policies = policy_count();
  constexpr int requests_per_policy = 25;
  differential_stats stats;
  decision_buffer buf;
  long indexed_buckets = 0;
  for (int seed = 0; seed < policies; ++seed) {
    random_policy gen(static_cast<std::uint64_t>(seed) * 7919 + 17);
    const std::string text = gen.generate();
    // Every other policy indexes every bucket it can, so small random policies exercise the index.
    const compiled_policy compiled = compile_text(text, compile_options{seed % 2 == 0 ? 8u : 1u});
    ASSERT_TRUE(compiled.graph) << "generated policy " << seed << " does not check:\n" << compiled.errors << text;
    const rule_graph& g = *compiled.graph;
    for (std::int32_t st = 0; st < g.state_count(); ++st) {
      for (std::int32_t ev = 0; ev < g.event_count(); ++ev) {
        indexed_buckets += (g.permit_index(st, ev) ? 1 : 0) + (g.forbid_index(st, ev) ? 1 : 0);
      }
    }
    for (int k = 0; k < requests_per_policy; ++k) {
      const request r = gen.make_request(g);
      ASSERT_TRUE(same_answers(g, r, buf, stats))
          << "\npolicy seed " << seed << ", request " << k << "\n"
          << text << "\nexplanation:\n"
          << render_text(g, explain(g, r, explain_options{true, true, true}));
    }
  }
  // The generator must exercise both outcomes of every kind of question, or the test proves little.
  EXPECT_GT(stats.allowed, stats.decisions / 20);
  EXPECT_LT(stats.allowed, stats.decisions - stats.decisions / 20);
  EXPECT_GT(stats.forbidden, stats.decisions / 20);
  EXPECT_GT(stats.guard_false, stats.decisions / 20);
  EXPECT_GT(stats.routed, stats.decisions / 20);
  EXPECT_GT(stats.gated, stats.decisions / 20);
  EXPECT_GT(stats.escalated, stats.decisions / 20);
  EXPECT_GT(stats.obligations, stats.decisions / 100);
  EXPECT_GT(indexed_buckets, policies / 4);
  std::cout << "[differential] " << indexed_buckets << " indexed buckets, " << policies << " policies, " << stats.decisions << " decisions: " << stats.allowed
            << " allowed, " << stats.forbidden << " forbid hits, " << stats.guard_false << " guard-false edges, "
            << stats.routed << " routed, " << stats.gated << " gated, " << stats.escalated << " escalated, "
            << stats.obligations << " obligations\n";
}

// The explanation's whole-rule verdicts agree with a fresh reference evaluation of each rule.
TEST(differential, explanations_agree_with_reference_evaluation) {
  for (int seed = 0; seed < 200; ++seed) {
    random_policy gen(static_cast<std::uint64_t>(seed) + 1'000'003);
    const std::string text = gen.generate();
    const compiled_policy compiled = compile_text(text);
    ASSERT_TRUE(compiled.graph) << compiled.errors << text;
    const rule_graph& g = *compiled.graph;
    for (int k = 0; k < 5; ++k) {
      const request r = gen.make_request(g);
      const explanation x = explain(g, r, explain_options{true, true, true});
      const ref::evaluator ev(g.policy(), r);
      for (const auto* entries : {&x.forbids, &x.permits, &x.gates, &x.escalation_rules}) {
        for (const trace_entry& t : *entries) {
          const rule_entry& e = g.rule(t.rule);
          const auto* when = e.kind == rule_kind::gate        ? g.policy().gates[static_cast<std::size_t>(e.source_index)].rule->when.get()
                             : e.kind == rule_kind::escalation ? g.policy().escalations[static_cast<std::size_t>(e.source_index)].rule->when.get()
                                                               : g.policy().permissions[static_cast<std::size_t>(e.source_index)].rule->when.get();
          const bool holds = ev.holds(when);
          if (t.result == verdict::skipped) {
            EXPECT_EQ(t.would_hold, holds) << text;
          } else {
            EXPECT_EQ(t.result == verdict::holds, holds) << e.name << "\n" << text;
          }
          EXPECT_FALSE(t.why.empty() && when != nullptr) << e.name;
        }
      }
      EXPECT_FALSE(render_text(g, x).empty());
    }
  }
}

}  // namespace
