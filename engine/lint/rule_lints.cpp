// Lints over the rule lists: L0004 shadowed-route, L0005 dead-permit, L0007 self-approval,
// L0008 escalation-cycle, L0009 missing-fallback, L0010 unperformable-event.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "engine/lint/lints.hpp"

namespace agentos::engine::lint::detail {

using dsl::ast::binary_op;
using dsl::ast::expr;
using dsl::ast::expr_kind;
using dsl::ast::field;

namespace {

bool is_path(const expr& e, field f) { return e.kind == expr_kind::path && e.resolved.what == f; }

// A task field naming a person: the assignee, or a string attribute such as `requester`.
bool person_field(const expr& e) {
  return is_path(e, field::task_assignee) ||
         (is_path(e, field::task_attribute) && e.resolved.type.kind == dsl::ast::type_kind::string);
}

// `actor.id == task.assignee` (or another person field, either way round); with `ne`, `!=`.
bool self_atom(const expr& e, binary_op op) {
  if (e.kind != expr_kind::binary || e.op != op) return false;
  const expr& l = *e.children[0];
  const expr& r = *e.children[1];
  return (is_path(l, field::actor_id) && person_field(r)) || (is_path(r, field::actor_id) && person_field(l));
}

// A forbid whose condition holds whenever the actor is the assignee.
bool forbids_self(const expr* when) {
  if (when == nullptr) return true;
  if (self_atom(*when, binary_op::eq)) return true;
  if (when->kind == expr_kind::binary && when->op == binary_op::or_) {
    return forbids_self(when->children[0].get()) || forbids_self(when->children[1].get());
  }
  return false;
}

// A permit whose condition requires the actor not to be the assignee.
bool requires_other(const expr* when) {
  if (when == nullptr) return false;
  if (self_atom(*when, binary_op::ne)) return true;
  if (when->kind == expr_kind::not_ && self_atom(*when->children[0], binary_op::eq)) return true;
  if (when->kind == expr_kind::binary && when->op == binary_op::and_) {
    return requires_other(when->children[0].get()) || requires_other(when->children[1].get());
  }
  return false;
}

bool has_event(const dsl::permission_info& p, std::int32_t ev) {
  return std::find(p.events.begin(), p.events.end(), ev) != p.events.end();
}

dsl::span first_use(const dsl::policy_set& set, std::int32_t ev) {
  for (const auto& t : set.transitions) {
    if (t.event == ev) return t.decl->event.where;
  }
  return {};
}

}  // namespace

void lint_rules(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out) {
  // L0004: a route whose condition implies an earlier route's condition is never chosen.
  std::vector<conjunction> route_conds;
  for (const auto& r : set.routes) route_conds.push_back(a.analyze(r.rule->when.get()));
  for (std::size_t j = 0; j < set.routes.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (!a.implies(route_conds[j], route_conds[i])) continue;
      auto d = make("L0004", set.routes[j].rule->name.where,
                    "route `" + set.routes[j].rule->name.text + "` is never chosen: route `" + set.routes[i].rule->name.text +
                        "` comes first and matches every task this one matches");
      d.labels.push_back({set.routes[i].rule->name.where, "this route wins"});
      d.help = "move the more specific route first, or narrow the earlier one";
      out.push_back(std::move(d));
      break;
    }
  }

  // L0005: a permit that a forbid always overrides, for some of its events.
  std::vector<conjunction> conds;
  for (const auto& p : set.permissions) conds.push_back(a.analyze(p.rule->when.get()));
  std::vector<std::set<std::int32_t>> dead_events(set.permissions.size());
  std::vector<std::vector<std::size_t>> forbids_by_event(set.events.size());
  for (std::size_t j = 0; j < set.permissions.size(); ++j) {
    if (set.permissions[j].rule->kind != dsl::ast::effect::forbid) continue;
    for (auto ev : set.permissions[j].events) forbids_by_event[static_cast<std::size_t>(ev)].push_back(j);
  }
  for (std::size_t i = 0; i < set.permissions.size(); ++i) {
    const auto& p = set.permissions[i];
    if (p.rule->kind != dsl::ast::effect::permit) continue;
    for (auto ev : p.events) {
      for (const std::size_t j : forbids_by_event[static_cast<std::size_t>(ev)]) {
        const auto& f = set.permissions[j];
        if (!a.implies(conds[i], conds[j])) continue;
        dead_events[i].insert(ev);
        auto d = make("L0005", p.rule->name.where,
                      "permit `" + p.rule->name.text + "` never allows `" + set.events[static_cast<std::size_t>(ev)] +
                          "`: forbid `" + f.rule->name.text + "` applies whenever it does");
        d.labels.push_back({f.rule->name.where, "this forbid always wins"});
        d.notes.push_back("forbid overrides permit");
        out.push_back(std::move(d));
        break;
      }
    }
  }

