#include "engine/detail/canonical.hpp"

namespace agentos::engine::detail {

namespace {

// Every string is length-prefixed and every list counted, so no two policies serialize alike.
class writer {
 public:
  void str(std::string_view s) {
    num(static_cast<std::int64_t>(s.size()));
    m_out += ':';
    m_out += s;
  }
  void num(std::int64_t n) {
    m_out += std::to_string(n);
    m_out += ';';
  }
  void tag(char c) { m_out += c; }
  template <typename Range, typename F>
  void list(const Range& items, F each) {
    num(static_cast<std::int64_t>(items.size()));
    for (const auto& item : items) each(item);
  }
  void expr(const dsl::ast::expr* e) {
    if (e == nullptr) {
      tag('_');
      return;
    }
    tag('(');
    num(static_cast<std::int64_t>(e->kind));
    num(static_cast<std::int64_t>(e->resolved.type.kind));
    num(e->resolved.type.enum_attr);
    num(static_cast<std::int64_t>(e->resolved.type.element));
    using k = dsl::ast::expr_kind;
    switch (e->kind) {
      case k::string_lit: str(e->text); break;
      case k::int_lit:
      case k::decimal_lit:
      case k::duration_lit:
      case k::bool_lit: num(e->number); break;
      case k::path:
        num(static_cast<std::int64_t>(e->resolved.what));
        num(e->resolved.index);
        break;
      case k::symbol: num(e->resolved.index); break;
      case k::set:
      case k::not_: break;
      case k::binary: num(static_cast<std::int64_t>(e->op)); break;
    }
    list(e->children, [&](const dsl::ast::expr_ptr& c) { expr(c.get()); });
    tag(')');
  }
  void target(dsl::ast::target_kind kind, std::int32_t index) {
    num(static_cast<std::int64_t>(kind));
    num(index);
  }
  std::string take() { return std::move(m_out); }

 private:
  std::string m_out;
};

}  // namespace

std::string canonical_form(const dsl::policy_set& p) {
  writer w;
  w.str("agentos-policy/1");
  w.str(p.name);
  w.str(p.version);
  w.list(p.roles, [&](const dsl::role_info& r) {
    w.str(r.name);
    w.num(r.parent);
  });
  w.list(p.agents, [&](const dsl::agent_info& a) {
    w.str(a.name);
    w.num(a.role);
    w.num(static_cast<std::int64_t>(a.kind));
    w.list(a.capabilities, [&](const std::string& c) { w.str(c); });
  });
  w.list(p.attributes, [&](const dsl::attribute_info& a) {
    w.str(a.name);
    w.num(static_cast<std::int64_t>(a.kind));
    w.list(a.members, [&](const std::string& m) { w.str(m); });
    w.num(static_cast<std::int64_t>(a.how));
    w.expr(a.default_value);
  });
  w.list(p.states, [&](const dsl::state_info& s) {
    w.str(s.name);
    w.num(s.initial ? 1 : 0);
    w.num(s.terminal ? 1 : 0);
  });
  w.list(p.events, [&](const std::string& e) { w.str(e); });
  w.list(p.groups, [&](const dsl::group_info& g) {
    w.str(g.name);
    w.list(g.states, [&](std::int32_t s) { w.num(s); });
  });
  w.num(p.initial);
  w.list(p.transitions, [&](const dsl::transition_info& t) {
    w.num(t.from);
    w.num(t.to);
    w.num(t.event);
    w.expr(t.guard);
  });
  w.list(p.routes, [&](const dsl::route_info& r) {
    w.str(r.rule->name.text);
    w.num(static_cast<std::int64_t>(r.level));
    w.expr(r.rule->when.get());
    w.target(r.rule->to.kind, r.target);
  });
  if (p.fallback.rule != nullptr) {
    w.tag('F');
    w.num(static_cast<std::int64_t>(p.fallback.level));
    w.target(p.fallback.rule->to.kind, p.fallback.target);
  } else {
    w.tag('_');
  }
  w.list(p.gates, [&](const dsl::gate_info& g) {
    w.str(g.rule->name.text);
    w.num(static_cast<std::int64_t>(g.level));
    w.expr(g.rule->when.get());
    w.str(g.rule->reason ? g.rule->reason->value : std::string());
  });
  w.list(p.permissions, [&](const dsl::permission_info& r) {
    w.num(static_cast<std::int64_t>(r.rule->kind));
    w.str(r.rule->name.text);
    w.num(static_cast<std::int64_t>(r.level));
    w.list(r.events, [&](std::int32_t e) { w.num(e); });
    w.expr(r.rule->when.get());
    w.str(r.rule->reason ? r.rule->reason->value : std::string());
  });
  w.list(p.escalations, [&](const dsl::escalation_info& r) {
    w.str(r.rule->name.text);
    w.num(static_cast<std::int64_t>(r.level));
    w.expr(r.rule->when.get());
    w.target(r.to.kind, r.to.index);
  });
  w.list(p.obligations, [&](const dsl::obligation_info& r) {
    w.str(r.rule->name.text);
    w.num(static_cast<std::int64_t>(r.level));
    w.list(r.events, [&](std::int32_t e) { w.num(e); });
    w.expr(r.rule->when.get());
    w.num(static_cast<std::int64_t>(r.rule->actions.size()));
    for (std::size_t i = 0; i < r.rule->actions.size(); ++i) {
      w.num(static_cast<std::int64_t>(r.rule->actions[i].kind));
      const auto t = i < r.targets.size() ? r.targets[i] : dsl::resolved_target{};
      w.target(t.kind, t.index);
    }
  });
  w.list(p.invariants, [&](const dsl::invariant_info& inv) {
    w.str(inv.decl->name.text);
    w.num(static_cast<std::int64_t>(inv.decl->kind));
    w.expr(inv.decl->when.get());
    w.list(inv.from, [&](std::int32_t s) { w.num(s); });
    w.list(inv.to, [&](std::int32_t s) { w.num(s); });
    w.num(inv.event);
  });
  return w.take();
}

}  // namespace agentos::engine::detail
