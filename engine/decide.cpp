#include "engine/decide.hpp"

#include <algorithm>

namespace agentos::engine {

std::string_view to_string(deny_kind k) {
  switch (k) {
    case deny_kind::wrong_policy: return "request built for another policy version";
    case deny_kind::no_transition: return "no transition";
    case deny_kind::guard_false: return "guard false";
    case deny_kind::forbidden: return "forbidden";
    case deny_kind::no_permit: return "no permit matched";
  }
  return "?";
}

void decision_buffer::fit(const rule_graph& graph) {
  m_vm.fit(graph);
  const auto reserve = [](auto& v, std::size_t n) {
    if (v.capacity() < n) v.reserve(n);
  };
  reserve(m_matched, graph.max_matches());
  reserve(m_reasons, graph.max_matches());
  reserve(m_obligations, graph.max_actions());
  reserve(m_gates, graph.gates().size());
  reserve(m_escalations, graph.escalations().size());
}

target_ref resolve(const rule_graph& graph, const request& req, target_ref t) {
  if (t.kind == dsl::ast::target_kind::parent) t.index = graph.role_parent(req.assignee_role());
  return t;
}

decision decide(const rule_graph& graph, const request& req, decision_buffer& buf, const decide_options& options) {
  buf.fit(graph);
  buf.m_matched.clear();
  buf.m_reasons.clear();
  buf.m_obligations.clear();
  decision d;
  d.version = graph.version();
  d.from = req.state();
  d.event = req.event();
  const auto finish = [&]() -> decision {
    d.matched = buf.m_matched;
    d.reasons = buf.m_reasons;
    d.obligations = buf.m_obligations;
    if (options.route) d.route = route(graph, req, buf);
    if (options.gate) d.gate = gate(graph, req, buf);
    if (options.escalations) d.escalations = escalations(graph, req, buf);
    return d;
  };
  if (req.policy_token() != graph.token()) {
    buf.m_reasons.push_back({deny_kind::wrong_policy, no_rule, to_string(deny_kind::wrong_policy)});
    d.matched = buf.m_matched;
    d.reasons = buf.m_reasons;
    return d;  // nothing else can be read from a request of another layout
  }
  const std::int32_t s = d.from;
  const std::int32_t e = d.event;
  if (s < 0 || s >= graph.state_count() || e < 0 || e >= graph.event_count()) {
    buf.m_reasons.push_back({deny_kind::no_transition, no_rule, to_string(deny_kind::no_transition)});
    return finish();
  }
  detail::vm_scratch& vm = buf.m_vm;

  // 1. The first edge whose guard holds.
  const auto edges = graph.edges(s, e);
  for (const rule_graph::edge& edge : edges) {
    if (detail::run(graph, edge.guard, req, vm)) {
      d.edge = edge.rule;
      d.target = edge.to;
      buf.m_matched.push_back(edge.rule);
      break;
    }
  }
  if (d.edge == no_rule) {
    if (edges.empty()) {
      buf.m_reasons.push_back({deny_kind::no_transition, no_rule, to_string(deny_kind::no_transition)});
    } else {
      for (const rule_graph::edge& edge : edges) {
        buf.m_reasons.push_back({deny_kind::guard_false, edge.rule, to_string(deny_kind::guard_false)});
      }
    }
  }

  // 2. Forbids override; 3. otherwise some permit must apply.
  // Large buckets are visited through their equality index: same rules, same order, minus
  // those whose `path == constant` conjunct already fails.
  bool forbidden = false;
  detail::for_candidates(graph.forbids(s, e), graph.forbid_index(s, e), req.slots(), [&](const rule_graph::guarded& f) {
    if (detail::run(graph, f.when, req, vm)) {
      forbidden = true;
      buf.m_matched.push_back(f.rule);
      buf.m_reasons.push_back({deny_kind::forbidden, f.rule, graph.rule(f.rule).reason});
    }
  });
  bool permitted = false;
  if (!forbidden) {
    detail::for_candidates(graph.permits(s, e), graph.permit_index(s, e), req.slots(), [&](const rule_graph::guarded& p) {
      if (detail::run(graph, p.when, req, vm)) {
        permitted = true;
        buf.m_matched.push_back(p.rule);
      }
    });
    if (!permitted) buf.m_reasons.push_back({deny_kind::no_permit, no_rule, to_string(deny_kind::no_permit)});
  }
  d.allowed = d.edge != no_rule && !forbidden && permitted;

  // 4. Obligations of an allowed transition.
  if (d.allowed) {
    for (const rule_graph::obligation& o : graph.obligations(s, e)) {
      if (!detail::run(graph, o.when, req, vm)) continue;
      for (const rule_graph::action& a : graph.actions(o)) {
        buf.m_obligations.push_back({o.rule, a.kind, resolve(graph, req, a.who)});
      }
    }
  }
  return finish();
}

route_result route(const rule_graph& graph, const request& req, decision_buffer& buf) {
  buf.fit(graph);
  if (req.policy_token() != graph.token()) return {};
  for (const rule_graph::targeted& r : graph.routes()) {
    if (detail::run(graph, r.when, req, buf.m_vm)) return {r.rule, r.to, false};
  }
  if (const rule_graph::targeted* f = graph.fallback()) return {f->rule, f->to, true};
  return {};
}

gate_result gate(const rule_graph& graph, const request& req, decision_buffer& buf) {
  buf.fit(graph);
  buf.m_gates.clear();
  if (req.policy_token() != graph.token()) return {mode_plan_first, {}};  // fail closed
  for (const rule_graph::targeted& g : graph.gates()) {
    if (detail::run(graph, g.when, req, buf.m_vm)) buf.m_gates.push_back(g.rule);
  }
  return {buf.m_gates.empty() ? mode_direct : mode_plan_first, buf.m_gates};
}

std::span<const escalation_hit> escalations(const rule_graph& graph, const request& req, decision_buffer& buf) {
  buf.fit(graph);
  buf.m_escalations.clear();
  if (req.policy_token() != graph.token()) return {};
  for (const rule_graph::targeted& r : graph.escalations()) {
    if (detail::run(graph, r.when, req, buf.m_vm)) buf.m_escalations.push_back({r.rule, resolve(graph, req, r.to)});
  }
  return buf.m_escalations;
}

}  // namespace agentos::engine
