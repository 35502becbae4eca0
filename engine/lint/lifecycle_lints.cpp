// Lints over the lifecycle graph: L0001 unreachable-state, L0002 dead-end-state,
// L0003 guard-never-holds, L0006 plan-gate-bypass, L0011 invariant-violated.
#include <set>

#include "engine/lint/lifecycle_graph.hpp"
#include "engine/lint/lints.hpp"

namespace agentos::engine::lint::detail {

using dsl::ast::field;

namespace {

std::set<std::int32_t> reachable_from(std::int32_t start, const std::vector<edge>& edges, std::size_t n) {
  std::set<std::int32_t> seen;
  if (start < 0) return seen;
  std::vector<std::int32_t> stack{start};
  seen.insert(start);
  while (!stack.empty()) {
    const auto s = stack.back();
    stack.pop_back();
    for (const auto& e : edges) {
      if (e.from == s && seen.insert(e.to).second) stack.push_back(e.to);
    }
  }
  (void)n;
  return seen;
}

}  // namespace

void lint_lifecycle(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out) {
  const auto edges = usable_edges(set, a, nullptr);
  const auto reached = reachable_from(set.initial, edges, set.states.size());

  // L0003: a guard that cannot hold from any of its source states.
  std::set<const dsl::ast::transition_decl*> reported;
  for (const auto& t : set.transitions) {
    if (t.guard == nullptr || reported.contains(t.decl)) continue;
    bool any = false;
    for (const auto& u : set.transitions) {
      if (u.decl != t.decl) continue;
      conjunction c = a.analyze(u.guard);
      a.restrict(c, {field::task_state, -1}, u.from);
      any = any || !c.unsat;
    }
    if (!any) {
      reported.insert(t.decl);
      auto d = make("L0003", t.guard->where,
                    "this guard can never be true, so `" + set.events[static_cast<std::size_t>(t.event)] + "` never moves a task to `" +
                        set.states[static_cast<std::size_t>(t.to)].name + "` here");
      d.notes.push_back("the conditions contradict each other (or the state the transition leaves)");
      out.push_back(std::move(d));
    }
  }

  // L0001 and L0002.
  for (std::size_t s = 0; s < set.states.size(); ++s) {
    const auto& st = set.states[s];
    const auto id = static_cast<std::int32_t>(s);
    if (!reached.contains(id)) {
      auto d = make("L0001", st.where, "state `" + st.name + "` cannot be reached from the initial state `" +
                                           set.states[static_cast<std::size_t>(set.initial)].name + "`");
      d.help = "add a transition into it, or remove it";
      out.push_back(std::move(d));
      continue;
    }
    if (st.terminal) continue;
    const bool has_exit = std::any_of(edges.begin(), edges.end(), [&](const edge& e) { return e.from == id && e.to != id; });
    if (!has_exit) {
      auto d = make("L0002", st.where, "state `" + st.name + "` is not terminal, but a task that enters it can never leave");
      d.help = "add a transition out of it (e.g. `* -> cancelled on cancel`), or declare it `terminal`";
      out.push_back(std::move(d));
    }
  }

  // L0006: with the mode fixed to plan_first, an executing state (a state that plan approval leads
  // to) must not be reachable without passing the approval event.
  const auto approve = set.find_event("approve_plan");
  if (approve >= 0 && !set.gates.empty()) {
    conjunction plan_first;
    a.restrict(plan_first, {field::task_mode, -1}, 1);
    const auto pf_edges = usable_edges(set, a, &plan_first);
    std::set<std::int32_t> executing;
    for (const auto& e : pf_edges) {
      if (e.event == approve) executing.insert(e.to);
    }
    auto p = find_path(
        set.initial, pf_edges, set.states.size(), [&](std::int32_t s) { return executing.contains(s); },
        [&](const edge& e) { return e.event == approve; });
    if (p && !p->steps.empty()) {
      const auto& last = p->steps.back();
      auto d = make("L0006", last.transition->decl->where,
                    "a plan_first task can reach `" + set.states[static_cast<std::size_t>(last.to)].name +
                        "` without `approve_plan`");
      d.notes.push_back("path: " + describe(set, *p));
      d.help = "guard this transition with `when task.mode == direct`, or route plan_first tasks through plan review";
      out.push_back(std::move(d));
    }
  }

  // L0011: declared invariants.
  for (const auto& inv : set.invariants) {
    const auto& decl = *inv.decl;
    switch (decl.kind) {
      case dsl::ast::invariant_kind::passes: {
        conjunction assume = a.analyze(decl.when.get());
        const auto inv_edges = usable_edges(set, a, &assume);
        const std::set<std::int32_t> targets(inv.to.begin(), inv.to.end());
        auto p = find_path(
            set.initial, inv_edges, set.states.size(), [&](std::int32_t s) { return targets.contains(s); },
            [&](const edge& e) { return e.event == inv.event; });
        if (p) {
          auto d = make("L0011", decl.name.where,
                        "invariant `" + decl.name.text + "` does not hold: a task can reach `" +
                            set.states[static_cast<std::size_t>(p->steps.empty() ? p->start : p->steps.back().to)].name +
                            "` without `" + decl.event.text + "`");
          d.notes.push_back("counterexample: " + describe(set, *p));
          out.push_back(std::move(d));
        }
        break;
      }
      case dsl::ast::invariant_kind::reachable: {
        for (auto s : inv.from) {
          if (reached.contains(s)) continue;
          auto d = make("L0011", decl.name.where,
                        "invariant `" + decl.name.text + "` does not hold: `" + set.states[static_cast<std::size_t>(s)].name +
                            "` cannot be reached from `" + set.states[static_cast<std::size_t>(set.initial)].name + "`");
          out.push_back(std::move(d));
        }
        break;
      }
      case dsl::ast::invariant_kind::terminates: {
        for (auto s : inv.from) {
          const auto from_s = reachable_from(s, edges, set.states.size());
          const bool ends = std::any_of(from_s.begin(), from_s.end(),
                                        [&](std::int32_t x) { return set.states[static_cast<std::size_t>(x)].terminal; });
          if (ends) continue;
          auto d = make("L0011", decl.name.where,
                        "invariant `" + decl.name.text + "` does not hold: from `" + set.states[static_cast<std::size_t>(s)].name +
                            "` no terminal state can be reached");
          auto p = find_path(set.initial, edges, set.states.size(), [&](std::int32_t x) { return x == s; });
          if (p) d.notes.push_back("counterexample: " + describe(set, *p) + ", and no way on to a terminal state");
          out.push_back(std::move(d));
        }
        break;
      }
      case dsl::ast::invariant_kind::never: {
        const std::set<std::int32_t> from(inv.from.begin(), inv.from.end()), to(inv.to.begin(), inv.to.end());
        for (const auto& e : edges) {
          if (!from.contains(e.from) || !to.contains(e.to)) continue;
          auto d = make("L0011", decl.name.where,
                        "invariant `" + decl.name.text + "` does not hold: `" + set.states[static_cast<std::size_t>(e.from)].name +
                            "` moves to `" + set.states[static_cast<std::size_t>(e.to)].name + "` on `" +
                            set.events[static_cast<std::size_t>(e.event)] + "`");
          d.labels.push_back({e.transition->decl->where, "this transition"});
          auto p = find_path(set.initial, edges, set.states.size(), [&](std::int32_t x) { return x == e.from; });
          if (p) {
            p->steps.push_back(e);
            d.notes.push_back("counterexample: " + describe(set, *p));
          }
          out.push_back(std::move(d));
          break;
        }
        break;
      }
    }
  }
}

}  // namespace agentos::engine::lint::detail