  // L0010: an event no permit can ever allow (default deny).
  for (std::size_t ev = 0; ev < set.events.size(); ++ev) {
    const auto e = static_cast<std::int32_t>(ev);
    bool performable = false;
    bool any_permit = false;
    for (std::size_t i = 0; i < set.permissions.size() && !performable; ++i) {
      const auto& p = set.permissions[i];
      if (p.rule->kind != dsl::ast::effect::permit || !has_event(p, e)) continue;
      any_permit = true;
      performable = !dead_events[i].contains(e) && !conds[i].unsat;
    }
    if (performable) continue;
    auto d = make("L0010", first_use(set, e),
                  "no actor can ever perform `" + set.events[ev] + "`: " +
                      (any_permit ? "a forbid overrides every permit for it" : "no permit allows it"));
    d.notes.push_back("events are denied unless a permit allows them and no forbid applies");
    d.help = "add `permit NAME on " + set.events[ev] + " when ...`";
    out.push_back(std::move(d));
  }

  // L0007: approval events must keep the assignee from approving their own work.
  for (std::size_t ev = 0; ev < set.events.size(); ++ev) {
    const auto& name = set.events[ev];
    if (name.rfind("approve", 0) != 0 && name.rfind("accept", 0) != 0) continue;
    const auto e = static_cast<std::int32_t>(ev);
    bool guarded = false;
    bool any_permit = false;
    bool all_permits_require_other = true;
    for (const auto& p : set.permissions) {
      if (!has_event(p, e)) continue;
      if (p.rule->kind == dsl::ast::effect::forbid) {
        guarded = guarded || forbids_self(p.rule->when.get());
      } else {
        any_permit = true;
        all_permits_require_other = all_permits_require_other && requires_other(p.rule->when.get());
      }
    }
    if (guarded || !any_permit || all_permits_require_other) continue;
    auto d = make("L0007", first_use(set, e), "`" + name + "` can be performed by the task's own assignee: nothing separates the duties");
    d.help = "add `forbid NAME on " + name + " when actor.id == task.assignee because \"...\"`";
    out.push_back(std::move(d));
  }

  // L0008: escalation hand-offs between roles that loop.
  const std::size_t n = set.roles.size();
  std::vector<std::vector<std::pair<std::int32_t, const dsl::escalation_info*>>> next(n);
  for (const auto& esc : set.escalations) {
    const conjunction c = a.analyze(esc.rule->when.get());
    std::vector<std::int32_t> sources;
    const auto it = c.fields.find({field::task_assignee_role, -1});
    for (std::size_t r = 0; r < n; ++r) {
      if (it == c.fields.end() || (r < it->second.allowed.size() && it->second.allowed[r])) sources.push_back(static_cast<std::int32_t>(r));
    }
    for (auto src : sources) {
      std::int32_t dst = -1;
      switch (esc.to.kind) {
        case dsl::ast::target_kind::role: dst = esc.to.index; break;
        case dsl::ast::target_kind::agent: dst = esc.to.index >= 0 ? set.agents[static_cast<std::size_t>(esc.to.index)].role : -1; break;
        case dsl::ast::target_kind::parent: dst = set.roles[static_cast<std::size_t>(src)].parent; break;
        case dsl::ast::target_kind::operator_: break;
      }
      if (dst >= 0 && dst != src) next[static_cast<std::size_t>(src)].push_back({dst, &esc});
    }
  }
  std::vector<int> color(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::pair<std::int32_t, const dsl::escalation_info*>> stack;
  bool reported = false;
  std::function<void(std::int32_t)> dfs = [&](std::int32_t r) {
    color[static_cast<std::size_t>(r)] = 1;
    for (const auto& [to, esc] : next[static_cast<std::size_t>(r)]) {
      if (reported) return;
      if (color[static_cast<std::size_t>(to)] == 1) {
        std::size_t k = 0;
        while (stack[k].first != to) ++k;  // the stack is the DFS path, ending at r
        std::string chain;
        for (std::size_t i = k; i < stack.size(); ++i) chain += set.roles[static_cast<std::size_t>(stack[i].first)].name + " -> ";
        chain += set.roles[static_cast<std::size_t>(to)].name;
        auto d = make("L0008", esc->rule->name.where, "escalation can loop between roles: " + chain);
        d.help = "make escalation move work towards a role it cannot come back from (a parent, or the operator)";
        out.push_back(std::move(d));
        reported = true;
        return;
      }
      if (color[static_cast<std::size_t>(to)] == 0) {
        stack.push_back({to, esc});
        dfs(to);
        stack.pop_back();
      }
    }
    color[static_cast<std::size_t>(r)] = 2;
  };
  for (std::size_t r = 0; r < n && !reported; ++r) {
    if (color[r] != 0) continue;
    stack.assign(1, {static_cast<std::int32_t>(r), nullptr});
    dfs(static_cast<std::int32_t>(r));
  }

  // L0009: no fallback route.
  if (set.fallback.rule == nullptr) {
    dsl::span where;
    for (const auto& m : set.modules) {
      if (m.file == set.entry && m.head) where = m.head->name.where;
    }
    for (const auto& m : set.modules) {
      for (const auto& decl : m.declarations) {
        if (const auto* r = std::get_if<dsl::ast::routing_block>(&decl); r != nullptr && !where.valid()) where = r->where;
      }
    }
    auto d = make("L0009", where, "routing has no `otherwise` fallback: a task that matches no route gets no assignee");
    d.help = "add `otherwise -> role NAME` to a routing block";
    out.push_back(std::move(d));
  }
}

}  // namespace agentos::engine::lint::detail
