#include "engine/explain.hpp"

#include <algorithm>

#include "engine/detail/expr_text.hpp"
#include "engine/reference.hpp"

namespace agentos::engine {

namespace ast = dsl::ast;

namespace {

bool literal(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::path:
    case ast::expr_kind::binary:
    case ast::expr_kind::not_: return false;
    case ast::expr_kind::set:
      return std::all_of(e.children.begin(), e.children.end(), [](const ast::expr_ptr& c) { return literal(*c); });
    default: return true;
  }
}

class describer {
 public:
  describer(const dsl::policy_set& p, const request& r) : m_policy(p), m_eval(p, r) {}

  [[nodiscard]] bool holds(const ast::expr* e) const { return m_eval.holds(e); }

  // Why `e` evaluates to `truth`: the sub-conditions that decide it, with the values they read.
  [[nodiscard]] std::string why(const ast::expr* e, bool truth) const {
    if (e == nullptr) return "no condition";
    if (e->kind == ast::expr_kind::not_) return why(e->children[0].get(), !truth);
    if (e->kind == ast::expr_kind::binary && (e->op == ast::binary_op::and_ || e->op == ast::binary_op::or_)) {
      const bool conj = e->op == ast::binary_op::and_;
      // `and` true / `or` false need every side; `and` false / `or` true need the first deciding side.
      if (conj == truth) {
        return why(e->children[0].get(), truth) + "; " + why(e->children[1].get(), truth);
      }
      for (const auto& c : e->children) {
        if (holds(c.get()) == truth) return why(c.get(), truth);
      }
      return expr_text(*e) + " is " + (truth ? "true" : "false");
    }
    std::string out = "`" + detail::expr_text(*e) + "` is " + (truth ? "true" : "false");
    std::vector<std::string> values;
    const auto show = [&](const ast::expr& operand) {
      if (literal(operand)) return;
      values.push_back(detail::expr_text(operand) + " = " +
                       detail::value_text(m_policy, operand.resolved.type, m_eval.eval(operand)));
    };
    if (e->kind == ast::expr_kind::binary) {
      show(*e->children[0]);
      show(*e->children[1]);
    } else {
      show(*e);
    }
    if (!values.empty()) {
      out += " (";
      for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i];
      out += ")";
    }
    return out;
  }

  [[nodiscard]] trace_entry entry(rule_id id, const ast::expr* condition, verdict v) const {
    trace_entry t;
    t.rule = id;
    t.result = v;
    t.would_hold = holds(condition);
    if (condition != nullptr) t.condition = detail::expr_text(*condition);
    t.why = v == verdict::skipped ? "" : why(condition, v == verdict::holds);
    if (v == verdict::skipped && condition != nullptr) t.why = why(condition, t.would_hold);
    return t;
  }

 private:
  static std::string expr_text(const ast::expr& e) { return detail::expr_text(e); }
  const dsl::policy_set& m_policy;
  reference::evaluator m_eval;
};

bool contains(const std::vector<rule_id>& ids, rule_id id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

const ast::expr* condition_of(const dsl::policy_set& p, const rule_entry& r) {
  const auto i = static_cast<std::size_t>(r.source_index);
  switch (r.kind) {
    case rule_kind::transition: return p.transitions[i].guard;
    case rule_kind::route: return p.routes[i].rule->when.get();
    case rule_kind::fallback: return nullptr;
    case rule_kind::gate: return p.gates[i].rule->when.get();
    case rule_kind::permit:
    case rule_kind::forbid: return p.permissions[i].rule->when.get();
    case rule_kind::escalation: return p.escalations[i].rule->when.get();
    case rule_kind::obligation: return p.obligations[i].rule->when.get();
    case rule_kind::invariant: return p.invariants[i].decl->when.get();
  }
  return nullptr;
}

}  // namespace

