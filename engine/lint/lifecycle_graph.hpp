// The lifecycle as the lints see it: the edges whose guard can hold (given the source state and an
// optional extra assumption such as `task.mode == plan_first`), and breadth-first searches over
// them that return a shortest path as a counterexample.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/lint/constraints.hpp"

namespace agentos::engine::lint::detail {

struct edge {
  std::int32_t from = -1;
  std::int32_t to = -1;
  std::int32_t event = -1;
  const dsl::transition_info* transition = nullptr;
};

// Edges whose guard is satisfiable under `assumption` (null: no assumption).
[[nodiscard]] std::vector<edge> usable_edges(const dsl::policy_set& set, const analyzer& a,
                                             const conjunction* assumption);

// A path found by search: the edges taken from the start state.
struct path {
  std::int32_t start = -1;
  std::vector<edge> steps;
};

// Shortest path from `start` to a state satisfying `goal`, never taking an edge `skip` rejects.
[[nodiscard]] std::optional<path> find_path(std::int32_t start, const std::vector<edge>& edges, std::size_t state_count,
                                            const std::function<bool(std::int32_t)>& goal,
                                            const std::function<bool(const edge&)>& skip = {});

// "intake -[route]-> routed -[start]-> executing"
[[nodiscard]] std::string describe(const dsl::policy_set& set, const path& p);

}  // namespace agentos::engine::lint::detail
