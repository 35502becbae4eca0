// The lint passes behind run_all(), one per file: lifecycle_lints.cpp and rule_lints.cpp.
#pragma once

#include <vector>

#include "dsl/diagnostic.hpp"
#include "engine/lint/constraints.hpp"

namespace agentos::engine::lint::detail {

void lint_lifecycle(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out);
void lint_rules(const dsl::policy_set& set, const analyzer& a, std::vector<dsl::diagnostic>& out);
[[nodiscard]] bool code_is_error(const std::string& code);

}  // namespace agentos::engine::lint::detail