explanation explain(const rule_graph& graph, const request& req, const explain_options& options) {
  explanation x;
  x.version = graph.version();
  decision_buffer buf(graph);
  const decision d = decide(graph, req, buf, decide_options{options.intake, options.intake, options.escalations});
  x.allowed = d.allowed;
  x.from = d.from;
  x.event = d.event;
  x.target = d.target;
  x.edge = d.edge;
  x.matched.assign(d.matched.begin(), d.matched.end());
  x.reasons.assign(d.reasons.begin(), d.reasons.end());
  x.obligations.assign(d.obligations.begin(), d.obligations.end());
  x.route = d.route;
  if (d.gate) x.mode = d.gate->mode;
  std::vector<rule_id> gates_held;
  if (d.gate) gates_held.assign(d.gate->held.begin(), d.gate->held.end());
  x.fired.assign(d.escalations.begin(), d.escalations.end());
  if (req.policy_token() != graph.token()) return x;

  const dsl::policy_set& p = graph.policy();
  const describer why(p, req);
  const std::int32_t s = d.from;
  const std::int32_t e = d.event;
  const bool in_range = s >= 0 && s < graph.state_count() && e >= 0 && e < graph.event_count();

  if (options.transition && in_range) {
    bool taken = false;
    for (const rule_graph::edge& edge : graph.edges(s, e)) {
      const rule_entry& r = graph.rule(edge.rule);
      const verdict v = taken ? verdict::skipped : (edge.rule == d.edge ? verdict::holds : verdict::fails);
      if (edge.rule == d.edge) taken = true;
      x.edges.push_back(why.entry(edge.rule, condition_of(p, r), v));
    }
    const bool forbidden = std::any_of(x.reasons.begin(), x.reasons.end(),
                                       [](const deny_reason& r) { return r.kind == deny_kind::forbidden; });
    // Every permit and forbid bound to the event, including those the (state, event) index
    // ruled out for this state: their condition is false here and the trace says why.
    for (const rule_entry* r : graph.catalogue().for_event(e)) {
      if (r->kind == rule_kind::forbid) {
        x.forbids.push_back(why.entry(r->id, condition_of(p, *r), contains(x.matched, r->id) ? verdict::holds : verdict::fails));
      } else if (r->kind == rule_kind::permit) {
        const verdict v = forbidden ? verdict::skipped : contains(x.matched, r->id) ? verdict::holds : verdict::fails;
        x.permits.push_back(why.entry(r->id, condition_of(p, *r), v));
      } else if (r->kind == rule_kind::obligation) {
        const bool hit = std::any_of(x.obligations.begin(), x.obligations.end(),
                                     [&](const obligation_hit& o) { return o.rule == r->id; });
        x.obligation_rules.push_back(
            why.entry(r->id, condition_of(p, *r), !x.allowed ? verdict::skipped : hit ? verdict::holds : verdict::fails));
      }
    }
  }
  if (options.intake) {
    bool routed = false;
    for (const rule_graph::targeted& r : graph.routes()) {
      const verdict v = routed ? verdict::skipped : (x.route && x.route->rule == r.rule ? verdict::holds : verdict::fails);
      if (x.route && x.route->rule == r.rule) routed = true;
      x.routes.push_back(why.entry(r.rule, condition_of(p, graph.rule(r.rule)), v));
    }
    if (const rule_graph::targeted* f = graph.fallback()) {
      x.routes.push_back(why.entry(f->rule, nullptr, routed ? verdict::skipped : verdict::holds));
    }
    for (const rule_graph::targeted& g : graph.gates()) {
      x.gates.push_back(
          why.entry(g.rule, condition_of(p, graph.rule(g.rule)), contains(gates_held, g.rule) ? verdict::holds : verdict::fails));
    }
  }
  if (options.escalations) {
    for (const rule_graph::targeted& r : graph.escalations()) {
      const bool fired = std::any_of(x.fired.begin(), x.fired.end(), [&](const escalation_hit& h) { return h.rule == r.rule; });
      x.escalation_rules.push_back(why.entry(r.rule, condition_of(p, graph.rule(r.rule)), fired ? verdict::holds : verdict::fails));
    }
  }
  return x;
}

std::string target_text(const rule_graph& graph, const target_ref& t) {
  const dsl::policy_set& p = graph.policy();
  auto role = [&](std::int32_t i) {
    return i >= 0 && static_cast<std::size_t>(i) < p.roles.size() ? p.roles[static_cast<std::size_t>(i)].name
                                                                   : std::string("?");
  };
  switch (t.kind) {
    case ast::target_kind::role: return "role " + role(t.index);
    case ast::target_kind::agent:
      return "agent " + (t.index >= 0 && static_cast<std::size_t>(t.index) < p.agents.size()
                             ? p.agents[static_cast<std::size_t>(t.index)].name
                             : std::string("?"));
    case ast::target_kind::parent: return t.index >= 0 ? "parent (role " + role(t.index) + ")" : "parent (none: the assignee has no parent role)";
    case ast::target_kind::operator_: return "operator";
  }
  return "?";
}

