// One differential check: the compiled graph and the reference interpreter on one request.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/decide.hpp"
#include "engine/reference.hpp"

namespace agentos::engine::testing {

struct differential_stats {
  long decisions = 0, allowed = 0, forbidden = 0, guard_false = 0, routed = 0, gated = 0, escalated = 0, obligations = 0;
};

inline reference::rule_ref to_ref(const rule_graph& g, rule_id id) {
  if (id == no_rule) return {};
  const rule_entry& e = g.rule(id);
  return {e.kind, e.source_index};
}

inline std::string show(const reference::rule_ref& r) {
  return std::string(to_string(r.kind)) + "#" + std::to_string(r.index);
}

// Compares every part of the answers; on a difference, says which part.
inline ::testing::AssertionResult same_answers(const rule_graph& g, const request& r, decision_buffer& buf,
                                               differential_stats& stats) {
  namespace ref = reference;
  const auto& policy = g.policy();
  const decision d = decide(g, r, buf, decide_options{true, true, true});
  const ref::ref_decision want = ref::decide(policy, r);
  ++stats.decisions;
  stats.allowed += d.allowed ? 1 : 0;
  std::vector<ref::rule_ref> matched;
  for (rule_id id : d.matched) matched.push_back(to_ref(g, id));
  std::vector<ref::ref_reason> reasons;
  for (const deny_reason& x : d.reasons) {
    reasons.push_back({x.kind, to_ref(g, x.rule)});
    stats.forbidden += x.kind == deny_kind::forbidden ? 1 : 0;
    stats.guard_false += x.kind == deny_kind::guard_false ? 1 : 0;
  }
  std::vector<ref::ref_obligation> obligations;
  for (const obligation_hit& o : d.obligations) obligations.push_back({to_ref(g, o.rule), o.action, o.who});
  stats.obligations += static_cast<long>(obligations.size());
  auto fail = [](const std::string& what) { return ::testing::AssertionFailure() << "differs in " << what; };
  if (d.allowed != want.allowed) return fail("allowed");
  if (d.target != want.target) return fail("target state");
  if (matched != want.matched) {
    std::string a, b;
    for (const auto& m : matched) a += show(m) + " ";
    for (const auto& m : want.matched) b += show(m) + " ";
    return fail("matched rules: compiled [" + a + "] reference [" + b + "]");
  }
  if (!(reasons == want.reasons)) return fail("deny reasons");
  if (!(obligations == want.obligations)) return fail("obligations");
  const ref::ref_route want_route = ref::route(policy, r);
  if (!d.route || !(to_ref(g, d.route->rule) == want_route.rule)) return fail("route rule");
  if (d.route->routed()) {
    if (!(d.route->to == want_route.to)) return fail("route target");
    ++stats.routed;
  }
  std::vector<ref::rule_ref> held;
  for (rule_id id : d.gate->held) held.push_back(to_ref(g, id));
  if (held != ref::gate(policy, r)) return fail("gates");
  if (d.gate->mode != (held.empty() ? mode_direct : mode_plan_first)) return fail("mode");
  stats.gated += held.empty() ? 0 : 1;
  std::vector<ref::ref_escalation> fired;
  for (const escalation_hit& h : d.escalations) fired.push_back({to_ref(g, h.rule), h.to});
  if (!(fired == ref::escalations(policy, r))) return fail("escalations");
  stats.escalated += fired.empty() ? 0 : 1;
  return ::testing::AssertionSuccess();
}

}  // namespace agentos::engine::testing
