#include "engine/reference.hpp"

#include <algorithm>
#include <stdexcept>

namespace agentos::engine::reference {

namespace ast = dsl::ast;

namespace {

ast::type_kind kind_of(const ast::expr& e) {
  switch (e.kind) {
    case ast::expr_kind::int_lit: return ast::type_kind::int_;
    case ast::expr_kind::decimal_lit: return ast::type_kind::decimal;
    case ast::expr_kind::duration_lit: return ast::type_kind::duration;
    default: return e.resolved.type.kind;
  }
}

std::int64_t to_millionths(std::int64_t v) {
  constexpr std::int64_t scale = 1'000'000;
  if (v > INT64_MAX / scale) return INT64_MAX;
  if (v < INT64_MIN / scale) return INT64_MIN;
  return v * scale;
}

bool strings_set(const ast::expr& set) {
  if (set.resolved.type.kind == ast::type_kind::string_set) return true;
  if (set.resolved.type.kind == ast::type_kind::symbol_set && set.resolved.type.element == ast::type_kind::string) {
    return true;
  }
  for (const auto& c : set.children) {
    if (c->kind == ast::expr_kind::string_lit || c->resolved.type.kind == ast::type_kind::string) return true;
  }
  return false;
}

bool is_set(const ref_value& v) { return v.kind == ref_value::tag::strings || v.kind == ref_value::tag::scalars; }
std::size_t set_size(const ref_value& v) {
  return v.kind == ref_value::tag::strings ? v.strings.size() : v.scalars.size();
}

target_ref resolve_target(const dsl::policy_set& p, const request& req, ast::target_kind kind, std::int32_t index) {
  if (kind != ast::target_kind::parent) return {kind, index};
  const std::int32_t role = req.assignee_role();
  if (role < 0 || static_cast<std::size_t>(role) >= p.roles.size()) return {kind, -1};
  return {kind, p.roles[static_cast<std::size_t>(role)].parent};
}

}  // namespace

bool evaluator::decimal_context(const ast::expr& b) {
  if (b.kind != ast::expr_kind::binary) return false;
  switch (b.op) {
    case ast::binary_op::and_:
    case ast::binary_op::or_:
    case ast::binary_op::parent_of:
    case ast::binary_op::ancestor_of: return false;
    default: break;
  }
  auto decimal = [](const ast::expr& x) {
    if (kind_of(x) == ast::type_kind::decimal) return true;
    if (x.kind != ast::expr_kind::set) return false;
    if (x.resolved.type.element == ast::type_kind::decimal) return true;
    for (const auto& c : x.children) {
      if (kind_of(*c) == ast::type_kind::decimal) return true;
    }
    return false;
  };
  return decimal(*b.children[0]) || decimal(*b.children[1]);
}

ref_value evaluator::read(ast::field f, std::int32_t attribute) const {
  // Derived durations are computed here from their inputs, not read from the request's slots.
  if (f == ast::field::task_time_in_state || f == ast::field::task_age) {
    const value& now = m_req.get(slot::now);
    const value& since = m_req.get(f == ast::field::task_age ? slot::task_created_at : slot::task_entered_at);
    if (now.kind != value_kind::scalar || since.kind != value_kind::scalar) return {};
    std::int64_t span = 0;
    if (__builtin_sub_overflow(now.i, since.i, &span)) span = now.i < since.i ? INT64_MIN : INT64_MAX;
    return ref_value::of(span);
  }
  const value& v = m_req.get(slot_of(f, attribute));
  ref_value out;
  switch (v.kind) {
    case value_kind::absent: break;
    case value_kind::scalar: out = ref_value::of(v.i); break;
    case value_kind::string:
      out.kind = ref_value::tag::string;
      out.string = std::string(v.chars, v.size);
      break;
    case value_kind::string_set:
      out.kind = ref_value::tag::strings;
      for (std::uint32_t k = 0; k < v.size; ++k) out.strings.insert(std::string(v.texts[k].view));
      break;
    case value_kind::scalar_set:
      out.kind = ref_value::tag::scalars;
      for (std::uint32_t k = 0; k < v.size; ++k) out.scalars.insert(v.scalars[k]);
      break;
  }
  return out;
}

ref_value evaluator::eval(const ast::expr& e, bool in_decimal) const {
  const bool scale = in_decimal && kind_of(e) == ast::type_kind::int_;
  switch (e.kind) {
    case ast::expr_kind::string_lit: {
      ref_value v;
      v.kind = ref_value::tag::string;
      v.string = e.text;
      return v;
    }
    case ast::expr_kind::int_lit: return ref_value::of(scale ? to_millionths(e.number) : e.number);
    case ast::expr_kind::decimal_lit:
    case ast::expr_kind::duration_lit:
    case ast::expr_kind::bool_lit: return ref_value::of(e.number);
    case ast::expr_kind::symbol: return ref_value::of(e.resolved.index);
    case ast::expr_kind::path: {
      ref_value v = read(e.resolved.what, e.resolved.index);
      if (scale && v.kind == ref_value::tag::scalar) v.scalar = to_millionths(v.scalar);
      return v;
    }
    case ast::expr_kind::set: {
      const bool elements_decimal = in_decimal || e.resolved.type.element == ast::type_kind::decimal;
      ref_value v;
      v.kind = strings_set(e) ? ref_value::tag::strings : ref_value::tag::scalars;
      for (const auto& c : e.children) {
        const ref_value x = eval(*c, elements_decimal);
        if (v.kind == ref_value::tag::strings && x.kind == ref_value::tag::string) v.strings.insert(x.string);
        if (v.kind == ref_value::tag::scalars && x.kind == ref_value::tag::scalar) v.scalars.insert(x.scalar);
      }
      return v;
    }
    case ast::expr_kind::not_: return ref_value::of(eval(*e.children[0]).truthy() ? 0 : 1);
    case ast::expr_kind::binary: {
      if (e.op == ast::binary_op::and_) {
        return ref_value::of(eval(*e.children[0]).truthy() && eval(*e.children[1]).truthy() ? 1 : 0);
      }
      if (e.op == ast::binary_op::or_) {
        return ref_value::of(eval(*e.children[0]).truthy() || eval(*e.children[1]).truthy() ? 1 : 0);
      }
      const bool decimal = decimal_context(e);
      const ref_value l = eval(*e.children[0], decimal);
      const ref_value r = eval(*e.children[1], decimal);
      return ref_value::of(compare(e.op, l, r) ? 1 : 0);
    }
  }
  throw std::logic_error("reference: unknown expression");
}

bool evaluator::compare(ast::binary_op op, const ref_value& l, const ref_value& r) const {
  using tag = ref_value::tag;
  auto equal = [&]() {
    if (is_set(l) && is_set(r) && set_size(l) == 0 && set_size(r) == 0) return true;
    if (l.kind != r.kind || l.kind == tag::absent) return false;
    switch (l.kind) {
      case tag::scalar: return l.scalar == r.scalar;
      case tag::string: return l.string == r.string;
      case tag::strings: return l.strings == r.strings;
      case tag::scalars: return l.scalars == r.scalars;
      case tag::absent: break;
    }
    return false;
  };
  // -1/0/1, or 2 when unordered
  auto order = [&]() -> int {
    if (l.kind == tag::scalar && r.kind == tag::scalar) return l.scalar < r.scalar ? -1 : (l.scalar > r.scalar ? 1 : 0);
    if (l.kind == tag::string && r.kind == tag::string) return l.string < r.string ? -1 : (l.string > r.string ? 1 : 0);
    return 2;
  };
  auto member = [](const ref_value& element, const ref_value& set) {
    if (set.kind == tag::strings) return element.kind == tag::string && set.strings.count(element.string) > 0;
    if (set.kind == tag::scalars) return element.kind == tag::scalar && set.scalars.count(element.scalar) > 0;
    return false;
  };
  auto role_related = [&](bool transitive) {
    if (l.kind != tag::scalar || r.kind != tag::scalar) return false;
    const auto n = static_cast<std::int64_t>(m_policy.roles.size());
    if (l.scalar < 0 || l.scalar >= n || r.scalar < 0 || r.scalar >= n) return false;
    std::int64_t p = m_policy.roles[static_cast<std::size_t>(r.scalar)].parent;
    for (std::int64_t steps = 0; p >= 0 && steps < n; ++steps) {
      if (p == l.scalar) return true;
      if (!transitive) return false;
      p = m_policy.roles[static_cast<std::size_t>(p)].parent;
    }
    return false;
  };
  switch (op) {
    case ast::binary_op::eq: return equal();
    case ast::binary_op::ne: return !equal();
    case ast::binary_op::lt: return order() == -1;
    case ast::binary_op::le: return order() == -1 || order() == 0;
    case ast::binary_op::gt: return order() == 1;
    case ast::binary_op::ge: return order() == 1 || order() == 0;
    case ast::binary_op::in: return member(l, r);
    case ast::binary_op::not_in: return !member(l, r);
    case ast::binary_op::contains: return member(r, l);
    case ast::binary_op::subset:
      if (!is_set(l) || !is_set(r)) return false;
      if (set_size(l) == 0) return true;
      if (l.kind != r.kind) return false;
      return l.kind == tag::strings ? std::includes(r.strings.begin(), r.strings.end(), l.strings.begin(), l.strings.end())
                                    : std::includes(r.scalars.begin(), r.scalars.end(), l.scalars.begin(), l.scalars.end());
    case ast::binary_op::parent_of: return role_related(false);
    case ast::binary_op::ancestor_of: return role_related(true);
    case ast::binary_op::and_:
    case ast::binary_op::or_: break;
  }
  return false;
}

namespace {
bool has_event(const std::vector<std::int32_t>& events, std::int32_t e) {
  return std::find(events.begin(), events.end(), e) != events.end();
}
}  // namespace

ref_decision decide(const dsl::policy_set& p, const request& req) {
  ref_decision d;
  const std::int32_t s = req.state();
  const std::int32_t e = req.event();
  if (s < 0 || static_cast<std::size_t>(s) >= p.states.size() || e < 0 || static_cast<std::size_t>(e) >= p.events.size()) {
    d.reasons.push_back({deny_kind::no_transition, {}});
    return d;
  }
  const evaluator ev(p, req);
  std::vector<std::int32_t> tried;
  bool have_edge = false;
  for (std::size_t i = 0; i < p.transitions.size() && !have_edge; ++i) {
    const dsl::transition_info& t = p.transitions[i];
    if (t.from != s || t.event != e) continue;
    if (ev.holds(t.guard)) {
      have_edge = true;
      d.target = t.to;
      d.matched.push_back({rule_kind::transition, static_cast<std::int32_t>(i)});
    } else {
      tried.push_back(static_cast<std::int32_t>(i));
    }
  }
  if (!have_edge) {
    if (tried.empty()) d.reasons.push_back({deny_kind::no_transition, {}});
    for (std::int32_t i : tried) d.reasons.push_back({deny_kind::guard_false, {rule_kind::transition, i}});
  }
  bool forbidden = false;
  for (std::size_t i = 0; i < p.permissions.size(); ++i) {
    const dsl::permission_info& r = p.permissions[i];
    if (r.rule->kind != ast::effect::forbid || !has_event(r.events, e) || !ev.holds(r.rule->when.get())) continue;
    forbidden = true;
    d.matched.push_back({rule_kind::forbid, static_cast<std::int32_t>(i)});
    d.reasons.push_back({deny_kind::forbidden, {rule_kind::forbid, static_cast<std::int32_t>(i)}});
  }
  bool permitted = false;
  if (!forbidden) {
    for (std::size_t i = 0; i < p.permissions.size(); ++i) {
      const dsl::permission_info& r = p.permissions[i];
      if (r.rule->kind != ast::effect::permit || !has_event(r.events, e) || !ev.holds(r.rule->when.get())) continue;
      permitted = true;
      d.matched.push_back({rule_kind::permit, static_cast<std::int32_t>(i)});
    }
    if (!permitted) d.reasons.push_back({deny_kind::no_permit, {}});
  }
  d.allowed = have_edge && !forbidden && permitted;
  if (d.allowed) {
    for (std::size_t i = 0; i < p.obligations.size(); ++i) {
      const dsl::obligation_info& o = p.obligations[i];
      if (!has_event(o.events, e) || !ev.holds(o.rule->when.get())) continue;
      for (std::size_t a = 0; a < o.rule->actions.size(); ++a) {
        const dsl::resolved_target t = a < o.targets.size() ? o.targets[a] : dsl::resolved_target{};
        d.obligations.push_back({{rule_kind::obligation, static_cast<std::int32_t>(i)},
                                 o.rule->actions[a].kind,
                                 resolve_target(p, req, t.kind, t.index)});
      }
    }
  }
  return d;
}

ref_route route(const dsl::policy_set& p, const request& req) {
  const evaluator ev(p, req);
  for (std::size_t i = 0; i < p.routes.size(); ++i) {
    if (ev.holds(p.routes[i].rule->when.get())) {
      return {{rule_kind::route, static_cast<std::int32_t>(i)}, {p.routes[i].rule->to.kind, p.routes[i].target}};
    }
  }
  if (p.fallback.rule != nullptr) return {{rule_kind::fallback, 0}, {p.fallback.rule->to.kind, p.fallback.target}};
  return {};
}

std::vector<rule_ref> gate(const dsl::policy_set& p, const request& req) {
  const evaluator ev(p, req);
  std::vector<rule_ref> held;
  for (std::size_t i = 0; i < p.gates.size(); ++i) {
    if (ev.holds(p.gates[i].rule->when.get())) held.push_back({rule_kind::gate, static_cast<std::int32_t>(i)});
  }
  return held;
}

std::vector<ref_escalation> escalations(const dsl::policy_set& p, const request& req) {
  const evaluator ev(p, req);
  std::vector<ref_escalation> out;
  for (std::size_t i = 0; i < p.escalations.size(); ++i) {
    const dsl::escalation_info& r = p.escalations[i];
    if (ev.holds(r.rule->when.get())) {
      out.push_back({{rule_kind::escalation, static_cast<std::int32_t>(i)}, resolve_target(p, req, r.to.kind, r.to.index)});
    }
  }
  return out;
}

}  // namespace agentos::engine::reference