namespace {

std::string location(const rule_entry& r, const dsl::source_manager* sources) {
  if (!r.where.valid()) return "";
  if (sources != nullptr && r.where.file < sources->size()) {
    const dsl::source& src = sources->get(r.where.file);
    const dsl::line_col lc = src.position(r.where.begin);
    return src.name() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
  }
  return "file " + std::to_string(r.where.file) + " @" + std::to_string(r.where.begin);
}

std::string_view mark(verdict v) {
  switch (v) {
    case verdict::holds: return "[x]";
    case verdict::fails: return "[ ]";
    case verdict::skipped: return "[-]";
  }
  return "[?]";
}

void section(std::string& out, const rule_graph& graph, std::string_view title, const std::vector<trace_entry>& entries,
             const dsl::source_manager* sources, std::string_view skipped_note) {
  if (entries.empty()) return;
  out += title;
  out += ":\n";
  for (const trace_entry& t : entries) {
    const rule_entry& r = graph.rule(t.rule);
    out += "  ";
    out += mark(t.result);
    out += ' ';
    out += r.name;
    const std::string where = location(r, sources);
    if (!where.empty()) out += "  (" + where + ")";
    out += '\n';
    if (!t.condition.empty()) out += "      when " + t.condition + "\n";
    if (t.result == verdict::skipped) {
      out += "      ";
      out += skipped_note;
      if (!t.condition.empty()) out += std::string("; the condition ") + (t.would_hold ? "holds" : "does not hold");
      out += '\n';
    } else if (!t.why.empty()) {
      out += "      because " + t.why + "\n";
    }
    if (r.kind == rule_kind::forbid && t.result == verdict::holds) out += "      reason: " + detail::quote(r.reason) + "\n";
  }
}

}  // namespace

std::string render_text(const rule_graph& graph, const explanation& e, const dsl::source_manager* sources) {
  const dsl::policy_set& p = graph.policy();
  auto state = [&](std::int32_t s) {
    return s >= 0 && s < graph.state_count() ? p.states[static_cast<std::size_t>(s)].name : std::string("?");
  };
  auto event = [&](std::int32_t ev) {
    return ev >= 0 && ev < graph.event_count() ? p.events[static_cast<std::size_t>(ev)] : std::string("(none)");
  };
  std::string out;
  out += e.allowed ? "ALLOW" : "DENY";
  out += "  " + state(e.from) + " --" + event(e.event) + "--> " + (e.target >= 0 ? state(e.target) : std::string("?"));
  out += "\npolicy " + graph.name() + " " + detail::quote(graph.declared_version()) + "  " + e.version + "\n";
  if (!e.reasons.empty()) {
    out += "deny reasons:\n";
    for (const deny_reason& r : e.reasons) {
      out += "  - ";
      if (r.kind == deny_kind::forbidden) {
        out += "forbidden by " + graph.rule(r.rule).name + ": " + detail::quote(r.message);
      } else if (r.kind == deny_kind::guard_false) {
        out += "guard false on " + graph.rule(r.rule).name;
      } else if (r.kind == deny_kind::no_transition) {
        out += "no transition from " + state(e.from) + " on " + event(e.event);
      } else {
        out += std::string(r.message);
      }
      out += '\n';
    }
  }
  section(out, graph, "transitions from " + state(e.from) + " on " + event(e.event), e.edges, sources,
          "not tried: an earlier transition was taken");
  section(out, graph, "forbid rules", e.forbids, sources, "");
  section(out, graph, "permit rules", e.permits, sources, "not consulted: a forbid applies");
  section(out, graph, "obligation rules", e.obligation_rules, sources, "not applied: the transition is denied");
  if (!e.obligations.empty()) {
    out += "obligations:\n";
    for (const obligation_hit& o : e.obligations) {
      out += "  - ";
      out += o.action == ast::obligation_action_kind::notify ? "notify " : "require review by ";
      out += target_text(graph, o.who) + "  (" + graph.rule(o.rule).name + ")\n";
    }
  }
  if (e.route) {
    out += "route: ";
    out += e.route->routed() ? target_text(graph, e.route->to) + " by " + graph.rule(e.route->rule).name : "(none: no route matched and there is no fallback)";
    out += '\n';
  }
  section(out, graph, "routes", e.routes, sources, "not tried: an earlier route matched");
  if (e.mode) out += std::string("mode: ") + (*e.mode == mode_plan_first ? "plan_first" : "direct") + "\n";
  section(out, graph, "gates", e.gates, sources, "");
  if (!e.fired.empty()) {
    out += "escalations:\n";
    for (const escalation_hit& h : e.fired) out += "  - " + graph.rule(h.rule).name + " -> " + target_text(graph, h.to) + "\n";
  }
  section(out, graph, "escalation rules", e.escalation_rules, sources, "");
  return out;
}

}  // namespace agentos::engine
