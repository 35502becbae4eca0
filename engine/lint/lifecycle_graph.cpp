#include "engine/lint/lifecycle_graph.hpp"

#include <deque>

namespace agentos::engine::lint::detail {

std::vector<edge> usable_edges(const dsl::policy_set& set, const analyzer& a, const conjunction* assumption) {
  std::vector<edge> out;
  for (const auto& t : set.transitions) {
    conjunction c = a.analyze(t.guard);
    a.restrict(c, {dsl::ast::field::task_state, -1}, t.from);
    if (assumption != nullptr) a.conjoin(c, *assumption);
    if (!c.unsat) out.push_back({t.from, t.to, t.event, &t});
  }
  return out;
}

std::optional<path> find_path(std::int32_t start, const std::vector<edge>& edges, std::size_t state_count,
                              const std::function<bool(std::int32_t)>& goal, const std::function<bool(const edge&)>& skip) {
  if (start < 0) return std::nullopt;
  std::vector<const edge*> via(state_count, nullptr);
  std::vector<bool> seen(state_count, false);
  std::deque<std::int32_t> queue{start};
  seen[static_cast<std::size_t>(start)] = true;
  while (!queue.empty()) {
    const auto s = queue.front();
    queue.pop_front();
    if (goal(s)) {
      path p{start, {}};
      for (auto at = s; at != start;) {
        const edge* e = via[static_cast<std::size_t>(at)];
        p.steps.insert(p.steps.begin(), *e);
        at = e->from;
      }
      return p;
    }
    for (const auto& e : edges) {
      if (e.from != s || seen[static_cast<std::size_t>(e.to)] || (skip && skip(e))) continue;
      seen[static_cast<std::size_t>(e.to)] = true;
      via[static_cast<std::size_t>(e.to)] = &e;
      queue.push_back(e.to);
    }
  }
  return std::nullopt;
}

std::string describe(const dsl::policy_set& set, const path& p) {
  std::string s = set.states[static_cast<std::size_t>(p.start)].name;
  for (const auto& e : p.steps) {
    s += " -[" + set.events[static_cast<std::size_t>(e.event)] + "]-> " + set.states[static_cast<std::size_t>(e.to)].name;
  }
  return s;
}

}  // namespace agentos::engine::lint::detail
