// Graph lints: properties of a checked policy set that only show up on its lifecycle graph and
// rule lists (unreachable states, guards that can never hold, shadowed routes, plan-gate bypass,
// self-approval, escalation cycles, failing invariants …). Each lint has a documented code
// (L0001–L0011, docs/diagnostics.md). Pure functions of the policy set: no I/O.
#pragma once

#include <vector>

#include "dsl/diagnostic.hpp"
#include "dsl/policy_set.hpp"

namespace agentos::engine::lint {

// Runs every lint on a policy set that checked without errors.
[[nodiscard]] std::vector<dsl::diagnostic> run_all(const dsl::policy_set& set);

}  // namespace agentos::engine::lint
